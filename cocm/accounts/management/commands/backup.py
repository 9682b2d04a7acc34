from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cocm.accounts import backup
from cocm.accounts.audit import record_event, seal_pending


class Command(BaseCommand):
    help = (
        "Write a consistent copy of the database to FILE while the product runs "
        "(SQLite online backup, or pg_dump for PostgreSQL) and check it."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):  # type: ignore[no-untyped-def]
        # Recorded and sealed first, so the backup holds a sealed log that says it was taken.
        record_event("export", "database backup")
        seal_pending()
        try:
            backup.backup(file)
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        size = file.stat().st_size
        self.stdout.write(f"Backed up the {backup.engine()} database to {file} ({size} bytes).")
