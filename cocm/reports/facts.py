"""FHIR R4 JSON resources (QI-Core) → the patient facts the measures read (pure, no database).

`patient_facts(patient, resources)` takes a Patient resource and that patient's other
resources as plain dicts, the way they arrive in a bundle or are stored by the FHIR import.
Unreadable values (a malformed date, a missing code) become None or are left out: a measure
then treats them as CQL treats null, and nothing here raises on bad data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from cocm.domain.clinical import (
    CONDITION_CLINICAL,
    CONDITION_VER_STATUS,
    Coding,
    Component,
    Condition,
    Dosage,
    Encounter,
    MedicationRequest,
    Observation,
    PatientFacts,
    Period,
    Procedure,
    ServiceRequest,
)

NOT_DONE_REASON = "http://hl7.org/fhir/us/qicore/StructureDefinition/qicore-notDoneReason"
_DATETIME = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
SUPPLY_DAYS = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7, "mo": 30,
               "month": 30, "months": 30, "a": 365, "year": 365, "years": 365,
               "h": 1 / 24}  # fmt: skip


def parse_datetime(value: Any) -> datetime | None:
    """A FHIR date/dateTime/instant as an aware datetime (a date alone: midnight UTC)."""
    if not isinstance(value, str):
        return None
    m = _DATETIME.match(value.strip())
    if not m:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    try:
        parsed = datetime.fromisoformat(
            f"{year}-{month or '01'}-{day or '01'}T{hour or '00'}:{minute or '00'}:"
            f"{second or '00'}{(fraction or '')[:7]}{'+00:00' if zone in (None, 'Z') else zone}"
        )
    except ValueError:
        return None
    return parsed.astimezone(UTC)


def parse_date(value: Any) -> date | None:
    """A FHIR date (the date part of a dateTime)."""
    parsed = parse_datetime(value)
    if parsed is None:
        return None
    if isinstance(value, str) and "T" in value:
        return parsed.date()
    return date(parsed.year, parsed.month, parsed.day)


def codings(concept: Any) -> tuple[Coding, ...]:
    """The (system, code) pairs of a CodeableConcept (or of a list of them)."""
    if isinstance(concept, list):
        return tuple(c for item in concept for c in codings(item))
    if not isinstance(concept, dict):
        return ()
    found = []
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and coding.get("system") and coding.get("code"):
            found.append(Coding(str(coding["system"]), str(coding["code"])))
    return tuple(found)


def _status_code(concept: Any, system: str) -> str | None:
    for c in codings(concept):
        if c.system == system:
            return c.code
    return None


def _period(resource: dict[str, Any], prefix: str) -> Period | None:
    """A choice element <prefix>DateTime / <prefix>Instant / <prefix>Period as a Period."""
    for suffix in ("DateTime", "Instant"):
        if prefix + suffix in resource:
            t = parse_datetime(resource[prefix + suffix])
            return Period(t, t) if t is not None else None
    p = resource.get(prefix + "Period")
    if isinstance(p, dict):
        return Period(parse_datetime(p.get("start")), parse_datetime(p.get("end")))
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _value(resource: dict[str, Any]) -> tuple[float | bool | str | None, tuple[Coding, ...]]:
    if "valueInteger" in resource:
        return _number(resource["valueInteger"]), ()
    if "valueDecimal" in resource:
        return _number(resource["valueDecimal"]), ()
    if isinstance(resource.get("valueQuantity"), dict):
        return _number(resource["valueQuantity"].get("value")), ()
    if "valueCodeableConcept" in resource:
        concept = codings(resource["valueCodeableConcept"])
        return (concept[0].code if concept else None), concept
    if isinstance(resource.get("valueBoolean"), bool):
        return resource["valueBoolean"], ()
    if isinstance(resource.get("valueString"), str):
        return resource["valueString"], ()
    return None, ()


def encounter(r: dict[str, Any]) -> Encounter:
    """A FHIR Encounter: type codes (QI-Core's code path), class, status, period."""
    period = r.get("period") if isinstance(r.get("period"), dict) else {}
    hospitalization = r.get("hospitalization") if isinstance(r.get("hospitalization"), dict) else {}
    cls = r.get("class") if isinstance(r.get("class"), dict) else {}
    return Encounter(
        id=str(r.get("id", "")),
        codes=codings(r.get("type")),
        status=str(r.get("status", "")),
        period=Period(parse_datetime(period.get("start")), parse_datetime(period.get("end"))),
        class_code=str(cls.get("code", "")),
        discharge_disposition=codings(hospitalization.get("dischargeDisposition")),
    )


def condition(r: dict[str, Any]) -> Condition:
    """A FHIR Condition: code, category, clinical and verification status, onset, abatement."""
    return Condition(
        id=str(r.get("id", "")),
        codes=codings(r.get("code")),
        categories=codings(r.get("category")),
        clinical_status=_status_code(r.get("clinicalStatus"), CONDITION_CLINICAL),
        verification_status=_status_code(r.get("verificationStatus"), CONDITION_VER_STATUS),
        onset=_period(r, "onset"),
        abatement=_period(r, "abatement"),
        recorded=parse_datetime(r.get("recordedDate")),
    )


def observation(r: dict[str, Any]) -> Observation:
    """A FHIR Observation (and QI-Core ObservationNotDone: its notDoneReason extension)."""
    value, value_codes = _value(r)
    reason: tuple[Coding, ...] = ()
    for ext in r.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == NOT_DONE_REASON:
            reason = codings(ext.get("valueCodeableConcept"))
    components = []
    for comp in r.get("component") or []:
        if isinstance(comp, dict):
            comp_value, comp_codes = _value(comp)
            components.append(
                Component(
                    codes=codings(comp.get("code")),
                    value=comp_codes[0] if comp_codes else _number(comp_value),
                )
            )
    return Observation(
        id=str(r.get("id", "")),
        codes=codings(r.get("code")),
        status=str(r.get("status", "")),
        effective=_period(r, "effective"),
        value=value,
        value_codes=value_codes,
        categories=codings(r.get("category")),
        issued=parse_datetime(r.get("issued")),
        not_done_reason=reason,
        components=tuple(components),
    )


def procedure(r: dict[str, Any]) -> Procedure:
    """A FHIR Procedure: code, status, performed."""
    return Procedure(
        id=str(r.get("id", "")),
        codes=codings(r.get("code")),
        status=str(r.get("status", "")),
        performed=_period(r, "performed"),
    )


def service_request(r: dict[str, Any]) -> ServiceRequest:
    """A FHIR ServiceRequest: code, status, intent, authoredOn, doNotPerform."""
    dnp = r.get("doNotPerform")
    return ServiceRequest(
        id=str(r.get("id", "")),
        codes=codings(r.get("code")),
        status=str(r.get("status", "")),
        intent=str(r.get("intent", "")),
        authored_on=parse_datetime(r.get("authoredOn")),
        do_not_perform=dnp if isinstance(dnp, bool) else None,
    )


def _first(items: Any) -> dict[str, Any]:
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return items[0]
    return {}


def medication_request(r: dict[str, Any]) -> MedicationRequest:
    """A FHIR MedicationRequest: medication code, status, intent, authoredOn, and what
    CumulativeMedicationDuration reads of the first dosage and the dispense request."""
    dosage = _first(r.get("dosageInstruction"))
    repeat = (dosage.get("timing") or {}).get("repeat") or {}
    dose_and_rate = _first(dosage.get("doseAndRate"))
    dose = None
    if isinstance(dose_and_rate.get("doseQuantity"), dict):
        dose = _number(dose_and_rate["doseQuantity"].get("value"))
    elif isinstance(dose_and_rate.get("doseRange"), dict):
        dose = _number((dose_and_rate["doseRange"].get("high") or {}).get("value"))
    dispense = r.get("dispenseRequest") if isinstance(r.get("dispenseRequest"), dict) else {}
    supply = dispense.get("expectedSupplyDuration") or {}
    supply_days = _number(supply.get("value"))
    unit = supply.get("code") or supply.get("unit") or "d"
    if supply_days is not None:
        supply_days = supply_days * SUPPLY_DAYS[unit] if unit in SUPPLY_DAYS else None
    bounds = repeat.get("boundsPeriod")
    refills = dispense.get("numberOfRepeatsAllowed")
    frequency = repeat.get("frequencyMax", repeat.get("frequency"))
    return MedicationRequest(
        id=str(r.get("id", "")),
        codes=codings(r.get("medicationCodeableConcept")),
        status=str(r.get("status", "")),
        intent=str(r.get("intent", "")),
        authored_on=parse_datetime(r.get("authoredOn")),
        dosage=Dosage(
            frequency=_number(frequency),
            period=_number(repeat.get("period")),
            period_unit=repeat.get("periodUnit"),
            times_of_day=len(repeat.get("timeOfDay") or []),
            dose=dose,
            bounds=(
                Period(parse_datetime(bounds.get("start")), parse_datetime(bounds.get("end")))
                if isinstance(bounds, dict)
                else None
            ),
            expected_supply_days=supply_days,
            quantity=_number((dispense.get("quantity") or {}).get("value")),
            refills=refills if isinstance(refills, int) else None,
            validity_start=parse_datetime((dispense.get("validityPeriod") or {}).get("start")),
        ),
    )


def patient_facts(
    patient: dict[str, Any], resources: Iterable[dict[str, Any]], patient_id: str | None = None
) -> PatientFacts:
    """One Patient resource and that patient's other resources → PatientFacts."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in resources:
        if isinstance(r, dict):
            by_type.setdefault(str(r.get("resourceType")), []).append(r)
    deceased: datetime | bool | None = None
    if "deceasedDateTime" in patient:
        deceased = parse_datetime(patient["deceasedDateTime"])
    elif isinstance(patient.get("deceasedBoolean"), bool):
        deceased = patient["deceasedBoolean"]
    fhir_id = str(patient.get("id", ""))
    return PatientFacts(
        id=patient_id if patient_id is not None else fhir_id,
        fhir_id=fhir_id,
        birth_date=parse_date(patient.get("birthDate")),
        deceased=deceased,
        encounters=tuple(encounter(r) for r in by_type.get("Encounter", [])),
        conditions=tuple(condition(r) for r in by_type.get("Condition", [])),
        observations=tuple(observation(r) for r in by_type.get("Observation", [])),
        procedures=tuple(procedure(r) for r in by_type.get("Procedure", [])),
        service_requests=tuple(service_request(r) for r in by_type.get("ServiceRequest", [])),
        medication_requests=tuple(
            medication_request(r) for r in by_type.get("MedicationRequest", [])
        ),
    )


def bundle_facts(bundle: dict[str, Any]) -> PatientFacts:
    """A bundle holding one Patient and their resources (a test-deck case) → PatientFacts."""
    resources = [e.get("resource") for e in bundle.get("entry") or [] if isinstance(e, dict)]
    patients = [r for r in resources if isinstance(r, dict) and r.get("resourceType") == "Patient"]
    if len(patients) != 1:
        raise ValueError(f"bundle holds {len(patients)} Patient resources, expected 1")
    others = [r for r in resources if isinstance(r, dict) and r is not patients[0]]
    return patient_facts(patients[0], others)
