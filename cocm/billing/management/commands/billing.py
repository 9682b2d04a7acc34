import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cocm import spreadsheets
from cocm.accounts.models import Organization, User
from cocm.accounts.scoping import visible_episodes
from cocm.billing import aggregates, services
from cocm.billing import export as claims
from cocm.billing.models import EpisodeMonth
from cocm.domain.coding import Month
from cocm.errors import InvalidRequest
from cocm.registry.models import Episode


class Command(BaseCommand):
    help = (
        "Month close from the command line: `cocm billing close YYYY-MM --user USERNAME "
        "[--export claims.csv|claims.xlsx]`; the stored episode-months it decides from: "
        "`cocm billing months --verify` (or `--rebuild`)."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        sub = parser.add_subparsers(dest="action", required=True)
        close = sub.add_parser("close", help="freeze a past month and export its claims")
        close.add_argument("month")
        close.add_argument("--user", required=True, help="the billing user closing the month")
        close.add_argument("--export", type=Path)
        months = sub.add_parser(
            "months", help="check (or recount) the stored episode-months of billing.aggregates"
        )
        what = months.add_mutually_exclusive_group(required=True)
        what.add_argument(
            "--verify",
            action="store_true",
            help="compare every stored row with a recount, and every month's decisions "
            "with the engine run on every time entry",
        )
        what.add_argument("--rebuild", action="store_true", help="recount every row")

    def handle(self, *args, action: str, **options):  # type: ignore[no-untyped-def]
        if action == "months":
            self.months(rebuild=options["rebuild"])
        else:
            self.close(options["month"], options["user"], options["export"])

    def months(self, *, rebuild: bool) -> None:
        started = time.perf_counter()
        if rebuild:
            stored = aggregates.backfill()
            seconds = time.perf_counter() - started
            self.stdout.write(f"Recounted {stored} episode-months in {seconds:.1f} s.")
            return
        compared, differences = aggregates.verify()
        for stored, recounted in differences[:20]:
            self.stdout.write(f"differs: stored {stored!r}, recounted {recounted!r}")
        decided, months_differing = 0, []
        for organization in Organization.objects.order_by("id"):
            episodes = Episode.objects.filter(clinic__organization=organization)
            firsts = EpisodeMonth.objects.filter(episode__in=episodes).values_list("month")
            for (first,) in firsts.distinct().order_by("month"):
                month = Month.of(first)
                _, _, stored_decisions = services.month_decisions(organization, episodes, month)
                recomputed = services.recomputed_decisions(organization, episodes, month)
                decided += len(recomputed)
                if stored_decisions != recomputed:
                    months_differing.append(f"{organization.id}:{month}")
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"{compared} episode-months: {len(differences)} differ from a recount; "
            f"{decided} patient-month decisions: {len(months_differing)} month(s) differ "
            f"from the engine on every time entry {months_differing[:12]} ({seconds:.0f} s)."
        )
        if differences or months_differing:
            raise CommandError("The stored episode-months are not current.")

    def close(self, month: str, user: str, export: Path | None) -> None:
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
