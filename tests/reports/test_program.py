from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cocm.errors import InvalidRequest
from cocm.reports import program
from tests.factories import TODAY
from tests.reports.conftest import NOVEMBER, contact, enrolled, phq9


def november(registry, user=None, **extra):
    user = user or registry.admin
    return program.parse_filters(user, {**NOVEMBER, **extra}, today=TODAY)


def figures(report, key):
    one = report.indicators[key]
    return one.value, one.numerator, one.denominator


def counted(report, key, registry):
    names = {episode.id: name for name, episode in registry.episodes.items()}
    return sorted(names[episode_id] for episode_id in report.indicators[key].counted)


def test_it_computes_the_program_indicators_of_a_small_registry(registry):
    report = program.compute_report(registry.admin, november(registry))

    assert figures(report, "active_caseload") == (4, 4, None)
    assert counted(report, "active_caseload", registry) == ["ann", "ben", "cara", "dan"]
    assert figures(report, "new_enrollments") == (2, 2, None)
    assert figures(report, "baseline_measure_pct") == (50.0, 1, 2)
    assert figures(report, "follow_up_within_4_weeks_pct") == (100.0, 1, 1)
    assert figures(report, "contacted_last_30_days_pct") == (50.0, 2, 4)
    assert counted(report, "contacted_last_30_days_pct", registry) == ["ann", "cara"]
    assert figures(report, "repeat_measure_last_30_days_pct") == (100.0, 2, 2)
    assert figures(report, "psychiatric_review_of_non_improvers_pct") == (50.0, 1, 2)
    assert counted(report, "psychiatric_review_of_non_improvers_pct", registry) == ["ben"]
    assert figures(report, "response_10_12_weeks_pct") == (0.0, 0, 2)
    assert figures(report, "remission_6_months_pct") == (None, 0, 0)
    assert figures(report, "discharges") == (1, 1, None)
    assert figures(report, "discharge_disengaged_pct") == (100.0, 1, 1)
    # 30 consultant minutes over 91 patient-days (23 + 23 + 22 + 4 + 19).
    assert figures(report, "psychiatric_consultant_hours_per_100") == (3.85, 0.5, 0.13)


def test_billing_capture_counts_the_codes_the_billing_engine_decides(registry):
    report = program.compute_report(registry.admin, november(registry))

    # Five patient-months on the caseload in November; Ann reached 99493, Cara 99492.
    assert figures(report, "billing_capture_any_pct") == (40.0, 2, 5)
    assert figures(report, "billing_capture_99493_pct") == (20.0, 1, 5)
    assert figures(report, "billing_capture_99492_pct") == (20.0, 1, 5)
    assert figures(report, "billing_capture_99494_pct") == (0.0, 0, 5)
    assert report.months[-1].billing_any_pct == 40.0


def test_the_charts_series_count_by_month_and_cohort(registry):
    report = program.compute_report(registry.admin, november(registry))

    assert report.months[0].month == "2025-12"
    by_month = {p.month: (p.active_caseload, p.new_enrollments) for p in report.months}
    assert by_month["2026-01"] == (1, 1)
    assert by_month["2026-08"] == (3, 2)
    assert by_month["2026-11"] == (4, 2)
    cohorts = {c.month: (c.eligible, c.responded, c.remitted) for c in report.cohorts}
    assert cohorts["2026-01"] == (1, 1, 1)
    assert cohorts["2026-08"] == (2, 0, 0)
    # Ann first responded on 2026-03-16, outside November: the histogram is empty.
    assert sum(n for _, n in report.weeks_to_response) == 0


def test_the_weeks_to_response_histogram_bins_first_responses_in_the_period(registry):
    filters = program.parse_filters(
        registry.admin, {"from": "2026-03-01", "to": "2026-03-31"}, today=TODAY
    )

    report = program.compute_report(registry.admin, filters)

    # Ann: enrolled 2026-01-05, first response 2026-03-16, week 10.
    assert dict(report.weeks_to_response) == {
        "0-4": 0,
        "5-8": 0,
        "9-12": 1,
        "13-16": 0,
        "17-24": 0,
        "25+": 0,
    }
    assert figures(report, "median_weeks_to_response") == (10.0, 1, 1)


def test_a_clinic_level_counts_only_that_clinic(registry):
    report = program.compute_report(
        registry.admin, november(registry, clinic=str(registry.clinic_b.id))
    )

    assert figures(report, "active_caseload") == (0, 0, None)
    assert figures(report, "discharges") == (1, 1, None)
    assert report.level == "clinic Birch Clinic"


def test_a_care_manager_level_counts_only_her_episodes(registry):
    report = program.compute_report(registry.admin, november(registry, care_manager="carla"))

    assert figures(report, "active_caseload") == (4, 4, None)
    assert figures(report, "discharges") == (0, 0, None)
    assert report.level.startswith("care manager Carla Mendes")


