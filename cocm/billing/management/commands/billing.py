from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cocm import spreadsheets
from cocm.accounts.models import User
from cocm.accounts.scoping import visible_episodes
from cocm.billing import export as claims
from cocm.billing import services
from cocm.errors import InvalidRequest
from cocm.registry.models import Episode


class Command(BaseCommand):
    help = (
        "Month close from the command line: `cocm billing close YYYY-MM --user USERNAME "
        "[--export claims.csv|claims.xlsx]`."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        sub = parser.add_subparsers(dest="action", required=True)
        close = sub.add_parser("close", help="freeze a past month and export its claims")
        close.add_argument("month")
        close.add_argument("--user", required=True, help="the billing user closing the month")
        close.add_argument("--export", type=Path)

    def handle(
        self,
        *args,
        action: str,
        month: str,
        user: str,
        export: Path | None,  # type: ignore[no-untyped-def]
        **options,
    ):
        closer = User.objects.filter(username=user, is_active=True).first()
        if closer is None or not closer.has_role("billing"):
            raise CommandError(f"'{user}' is not an active billing user.")
        try:
            target = services.parse_month(month)
            with transaction.atomic():
                lines = services.close_month(
                    closer.organization,
                    visible_episodes(closer, Episode.objects),
                    target,
                    by=closer,
                    today=closer.organization.today(),
                )
        except InvalidRequest as error:
            raise CommandError(error.message) from error
        ready = sum(1 for line in lines if line.status == "ready")
        self.stdout.write(f"{target} closed: {len(lines)} lines, {ready} ready to bill.")
        if export:
            sheet = claims.claims_sheet(lines, str(target))
            if export.suffix == ".xlsx":
                export.write_bytes(spreadsheets.as_xlsx(sheet))
            else:
                export.write_text(spreadsheets.as_csv(sheet), encoding="utf-8")
            self.stdout.write(f"Claims written to {export} (self-pay months are not claims).")
