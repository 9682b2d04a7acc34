"""SCARED scoring against the published key (Birmaher et al. 1999; University of Pittsburgh
scoring sheet): 41 items 0-2, total and five subscales with their cut-offs."""

import pytest

from cocm.domain.instruments import INSTRUMENTS, ScoringError, score

PANIC = (1, 6, 9, 12, 15, 18, 19, 22, 24, 27, 30, 34, 38)
GAD = (5, 7, 14, 21, 23, 28, 33, 35, 37)
SEPARATION = (4, 8, 13, 16, 20, 25, 29, 31)
SOCIAL = (3, 10, 26, 32, 39, 40, 41)
SCHOOL = (2, 11, 17, 36)


def answers(points: dict[int, int]) -> list[int]:
    """41 answers, 0 except the item numbers given."""
    return [points.get(number, 0) for number in range(1, 42)]


def subscales(result):
    return {s.code: (s.total, s.positive) for s in result.subscales}


def test_the_subscales_partition_the_41_items():
    assert sorted(PANIC + GAD + SEPARATION + SOCIAL + SCHOOL) == list(range(1, 42))
    key = {s.code: s.items for s in INSTRUMENTS["SCARED-C"].subscales}
    assert key == {
        "panic_somatic": PANIC,
        "generalized_anxiety": GAD,
        "separation_anxiety": SEPARATION,
        "social_anxiety": SOCIAL,
        "school_avoidance": SCHOOL,
    }


@pytest.mark.parametrize("code", ["SCARED-C", "SCARED-P"])
def test_all_zero_is_negative_everywhere(code):
    result = score(code, [0] * 41)

    assert (result.total, result.severity, result.flags) == (0, "negative", ())
    assert subscales(result) == {
        "panic_somatic": (0, False),
        "generalized_anxiety": (0, False),
        "separation_anxiety": (0, False),
        "social_anxiety": (0, False),
        "school_avoidance": (0, False),
    }


@pytest.mark.parametrize("code", ["SCARED-C", "SCARED-P"])
def test_all_very_true_scores_the_maximum_of_each_subscale(code):
    result = score(code, [2] * 41)

    assert (result.total, result.severity) == (82, "positive")
    assert subscales(result) == {
        "panic_somatic": (26, True),
        "generalized_anxiety": (18, True),
        "separation_anxiety": (16, True),
        "social_anxiety": (14, True),
        "school_avoidance": (8, True),
    }


def test_each_subscale_is_positive_at_its_cut_off_and_not_one_below():
    # Panic 7 (items 1-7 of its list at 1), GAD 9 (every GAD item at 1), separation 5,
    # social 8, school avoidance 3: the published cut-offs exactly.
    at = {n: 1 for n in PANIC[:7]} | {n: 1 for n in GAD} | {n: 1 for n in SEPARATION[:5]}
    at |= {3: 2, 10: 2, 26: 2, 32: 2} | {2: 1, 11: 1, 17: 1}
    below = {n: 1 for n in PANIC[:6]} | {n: 1 for n in GAD[:8]} | {n: 1 for n in SEPARATION[:4]}
    below |= {3: 2, 10: 2, 26: 2, 32: 1} | {2: 1, 11: 1}

    positive = score("SCARED-C", answers(at))
    negative = score("SCARED-C", answers(below))

    assert subscales(positive) == {
        "panic_somatic": (7, True),
        "generalized_anxiety": (9, True),
        "separation_anxiety": (5, True),
        "social_anxiety": (8, True),
        "school_avoidance": (3, True),
    }
    assert positive.total == 32 and positive.severity == "positive"
    assert subscales(negative) == {
        "panic_somatic": (6, False),
        "generalized_anxiety": (8, False),
        "separation_anxiety": (4, False),
        "social_anxiety": (7, False),
        "school_avoidance": (2, False),
    }
    assert negative.total == 27  # above the total cut-off even with every subscale below


@pytest.mark.parametrize(("total", "severity"), [(24, "negative"), (25, "positive")])
def test_a_total_of_25_may_indicate_an_anxiety_disorder(total, severity):
    points = {number: 1 for number in range(1, total + 1)}

    result = score("SCARED-P", answers(points))

    assert (result.total, result.severity) == (total, severity)
    assert ("positive_screen" in result.flags) is (severity == "positive")


def test_scared_with_40_answers_is_refused_naming_the_field():
    with pytest.raises(ScoringError) as error:
        score("SCARED-C", [0] * 40)

    assert error.value.field == "answers"
    assert error.value.message == "SCARED-C expects 41 answers, got 40"


def test_no_scared_item_may_be_missing():
    with pytest.raises(ScoringError) as error:
        score("SCARED-C", [None] + [0] * 40)

    assert "none can be missing" in error.value.message


def test_the_parent_version_is_answered_by_a_guardian_and_names_its_source():
    parent, child = INSTRUMENTS["SCARED-P"], INSTRUMENTS["SCARED-C"]

    assert (parent.answered_by, child.answered_by) == ("guardian", "patient")
    assert (
        parent.items[0].en == "When my child feels frightened, it is hard for him/her to breathe."
    )
    assert child.items[40].en == "I am shy."
    assert "Birmaher" in child.source and "1999;38:1230-6" in child.source
