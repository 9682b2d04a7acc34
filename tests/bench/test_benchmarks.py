"""Every registered benchmark runs on a tiny population and returns figures.

Benchmarks are not timed tests: nothing here asserts a duration. The load benchmarks start
the real production server, which reads the rows committed by these tests (hence
`transaction=True`), on SQLite or PostgreSQL as DATABASE_URL says.
"""

from dataclasses import replace
from datetime import date

import pytest
from django.core.management import call_command

from cocm.bench.harness import (
    Benchmark,
    load_population,
    python_drive,
    registry,
    run_benchmark,
    run_load_benchmark,
    write_section,
)
from cocm.population import build_population

pytestmark = pytest.mark.django_db(transaction=True)

BENCHMARKS, LOAD_BENCHMARKS = registry()


@pytest.fixture
def population():
    build_population(30, seed=1, as_of=date(2026, 11, 23))
    return load_population()


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_each_benchmark_returns_figures_on_a_tiny_population(population, name):
    bench = BENCHMARKS[name]

    figures = run_benchmark(bench, population, repeat=2, warmup=0)

    assert figures.product.runs == 2
    assert figures.product.median_ms > 0
    assert figures.queries > 0
    if bench.floor_sql:
        assert figures.floor is not None
        assert figures.floor_rows


def test_the_population_closes_the_month_before_its_as_of_date(population):
    assert population.billing_user.username == "billing"
    assert population.billing_month == date(2026, 10, 1)
    assert population.floor_params["billing_month_end"] == date(2026, 11, 1)
    assert replace(population, billing_month=date(2026, 12, 1)).billing_month_end == date(
        2027, 1, 1
    )


def test_a_slow_benchmark_caps_its_timed_runs(population):
    calls = []
    slow = Benchmark("slow", "takes seconds", lambda _: lambda: calls.append(1), max_repeat=3)

    figures = run_benchmark(slow, population, repeat=100, warmup=5)

    assert figures.product.runs == 3
    assert len(calls) == 1 + 1 + 1 + 3  # query count, one warm-up, tracemalloc, timed runs


@pytest.mark.parametrize("name", sorted(LOAD_BENCHMARKS))
def test_each_load_benchmark_returns_figures_from_the_production_server(population, name):
    figures = run_load_benchmark(LOAD_BENCHMARKS[name], population, workers=1, clients=2, seconds=1)

    assert figures.drive.requests > 0
    assert figures.drive.errors == 0
    assert len(figures.workers) == 1
    assert figures.worker_peak_mb > 0


def test_the_python_driver_stands_in_for_wrk(population):
    bench = LOAD_BENCHMARKS["episode_api_under_load"]

    figures = run_load_benchmark(
        bench, population, workers=1, clients=2, seconds=1, driver=python_drive
    )

    assert figures.drive.driver == "python"
    assert figures.drive.requests > 0
    assert figures.drive.errors == 0


def test_the_command_writes_its_section_and_keeps_the_rest_of_the_file(population, tmp_path):
    output = tmp_path / "BENCHMARKS.md"
    output.write_text("# Benchmarks\n\n## Analysis\n\nHand-written.\n")

    call_command("bench", repeat=1, warmup=0, no_load=True, output=output, append_section=True)
    call_command("bench", repeat=1, warmup=0, no_load=True, output=output, append_section=True)

    text = output.read_text()
    assert "Hand-written." in text
    assert text.count("| caseload_page") == 1
    assert "floor" in text


def test_a_section_replaces_only_its_own_database(tmp_path):
    output = tmp_path / "BENCHMARKS.md"
    write_section(output, "sqlite", "## SQLite\nold", keep_rest=False)
    write_section(output, "postgresql", "## PostgreSQL\npg", keep_rest=True)

    write_section(output, "sqlite", "## SQLite\nnew", keep_rest=True)

    text = output.read_text()
    assert "new" in text
    assert "old" not in text
    assert "## PostgreSQL\npg" in text
