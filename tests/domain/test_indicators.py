from datetime import date

import pytest

from cocm.domain import indicators as rules
from cocm.domain.indicators import EpisodeRecord, Guidance, Kind, PatientMonth, Period

D = date
NOVEMBER = Period(D(2026, 11, 1), D(2026, 11, 30))


JANUARY_5 = D(2026, 1, 5)


def episode(episode_id=1, enrolled_on=JANUARY_5, **fields):
    return EpisodeRecord(episode_id=episode_id, enrolled_on=enrolled_on, **fields)


# ----------------------------------------------------------------------- small pieces


def test_a_period_cannot_end_before_it_starts():
    with pytest.raises(ValueError):
        Period(D(2026, 2, 1), D(2026, 1, 31))


def test_a_period_contains_both_ends_and_counts_its_days():
    assert D(2026, 11, 1) in NOVEMBER
    assert D(2026, 11, 30) in NOVEMBER
    assert D(2026, 12, 1) not in NOVEMBER
    assert "2026-11-05" not in NOVEMBER
    assert NOVEMBER.days == 30


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(1, 3, 33.3), (2, 3, 66.7), (0, 5, 0.0), (3, 0, None)],
)
def test_percent_has_one_decimal_and_none_for_an_empty_denominator(
    numerator, denominator, expected
):
    assert rules.percent(numerator, denominator) == expected


@pytest.mark.parametrize(
    ("discharged_on", "day", "expected"),
    [
        (None, D(2026, 1, 4), False),  # before enrollment
        (None, D(2026, 1, 5), True),  # enrollment day
        (D(2026, 3, 1), D(2026, 2, 28), True),
        (D(2026, 3, 1), D(2026, 3, 1), False),  # discharged that day
    ],
)
def test_in_treatment_on_a_day(discharged_on, day, expected):
    assert rules.in_treatment_on(episode(discharged_on=discharged_on), day) is expected


def test_in_treatment_during_a_period_needs_one_day_on_the_caseload():
    assert rules.in_treatment_during(episode(discharged_on=D(2026, 11, 2)), NOVEMBER)
    assert not rules.in_treatment_during(episode(discharged_on=D(2026, 11, 1)), NOVEMBER)
    assert not rules.in_treatment_during(episode(enrolled_on=D(2026, 12, 1)), NOVEMBER)


@pytest.mark.parametrize(
    ("enrolled_on", "discharged_on", "days"),
    [
        (D(2026, 1, 5), None, 30),
        (D(2026, 11, 21), None, 10),
        (D(2026, 1, 5), D(2026, 11, 11), 10),
        (D(2026, 1, 5), D(2026, 10, 1), 0),
    ],
)
def test_days_in_treatment_within_a_period(enrolled_on, discharged_on, days):
    record = episode(enrolled_on=enrolled_on, discharged_on=discharged_on)

    assert rules.days_in_treatment(record, NOVEMBER) == days


@pytest.mark.parametrize(
    ("measured_on", "expected"),
    [
        ((D(2025, 12, 6),), True),  # 30 days before enrollment
        ((D(2025, 12, 5),), False),  # 31 days before
        ((D(2026, 1, 19),), True),  # 14 days after
        ((D(2026, 1, 20),), False),  # 15 days after
        ((), False),
    ],
)
def test_a_baseline_measure_is_near_enrollment(measured_on, expected):
    assert rules.has_baseline_measure(episode(measured_on=measured_on)) is expected


@pytest.mark.parametrize(
    ("contacted_on", "expected"),
    [
        ((D(2026, 1, 5),), False),  # the enrollment contact itself is not a follow-up
        ((D(2026, 1, 6),), True),
        ((D(2026, 2, 2),), True),  # day 28
        ((D(2026, 2, 3),), False),  # day 29
    ],
)
def test_a_follow_up_contact_comes_within_4_weeks_of_enrollment(contacted_on, expected):
    assert rules.had_follow_up_contact(episode(contacted_on=contacted_on)) is expected
    assert rules.follow_up_due_by(episode()) == D(2026, 2, 2)


@pytest.mark.parametrize(
    ("day", "expected"), [(D(2026, 11, 1), True), (D(2026, 10, 31), False), (D(2026, 12, 1), False)]
)
def test_contacted_and_measured_within_the_last_30_days(day, expected):
    record = episode(contacted_on=(day,), measured_on=(day,))

    assert rules.contacted_within(record, D(2026, 11, 30)) is expected
    assert rules.measured_within(record, D(2026, 11, 30)) is expected


@pytest.mark.parametrize(
    ("phq9", "expected"),
    [(((D(2026, 1, 5), 10),), True), (((D(2026, 1, 5), 9),), False), ((), False)],
)
def test_outcomes_need_a_baseline_phq9_of_10_or_more(phq9, expected):
    assert rules.has_eligible_baseline(episode(phq9=phq9)) is expected


