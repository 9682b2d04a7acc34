"""Clinic scoping: which patients and episodes a user may open (docs/security.md).

A user sees the patients of the clinics they belong to — through an episode there or, for a
patient without one (an imported patient), the patient's home clinic — newly registered
patients of the organization with neither, and those of the user's active break-glass
grants. Every page, endpoint, export and the FHIR server scope through these two functions.

They take the rows to scope (`Patient.objects`, `Episode.objects` or a queryset of them)
rather than importing the registry: accounts sits below the apps that hold patient data.
"""

from typing import TypeVar

from django.db.models import Model, Q, QuerySet
from django.db.models.manager import BaseManager
from django.utils import timezone

from cocm.accounts.models import BreakGlassGrant, Clinic, User
from cocm.errors import InvalidRequest

M = TypeVar("M", bound=Model)


def break_glass_patient_ids(user: User) -> QuerySet[BreakGlassGrant]:
    """The patients of the user's unexpired break-glass grants (a subquery of ids)."""
    return BreakGlassGrant.objects.filter(user=user, expires_at__gt=timezone.now()).values(
        "patient_id"
    )


def visible_patients(user: User, patients: "BaseManager[M] | QuerySet[M]") -> QuerySet[M]:
    """The patients (registry Patient rows) the user may open."""
    return (
        patients.filter(organization_id=user.organization_id)
        .filter(
            Q(episodes__clinic_id__in=user.clinic_ids)
            | Q(home_clinic_id__in=user.clinic_ids)
            | Q(episodes__isnull=True, home_clinic__isnull=True)
            | Q(id__in=break_glass_patient_ids(user))
        )
        .distinct()
    )


def visible_episodes(user: User, episodes: "BaseManager[M] | QuerySet[M]") -> QuerySet[M]:
    """The episodes (registry Episode rows) the user may open: their clinic's, or those of
    a break-glass grant's patient."""
    return episodes.filter(
        Q(clinic_id__in=user.clinic_ids) | Q(patient_id__in=break_glass_patient_ids(user)),
        patient__organization_id=user.organization_id,
    )


def own_clinic(user: User, clinic_id: object, field: str = "clinic") -> Clinic:
    """One of the user's clinics, by the id a form or request names; else refused on `field`."""
    clinic = None
    if str(clinic_id).isdigit() and len(str(clinic_id)) < 10:
        clinic = Clinic.objects.filter(id__in=user.clinic_ids, id=int(str(clinic_id))).first()
    if clinic is None:
        raise InvalidRequest("Unknown clinic or not one of yours.", field)
    return clinic
