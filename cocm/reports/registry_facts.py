"""Registry rows (and resources imported over FHIR) → the patient facts the measures read.

Set-based: one query per kind of row for the whole population, grouped in Python; never a
query per patient. How registry data stands for QI-Core resources ([I], docs/quality.md):
- a diagnosis on an episode is a Condition: ICD-10-CM code, category problem-list-item,
  clinical status active, verification status confirmed, onset = its onset date or else
  the episode's referral date, no abatement (the registry does not record resolution);
- a contact with the patient (in person, phone or video; not a no-show) and the episode's
  initiating visit are finished Encounters coded CPT 99212 (an office visit, in both
  "Contact or Office Visit" and "Encounter to Screen for Depression"), on their date
  (midnight UTC) lasting their minutes; with the diagnosis above, a contact on an episode
  with a depression diagnosis is a depression encounter;
- a current PHQ-9 is an Observation LOINC 44261-6 (PHQ-9 total), a current PHQ-A one with
  LOINC 89204-2 (PHQ-9 Modified for Teens total, reference §2.3), status final, or amended
  when it corrects an earlier one, effective on its date, valued its total;
- an episode discharged as deceased gives the patient a death date (the discharge date);
- a resource imported over FHIR is read as it was imported (cocm/reports/facts.py, as for
  the test decks); an assessment the import fed from an imported Observation is not read
  a second time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet

from cocm.care.models import Contact, Mode
from cocm.domain.clinical import (
    CONDITION_CATEGORY,
    ICD10CM,
    LOINC,
    Coding,
    Condition,
    Encounter,
    Observation,
    PatientFacts,
    Period,
)
from cocm.domain.episodes import DischargeReason
from cocm.domain.instruments import INSTRUMENTS
from cocm.measures.models import Assessment
from cocm.registry.models import Diagnosis, Episode, Patient

CPT = "http://www.ama-assn.org/go/cpt"
OFFICE_VISIT = Coding(CPT, "99212")
OFFICE_VISITS = (OFFICE_VISIT,)
PROBLEM_LIST_ITEM = Coding(CONDITION_CATEGORY, "problem-list-item")
PROBLEM_LIST = (PROBLEM_LIST_ITEM,)
PATIENT_CONTACT_MODES = (Mode.IN_PERSON, Mode.PHONE, Mode.VIDEO)
# The instruments whose totals are in "PHQ 9 and PHQ 9M Tools", with their total's LOINC.
PHQ9_TOOLS = {code: INSTRUMENTS[code].total_loinc for code in ("PHQ-9", "PHQ-A")}


Days = tuple[date, date]


@dataclass(frozen=True)
class Reads:
    """The registry contacts and assessments a measure reads: the days of each (first,
    last), None for all of them, NOTHING for none (the measure never reads that kind)."""

    contacts: Days | bool | None = None
    assessments: Days | bool | None = None


NOTHING = False


@lru_cache(maxsize=4096)
def at_midnight(day: date) -> datetime:
    """A registry date as the instant the measures compare (midnight UTC of that date)."""
    return datetime.combine(day, time(), tzinfo=UTC)


@lru_cache(maxsize=4096)
def instant(day: date) -> Period:
    """A registry date as a Period of one instant, midnight UTC (shared: facts are frozen)."""
    start = at_midnight(day)
    return Period(start, start)


def registry_facts(
    organization: Any,
    episodes: QuerySet[Episode],
    patients: QuerySet[Patient] | None = None,
    reads: Reads | None = None,
    candidates: Q | None = None,
) -> list[PatientFacts]:
    """Facts for every patient with an episode in `episodes` (and every one of `patients`,
    e.g. imported over FHIR without an episode), from the rows of those episodes: six
    queries, seven with the FHIR import (which also leaves out, in a subquery, assessments
    fed from an imported Observation), fewer when `reads` leaves out a kind of row. `reads`
    leaves out contacts and assessments a measure cannot read; diagnoses and episodes are
    always read whole.
    `candidates` keeps only the patients who can be in the measure's initial population."""
    # `id IN (…)` rather than a join and DISTINCT, which SQLite runs slowly.
    scope = Q(id__in=episodes.values("patient_id"))
    if patients is not None:
        scope |= Q(id__in=patients.values("id"))
    patients = Patient.objects.filter(scope, organization=organization)
    if candidates is not None:
        patients = patients.filter(candidates)
        episodes = episodes.filter(patient_id__in=patients.values("id"))
    episode_ids = episodes.values("id")
    births = dict(patients.values_list("id", "birth_date"))
    deceased: dict[int, datetime] = {}
    visits: dict[int, list[Encounter]] = defaultdict(list)
    referred: dict[int, date] = {}
    patient_of: dict[int, int] = {}  # episode id → patient id, spares a join per row below
    for row in Episode.objects.filter(id__in=episode_ids).values(
        "id", "patient_id", "referred_on", "initiating_visit_on", "discharged_on",
        "discharge_reason",
    ):  # fmt: skip
        referred[row["id"]] = row["referred_on"]
        patient_of[row["id"]] = row["patient_id"]
        if row["initiating_visit_on"]:
            visits[row["patient_id"]].append(
                Encounter(
                    f"visit-{row['id']}",
                    OFFICE_VISITS,
                    "finished",
                    instant(row["initiating_visit_on"]),
                )
            )
        if row["discharge_reason"] == DischargeReason.DECEASED and row["discharged_on"]:
            deceased[row["patient_id"]] = at_midnight(row["discharged_on"])

    conditions: dict[int, list[Condition]] = defaultdict(list)
    coded: dict[str, tuple[Coding, ...]] = {}  # the same few codes recur: one tuple each
    for pk, episode_id, code, onset_on in Diagnosis.objects.filter(
        episode_id__in=episode_ids
    ).values_list("id", "episode_id", "code", "onset_on"):
        if code not in coded:
            coded[code] = (Coding(ICD10CM, code),)
        conditions[patient_of[episode_id]].append(
            Condition(
                id=f"diagnosis-{pk}",
                codes=coded[code],
                categories=PROBLEM_LIST,
                clinical_status="active",
                verification_status="confirmed",
                onset=instant(onset_on or referred[episode_id]),
            )
        )

    contacts = Contact.objects.filter(
        episode_id__in=episode_ids, no_show=False, mode__in=PATIENT_CONTACT_MODES
    )
    assessments = Assessment.objects.filter(
        episode_id__in=episode_ids, is_current=True, instrument__in=list(PHQ9_TOOLS)
    )
    reads = reads or Reads()
    if isinstance(reads.contacts, tuple):
        contacts = contacts.filter(occurred_on__range=reads.contacts)
    elif reads.contacts is NOTHING:
        contacts = contacts.none()
    if isinstance(reads.assessments, tuple):
        assessments = assessments.filter(taken_on__range=reads.assessments)
    elif reads.assessments is NOTHING:
        assessments = assessments.none()
    imported = imported_resources()
    if imported is not None:
        # An assessment fed from an imported Observation is that Observation, which the
        # measures read as imported (below): read once, as on the deck path.
        assessments = assessments.exclude(
            id__in=imported.filter(assessment__isnull=False).values("assessment_id")
        )
    for pk, episode_id, occurred_on, minutes in contacts.values_list(
        "id", "episode_id", "occurred_on", "minutes"
    ):
        start = at_midnight(occurred_on)
        visits[patient_of[episode_id]].append(
            Encounter(
                f"contact-{pk}",
                OFFICE_VISITS,
                "finished",
                Period(start, start + timedelta(minutes=minutes)),
            )
        )

    observations: dict[int, list[Observation]] = defaultdict(list)
    codes = {
        instrument: (Coding(LOINC, loinc.code),)
        for instrument, loinc in PHQ9_TOOLS.items()
        if loinc is not None
    }
    for pk, episode_id, instrument, taken_on, total, amends_id in assessments.values_list(
        "id", "episode_id", "instrument", "taken_on", "total", "amends_id"
    ):
        observations[patient_of[episode_id]].append(
            Observation(
                id=f"assessment-{pk}",
                codes=codes[instrument],
                status="amended" if amends_id else "final",
                effective=instant(taken_on),
                value=float(total),
            )
        )

    imported, fhir_ids = imported_fhir(organization, patients)
    facts = []
    for patient_id, birth_date in births.items():
        own = PatientFacts(
            id=str(patient_id),
            fhir_id=fhir_ids.get(patient_id, str(patient_id)),
            birth_date=birth_date,
            deceased=deceased.get(patient_id),
            encounters=tuple(visits[patient_id]),
            conditions=tuple(conditions[patient_id]),
            observations=tuple(observations[patient_id]),
        )
        facts.append(merged(own, imported.get(patient_id)))
    return facts