def test_week_ends_on_the_sixth_day_after_its_start():
    assert rules.week_ends_on(episode(), 0) == D(2026, 1, 11)
    assert rules.week_ends_on(episode(), 8) == D(2026, 3, 8)
    assert rules.week_ends_on(episode(), 12) == D(2026, 4, 5)


@pytest.mark.parametrize(
    ("phq9", "expected"),
    [
        (((D(2026, 1, 5), 20), (D(2026, 3, 8), 11)), True),  # 45% by the end of week 8
        (((D(2026, 1, 5), 20), (D(2026, 3, 8), 10)), False),  # 50%: responding
        (((D(2026, 1, 5), 20), (D(2026, 3, 9), 10)), True),  # the 50% came in week 9
        (((D(2026, 1, 5), 20),), True),  # never re-measured
        (((D(2026, 1, 5), 8), (D(2026, 3, 1), 8)), False),  # baseline below 10
        (((D(2026, 3, 9), 20),), False),  # no baseline by week 8
    ],
)
def test_a_non_improver_has_not_dropped_50_percent_by_week_8(phq9, expected):
    assert rules.is_non_improver(episode(phq9=phq9)) is expected


@pytest.mark.parametrize(
    ("reviewed_on", "expected"),
    [
        ((D(2026, 3, 2),), True),  # day 56: week 8 starts
        ((D(2026, 4, 5),), True),  # last day of week 12
        ((D(2026, 4, 6),), False),
    ],
)
def test_a_psychiatric_review_counts_in_weeks_8_to_12(reviewed_on, expected):
    assert rules.reviewed_between_weeks(episode(reviewed_on=reviewed_on)) is expected


def test_a_review_in_week_7_does_not_count():
    assert not rules.reviewed_between_weeks(episode(reviewed_on=(D(2026, 3, 1),)))  # day 55


