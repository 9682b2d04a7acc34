"""The FHIR R4 endpoints under /fhir (API_CONTRACT.md "FHIR R4"): bearer tokens as the REST
API, clinic-scoped reads, audited; every error an OperationOutcome."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from ninja.errors import HttpError

from cocm.accounts.audit import record_access
from cocm.accounts.models import User
from cocm.accounts.permissions import can
from cocm.api.routes import BearerToken
from cocm.interop import server
from cocm.interop.fhir import FHIR_JSON, FhirProblem, operation_outcome
from cocm.interop.importer import import_bundle

View = Callable[..., HttpResponse]


def fhir_response(body: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, content_type=FHIR_JSON)


def problem_response(problem: FhirProblem) -> JsonResponse:
    return fhir_response(operation_outcome([problem]), problem.status)


def authenticated(view: View) -> View:
    """Bearer token as in the REST API; 401/403 as OperationOutcome."""

    @csrf_exempt
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        try:
            user = (
                BearerToken().authenticate(request, token) if scheme.lower() == "bearer" else None
            )
        except HttpError as error:
            return problem_response(FhirProblem(str(error), code="forbidden", status=403))
        if user is None:
            return problem_response(
                FhirProblem("Missing or invalid bearer token.", code="login", status=401)
            )
        request.auth = user  # type: ignore[attr-defined]
        try:
            return view(request, user, *args, **kwargs)
        except FhirProblem as problem:
            return problem_response(problem)

    return wrapper


def require(user: User, capability: str) -> None:
    if not can(user, capability):
        raise FhirProblem(f"Your role does not allow: {capability}.", code="forbidden", status=403)


@authenticated
def root(request: HttpRequest, user: User) -> HttpResponse:
    if request.method != "POST":
        raise FhirProblem(
            "Use POST with a transaction or batch Bundle.", code="not-supported", status=405
        )
    require(user, "import_records")
    limit = settings.COCM_MAX_FHIR_BYTES
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise FhirProblem(
            f"The bundle is too large: the limit is {limit // 1024} KiB.",
            "Bundle",
            code="too-costly",
            status=413,
        )
    try:
        bundle = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise FhirProblem(
            f"The body is not valid JSON: {error}.", "Bundle", code="structure", status=400
        ) from error
    organization = user.organization
    if organization is None:
        raise FhirProblem("Your account belongs to no organization.", code="forbidden", status=403)
    result = import_bundle(organization, bundle, as_of=organization.today(), user=user)
    for patient_id in sorted(result.patient_ids) or [None]:
        record_access(
            request,
            "update",
            f"FHIR import: {result.stored} resources stored",
            patient_id=patient_id,
            channel="api",
            user=user,
        )
    return fhir_response(result.body, result.status)


@authenticated
def metadata(request: HttpRequest, user: User) -> HttpResponse:
    return fhir_response(server.capability_statement(request.build_absolute_uri("/fhir")))


@authenticated
def read(request: HttpRequest, user: User, resource_type: str, resource_id: str) -> HttpResponse:
    require(user, "view_clinical")
    resource, patient_id = server.read(user, resource_type, resource_id)
    record_access(
        request, "view", f"FHIR {resource_type}", patient_id=patient_id, channel="api", user=user
    )
    return fhir_response(resource)


@authenticated
def search(request: HttpRequest, user: User, resource_type: str) -> HttpResponse:
    require(user, "view_clinical")
    bundle, patient_ids = server.search(
        user, resource_type, request.GET, request.build_absolute_uri(request.path)
    )
    for patient_id in sorted(patient_ids) or [None]:
        record_access(
            request,
            "view",
            f"FHIR {resource_type} search",
            patient_id=patient_id,
            channel="api",
            user=user,
        )
    return fhir_response(bundle)
