"""What the chart shows of a patient's imported records: their encounters, procedures,
orders, medications and conditions on the timeline, and hospice or palliative care."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from cocm.care.timeline import Event
from cocm.domain.ecqm import CMS159_VALUESETS
from cocm.interop.fhir import codings
from cocm.interop.models import ImportedResource
from cocm.reports.valuesets import package_valuesets

# Imported type → (timeline kind, how the event is named).
TIMELINE_TYPES = {
    "Encounter": ("encounter", "Encounter"),
    "Procedure": ("procedure", "Procedure"),
    "ServiceRequest": ("procedure", "Order"),
    "MedicationRequest": ("treatment", "Medication order"),
    "Condition": ("diagnosis", "Condition"),
}
CODE_ELEMENT = {"Encounter": "type", "MedicationRequest": "medicationCodeableConcept"}
SYSTEM_NAMES = {
    "http://www.ama-assn.org/go/cpt": "CPT",
    "http://snomed.info/sct": "SNOMED CT",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://www.nlm.nih.gov/research/umls/hcpcs": "HCPCS",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://loinc.org": "LOINC",
}
# The CMS159 value sets (mp2025) that say hospice or palliative care, by what the chart says.
CARE_VALUESETS = {
    "Hospice care": (
        "Hospice Care Ambulatory",
        "Hospice Encounter",
        "Hospice Diagnosis",
    ),
    "Palliative care": (
        "Palliative Care Encounter",
        "Palliative Care Intervention",
        "Palliative Care Diagnosis",
        "Palliative or Hospice Care",
    ),
}


def _status(body: dict[str, Any]) -> str:
    status = body.get("status")
    if status is None:
        clinical = codings(body.get("clinicalStatus"))
        status = clinical[0].get("code") if clinical else None
    return str(status or "")


def described(body: dict[str, Any]) -> str:
    """'Office visit (CPT 99213)': the first coding's display and code, or the text."""
    element = CODE_ELEMENT.get(body["resourceType"], "code")
    value = body.get(element)
    concepts = value if isinstance(value, list) else [value]
    for concept in concepts:
        for coding in codings(concept):
            system = SYSTEM_NAMES.get(coding.get("system", ""), "code")
            code = f"{system} {coding.get('code', '')}".strip()
            display = coding.get("display") or (concept or {}).get("text")
            return f"{display} ({code})" if display else code
        if isinstance(concept, dict) and concept.get("text"):
            return str(concept["text"])
    return "not coded"


def imported_events(patient_id: int) -> list[Event]:
    """The patient's imported encounters, procedures, orders, medications and conditions as
    timeline events (on their date, else the day they were imported)."""
    rows = ImportedResource.objects.filter(
        patient_id=patient_id, resource_type__in=TIMELINE_TYPES
    ).values_list("resource_type", "body", "effective_on", "imported_at")
    events = []
    for resource_type, body, effective_on, imported_at in rows:
        kind, name = TIMELINE_TYPES[resource_type]
        text = f"{name} (imported): {described(body)[:160]}"
        status = _status(body)
        if status:
            text += f", {status}"
        on = effective_on or imported_at.date()
        events.append(Event(on, kind, text, at=imported_at))
    return events


@dataclass(frozen=True)
class CareNote:
    label: str  # "Hospice care", "Palliative care"
    on: date | None
    what: str  # "Procedure: Hospice care (SNOMED CT 385763009)"


def hospice_and_palliative_care(patient_id: int) -> list[CareNote]:
    """Imported records of hospice or palliative care (the CMS159 value sets), newest first."""
    valuesets = package_valuesets("mp2025")
    members = {
        label: frozenset().union(*(valuesets[CMS159_VALUESETS[name]] for name in names))
        for label, names in CARE_VALUESETS.items()
    }
    notes = []
    rows = ImportedResource.objects.filter(patient_id=patient_id).exclude(codes="")
    for resource_type, codes, body, on in rows.values_list(
        "resource_type", "codes", "body", "effective_on"
    ):
        tokens = {tuple(token.split("|", 1)) for token in codes.split()}
        for label, codings_in in members.items():
            if tokens & codings_in:
                notes.append(CareNote(label, on, f"{resource_type}: {described(body)}"))
                break
    return sorted(notes, key=lambda note: note.on or date.min, reverse=True)
