"""The measures and the program indicators read the registry in set-based queries: the
number of queries does not grow with the number of patients."""

from datetime import date

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cocm.accounts.models import Role
from cocm.registry.models import Diagnosis, Episode
from cocm.reports import program, quality
from tests import factories
from tests.reports.conftest import contact, enrolled, phq9

D = date


def add_patients(clinic, care_manager, count: int) -> None:
    """Patients in CMS159, CMS2 and DRR-E of 2026 and on the caseload in November 2026:
    an elevated PHQ-9 at a contact in the identification period, another in the intake
    period, a remission at 12 months, contacts in 2026."""
    for _ in range(count):
        episode = enrolled(clinic, care_manager, "Query", "Count", D(2025, 1, 10))
        phq9(episode, D(2025, 1, 10), 15)
        contact(episode, D(2025, 1, 10), care_manager)
        phq9(episode, D(2025, 6, 2), 14)
        phq9(episode, D(2026, 1, 12), 4)
        contact(episode, D(2026, 1, 12), care_manager)
        contact(episode, D(2026, 11, 3), care_manager, minutes=40)


def queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


@pytest.fixture
def clinic_and_staff(db):
    org = factories.organization()
    clinic = factories.clinic(org, "Alder Clinic")
    care_manager = factories.user(Role.CARE_MANAGER, clinic, username="carla")
    lead = factories.user(Role.ORG_ADMIN, clinic, username="lead")
    return clinic, care_manager, lead


@pytest.mark.parametrize("measure", ["cms159", "cms2", "drr"])
def test_a_measure_runs_as_many_queries_for_six_patients_as_for_two(clinic_and_staff, measure):
    clinic, care_manager, lead = clinic_and_staff

    def compute() -> dict:
        episodes = Episode.objects.filter(clinic=clinic)
        return quality.quality_report(lead.organization, episodes, measure, 2026).data

    add_patients(clinic, care_manager, 2)
    few = queries(compute)
    assert compute()["denominator"] == 2
    add_patients(clinic, care_manager, 4)
    many = queries(compute)
    assert compute()["denominator"] == 6

    assert many == few
    assert few <= 8  # one query per kind of row (see registry_facts), and the names


def test_the_program_indicators_run_as_many_queries_for_six_patients_as_for_two(
    clinic_and_staff,
):
    clinic, care_manager, lead = clinic_and_staff
    filters = program.parse_filters(lead, {"from": "2026-11-01", "to": "2026-11-23"},
                                    today=D(2026, 11, 23))  # fmt: skip

    def compute() -> program.ProgramReport:
        cache.clear()  # afresh, the billing months too
        return program.compute_report(lead, filters)

    add_patients(clinic, care_manager, 2)
    assert compute().indicators["active_caseload"].value == 2  # (loads the lead's clinics)
    few = queries(compute)
    add_patients(clinic, care_manager, 4)
    assert compute().indicators["active_caseload"].value == 6
    many = queries(compute)

    assert many == few


def test_the_dashboards_measure_rates_are_kept_for_the_day_until_a_write(clinic_and_staff):
    clinic, care_manager, lead = clinic_and_staff
    add_patients(clinic, care_manager, 2)
    year_2026 = program.Period(D(2026, 1, 1), D(2026, 11, 23))
    cache.clear()

    def cms159() -> quality.MeasureRate:
        rates = quality.rates_by_quarter(lead, year_2026)
        return next(r for r in rates if r.measure.startswith("CMS159"))

    assert (cms159().numerator, cms159().denominator) == (2, 2)
    assert queries(cms159) <= 4  # the stamps and the cache: no measure computed again

    # A bipolar diagnosis excludes one patient from CMS159: the next read sees it.
    Diagnosis.objects.create(episode=Episode.objects.first(), code="F31.0")
    assert (cms159().numerator, cms159().denominator) == (1, 1)