def test_the_care_manager_comparison_has_a_row_per_care_manager(registry):
    report = program.compute_report(registry.admin, november(registry))

    rows = {row.name: row.indicators for row in report.care_managers}
    assert set(rows) == {"Bea Okafor", "Carla Mendes"}
    assert rows["Carla Mendes"]["contacted_last_30_days_pct"].value == 50.0
    assert rows["Bea Okafor"]["active_caseload"].value == 0


def test_a_clinic_the_user_does_not_belong_to_is_never_counted(registry):
    report = program.compute_report(registry.admin, november(registry))

    everyone = set().union(*(one.population for one in report.indicators.values()))
    assert registry.episodes["gus"].id not in everyone


def test_remission_follows_the_remission_cutoff_setting(registry, settings):
    filters = program.parse_filters(
        registry.admin, {"from": "2026-07-01", "to": "2026-07-31"}, today=TODAY
    )
    # Ann's PHQ-9 was 4 on 2026-07-06: remission below 5, not below 4.
    settings.COCM_REMISSION_CUTOFF = 4

    report = program.compute_report(registry.admin, filters)

    cohort = {c.month: c for c in report.cohorts}["2026-01"]
    assert (cohort.responded, cohort.remitted) == (1, 0)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "tomorrow"}, "to"),
        ({"to": "2026-11-24"}, "to"),  # after today
        ({"from": "2026-11-10", "to": "2026-11-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-11-01"}, "from"),  # over three years
    ],
)
def test_bad_periods_are_refused_naming_the_field(registry, data, field):
    with pytest.raises(InvalidRequest) as refused:
        program.parse_filters(registry.admin, data, today=TODAY)

    assert refused.value.field == field


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"clinic": "99999999999999999999999"}, "clinic"),
        ({"clinic": "abc"}, "clinic"),
        ({"care_manager": "cedar"}, "care_manager"),  # in a clinic the lead does not belong to
        ({"care_manager": "nobody"}, "care_manager"),
    ],
)
def test_unknown_clinics_and_care_managers_are_not_found(registry, data, field):
    with pytest.raises(program.UnknownFilter) as refused:
        program.parse_filters(registry.admin, data, today=TODAY)

    assert refused.value.field == field


def test_the_default_period_is_the_twelve_months_to_today(registry):
    filters = program.parse_filters(registry.admin, {}, today=TODAY)

    assert (filters.period.start, filters.period.end) == (date(2025, 11, 24), TODAY)


def test_the_report_is_cached_for_the_day_and_recomputed_after_a_write(registry):
    filters = november(registry)
    first = program.program_report(registry.admin, filters, today=TODAY)
    with CaptureQueriesContext(connection) as cached:
        again = program.program_report(registry.admin, filters, today=TODAY)

    contact(registry.episodes["ben"], date(2026, 11, 20), registry.carla)
    after = program.program_report(registry.admin, filters, today=TODAY)

    assert figures(first, "contacted_last_30_days_pct") == (50.0, 2, 4)
    assert figures(again, "contacted_last_30_days_pct") == (50.0, 2, 4)
    assert len(cached.captured_queries) <= 4  # the data stamp, not the report
    assert figures(after, "contacted_last_30_days_pct") == (75.0, 3, 4)


def test_the_report_takes_the_same_number_of_queries_for_more_patients(registry):
    filters = november(registry)
    assert registry.admin.clinic_ids  # memberships loaded once per request, not per report
    with CaptureQueriesContext(connection) as small:
        program.compute_report(registry.admin, filters)
    for index in range(5):
        extra = enrolled(
            registry.clinic_a, registry.carla, f"More{index}", "Pat", date(2026, 9, index + 1)
        )
        phq9(extra, date(2026, 9, index + 1), 14)
        contact(extra, date(2026, 11, 3), registry.carla)

    with CaptureQueriesContext(connection) as larger:
        report = program.compute_report(registry.admin, filters)

    assert figures(report, "active_caseload") == (9, 9, None)
    assert len(larger.captured_queries) == len(small.captured_queries)


def test_drill_down_lists_the_denominator_saying_who_is_counted(registry):
    report = program.compute_report(registry.admin, november(registry))
    indicator = report.indicators["contacted_last_30_days_pct"]

    rows = program.drill_down(indicator)
    only_counted = program.drill_down(indicator, counted=True)

    assert [(row.name, row.counted) for row in rows] == [
        ("Adams, Ann", True),
        ("Baker, Ben", False),
        ("Cruz, Cara", True),
        ("Diaz, Dan", False),
    ]
    assert [row.name for row in only_counted] == ["Adams, Ann", "Cruz, Cara"]
    assert rows[0].clinic == "Alder Clinic"
    assert rows[0].care_manager == "Carla Mendes"


