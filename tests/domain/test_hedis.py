"""DRR-E and DMS-E (reference §4.3) with literal expected results at the edges."""

from dataclasses import replace
from datetime import date

import pytest

from cocm.domain import hedis
from cocm.domain.clinical import ICD10CM, Coding, Condition, PatientFacts, Period
from cocm.reports.valuesets import package_valuesets
from tests.domain.test_ecqm import PROBLEM, at, depression, office_visit, phq9

VALUESETS = package_valuesets("mp2025")


def drr_patient(*follow_ups, **changes) -> PatientFacts:
    """IESD 2024-06-01 with PHQ-9 20 (intake 2024-05-01 … 2025-04-30 for MY 2025);
    follow-up period 2024-09-29 … 2025-01-27."""
    base = PatientFacts(
        id="p",
        birth_date=date(1990, 1, 1),
        conditions=(depression("2024-05-01T00:00"),),
        observations=(phq9("2024-06-01T10:00", 20, ident="iesd"), *follow_ups),
    )
    return replace(base, **changes)


def run(patient, **settings):
    return hedis.drr(patient, 2025, VALUESETS, hedis.DrrSettings(**settings))


def test_drr_remission_and_response():
    result = run(drr_patient(phq9("2024-12-01T10:00", 4, ident="last")))

    assert (result.in_denominator, result.iesd, result.iesd_score) == (True, date(2024, 6, 1), 20)
    assert (result.follow_up, result.remission, result.response) == (True, True, True)
    assert (result.deciding_observation, result.deciding_value) == ("last", 4)


@pytest.mark.parametrize(
    ("taken", "inclusive", "follow_up"),
    [
        ("2024-09-28T10:00", True, False),  # day 119
        ("2024-09-29T10:00", True, True),  # day 120
        ("2025-01-27T10:00", True, True),  # day 240
        ("2025-01-28T10:00", True, False),  # day 241
        ("2024-09-29T10:00", False, False),  # day 120, endpoints excluded
        ("2025-01-27T10:00", False, False),
        ("2024-09-30T10:00", False, True),
    ],
)
def test_drr_follow_up_window_is_120_to_240_days(taken, inclusive, follow_up):
    result = run(drr_patient(phq9(taken, 12)), endpoints_inclusive=inclusive)

    assert result.follow_up is follow_up


@pytest.mark.parametrize(
    ("last", "remission", "response"),
    [(4, True, True), (5, False, True), (10, False, True), (11, False, False)],
)
def test_drr_remission_below_5_response_at_least_half(last, remission, response):
    result = run(drr_patient(phq9("2024-12-01T10:00", last)))

    assert (result.remission, result.response) == (remission, response)


def test_drr_the_most_recent_follow_up_decides():
    result = run(drr_patient(phq9("2024-10-01T10:00", 3), phq9("2025-01-10T10:00", 15)))

    assert (result.follow_up, result.remission, result.response) == (True, False, False)


@pytest.mark.parametrize(
    ("iesd", "score", "in_denominator"),
    [
        ("2024-05-01T10:00", 20, True),  # intake start
        ("2024-04-30T10:00", 20, False),
        ("2025-04-30T10:00", 20, True),  # intake end
        ("2025-05-01T10:00", 20, False),
        ("2024-06-01T10:00", 9, False),  # not elevated
    ],
)
def test_drr_the_iesd_is_an_elevated_phq9_in_the_intake_period(iesd, score, in_denominator):
    patient = drr_patient(
        observations=(phq9(iesd, score),), conditions=(depression("2024-01-01T00:00"),)
    )

    assert run(patient).in_denominator is in_denominator


def test_drr_needs_an_active_depression_diagnosis_on_the_iesd():
    assert run(drr_patient(conditions=(depression("2024-06-02T00:00"),))).in_denominator is False
    assert run(drr_patient(conditions=(depression(clinical="resolved"),))).in_denominator is False


@pytest.mark.parametrize(
    ("birth", "in_denominator"), [(date(2012, 6, 1), True), (date(2012, 6, 2), False)]
)
def test_drr_age_12_at_the_iesd(birth, in_denominator):
    assert run(drr_patient(birth_date=birth)).in_denominator is in_denominator


def test_drr_exclusions():
    bipolar = Condition(
        "bp",
        (Coding(ICD10CM, "F31.0"),),
        (PROBLEM,),
        "active",
        "confirmed",
        Period(at("2025-01-27T10:00"), at("2025-01-27T10:00")),
    )
    excluded = run(
        drr_patient(
            phq9("2024-12-01T10:00", 2), conditions=(depression("2024-05-01T00:00"), bipolar)
        )
    )
    dead = run(drr_patient(deceased=at("2025-01-27T10:00")))
    alive = run(drr_patient(deceased=at("2025-01-28T10:00")))

    assert (excluded.excluded, excluded.exclusion_reasons, excluded.remission) == (
        True,
        ("mental health disorder",),
        False,
    )
    assert dead.exclusion_reasons == ("expired",)
    assert alive.excluded is False


def test_drr_settings_are_named():
    settings = hedis.DrrSettings().described()

    assert settings["follow_up_first_day"] == 120
    assert settings["follow_up_last_day"] == 240
    assert settings["endpoints_inclusive"] is True
    assert hedis.drr_intake_period(2025, hedis.DrrSettings()) == (
        date(2024, 5, 1),
        date(2025, 4, 30),
    )


def dms_patient(*observations, **changes) -> PatientFacts:
    base = PatientFacts(
        id="p",
        birth_date=date(1990, 1, 1),
        conditions=(depression("2024-01-01T00:00"),),
        encounters=(
            office_visit("2025-03-01T10:00", "2025-03-01T10:30", ident="a"),
            office_visit("2025-05-01T10:00", "2025-05-01T10:30", ident="b"),
        ),
        observations=observations,
    )
    return replace(base, **changes)


def test_dms_assessment_periods():
    assert hedis.dms_assessment_periods(2025, hedis.DmsSettings()) == [
        (date(2025, 1, 1), date(2025, 4, 30)),
        (date(2025, 5, 1), date(2025, 8, 31)),
        (date(2025, 9, 1), date(2025, 12, 31)),
    ]


def test_dms_a_phq9_in_the_same_period_as_the_encounter():
    results = hedis.dms(dms_patient(phq9("2025-04-30T10:00", 8, ident="x")), 2025, VALUESETS)

    assert [(r.in_denominator, r.numerator) for r in results] == [
        (True, True),
        (True, False),
        (False, False),
    ]
    assert (results[0].event_date, results[0].deciding_observation) == (date(2025, 3, 1), "x")
    assert results[1].event_date == date(2025, 5, 1)


def test_dms_age_12_at_the_start_of_the_year():
    young = hedis.dms(dms_patient(birth_date=date(2013, 1, 2)), 2025, VALUESETS)
    twelve = hedis.dms(dms_patient(birth_date=date(2013, 1, 1)), 2025, VALUESETS)

    assert young[0].in_denominator is False
    assert twelve[0].in_denominator is True


def test_rate():
    assert hedis.Rate(1, 3).rate == 0.3333
    assert hedis.Rate(0, 0).rate is None
