"""The FHIR R4 endpoints under /fhir (API_CONTRACT.md "FHIR R4"): bearer tokens as the REST
API, clinic-scoped reads, audited; every error an OperationOutcome."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from ninja.errors import HttpError

from cocm.accounts.audit import record_access
from cocm.accounts.models import Organization, User
from cocm.accounts.permissions import can
from cocm.api.routes import BearerToken
from cocm.interop import export, import_jobs, server
from cocm.interop.fhir import FHIR_JSON, FhirProblem, information, operation_outcome
from cocm.interop.importer import import_bundle
from cocm.interop.models import ExportJob, ImportJob

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


def posted_bundle(request: HttpRequest) -> tuple[bytes, Any]:
    """The request body (refused over COCM_MAX_FHIR_BYTES) and its JSON."""
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
        return raw, json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise FhirProblem(
            f"The body is not valid JSON: {error}.", "Bundle", code="structure", status=400
        ) from error


def importing_organization(user: User) -> Organization:
    if user.organization is None:
        raise FhirProblem("Your account belongs to no organization.", code="forbidden", status=403)
    return user.organization


def queued_import(request: HttpRequest, user: User, raw: bytes) -> HttpResponse:
    """`Prefer: respond-async`: the import runs as a task; 202 and where to poll."""
    job = import_jobs.start_import(importing_organization(user), user=user, bundle=raw)
    record_access(
        request, "update", "FHIR import queued", patient_id=None, channel="api", user=user
    )
    response = fhir_response(information("The import is queued."), 202)
    response["Content-Location"] = request.build_absolute_uri(
        reverse("fhir:import_status", args=[job.key])
    )
    return response


def audit_patients(request: HttpRequest, user: User, action: str, what: str, ids: Any) -> None:
    """One audit event per patient the request touched (one without a patient if none)."""
    for patient_id in sorted(ids) or [None]:
        record_access(request, action, what, patient_id=patient_id, channel="api", user=user)


@authenticated
def root(request: HttpRequest, user: User) -> HttpResponse:
    if request.method != "POST":
        raise FhirProblem(
            "Use POST with a transaction or batch Bundle.", code="not-supported", status=405
        )
    require(user, "import_records")
    raw, bundle = posted_bundle(request)
    organization = importing_organization(user)
    if "respond-async" in request.headers.get("Prefer", ""):
        return queued_import(request, user, raw)
    result = import_bundle(organization, bundle, as_of=organization.today(), user=user)
    what = f"FHIR import: {result.stored} resources stored"
    audit_patients(request, user, "update", what, result.patient_ids)
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
    audit_patients(request, user, "view", f"FHIR {resource_type} search", patient_ids)
    return fhir_response(bundle)


def _export(request: HttpRequest, user: User, level: str, group: str = "") -> HttpResponse:
    require(user, "bulk_export")
    if request.method != "GET":
        raise FhirProblem("Kick off an export with GET.", code="not-supported", status=405)
    types, since = export.parse_kickoff(
        level, group, request.GET.dict(), request.headers.get("Prefer", "")
    )
    job = export.start_export(user, level, group, types, since, request.build_absolute_uri())
    record_access(
        request, "export", f"FHIR bulk export ({level})", patient_id=None, channel="api", user=user
    )
    response = HttpResponse(status=202)
    response["Content-Location"] = request.build_absolute_uri(
        reverse("fhir:export_status", args=[job.key])
    )
    return response


@authenticated
def export_system(request: HttpRequest, user: User) -> HttpResponse:
    return _export(request, user, "system")


@authenticated
def export_patients(request: HttpRequest, user: User) -> HttpResponse:
    return _export(request, user, "patient")


@authenticated
def export_group(request: HttpRequest, user: User, group: str) -> HttpResponse:
    return _export(request, user, "group", group)


def _job(user: User, key: str) -> ExportJob:
    job = ExportJob.objects.filter(key=key, user=user).first()
    if (
        job is None
        or job.status == ExportJob.Status.CANCELLED
        or (job.expires_at is not None and job.expires_at < timezone.now())
    ):
        raise FhirProblem("No such export (or it expired).", code="not-found", status=404)
    return job


def in_progress(job: ExportJob | ImportJob) -> HttpResponse | None:
    """202 with X-Progress and Retry-After while a queued job runs; None once it ended."""
    if job.status not in {job.Status.QUEUED, job.Status.RUNNING}:
        return None
    response = HttpResponse(status=202)
    response["X-Progress"] = job.progress or job.get_status_display()
    response["Retry-After"] = "2"
    return response


def failed(job: ExportJob | ImportJob, what: str) -> HttpResponse | None:
    if job.status != job.Status.FAILED:
        return None
    return problem_response(
        FhirProblem(f"The {what} failed: {job.error}", code="exception", status=500)
    )


@authenticated
def export_status(request: HttpRequest, user: User, key: str) -> HttpResponse:
    job = _job(user, key)
    if request.method == "DELETE":
        export.cancel_export(job)
        return fhir_response(information("The export was cancelled."), 202)
    if (waiting := in_progress(job) or failed(job, "export")) is not None:
        return waiting
    manifest = export.manifest(
        job,
        lambda name: request.build_absolute_uri(reverse("fhir:export_file", args=[job.key, name])),
    )
    return JsonResponse(manifest)


@authenticated
def import_status(request: HttpRequest, user: User, key: str) -> HttpResponse:
    """A background import: 202 with X-Progress while it runs, then the answer a
    synchronous POST would have had (its status and Bundle or OperationOutcome)."""
    job = ImportJob.objects.filter(key=key, user=user).first()
    if job is None:
        raise FhirProblem("No such import.", code="not-found", status=404)
    if (waiting := in_progress(job) or failed(job, "import")) is not None:
        return waiting
    return fhir_response(job.result or {}, job.result_status or 200)


@authenticated
def export_file(request: HttpRequest, user: User, key: str, name: str) -> HttpResponse:
    job = _job(user, key)
    item = next((i for i in job.output if i["file"] == name), None)
    if item is None or job.status != ExportJob.Status.DONE:
        raise FhirProblem("No such file in this export.", code="not-found", status=404)
    record_access(
        request,
        "export",
        f"FHIR bulk export file {name} ({item['count']} resources)",
        patient_id=None,
        channel="api",
        user=user,
    )
    return FileResponse((export.export_dir(job) / name).open("rb"), content_type=export.NDJSON)
