from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cocm.population import DEMO_PASSWORD, DEMO_USERS, build_population
from cocm.registry.models import Patient


class Command(BaseCommand):
    help = "Create the synthetic 'Demo Health' organization, its users and N patients."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--patients", type=int, default=300)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--as-of",
            type=date.fromisoformat,
            default=None,
            help="the day the population is built up to (default: today)",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="add no patients when the demo organization already has some",
        )

    def handle(
        self, *args, patients: int, seed: int, as_of: date | None, if_empty: bool, **options
    ):  # type: ignore[no-untyped-def]
        if settings.PRODUCTION:
            raise CommandError("cocm seed creates demo users and refuses to run in production.")
        if patients < 0:
            raise CommandError("--patients must be 0 or more.")
        if if_empty and Patient.objects.filter(organization__name="Demo Health").exists():
            patients = 0
        from cocm.accounts.models import Organization

        existing = Organization.objects.filter(name="Demo Health").first()
        as_of = as_of or (existing.today() if existing else date.today())
        with tqdm(
            total=patients,
            unit="patient",
            disable=patients == 0 or options["verbosity"] == 0,
            file=self.stderr._out,
        ) as bar:
            build_population(patients, seed=seed, as_of=as_of, progress=bar.update)
        self.stdout.write(self.style.SUCCESS(f"Demo Health seeded with {patients} new patients."))
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        for username, role, *_ in DEMO_USERS:
            code = " (then a one-time code: scan the key shown at first sign-in)"
            needs_code = role in settings.COCM_TWO_FACTOR_ROLES
            self.stdout.write(f"  {username:<12} {role.label}{code if needs_code else ''}")
