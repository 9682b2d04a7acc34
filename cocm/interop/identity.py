"""A registry patient's FHIR id, both ways.

An imported patient keeps the sender's id (its ImportedResource row of type Patient); a
patient registered in the product is served at its primary key.
"""

from __future__ import annotations

from collections.abc import Iterable

from cocm.accounts.models import Organization
from cocm.interop.models import ImportedResource
from cocm.registry.models import Patient


def patient_fhir_id(patient: Patient) -> str:
    """The id of the patient under /fhir/Patient/."""
    imported = (
        ImportedResource.objects.filter(patient=patient, resource_type="Patient")
        .values_list("resource_id", flat=True)
        .first()
    )
    return imported or str(patient.pk)


def patient_fhir_ids(patient_ids: Iterable[int]) -> dict[int, str]:
    """patient_fhir_id for many patients in one query."""
    ids = list(patient_ids)
    found = dict(
        ImportedResource.objects.filter(patient_id__in=ids, resource_type="Patient").values_list(
            "patient_id", "resource_id"
        )
    )
    return {pk: found.get(pk) or str(pk) for pk in ids}


def patient_by_fhir_id(organization: Organization, fhir_id: str) -> Patient | None:
    """The organization's patient served at /fhir/Patient/<fhir_id>, if any."""
    imported = (
        ImportedResource.objects.filter(
            organization=organization, resource_type="Patient", resource_id=fhir_id
        )
        .select_related("patient")
        .first()
    )
    if imported is not None:
        return imported.patient
    if fhir_id.isdigit() and len(fhir_id) < 18:
        return (
            Patient.objects.filter(organization=organization, pk=int(fhir_id))
            .exclude(imported_resources__resource_type="Patient")
            .first()
        )
    return None