def merged(own: PatientFacts, other: PatientFacts | None) -> PatientFacts:
    """The registry's facts plus those imported over FHIR for the same patient."""
    if other is None:
        return own
    return replace(
        own,
        deceased=own.deceased if own.deceased is not None else other.deceased,
        encounters=own.encounters + other.encounters,
        conditions=own.conditions + other.conditions,
        observations=own.observations + other.observations,
        procedures=own.procedures + other.procedures,
        service_requests=own.service_requests + other.service_requests,
        medication_requests=own.medication_requests + other.medication_requests,
    )


def elevated_phq9_between(first: date, last: date) -> Q:
    """Patients with a registry PHQ-9/PHQ-A > 9 between the dates, or with resources
    imported over FHIR (which the database cannot prefilter): a necessary condition for the
    initial population of CMS159 and DRR-E."""
    elevated = Q(
        id__in=Assessment.objects.filter(
            is_current=True,
            instrument__in=list(PHQ9_TOOLS),
            total__gt=9,
            taken_on__range=(first, last),
        ).values("episode__patient_id")
    )
    return or_imported(elevated)


def visited_between(first: date, last: date) -> Q:
    """Patients with a registry contact with the patient or an initiating visit between the
    dates, or with resources imported over FHIR: a necessary condition for a qualifying
    encounter of CMS2 in those days."""
    contacts = Contact.objects.filter(
        no_show=False, mode__in=PATIENT_CONTACT_MODES, occurred_on__range=(first, last)
    ).values("episode__patient_id")
    visits = Episode.objects.filter(initiating_visit_on__range=(first, last)).values("patient_id")
    return or_imported(Q(id__in=contacts) | Q(id__in=visits))


