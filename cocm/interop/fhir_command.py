"""`cocm import fhir FILE|DIR`: the same import as POST /fhir, one transaction per file.

A file is all-or-nothing (a transaction Bundle) or per entry (a batch Bundle); a killed
import leaves every file either fully stored or not at all, and running it again completes
it (the same bundle stores nothing new).
"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from cocm.accounts.audit import record_event
from cocm.accounts.models import Clinic, Organization
from cocm.interop.importer import import_bundle


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("path", help="a Bundle .json file, or a directory of them")
    parser.add_argument("--organization", help="organization name (default: the only one)")
    parser.add_argument("--clinic", type=int, help="clinic id for patients no clinic claims")


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
    files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        raise CommandError(f"{path}: no such file, or no .json file in the directory.")
    clinic = None
    if options.get("clinic") is not None:
        clinic = Clinic.objects.filter(pk=options["clinic"]).first()
        if clinic is None:
            raise CommandError(f"No clinic with id {options['clinic']}.")
    organization = _organization(options.get("organization"), clinic)
    failed: list[str] = []
    stored = 0
    for file in tqdm(files, desc="import fhir", unit="file", file=command.stderr):
        try:
            bundle = json.loads(file.read_bytes())
        except (ValueError, UnicodeDecodeError) as error:
            failed.append(f"{file}: not valid JSON ({error})")
            continue
        result = import_bundle(organization, bundle, as_of=organization.today(), clinic=clinic)
        stored += result.stored
        for patient_id in sorted(result.patient_ids):
            record_event("import", f"FHIR import of {file.name}", patient_id=patient_id)
        if result.status != 200:
            failed.append(f"{file}: {_issues(result.body)}")
            continue
        for number, entry in enumerate(result.body["entry"]):
            outcome = entry["response"].get("outcome")
            if not entry["response"]["status"].startswith("2"):
                failed.append(f"{file}: entry {number}: {_issues(outcome)}")
    record_event("import", f"FHIR import: {len(files)} files, {stored} resources stored")
    command.stdout.write(f"{len(files)} files, {stored} resources stored or updated.")
    if failed:
        raise CommandError("\n".join(failed))


def _issues(outcome: dict | None) -> str:
    issues = (outcome or {}).get("issue", [])
    return "; ".join(
        f"{issue.get('diagnostics')} ({', '.join(issue.get('expression', []))})" for issue in issues
    )
