from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cocm.billing.fees import SHIPPED, load_fees
from cocm.errors import InvalidRequest


class Command(BaseCommand):
    help = (
        "Load a fee schedule CSV (year,payer_kind,code,amount[,source]); `load --shipped` "
        "loads the Medicare national amounts that ship with the product."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load")
        load.add_argument("file", nargs="?")
        load.add_argument("--shipped", action="store_true")

    def handle(self, *args, action: str, file: str | None, shipped: bool, **options):  # type: ignore[no-untyped-def]
        path = SHIPPED if shipped else Path(file) if file else None
        if path is None:
            raise CommandError("Give a CSV file or --shipped.")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
        try:
            with transaction.atomic():
                count = load_fees(text)
        except InvalidRequest as error:
            raise CommandError(f"{path}: {error.message} Nothing was loaded.") from error
        self.stdout.write(f"Loaded {count} fee(s) from {path.name}.")
