"""`cocm report quality --measure cms159|cms2|drr|dms --period YYYY --format csv|xlsx|json`.

Writes the measure's patient list (CSV/XLSX, via cocm/spreadsheets.py) or the API's JSON to
--output, or to standard output for CSV and JSON. The whole organization is measured
(--clinic narrows it); the read is audited like any export of patient data.
"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from cocm.accounts.audit import record_event
from cocm.accounts.models import Organization
from cocm.errors import InvalidRequest
from cocm.registry.models import Episode, Patient
from cocm.reports import quality
from cocm.spreadsheets import as_csv, as_xlsx


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--measure", required=True, choices=quality.MEASURES)
    parser.add_argument("--period", required=True, help="the measurement year, YYYY")
    parser.add_argument("--format", default="csv", choices=("csv", "xlsx", "json"))
    parser.add_argument("--output", type=Path, help="file to write (required for xlsx)")
    parser.add_argument("--organization", help="organization name (if there is more than one)")
    parser.add_argument("--clinic", help="only the episodes of this clinic (name)")


def organization_named(name: str | None) -> Organization:
    organizations = Organization.objects.order_by("id")
    if name:
        organizations = organizations.filter(name=name)
    found = list(organizations[:2])
    if not found:
        raise CommandError(f"No organization named {name!r}." if name else "No organization.")
    if len(found) > 1:
        raise CommandError("Several organizations: name one with --organization.")
    return found[0]


def run(command: Any, **options: Any) -> None:
    organization = organization_named(options.get("organization"))
    episodes = Episode.objects.filter(patient__organization=organization)
    patients = Patient.objects.filter(organization=organization)
    if options.get("clinic"):
        patients = patients.none()
        episodes = episodes.filter(clinic__name=options["clinic"])
        if not episodes.exists():
            raise CommandError(f"No episodes in a clinic named {options['clinic']!r}.")
    try:
        year = quality.parse_period(options["period"], options["measure"], organization.today())
    except InvalidRequest as error:
        raise CommandError(f"--{error.field}: {error.message}") from error
    export_format = options["format"]
    output: Path | None = options.get("output")
    if export_format == "xlsx" and output is None:
        raise CommandError("--output: an XLSX file needs a file name.")
    with transaction.atomic():
        report = quality.quality_report(organization, episodes, options["measure"], year, patients)
        record_event("export", f"quality {options['measure']} {year} ({export_format})")
    if export_format == "json":
        content: str | bytes = json.dumps(report.data, indent=2) + "\n"
    elif export_format == "csv":
        content = as_csv(quality.patient_sheet(report))
    else:
        content = as_xlsx(quality.patient_sheet(report))
    if output is None:
        assert isinstance(content, str)
        command.stdout.write(content, ending="")
        return
    if isinstance(content, bytes):
        output.write_bytes(content)
    else:
        output.write_text(content, encoding="utf-8")
    command.stdout.write(f"{report.data['measure']} {year} written to {output}.")
