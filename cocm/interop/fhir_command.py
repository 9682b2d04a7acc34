"""`cocm import fhir FILE|DIR`: the same import as POST /fhir, one transaction per file.

A file is all-or-nothing (a transaction Bundle) or per entry (a batch Bundle); a killed
import leaves every file either fully stored or not at all, and running it again completes
it (the same bundle stores nothing new).
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from cocm.accounts.models import Clinic, Organization
from cocm.interop.import_jobs import bundle_files, import_files, start_import
from cocm.interop.models import ImportJob


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("path", help="a Bundle .json file, or a directory of them")
    parser.add_argument("--organization", help="organization name (default: the only one)")
    parser.add_argument("--clinic", type=int, help="clinic id for patients no clinic claims")
    parser.add_argument(
        "--background",
        action="store_true",
        help="queue the import for `cocm worker` (see `cocm import status`)",
    )


def _organization(name: str | None, clinic: Clinic | None) -> Organization:
    if clinic is not None:
        return clinic.organization
    if name:
        found = Organization.objects.filter(name=name).first()
        if found is None:
            raise CommandError(f"No organization named '{name}'.")
        return found
    organizations = list(Organization.objects.all()[:2])
    if len(organizations) != 1:
        raise CommandError("Name the organization with --organization (or give --clinic).")
    return organizations[0]


def run(command: BaseCommand, **options: Any) -> None:
    path = Path(options["path"])
    files = bundle_files(path)
    if not files or not all(f.is_file() for f in files):
        raise CommandError(f"{path}: no such file, or no .json file in the directory.")
    clinic = None
    if options.get("clinic") is not None:
        clinic = Clinic.objects.filter(pk=options["clinic"]).first()
        if clinic is None:
            raise CommandError(f"No clinic with id {options['clinic']}.")
    organization = _organization(options.get("organization"), clinic)
    if options.get("background"):
        job = start_import(organization, clinic=clinic, path=path)
        command.stdout.write(
            f"Queued import {job.key} of {len(files)} files; `cocm worker` runs it, "
            f"`cocm import status {job.key}` shows it."
        )
        return
    with tqdm(total=len(files), desc="import fhir", unit="file", file=command.stderr) as bar:
        outcome = import_files(
            organization, files, clinic=clinic, done=lambda n: bar.update(n - bar.n)
        )
    command.stdout.write(f"{outcome.files} files, {outcome.stored} resources stored or updated.")
    if outcome.failed:
        raise CommandError("\n".join(outcome.failed))


def add_status_arguments(parser: CommandParser) -> None:
    parser.add_argument("key", nargs="?", help="an import's key (default: the latest ten)")


def run_status(command: BaseCommand, **options: Any) -> None:
    """`cocm import status [KEY]`: background imports, their status and progress."""
    jobs = ImportJob.objects.order_by("-created_at")
    if options.get("key"):
        jobs = jobs.filter(key=options["key"])
        if not jobs.exists():
            raise CommandError(f"No import {options['key']}.")
    for job in jobs[:10]:
        what = job.path or "posted bundle"
        line = f"{job.key} {job.status} {job.progress} — {job.stored} stored — {what}"
        command.stdout.write(line)
        if job.error:
            command.stdout.write(f"  error: {job.error}")
        for failure in (job.result or {}).get("failed", []) if job.path else []:
            command.stdout.write(f"  {failure}")