def test_drill_down_of_billing_capture_lists_patient_months(registry):
    report = program.compute_report(registry.admin, november(registry))

    rows = program.drill_down(report.indicators["billing_capture_99493_pct"], counted=True)

    assert [(row.name, row.month) for row in rows] == [("Adams, Ann", "2026-11")]


def test_the_measure_rates_are_the_quality_measures_of_each_year_the_period_overlaps(registry):
    rates = program.measure_rates_by_quarter(registry.admin, november(registry))

    assert rates == [
        program.MeasureRate("CMS159 v0.3.000", "MP 2026", 0, 0, None),
        program.MeasureRate("CMS2 v0.4.001", "MP 2026", 0, 3, 0.0),
        program.MeasureRate("DRR-E", "MP 2026", 1, 1, 100.0),
    ]


def test_a_monthly_report_covers_the_month_up_to_today(registry):
    filters = program.month_filters(registry.admin, "2026-11", today=TODAY)

    assert (filters.period.start, filters.period.end) == (date(2026, 11, 1), TODAY)
    with pytest.raises(InvalidRequest):
        program.month_filters(registry.admin, "2026-12", today=TODAY)
    with pytest.raises(InvalidRequest):
        program.month_filters(registry.admin, "2026-1", today=TODAY)


def test_a_closed_month_counts_its_frozen_claim_lines(registry):
    from cocm.billing.services import close_month
    from cocm.domain import coding
    from cocm.registry.models import Episode

    biller = registry.admin
    close_month(
        biller.organization,
        Episode.objects.filter(clinic__organization=biller.organization),
        coding.Month(2026, 10),
        by=biller,
        today=TODAY,
    )
    # A contact recorded after the close does not change the closed month's capture.
    contact(registry.episodes["ann"], date(2026, 10, 20), registry.carla, minutes=90)
    filters = program.parse_filters(
        registry.admin, {"from": "2026-10-01", "to": "2026-10-31"}, today=TODAY
    )

    report = program.compute_report(registry.admin, filters)

    # October as closed: Ann 40 min (initial month: 99492); Ben blocked; Eve no time. The
    # 90 minutes added after the close would have given Ann 99494 too.
    ann = registry.episodes["ann"].id
    assert figures(report, "billing_capture_any_pct") == (33.3, 1, 3)
    assert report.indicators["billing_capture_99492_pct"].counted == {(ann, "2026-10")}
    assert figures(report, "billing_capture_99494_pct") == (0.0, 0, 3)


def test_switching_filters_reuses_the_days_billing_decisions(registry, monkeypatch):
    program.compute_report(registry.admin, november(registry))
    runs = []
    real = program.stored_decisions
    monkeypatch.setattr(
        program, "stored_decisions", lambda *a, **k: runs.append(a) or real(*a, **k)
    )

    report = program.compute_report(registry.admin, november(registry, care_manager="carla"))

    assert runs == []
    assert figures(report, "billing_capture_any_pct") == (50.0, 2, 4)


@pytest.mark.django_db
def test_billing_capture_from_the_stored_months_equals_the_engine_on_every_time_entry():
    from cocm.accounts.models import User
    from cocm.billing.services import parse_month, recomputed_decisions
    from cocm.domain import indicators as rules
    from cocm.population import build_population

    build_population(80, seed=7, as_of=TODAY)
    lead = User.objects.get(username="orgadmin")
    filters = program.parse_filters(lead, {"from": "2026-01-01", "to": "2026-11-23"}, today=TODAY)
    report = program.compute_report(lead, filters)

    # The same indicators from the engine run on every contact of each month afresh.
    period = filters.period
    records = program.load_records(
        program.relevant(program.filtered(lead, filters), period), period
    )
    months = rules.months_of(period)
    codes = {
        month: {
            episode_id: tuple(str(code.code) for code in result.codes)
            for episode_id, result in recomputed_decisions(
                lead.organization, program.scope(lead), parse_month(month)
            ).items()
        }
        for month in months
    }
    expected = rules.billing_capture(
        program.patient_months(records, months, codes), program.CAPTURE_CODES
    )

    assert report.billing_keys == list(expected)
    for key, indicator in expected.items():
        got = report.indicators[key]
        assert (got.value, got.numerator, got.denominator) == (
            indicator.value,
            indicator.numerator,
            indicator.denominator,
        ), key
        assert got.counted == indicator.counted, key
    assert expected["billing_capture_any_pct"].numerator > 50
    assert expected["billing_capture_99492_pct"].numerator > 0
    assert expected["billing_capture_99493_pct"].numerator > 0
