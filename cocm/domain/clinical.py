"""Patient facts the quality measures read, shaped like the QI-Core resources they come from.

Every fact is a frozen dataclass holding only what CMS159, CMS2, DRR-E and DMS-E look at
(QI-Core 4.1.1 / 6.0.0 profiles of FHIR R4). Adapters build them from FHIR JSON or from
registry rows (`cocm/reports/facts.py`); the measures (`ecqm.py`, `hedis.py`) never see
either source. Times are aware datetimes; a FHIR date with no time is midnight UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

LOINC = "http://loinc.org"
SNOMEDCT = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
US_CORE_CONDITION_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VER_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# LOINC 44261-6: PHQ-9 total score [Reported] (the registry's PHQ-9 as an assessment).
PHQ9_TOTAL_LOINC = "44261-6"


@dataclass(frozen=True)
class Coding:
    """A FHIR Coding reduced to what CQL's `~` and `in` compare: system and code."""

    system: str
    code: str


@dataclass(frozen=True)
class Period:
    """A FHIR Period (or a single instant when start == end); None = not given."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class Encounter:
    """QI-Core Encounter: type codes, class, status, period, discharge disposition."""

    id: str
    codes: tuple[Coding, ...]
    status: str
    period: Period
    class_code: str = ""
    discharge_disposition: tuple[Coding, ...] = ()


@dataclass(frozen=True)
class Condition:
    """QI-Core Condition (problem list, health concern or encounter diagnosis)."""

    id: str
    codes: tuple[Coding, ...]
    categories: tuple[Coding, ...] = ()
    clinical_status: str | None = None
    verification_status: str | None = None
    onset: Period | None = None
    abatement: Period | None = None
    recorded: datetime | None = None


@dataclass(frozen=True)
class Component:
    """An Observation.component: a code and a value."""

    codes: tuple[Coding, ...]
    value: float | Coding | None


@dataclass(frozen=True)
class Observation:
    """QI-Core Observation (or ObservationNotDone/Cancelled when status is 'cancelled')."""

    id: str
    codes: tuple[Coding, ...]
    status: str
    effective: Period | None = None
    value: float | Coding | bool | str | None = None
    value_codes: tuple[Coding, ...] = ()
    categories: tuple[Coding, ...] = ()
    issued: datetime | None = None
    not_done_reason: tuple[Coding, ...] = ()
    components: tuple[Component, ...] = ()


@dataclass(frozen=True)
class Procedure:
    """QI-Core Procedure (also an intervention performed)."""

    id: str
    codes: tuple[Coding, ...]
    status: str
    performed: Period | None = None


@dataclass(frozen=True)
class ServiceRequest:
    """QI-Core ServiceRequest (an order or a referral)."""

    id: str
    codes: tuple[Coding, ...]
    status: str
    intent: str = "order"
    authored_on: datetime | None = None
    do_not_perform: bool | None = None


@dataclass(frozen=True)
class Dosage:
    """What CumulativeMedicationDuration reads of a MedicationRequest's dosage and supply."""

    frequency: float | None = None
    period: float | None = None
    period_unit: str | None = None
    times_of_day: int = 0
    dose: float | None = None
    bounds: Period | None = None
    expected_supply_days: float | None = None
    quantity: float | None = None
    refills: int | None = None
    validity_start: datetime | None = None


@dataclass(frozen=True)
class MedicationRequest:
    """QI-Core MedicationRequest."""

    id: str
    codes: tuple[Coding, ...]
    status: str
    intent: str
    authored_on: datetime | None = None
    dosage: Dosage = field(default_factory=Dosage)


@dataclass(frozen=True)
class PatientFacts:
    """One patient and every resource of theirs a measure may read."""

    id: str
    birth_date: date | None
    deceased: datetime | bool | None = None
    encounters: tuple[Encounter, ...] = ()
    conditions: tuple[Condition, ...] = ()
    observations: tuple[Observation, ...] = ()
    procedures: tuple[Procedure, ...] = ()
    service_requests: tuple[ServiceRequest, ...] = ()
    medication_requests: tuple[MedicationRequest, ...] = ()
    fhir_id: str = ""


ValueSets = dict[str, frozenset[tuple[str, str]]]
"""Expanded value sets: canonical URL → {(system, code)}."""


def in_valueset(codes: tuple[Coding, ...], members: frozenset[tuple[str, str]]) -> bool:
    """CQL `in ValueSet`: any coding's (system, code) is in the expansion (CQL §22.3)."""
    return any((c.system, c.code) in members for c in codes)


def has_code(codes: tuple[Coding, ...], system: str, code: str) -> bool:
    """CQL `~ Code` on a concept: some coding equals system and code (CQL §12.1 Equivalent)."""
    return any(c.system == system and c.code == code for c in codes)


def age_in_years(birth_date: date, on: date) -> int:
    """CQL AgeInYearsAt: whole calendar years from birth date to the given date."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years
