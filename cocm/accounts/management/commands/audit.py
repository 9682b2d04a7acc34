from django.core.management.base import BaseCommand, CommandError

from cocm.accounts.audit import seal_pending, verify_chain


class Command(BaseCommand):
    help = (
        "The audit log: `cocm audit seal` chains the appended events, `cocm audit verify` "
        "seals and then recomputes every hash chain."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser(
            "verify", help="exit non-zero and name the first altered or missing event"
        )
        verify.add_argument(
            "--no-seal",
            action="store_true",
            help="check the sealed events only and count the pending ones",
        )
        sub.add_parser("seal", help="chain the events appended since the last seal")

    def handle(self, *args, action: str, **options):  # type: ignore[no-untyped-def]
        if action == "seal":
            self.stdout.write(f"Sealed {seal_pending()} audit event(s).")
            return
        report = verify_chain(seal=not options["no_seal"])
        if report.first_break is not None:
            raise CommandError(
                f"Audit log broken at {report.first_break} "
                f"({report.events} events before it are intact)."
            )
        # The head hashes, kept somewhere else (a ticket, a printout), prove later that the
        # log up to here was not rewritten as a whole.
        heads = "; ".join(f"chain {chain}: {digest}" for chain, digest in report.heads.items())
        pending = f"; {report.pending} not yet sealed" if report.pending else ""
        self.stdout.write(
            f"Audit log intact: {report.events} events in {len(report.heads)} chain(s)"
            f"{pending}; head hashes {heads}."
        )
