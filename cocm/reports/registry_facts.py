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
- an episode discharged as deceased gives the patient a death date (the discharge date).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
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
PROBLEM_LIST_ITEM = Coding(CONDITION_CATEGORY, "problem-list-item")
PATIENT_CONTACT_MODES = (Mode.IN_PERSON, Mode.PHONE, Mode.VIDEO)
# The instruments whose totals are in "PHQ 9 and PHQ 9M Tools", with their total's LOINC.
PHQ9_TOOLS = {code: INSTRUMENTS[code].total_loinc for code in ("PHQ-9", "PHQ-A")}


def at_midnight(day: date) -> datetime:
    """A registry date as the instant the measures compare (midnight UTC of that date)."""
    return datetime.combine(day, time(), tzinfo=UTC)


def registry_facts(
    organization: Any, episodes: QuerySet[Episode], patients: QuerySet[Patient] | None = None
) -> list[PatientFacts]:
    """Facts for every patient with an episode in `episodes` (and every one of `patients`,
    e.g. imported over FHIR without an episode), from the rows of those episodes: six
    queries, seven with the FHIR import."""
    episode_ids = episodes.values("id")
    scope = Q(episodes__id__in=episode_ids)
    if patients is not None:
        scope |= Q(id__in=patients.values("id"))
    patients = Patient.objects.filter(scope, organization=organization).distinct()
    births = dict(patients.values_list("id", "birth_date"))
    deceased: dict[int, datetime] = {}
    visits: dict[int, list[Encounter]] = defaultdict(list)
    referred: dict[int, date] = {}
    for row in Episode.objects.filter(id__in=episode_ids).values(
        "id", "patient_id", "referred_on", "initiating_visit_on", "discharged_on",
        "discharge_reason",
    ):  # fmt: skip
        referred[row["id"]] = row["referred_on"]
        if row["initiating_visit_on"]:
            start = at_midnight(row["initiating_visit_on"])
            visits[row["patient_id"]].append(
                Encounter(f"visit-{row['id']}", (OFFICE_VISIT,), "finished", Period(start, start))
            )
        if row["discharge_reason"] == DischargeReason.DECEASED and row["discharged_on"]:
            deceased[row["patient_id"]] = at_midnight(row["discharged_on"])

    conditions: dict[int, list[Condition]] = defaultdict(list)
    for row in Diagnosis.objects.filter(episode_id__in=episode_ids).values(
        "id", "episode_id", "episode__patient_id", "code", "onset_on"
    ):
        onset = at_midnight(row["onset_on"] or referred[row["episode_id"]])
        conditions[row["episode__patient_id"]].append(
            Condition(
                id=f"diagnosis-{row['id']}",
                codes=(Coding(ICD10CM, row["code"]),),
                categories=(PROBLEM_LIST_ITEM,),
                clinical_status="active",
                verification_status="confirmed",
                onset=Period(onset, onset),
            )
        )

    for row in Contact.objects.filter(
        episode_id__in=episode_ids, no_show=False, mode__in=PATIENT_CONTACT_MODES
    ).values("id", "episode__patient_id", "occurred_on", "minutes"):
        start = at_midnight(row["occurred_on"])
        visits[row["episode__patient_id"]].append(
            Encounter(
                f"contact-{row['id']}",
                (OFFICE_VISIT,),
                "finished",
                Period(start, start + timedelta(minutes=row["minutes"])),
            )
        )

    observations: dict[int, list[Observation]] = defaultdict(list)
    for row in Assessment.objects.filter(
        episode_id__in=episode_ids, is_current=True, instrument__in=list(PHQ9_TOOLS)
    ).values("id", "episode__patient_id", "instrument", "taken_on", "total", "amends_id"):
        taken = at_midnight(row["taken_on"])
        loinc = PHQ9_TOOLS[row["instrument"]]
        assert loinc is not None
        observations[row["episode__patient_id"]].append(
            Observation(
                id=f"assessment-{row['id']}",
                codes=(Coding(LOINC, loinc.code),),
                status="amended" if row["amends_id"] else "final",
                effective=Period(taken, taken),
                value=float(row["total"]),
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


def imported_fhir(
    organization: Any, patients: QuerySet[Patient]
) -> tuple[dict[int, PatientFacts], dict[int, str]]:
    """Facts from the resources the FHIR import stored for these patients, and each
    patient's id under /fhir/Patient/ where the import kept the sender's: one query.

    The only place the quality measures read `interop.ImportedResource`; without the
    interop app installed there is nothing imported and both mappings are empty."""
    from cocm.reports.facts import patient_facts

    try:
        imported_resource = apps.get_model("interop", "ImportedResource")
    except LookupError:
        return {}, {}
    by_patient: dict[int, list[dict[str, Any]]] = defaultdict(list)
    patient_bodies: dict[int, dict[str, Any]] = {}
    fhir_ids: dict[int, str] = {}
    rows = imported_resource.objects.filter(
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
