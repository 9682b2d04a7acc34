from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cocm.accounts import backup
from cocm.accounts.audit import record_event, verify_chain


class Command(BaseCommand):
    help = (
        "Replace the database's contents with a backup written by `cocm backup`. "
        "Stop the server first."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="do not ask for confirmation",
        )

    def handle(self, *args, file: Path, interactive: bool, **options):  # type: ignore[no-untyped-def]
        if interactive:
            answer = input(
                f"Replace every row of the {backup.engine()} database with {file}? [y/N] "
            )
            if answer.strip().lower() not in {"y", "yes"}:
                raise CommandError("Restore cancelled.")
        try:
            backup.restore(file)
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        report = verify_chain()
        if report.first_break is not None:
            raise CommandError(f"Restored, but the audit log is broken at {report.first_break}.")
        record_event("update", "database restored from backup")
        self.stdout.write(
            f"Restored {file}; the audit log is intact ({report.events} events before the restore)."
        )
