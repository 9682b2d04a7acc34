"""`GET /api/v1/patients?identifier=MRN` or `?name=` (API_CONTRACT.md): the lookup an EHR
integration makes first. Visible patients only, paged with `limit`/`offset`."""

from functools import partial

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from ninja import Query, Schema
from ninja.errors import HttpError
from pydantic import Field

from cocm.accounts.scoping import visible_patients
from cocm.api.routes import ERRORS, api, audited, patient_out, require
from cocm.api.schemas import PatientOut
from cocm.pages import Audit
from cocm.registry.models import Patient

MAX_LIMIT = 200


class PatientQuery(Schema):
    identifier: str | None = Field(None, max_length=255, description="exact MRN or identifier")
    name: str | None = Field(None, max_length=100, description="prefix of given or family name")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=10**9)


# On the API's own router: POST /patients is there, and one path has one router.
@api.get("/patients", response={200: list[PatientOut], **ERRORS}, tags=["patients"])
def find_patients(
    request: HttpRequest, response: HttpResponse, query: Query[PatientQuery]
) -> list[dict]:
    """Patients by exact MRN (or any kept identifier) or by name prefix; `X-Total-Count`
    gives the number of matches."""
    user = require(request, "view_patient")
    if not (query.identifier or query.name):
        raise HttpError(422, "Give identifier or name.")
    patients = visible_patients(user, Patient.objects)
    if query.identifier:
        patients = patients.filter(Q(mrn=query.identifier) | Q(identifiers__value=query.identifier))
    if query.name:
        prefix = query.name.strip()
        patients = patients.filter(
            Q(given_name__istartswith=prefix) | Q(family_name__istartswith=prefix)
        )
    ids = patients.values("pk").distinct()
    page = list(
        visible_patients(user, Patient.objects)
        .filter(pk__in=ids)
        .order_by("family_name", "given_name", "pk")
        .prefetch_related("coverages")[query.offset : query.offset + query.limit]
    )
    response["X-Total-Count"] = str(ids.count())
    return [
        audited(request, Audit("view", "patient search", found.id), partial(patient_out, found))
        for found in page
    ]
