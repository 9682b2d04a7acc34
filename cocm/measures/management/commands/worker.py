import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from cocm.accounts.audit import seal_pending
from cocm.accounts.models import Organization
from cocm.care.caseload import refresh_stale
from cocm.measures.services import send_due_schedules, send_reminders


class Command(BaseCommand):
    help = (
        "Background work: scheduled self-report links, one reminder per unanswered link, "
        "the caseload rows of open episodes that are not current, and the audit seal."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--once", action="store_true", help="run one pass and exit")
        parser.add_argument("--interval", type=int, default=300, help="seconds between passes")

    def handle(self, *args, once: bool, interval: int, **options):  # type: ignore[no-untyped-def]
        while True:
            now = timezone.now()
            sent = send_due_schedules(now)
            reminded = send_reminders(now)
            refreshed = sum(map(refresh_stale, Organization.objects.all()))
            sealed = seal_pending()
            self.stdout.write(
                f"{now:%Y-%m-%d %H:%M} sent {sent} scheduled link(s), {reminded} reminder(s), "
                f"refreshed {refreshed} caseload row(s), sealed {sealed} audit event(s)"
            )
            if once:
                return
            time.sleep(interval)
