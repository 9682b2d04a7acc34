"""FHIR Bulk Data export (Bulk Data Access IG v2): the kick-off's checks, the patients a
job covers, and the task that writes one NDJSON file per type, streamed in chunks so memory
stays flat whatever the size."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.db.models import F, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tasks import task

from cocm.accounts.models import Clinic, User
from cocm.accounts.scoping import visible_patients
from cocm.interop.fhir import FhirProblem
from cocm.interop.identity import patient_fhir_ids
from cocm.interop.mapping.patient import patient_to_fhir
from cocm.interop.models import ExportJob, ImportedResource
from cocm.interop.server import NATIVE
from cocm.registry.models import Episode, Patient

PATIENT_TYPES = (
    "Patient",
    "EpisodeOfCare",
    "Condition",
    "Observation",
    "QuestionnaireResponse",
    "Encounter",
    "CarePlan",
    "Procedure",
    "ServiceRequest",
    "MedicationRequest",
    "Coverage",
)
SYSTEM_TYPES = (*PATIENT_TYPES, "Organization", "Practitioner")
# When a registry row was last written, for `_since`.
CHANGED_AT = {
    "EpisodeOfCare": "created_at",
    "Condition": "recorded_at",
    "Observation": "recorded_at",
    "QuestionnaireResponse": "recorded_at",
    "Encounter": "recorded_at",
    "CarePlan": "updated_at",
    "Procedure": "created_at",
}
CHUNK = 1000
NDJSON = "application/fhir+ndjson"


def export_dir(job: ExportJob) -> Path:
    return Path(settings.COCM_EXPORT_DIR) / job.key


def parse_kickoff(
    level: str, group: str, params: dict[str, str], prefer: str
) -> tuple[list[str], datetime | None]:
    """The types and `_since` of a kick-off request; FhirProblem (400) for what the
    server does not do."""
    if "respond-async" not in prefer:
        raise FhirProblem("A bulk export needs the header Prefer: respond-async.", status=400)
    output_format = params.get("_outputFormat")
    if output_format and output_format not in {NDJSON, "application/ndjson", "ndjson"}:
        raise FhirProblem(
            f"_outputFormat {output_format} is not supported.", "_outputFormat", status=400
        )
    allowed = SYSTEM_TYPES if level == "system" else PATIENT_TYPES
    types = [t for t in params.get("_type", "").split(",") if t] or list(allowed)
    unknown = [t for t in types if t not in allowed]
    if unknown:
        raise FhirProblem(f"_type {unknown[0]} is not exported here.", "_type", status=400)
    since = None
    if params.get("_since"):
        since = parse_datetime(params["_since"])
        if since is None or since.tzinfo is None:
            raise FhirProblem(
                "_since must be an instant such as 2026-01-01T00:00:00Z.", "_since", status=400
            )
    unsupported = set(params) - {"_type", "_since", "_outputFormat"}
    if unsupported:
        raise FhirProblem(f"{sorted(unsupported)[0]} is not supported.", status=400)
    return types, since


def group_patients(user: User, group: str) -> QuerySet[Patient]:
    """A Group is a caseload: `clinic-<id>` (the clinic's patients) or `caremanager-<id>`
    (a care manager's open episodes)."""
    kind, _, number = group.partition("-")
    if not number.isdigit() or len(number) > 18:
        raise FhirProblem(f"Group/{group} is not known.", code="not-found", status=404)
    patients = visible_patients(user, Patient.objects)
    if kind == "clinic" and Clinic.objects.filter(pk=int(number), pk__in=user.clinic_ids).exists():
        return patients.filter(Q(episodes__clinic_id=int(number)) | Q(home_clinic_id=int(number)))
    if kind == "caremanager":
        caseload = Episode.objects.open().filter(care_manager_id=int(number))
        return patients.filter(pk__in=caseload.values("patient_id"))
    raise FhirProblem(f"Group/{group} is not known.", code="not-found", status=404)


def start_export(
    user: User, level: str, group: str, types: list[str], since: datetime | None, url: str
) -> ExportJob:
    if level == "group":
        group_patients(user, group)  # 404 now rather than a failed job later
    job = ExportJob.objects.create(
        key=uuid.uuid4().hex,
        organization=user.organization,
        user=user,
        level=level,
        group=group,
        types=types,
        since=since,
        request_url=url[:1000],
    )
    run_export.enqueue(job.key)
    return job


def _patients(job: ExportJob) -> QuerySet[Patient]:
    patients = (
        group_patients(job.user, job.group)
        if job.level == "group"
        else visible_patients(job.user, Patient.objects)
    )
    return Patient.objects.filter(pk__in=patients.values("pk"))


def _resources(job: ExportJob, resource_type: str) -> Iterator[dict[str, Any] | str]:
    """The job's resources of a type: registry rows mapped to FHIR (dicts), then imported
    resources as their stored JSON text (one line, never parsed)."""
    patients = _patients(job)
    if resource_type == "Patient":
        rows = patients.order_by("pk").prefetch_related("identifiers")
        if job.since:
            rows = rows.filter(created_at__gte=job.since)
        for chunk in _chunks(rows.iterator(chunk_size=CHUNK)):
            # An imported patient is served as imported (server.patient_resource), read here
            # for the whole chunk at once, as its stored JSON text.
            stored = dict(
                ImportedResource.objects.filter(
                    patient_id__in=[p.pk for p in chunk], resource_type="Patient"
                )
                .annotate(text=Cast("body", TextField()))
                .values_list("patient_id", "text")
            )
            for patient in chunk:
                yield stored.get(patient.pk) or patient_to_fhir(patient, str(patient.pk))
        return
    native = NATIVE.get(resource_type)
    if native is not None:
        rows = native.rows(job.user).annotate(_patient=F(native.patient_path))
        rows = rows.filter(_patient__in=patients.values("pk")).order_by("pk")
        if job.since:
            rows = rows.filter(**{f"{CHANGED_AT[resource_type]}__gte": job.since})
        source: Iterator[Any] = (  # plain rows where we can: no model instances to build
            map(Row, rows.values(*AS_VALUES[resource_type], "_patient").iterator(CHUNK))
            if resource_type in AS_VALUES
            else rows.iterator(chunk_size=CHUNK)
        )
        for chunk in _chunks(source):
            ids = patient_fhir_ids({obj._patient for obj in chunk})
            yield from (native.to_fhir(obj, ids[obj._patient]) for obj in chunk)
    imported = ImportedResource.objects.filter(
        organization=job.organization, resource_type=resource_type
    )
    if resource_type not in {"Organization", "Practitioner"}:
        imported = imported.filter(patient__in=patients.values("pk"))
    if job.since:
        imported = imported.filter(imported_at__gte=job.since)
    as_text = imported.order_by("pk").annotate(text=Cast("body", TextField()))
    yield from as_text.values_list("text", flat=True).iterator(chunk_size=CHUNK)


# The columns a mapping reads, for the types exported from plain rows (`Row`).
ASSESSMENT_COLUMNS = (
    "id",
    "instrument",
    "amends_id",
    "taken_on",
    "recorded_at",
    "total",
    "severity",
    "answers",
)
AS_VALUES = {"Observation": ASSESSMENT_COLUMNS, "QuestionnaireResponse": ASSESSMENT_COLUMNS}


class Row(dict[str, Any]):
    """A values() row read as the model instance a mapping expects (`row.total`, `row.pk`)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self["id" if name == "pk" else name]
        except KeyError as error:
            raise AttributeError(name) from error


def _chunks(rows: Iterator[Any]) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _line(resource: dict[str, Any] | str) -> bytes:
    """One NDJSON line: a mapped resource serialized by orjson, or stored JSON text as is."""
    if isinstance(resource, str):
        return resource.encode() + b"\n"
    return orjson.dumps(resource) + b"\n"


def _cancelled(job: ExportJob) -> bool:
    return (
        not ExportJob.objects.filter(pk=job.pk).exclude(status=ExportJob.Status.CANCELLED).exists()
    )


MAX_ATTEMPTS = 3


@task()
def run_export(key: str, attempt: int = 1) -> int:
    """Write the job's NDJSON files; the number of resources written. A failed attempt is
    retried (MAX_ATTEMPTS in all, COCM_TASK_RETRY_SECONDS × attempt later)."""
    job = ExportJob.objects.select_related("user", "organization").get(key=key)
    if job.status != ExportJob.Status.QUEUED:
        return 0
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING)
    folder = export_dir(job)
    folder.mkdir(parents=True, exist_ok=True)
    output = []
    written = 0
    try:
        for index, resource_type in enumerate(job.types):
            count = 0
            path = folder / f"{resource_type}.ndjson"
            with path.open("wb") as file:
                for lines in _chunks(map(_line, _resources(job, resource_type))):
                    file.writelines(lines)
                    count += len(lines)
                    if len(lines) == CHUNK and _cancelled(job):
                        shutil.rmtree(folder, ignore_errors=True)
                        return written
            if count:
                output.append({"type": resource_type, "file": path.name, "count": count})
            else:
                path.unlink()
            written += count
            ExportJob.objects.filter(pk=job.pk).update(
                progress=f"{index + 1} of {len(job.types)} types, {written} resources"
            )
    except Exception as error:
        shutil.rmtree(folder, ignore_errors=True)
        if attempt < MAX_ATTEMPTS:
            ExportJob.objects.filter(pk=job.pk).update(
                status=ExportJob.Status.QUEUED,
                progress=f"attempt {attempt} failed; retrying",
                error=str(error)[:500],
            )
            later = timezone.now() + timedelta(seconds=settings.COCM_TASK_RETRY_SECONDS * attempt)
            run_export.using(run_after=later).enqueue(key, attempt=attempt + 1)
        else:
            ExportJob.objects.filter(pk=job.pk).update(
                status=ExportJob.Status.FAILED, error=str(error)[:500], finished_at=timezone.now()
            )
        raise  # this attempt's task result records the failure
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
        status=ExportJob.Status.DONE,
        output=output,
        finished_at=now,
        expires_at=now + timedelta(hours=settings.COCM_EXPORT_HOURS),
    )
    if _cancelled(job):
        shutil.rmtree(folder, ignore_errors=True)
    return written


def manifest(job: ExportJob, file_url: Callable[[str], str]) -> dict[str, Any]:
    """The Bulk Data completion manifest of a finished export; `file_url` makes each
    file's address from its name."""
    return {
        "transactionTime": job.created_at.isoformat(),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {"type": item["type"], "url": file_url(item["file"]), "count": item["count"]}
            for item in job.output
        ],
        "error": [],
    }


def cancel_export(job: ExportJob) -> None:
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.CANCELLED)
    shutil.rmtree(export_dir(job), ignore_errors=True)


def remove_expired(now: datetime) -> int:
    """Delete the files of expired exports (the worker runs this)."""
    expired = ExportJob.objects.filter(expires_at__lt=now).exclude(
        status=ExportJob.Status.CANCELLED
    )
    count = 0
    for job in expired:
        shutil.rmtree(export_dir(job), ignore_errors=True)
        count += 1
    expired.update(status=ExportJob.Status.CANCELLED)
    return count
