import re
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import override_settings

from cocm.bench.harness import (
    BenchmarkError,
    Figures,
    LoadFigures,
    dataset,
    load_average,
    load_population,
    machine,
    markdown_section,
    previous_section,
    registry,
    run_benchmark,
    run_load_benchmark,
    write_section,
)
from cocm.population import DEMO_ORGANIZATION
from cocm.registry.models import Patient

ENGINES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class Command(BaseCommand):
    help = (
        "Run every registered benchmark on the database DATABASE_URL names, seeding it first "
        "when --patients is given, and write the figures as markdown."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--patients",
            type=int,
            default=None,
            help="seed this many patients into an empty database, or check the existing "
            "population has this size (default: use what is there)",
        )
        parser.add_argument("--repeat", type=int, default=100, help="timed runs per benchmark")
        parser.add_argument("--warmup", type=int, default=5, help="untimed runs first")
        parser.add_argument("--output", type=Path, default=None, help="e.g. BENCHMARKS.md")
        parser.add_argument(
            "--append-section",
            action="store_true",
            help="replace (or add) only this database's section of --output, keep the rest",
        )
        parser.add_argument("--only", nargs="+", default=None, help="benchmark names to run")
        parser.add_argument("--no-load", action="store_true", help="skip the load benchmarks")
        parser.add_argument("--clients", type=int, default=32, help="concurrent load clients")
        parser.add_argument("--load-seconds", type=float, default=15)
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if settings.PRODUCTION:
            raise CommandError("cocm bench seeds demo users and refuses to run in production.")
        if options["repeat"] < 1:
            raise CommandError("--repeat must be 1 or more.")
        benchmarks, load_benchmarks = registry()
        only = set(options["only"] or [*benchmarks, *load_benchmarks])
        if unknown := only - {*benchmarks, *load_benchmarks}:
            known = ", ".join([*benchmarks, *load_benchmarks])
            raise CommandError(f"Unknown benchmark(s) {', '.join(sorted(unknown))}; known: {known}")
        engine = ENGINES.get(connection.vendor, connection.vendor)
        output: Path | None = options["output"]

        seed_seconds = self.ensure_population(options["patients"], options["verbosity"])
        if seed_seconds is not None:
            seed = f"{seed_seconds / 60:.1f} min ({seed_seconds:.0f} s) with `cocm seed`"
        else:
            seed = self.previous_seed(output, connection.vendor) or "an existing population"
        if connection.vendor == "postgresql":
            # Planner statistics and visibility maps as autovacuum keeps them on a production
            # server: right after a bulk seed, or where autovacuum is off, there are none, plans
            # are guesses and index-only scans still read every row from the table.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        try:
            population = load_population()
        except BenchmarkError as error:
            raise CommandError(str(error)) from error

        machine_facts = machine()
        # Timings are of the product as it runs in production: no query log, no debug pages.
        with override_settings(DEBUG=False):
            figures: list[Figures] = []
            for name in [name for name in benchmarks if name in only]:
                runs = benchmarks[name].runs(options["repeat"])
                self.stderr.write(f"{engine}: {name} ({runs} runs)…")
                figures.append(
                    run_benchmark(
                        benchmarks[name],
                        population,
                        repeat=options["repeat"],
                        warmup=options["warmup"],
                    )
                )
            load: list[LoadFigures] = []
            for name in [] if options["no_load"] else [n for n in load_benchmarks if n in only]:
                self.stderr.write(f"{engine}: {name} ({options['clients']} clients)…")
                load.append(
                    run_load_benchmark(
                        load_benchmarks[name],
                        population,
                        workers=options["workers"],
                        clients=options["clients"],
                        seconds=options["load_seconds"],
                    )
                )

        section = markdown_section(
            engine,
            machine_facts={**machine_facts, "Load average after the run": load_average()},
            dataset_facts={**dataset(population), "Seed": seed},
            figures=figures,
            load=load,
            repeat=options["repeat"],
        )
        self.stdout.write(section)
        if output is not None:
            write_section(output, connection.vendor, section, keep_rest=options["append_section"])
            self.stdout.write(self.style.SUCCESS(f"Wrote the {engine} section of {output}."))

    def ensure_population(self, patients: int | None, verbosity: int) -> float | None:
        """Seed an empty database and return the seconds it took; reuse a seeded one."""
        call_command("migrate", verbosity=0)
        existing = Patient.objects.filter(organization__name=DEMO_ORGANIZATION).count()
        if patients is None or existing == patients:
            return None
        if existing:
            raise CommandError(
                f"The database holds {existing} demo patients, not {patients}: point "
                f"DATABASE_URL at an empty database, or pass --patients {existing}."
            )
        started = time.perf_counter()
        call_command("seed", patients=patients, verbosity=verbosity)
        return time.perf_counter() - started

    def previous_seed(self, output: Path | None, key: str) -> str | None:
        # A reused population keeps the seed time measured when it was built.
        if output is None:
            return None
        found = re.search(r"^- Seed: (.+)$", previous_section(output, key), re.MULTILINE)
        return found.group(1) if found else None