def born_by(year: int) -> Q:
    """Patients born in `year` or before: a necessary condition for being 12 or older on
    any day of `year` + 12 (the measures' minimum age)."""
    return Q(birth_date__lte=date(year, 12, 31))


def or_imported(found: Q) -> Q:
    """`found`, or a patient with resources imported over FHIR (not prefiltered)."""
    imported = imported_resources()
    if imported is None:
        return found
    return found | Q(id__in=imported.values("patient_id"))


def imported_resources() -> QuerySet[Any] | None:
    """Every `interop.ImportedResource` (organization, patient, resource_type, resource_id,
    body): the one place the quality measures touch the FHIR import's model. None when the
    interop app is not installed."""
    try:
        return apps.get_model("interop", "ImportedResource").objects.all()
    except LookupError:
        return None


def imported_fhir(
    organization: Any, patients: QuerySet[Patient]
) -> tuple[dict[int, PatientFacts], dict[int, str]]:
    """Facts from the resources the FHIR import stored for these patients, and each
    patient's id under /fhir/Patient/ where the import kept the sender's: one query.

    Without the interop app installed nothing is imported and both mappings are empty."""
    from cocm.reports.facts import patient_facts

    imported = imported_resources()
    if imported is None:
        return {}, {}
    by_patient: dict[int, list[dict[str, Any]]] = defaultdict(list)
    patient_bodies: dict[int, dict[str, Any]] = {}
    fhir_ids: dict[int, str] = {}
    rows = imported.filter(
        organization=organization, patient_id__in=patients.values("id")
    ).values_list("patient_id", "resource_type", "resource_id", "body")
    for patient_id, resource_type, resource_id, body in rows:
        if resource_type == "Patient":
            patient_bodies[patient_id] = body if isinstance(body, dict) else {}
            fhir_ids[patient_id] = str(resource_id)
        elif isinstance(body, dict):
            by_patient[patient_id].append(body)
    facts = {
        patient_id: patient_facts(patient_bodies.get(patient_id, {}), by_patient[patient_id])
        for patient_id in set(by_patient) | set(patient_bodies)
    }
    return facts, fhir_ids
