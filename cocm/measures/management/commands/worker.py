import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from cocm.measures.services import send_due_schedules, send_reminders


class Command(BaseCommand):
    help = "Background work: scheduled self-report links and one reminder per unanswered link."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--once", action="store_true", help="run one pass and exit")
        parser.add_argument("--interval", type=int, default=300, help="seconds between passes")

    def handle(self, *args, once: bool, interval: int, **options):  # type: ignore[no-untyped-def]
        while True:
            now = timezone.now()
            sent = send_due_schedules(now)
            reminded = send_reminders(now)
            self.stdout.write(
                f"{now:%Y-%m-%d %H:%M} sent {sent} scheduled link(s), {reminded} reminder(s)"
            )
            if once:
                return
            time.sleep(interval)
