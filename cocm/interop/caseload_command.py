"""`cocm import caseload FILE.csv|FILE.xlsx --clinic ID [--dry-run]`: an existing tracker.

Every row is checked first; one bad row makes the command exit non-zero naming `row N` and
the column, and nothing is stored. Then all rows are stored in one transaction (with a
progress bar). `--dry-run` stores nothing either way.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from cocm.accounts.audit import record_event
from cocm.accounts.models import Clinic
from cocm.interop.tracker import (
    TrackerFileError,
    TrackerImportError,
    check_rows,
    import_rows,
    read_sheet,
)


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("file", help="the tracker, .csv or .xlsx")
    parser.add_argument("--clinic", type=int, required=True, help="clinic id")
    parser.add_argument("--dry-run", action="store_true", help="check every row, store nothing")


def run(command: BaseCommand, **options: Any) -> None:
    path = Path(options["file"])
    if not path.is_file():
        raise CommandError(f"{path}: no such file.")
    clinic = Clinic.objects.select_related("organization").filter(pk=options["clinic"]).first()
    if clinic is None:
        raise CommandError(f"No clinic with id {options['clinic']}.")
    as_of = clinic.organization.today()
    try:
        sheet = read_sheet(path.read_bytes(), path.name)
    except TrackerFileError as error:
        raise CommandError(str(error)) from error
    rows, errors = check_rows(sheet, sheet.suggested_mapping(), clinic, as_of=as_of)
    if errors:
        raise CommandError("\n".join(str(error) for error in errors))
    if options["dry_run"]:
        command.stdout.write(f"Dry run: {len(rows)} rows are ready to import; nothing stored.")
        return
    with tqdm(total=len(rows), desc="import caseload", unit="row", file=command.stderr) as bar:
        try:
            with transaction.atomic():
                summary = import_rows(rows, clinic, by=None, as_of=as_of, progress=bar.update)
                record_event("import", f"caseload import: {len(rows)} rows into clinic {clinic.pk}")
        except TrackerImportError as error:
            raise CommandError(str(error)) from error
    command.stdout.write(
        f"{len(rows)} rows: {summary.patients_created} patients created, "
        f"{summary.episodes_opened} episodes enrolled, {summary.episodes_referred_only} "
        f"opened as referred (no diagnosis), {summary.assessments_recorded} PHQ-9 scores, "
        f"{summary.rows_already_imported} rows already imported."
    )
