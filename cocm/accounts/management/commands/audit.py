from django.core.management.base import BaseCommand, CommandError

from cocm.accounts.audit import verify_chain


class Command(BaseCommand):
    help = "Check the audit log: `cocm audit verify` recomputes its hash chain."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="exit non-zero and name the first altered or missing event")

    def handle(self, *args, action: str, **options):  # type: ignore[no-untyped-def]
        report = verify_chain()
        if report.first_break is not None:
            raise CommandError(
                f"Audit log broken at {report.first_break} "
                f"({report.events} events before it are intact)."
            )
        # The head hash, kept somewhere else (a ticket, a printout), proves later that the
        # log up to here was not rewritten as a whole.
        self.stdout.write(
            f"Audit log intact: {report.events} events; head hash {report.head_hash}."
        )
