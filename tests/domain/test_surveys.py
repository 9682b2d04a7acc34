from fractions import Fraction

import pytest

from cocm.domain.surveys import SURVEYS, SurveyError, check_answers, get_survey, results

PATIENT = SURVEYS["patient-satisfaction"]
PCP = SURVEYS["pcp-satisfaction"]


def test_staff_surveys_are_anonymous_and_the_patient_survey_is_not():
    assert {code: s.anonymous for code, s in SURVEYS.items()} == {
        "patient-satisfaction": False,
        "pcp-satisfaction": True,
        "care-manager-experience": True,
    }


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ([5, 5, 5, 5], "answers"),
        ([5, 5, 6, 5, 5], "answers[2]"),
        ([None] * 5, "answers"),
        ([True, 5, 5, 5, 5], "answers[0]"),
    ],
)
def test_bad_answers_are_refused_naming_the_field(answers, field):
    with pytest.raises(SurveyError) as error:
        check_answers(PATIENT, answers)

    assert error.value.field == field


def test_an_unknown_survey_is_refused():
    with pytest.raises(SurveyError) as error:
        get_survey("nps")

    assert error.value.field == "survey"


def test_results_give_the_response_rate_and_each_questions_mean():
    answers = [[5, 4, 3, 5, None], [3, 4, 5, 5, 4]]

    result = results(PATIENT, answers, invited=4)

    assert (result.invited, result.responses, result.response_rate) == (4, 2, Fraction(1, 2))
    assert result.means == (Fraction(4), Fraction(4), Fraction(4), Fraction(5), Fraction(4))
    assert result.withheld is False


@pytest.mark.parametrize(("responses", "withheld"), [(4, True), (5, False)])
def test_an_anonymous_survey_shows_nothing_below_five_respondents(responses, withheld):
    result = results(PCP, [[4, 4, 4, 4, 4]] * responses, invited=6)

    assert result.withheld is withheld
    assert result.responses == responses
    assert result.response_rate == Fraction(responses, 6)
    assert result.means == (() if withheld else (Fraction(4),) * 5)


def test_no_invitation_means_no_response_rate():
    assert results(PATIENT, [], invited=0).response_rate is None