def test_the_last_phq9_of_a_window_counts():
    record = episode(phq9=((D(2026, 1, 5), 20), (D(2026, 3, 20), 9), (D(2026, 3, 30), 12)))

    assert rules.last_phq9_between(record, D(2026, 3, 16), D(2026, 4, 5)) == 12
    assert rules.last_phq9_between(record, D(2026, 3, 16), D(2026, 3, 29)) == 9
    assert rules.last_phq9_between(record, D(2026, 5, 1), D(2026, 6, 1)) is None


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2025, 1, 31), 1, D(2025, 2, 28)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2025, 11, 15), 3, D(2026, 2, 15)),
        (D(2026, 1, 31), -2, D(2025, 11, 30)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(day, months, expected):
    assert rules.add_months(day, months) == expected


def test_outcome_windows():
    assert rules.weeks_10_to_12(episode()) == rules.Window(D(2026, 3, 16), D(2026, 4, 5))
    assert rules.six_month_window(D(2026, 1, 5)) == rules.Window(D(2026, 5, 5), D(2026, 9, 2))


def test_the_12_month_window_is_the_anniversary_plus_or_minus_60_days():
    assert rules.twelve_month_window(D(2025, 1, 5)) == rules.Window(D(2025, 11, 6), D(2026, 3, 6))


def test_first_reached_on_is_the_first_follow_up_at_target():
    record = episode(
        phq9=((D(2026, 1, 5), 20), (D(2026, 2, 2), 12), (D(2026, 3, 2), 10), (D(2026, 4, 6), 4))
    )

    assert rules.first_reached_on(record, "response") == D(2026, 3, 2)
    assert rules.first_reached_on(record, "remission") == D(2026, 4, 6)
    assert rules.first_reached_on(record, "remission", remission_cutoff=11) == D(2026, 3, 2)
    assert (
        rules.first_reached_on(episode(phq9=((D(2026, 1, 5), 9), (D(2026, 2, 1), 2))), "response")
        is None
    )


@pytest.mark.parametrize(("weeks", "expected"), [((8, 12, 9), 9.0), ((8, 12), 10.0), ((), None)])
def test_median_weeks(weeks, expected):
    assert rules.median_weeks(weeks) == expected


@pytest.mark.parametrize(
    ("minutes", "patient_days", "expected", "guidance"),
    [
        (180, 700, 3.0, Guidance.WITHIN),  # 3 h over 100 patient-weeks
        (60, 700, 1.0, Guidance.BELOW),
        (300, 700, 5.0, Guidance.ABOVE),
        (120, 700, 2.0, Guidance.WITHIN),  # the lower bound is within
        (0, 0, None, None),
    ],
)
def test_consultant_hours_per_100_patients_against_guidance(
    minutes, patient_days, expected, guidance
):
    value = rules.consultant_hours_per_100(minutes, patient_days)

    assert value == expected
    assert rules.against_guidance(value) == guidance


def test_months_of_a_period_and_a_month_as_a_period():
    assert rules.months_of(Period(D(2025, 11, 20), D(2026, 2, 1))) == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    assert rules.month_period("2024-02") == Period(D(2024, 2, 1), D(2024, 2, 29))
    assert rules.month_period("2025-12") == Period(D(2025, 12, 1), D(2025, 12, 31))


# --------------------------------------------------------------------- the indicator set


def small_registry():
    """Five episodes of one care manager, with the November 2026 period in mind."""
    return [
        # A: enrolled in January, responded at week 10, remitted at 6 months, still active,
        # contacted and measured in November.
        EpisodeRecord(
            1,
            D(2026, 1, 5),
            phq9=((D(2026, 1, 5), 20), (D(2026, 3, 16), 9), (D(2026, 7, 6), 4)),
            measured_on=(D(2026, 1, 5), D(2026, 3, 16), D(2026, 7, 6), D(2026, 11, 10)),
            contacted_on=(D(2026, 1, 12), D(2026, 11, 10)),
            consultant_minutes=((D(2026, 11, 12), 30),),
        ),
        # B: enrolled 2026-08-17 (week 12 ends 2026-11-15), not improved at week 8,
        # reviewed in week 9; no contact in November.
        EpisodeRecord(
            2,
            D(2026, 8, 17),
            phq9=((D(2026, 8, 17), 15), (D(2026, 10, 12), 14), (D(2026, 11, 2), 12)),
            measured_on=(D(2026, 8, 17), D(2026, 10, 12), D(2026, 11, 2)),
            contacted_on=(D(2026, 8, 24), D(2026, 10, 12)),
            reviewed_on=(D(2026, 10, 20),),
            consultant_minutes=((D(2026, 10, 20), 20), (D(2026, 11, 3), 15)),
        ),
        # C: enrolled in November, baseline measured, followed up within 4 weeks.
        EpisodeRecord(
            3,
            D(2026, 11, 2),
            phq9=((D(2026, 11, 2), 12),),
            measured_on=(D(2026, 11, 2),),
            contacted_on=(D(2026, 11, 9),),
        ),
        # D: enrolled in November without a baseline or a follow-up (window still open).
        EpisodeRecord(4, D(2026, 11, 20)),
        # E: enrolled 2026-08-24 (week 12 ends 2026-11-22), not improved, never reviewed;
        # discharged disengaged on 2026-11-25.
        EpisodeRecord(
            5,
            D(2026, 8, 24),
            discharged_on=D(2026, 11, 25),
            discharge_reason="disengaged",
            phq9=((D(2026, 8, 24), 18),),
            measured_on=(D(2026, 8, 24),),
        ),
    ]


def test_program_indicators_on_a_small_registry():
    result = rules.program_indicators(small_registry(), NOVEMBER)

    def figures(key):
        one = result[key]
        return one.value, one.numerator, one.denominator, sorted(one.counted)

    assert figures("active_caseload") == (4, 4, None, [1, 2, 3, 4])
    assert figures("new_enrollments") == (2, 2, None, [3, 4])
    assert figures("baseline_measure_pct") == (50.0, 1, 2, [3])
    # D's four weeks are not over and it has no follow-up yet: not in the denominator.
    assert figures("follow_up_within_4_weeks_pct") == (100.0, 1, 1, [3])
    assert figures("contacted_last_30_days_pct") == (50.0, 2, 4, [1, 3])
    # Enrolled 30+ days before November 30: A and B; both measured in November.
    assert figures("repeat_measure_last_30_days_pct") == (100.0, 2, 2, [1, 2])
    # B and E reached week 12 in November, neither improved by week 8; B was reviewed.
    assert figures("psychiatric_review_of_non_improvers_pct") == (50.0, 1, 2, [2])
    assert figures("response_10_12_weeks_pct") == (0.0, 0, 2, [])
    assert figures("discharges") == (1, 1, None, [5])
    assert figures("discharge_disengaged_pct") == (100.0, 1, 1, [5])
    assert figures("discharge_goals_met_pct") == (0.0, 0, 1, [])


@pytest.mark.parametrize(
    "key",
    [
        "active_caseload",
        "contacted_last_30_days_pct",
        "repeat_measure_last_30_days_pct",
        "psychiatric_review_of_non_improvers_pct",
        "response_10_12_weeks_pct",
        "discharge_disengaged_pct",
    ],
)
def test_a_figure_restricted_to_some_episodes_is_the_figure_of_those_episodes(key):
    registry = small_registry()
    some = [e for e in registry if e.episode_id in (2, 3, 5)]

    restricted = rules.restricted(rules.program_indicators(registry, NOVEMBER)[key], [2, 3, 5])

    assert restricted == rules.program_indicators(some, NOVEMBER)[key]


def test_restricted_figures_on_literal_episodes():
    result = rules.program_indicators(small_registry(), NOVEMBER)

    caseload = rules.restricted(result["active_caseload"], [2, 3, 5])
    contacted = rules.restricted(result["contacted_last_30_days_pct"], [2, 3, 5])

    assert (caseload.value, caseload.numerator, caseload.denominator) == (2, 2, None)
    assert (contacted.value, contacted.numerator, contacted.denominator) == (50.0, 1, 2)


def test_a_median_cannot_be_restricted():
    result = rules.program_indicators(small_registry(), NOVEMBER)

    with pytest.raises(ValueError):
        rules.restricted(result["median_weeks_to_response"], [1])


def test_outcomes_at_6_and_12_months_count_the_episodes_whose_window_closed():
    # A's baseline 2026-01-05: the 6-month window closes 2026-09-02, in a September period.
    september = Period(D(2026, 9, 1), D(2026, 9, 30))

    result = rules.program_indicators(small_registry(), september)

    assert (result["response_6_months_pct"].value, result["response_6_months_pct"].counted) == (
        100.0,
        frozenset({1}),
    )
    assert result["remission_6_months_pct"].numerator == 1
    assert result["remission_6_months_pct"].denominator == 1
    assert result["response_12_months_pct"].denominator == 0
    assert result["response_12_months_pct"].value is None


def test_a_12_month_window_without_a_phq9_counts_in_the_denominator_only():
    record = EpisodeRecord(9, D(2025, 1, 6), phq9=((D(2025, 1, 6), 16), (D(2025, 3, 3), 7)))
    # Window 2025-11-07 .. 2026-03-07.
    march = Period(D(2026, 3, 1), D(2026, 3, 31))

    result = rules.program_indicators([record], march)

    assert result["remission_12_months_pct"].value == 0.0
    assert result["remission_12_months_pct"].population == frozenset({9})


def test_remission_follows_the_cutoff_setting():
    record = EpisodeRecord(
        9, D(2026, 1, 5), phq9=((D(2026, 1, 5), 16), (D(2026, 6, 1), 6))
    )  # 6-month window closes 2026-09-02
    september = Period(D(2026, 9, 1), D(2026, 9, 30))

    default = rules.program_indicators([record], september)
    lenient = rules.program_indicators([record], september, remission_cutoff=7)

    assert default["remission_6_months_pct"].numerator == 0
    assert lenient["remission_6_months_pct"].numerator == 1


def test_median_weeks_to_response_counts_first_responses_in_the_period():
    march = Period(D(2026, 3, 1), D(2026, 3, 31))
    records = [
        # first response 2026-03-16: week 10
        EpisodeRecord(1, D(2026, 1, 5), phq9=((D(2026, 1, 5), 20), (D(2026, 3, 16), 9))),
        # first response 2026-03-02: week 6
        EpisodeRecord(2, D(2026, 1, 19), phq9=((D(2026, 1, 19), 12), (D(2026, 3, 2), 6))),
        # responded in February: not in March's numerator, still in its denominator
        EpisodeRecord(3, D(2026, 1, 5), phq9=((D(2026, 1, 5), 20), (D(2026, 2, 2), 5))),
    ]

    result = rules.program_indicators(records, march)

    one = result["median_weeks_to_response"]
    assert (one.kind, one.value, one.numerator, one.denominator) == (Kind.MEDIAN_WEEKS, 8.0, 2, 3)
    assert result["median_weeks_to_remission"].value is None


def test_consultant_hours_per_100_patients_on_the_small_registry():
    result = rules.program_indicators(small_registry(), NOVEMBER)

    one = result["psychiatric_consultant_hours_per_100"]
    # 45 minutes in November; patient-days: A 30, B 30, C 29, D 11, E 24 = 124.
    assert one.numerator == 0.8
    assert one.value == round(45 / 60 / (124 / 7) * 100, 2) == 4.23
    assert one.counted == frozenset({1, 2})


def test_billing_capture_is_a_share_of_patient_months():
    months = [
        PatientMonth(1, "2026-10", ("99493",)),
        PatientMonth(1, "2026-11", ("99493", "99494")),
        PatientMonth(2, "2026-11", ()),
        PatientMonth(3, "2026-11", ("99492",)),
    ]

    result = rules.billing_capture(months, ["99492", "99493", "99494", "G2214"])

    assert result["billing_capture_any_pct"].value == 75.0
    assert result["billing_capture_99493_pct"].numerator == 2
    assert result["billing_capture_99493_pct"].denominator == 4
    assert result["billing_capture_99494_pct"].counted == frozenset({(1, "2026-11")})
    assert result["billing_capture_g2214_pct"].value == 0.0
