"""FHIR imports of files and directories (`cocm import fhir`), and large imports as
background tasks (django-tasks, run by `cocm worker`) with a job status to poll.

Each file, and a posted Bundle, is imported by `import_bundle` in its own transaction: a
killed import leaves every file whole or absent, and importing again completes it (the same
bundle stores nothing new), whether it ran in the command or in the worker.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from cocm.accounts.audit import record_event
from cocm.accounts.models import Clinic, Organization, User
from cocm.interop.importer import import_bundle
from cocm.interop.models import ImportJob

MAX_ATTEMPTS = 3


def bundle_files(path: Path) -> list[Path]:
    """The .json files of a path (a file, or a directory searched recursively)."""
    return sorted(path.rglob("*.json")) if path.is_dir() else [path]


@dataclass
class FilesResult:
    files: int = 0
    stored: int = 0
    failed: list[str] = field(default_factory=list)  # "<file>: <reason>"


def import_files(
    organization: Organization,
    files: list[Path],
    *,
    clinic: Clinic | None,
    user: User | None = None,
    done: Callable[[int], None] = lambda count: None,
) -> FilesResult:
    """Import each file as one bundle; name each refused file and entry. `done(n)` is called
    after the n-th file."""
    outcome = FilesResult(files=len(files))
    for number, file in enumerate(files, start=1):
        try:
            bundle = json.loads(file.read_bytes())
        except (ValueError, UnicodeDecodeError, OSError) as error:
            outcome.failed.append(f"{file}: not valid JSON ({error})")
            done(number)
            continue
        result = import_bundle(
            organization, bundle, as_of=organization.today(), user=user, clinic=clinic
        )
        outcome.stored += result.stored
        for patient_id in sorted(result.patient_ids):
            record_event("import", f"FHIR import of {file.name}", user=user, patient_id=patient_id)
        if result.status != 200:
            outcome.failed.append(f"{file}: {issues(result.body)}")
        else:
            for index, entry in enumerate(result.body["entry"]):
                if not entry["response"]["status"].startswith("2"):
                    answer = entry["response"].get("outcome")
                    outcome.failed.append(f"{file}: entry {index}: {issues(answer)}")
        done(number)
    record_event(
        "import",
        f"FHIR import: {outcome.files} files, {outcome.stored} resources stored",
        user=user,
    )
    return outcome


def issues(outcome: dict[str, Any] | None) -> str:
    found = (outcome or {}).get("issue", [])
    return "; ".join(
        f"{issue.get('diagnostics')} ({', '.join(issue.get('expression', []))})" for issue in found
    )


def start_import(
    organization: Organization,
    *,
    user: User | None = None,
    clinic: Clinic | None = None,
    bundle: bytes | None = None,
    path: Path | None = None,
) -> ImportJob:
    """Queue an import of a posted Bundle or of a file or directory; the worker runs it."""
    job = ImportJob.objects.create(
        key=uuid.uuid4().hex,
        organization=organization,
        user=user,
        clinic=clinic,
        bundle=bundle,
        path=str(path.resolve()) if path is not None else "",
    )
    run_import.enqueue(job.key)
    return job


def _update(job: ImportJob, **fields: Any) -> None:
    ImportJob.objects.filter(pk=job.pk).update(**fields)


@task()
def run_import(key: str, attempt: int = 1) -> int:
    """Run a queued import; the number of resources stored. An attempt that fails (the
    database went away) is retried, MAX_ATTEMPTS in all; its transaction left nothing."""
    job = ImportJob.objects.select_related("organization", "user", "clinic").get(key=key)
    if job.status != ImportJob.Status.QUEUED:
        return 0
    _update(job, status=ImportJob.Status.RUNNING, progress="running")
    try:
        if job.path:
            files = bundle_files(Path(job.path))
            outcome = import_files(
                job.organization,
                files,
                clinic=job.clinic,
                user=job.user,
                done=lambda n: _update(job, progress=f"{n} of {len(files)} files"),
            )
            status, body, stored = (
                422 if outcome.failed else 200,
                {"failed": outcome.failed},
                outcome.stored,
            )
            progress = f"{len(files)} of {len(files)} files"
        else:
            organization = job.organization
            result = import_bundle(
                organization,
                json.loads(bytes(job.bundle or b"")),
                as_of=organization.today(),
                user=job.user,
                clinic=job.clinic,
            )
            status, body, stored = result.status, result.body, result.stored
            progress = f"{len(body.get('entry', []))} entries"
            for patient_id in sorted(result.patient_ids) or [None]:
                record_event(
                    "update",
                    f"FHIR import: {result.stored} resources stored",
                    user=job.user,
                    patient_id=patient_id,
                    channel="api",
                )
    except Exception as error:
        if attempt < MAX_ATTEMPTS:
            _update(
                job,
                status=ImportJob.Status.QUEUED,
                progress=f"attempt {attempt} failed; retrying",
                error=str(error)[:500],
            )
            later = timezone.now() + timedelta(seconds=settings.COCM_TASK_RETRY_SECONDS * attempt)
            run_import.using(run_after=later).enqueue(key, attempt=attempt + 1)
        else:
            _update(
                job,
                status=ImportJob.Status.FAILED,
                error=str(error)[:500],
                bundle=None,
                finished_at=timezone.now(),
            )
        raise  # this attempt's task result records the failure
    _update(
        job,
        status=ImportJob.Status.DONE,
        progress=progress,
        stored=stored,
        result_status=status,
        result=body,
        bundle=None,  # nothing of the patients' data kept beyond what was imported
        finished_at=timezone.now(),
    )
    return stored
