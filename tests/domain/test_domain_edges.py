"""Edges of the HEDIS, indicator, instrument and survey rules the main tables do not reach."""

from dataclasses import replace
from datetime import date

import pytest

from cocm.domain import hedis
from cocm.domain import indicators as rules
from cocm.domain.indicators import EpisodeRecord, Period
from cocm.domain.instruments import INSTRUMENTS, Subscale
from cocm.domain.surveys import SURVEYS, Question, check_answers, get_survey
from tests.domain.test_ecqm import hospice_encounter, phq9
from tests.domain.test_hedis import drr_patient
from tests.domain.test_hedis import run as run_drr

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))


@pytest.mark.parametrize(
    ("start", "end", "reasons"),
    [
        ("2024-12-01T10:00", "2024-12-02T10:00", ("hospice",)),
        ("2026-01-01T10:00", "2026-01-02T10:00", ()),
    ],
)
def test_drr_a_hospice_encounter_in_the_follow_up_span_excludes(start, end, reasons):
    patient = drr_patient(phq9("2024-12-01T10:00", 2), encounters=(hospice_encounter(start, end),))

    assert run_drr(patient).exclusion_reasons == reasons


def test_dms_settings_are_named():
    settings = hedis.DmsSettings().described()

    assert settings["period_starts"] == ((1, 1), (5, 1), (9, 1))
    assert (settings["minimum_age"], settings["encounter_valueset"]) == (
        12,
        "Contact or Office Visit",
    )


@pytest.mark.parametrize(("week_11_phq9", "responded"), [(10, [2]), (11, [])])
def test_a_phq9_at_half_the_baseline_in_weeks_10_to_12_is_a_response(week_11_phq9, responded):
    # Enrolled 2026-08-17: weeks 10-12 run 2026-10-26 … 2026-11-15, in the November period.
    episode = EpisodeRecord(
        2,
        date(2026, 8, 17),
        phq9=((date(2026, 8, 17), 20), (date(2026, 11, 2), week_11_phq9)),
        measured_on=(date(2026, 8, 17), date(2026, 11, 2)),
    )

    result = rules.program_indicators([episode], NOVEMBER)["response_10_12_weeks_pct"]

    assert (sorted(result.counted), result.denominator) == (responded, 1)


def test_a_subscale_naming_an_item_the_instrument_lacks_is_refused():
    scared = INSTRUMENTS["SCARED-C"]
    stray = Subscale("X", "Stray", (1, 42), 3)

    with pytest.raises(ValueError, match="subscale X names unknown items"):
        replace(scared, subscales=(*scared.subscales, stray))


def test_a_survey_with_misnumbered_questions_is_refused():
    survey = SURVEYS["patient-satisfaction"]
    questions = (Question(2, "First?", "¿Primera?"), *survey.questions[1:])

    with pytest.raises(ValueError, match="questions must be numbered 1..5"):
        replace(survey, questions=questions)


def test_a_known_survey_is_found_by_its_code():
    assert get_survey("pcp-satisfaction") is SURVEYS["pcp-satisfaction"]


@pytest.mark.parametrize(
    "answers", [(5, 4, None, 3, 1), (None, None, None, None, 2), (1, 2, 3, 4, 5)]
)
def test_answers_within_the_scale_some_skipped_are_kept_as_given(answers):
    assert check_answers(SURVEYS["patient-satisfaction"], list(answers)) == answers
