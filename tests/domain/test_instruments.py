import json
from dataclasses import replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocm.domain.instruments import (
    GAD7_BANDS,
    INSTRUMENTS,
    PHQ9_BANDS,
    InstrumentCode,
    Score,
    ScoreFlag,
    ScoringError,
    ScreenResult,
    Severity,
    TreatToTarget,
    gad7_severity,
    get_instrument,
    is_partial_response,
    is_remission,
    is_response,
    percent_change,
    phq9_severity,
    score,
    severity,
    treat_to_target,
)

MINIMAL, MILD, MODERATE = Severity.MINIMAL, Severity.MILD, Severity.MODERATE
MODERATELY_SEVERE, SEVERE = Severity.MODERATELY_SEVERE, Severity.SEVERE
POSITIVE, NEGATIVE = ScreenResult.POSITIVE, ScreenResult.NEGATIVE

# Hypothesis writes no example database into the working tree.
PROPERTY = settings(database=None, deadline=None, max_examples=200)


# --------------------------------------------------------------------------- registry


def test_the_registry_holds_the_ten_api_codes():
    assert list(INSTRUMENTS) == [
        "PHQ-9", "PHQ-2", "GAD-7", "GAD-2", "PHQ-A", "PCL-5", "AUDIT-C", "EPDS",
        "SCARED-C", "SCARED-P",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("code", "items", "lowest", "highest", "options_per_item", "safety_items"),
    [
        ("PHQ-9", 9, 0, 27, 4, (9,)),
        ("PHQ-2", 2, 0, 6, 4, ()),
        ("GAD-7", 7, 0, 21, 4, ()),
        ("GAD-2", 2, 0, 6, 4, ()),
        ("PHQ-A", 9, 0, 27, 4, (9,)),
        ("PCL-5", 20, 0, 80, 5, ()),
        ("AUDIT-C", 3, 0, 12, 5, ()),
        ("EPDS", 10, 0, 30, 4, (10,)),
    ],
)
def test_each_instrument_has_its_published_shape(
    code, items, lowest, highest, options_per_item, safety_items
):
    instrument = get_instrument(code)

    assert len(instrument.items) == items
    assert (instrument.min_total, instrument.max_total) == (lowest, highest)
    assert {len(item.options) for item in instrument.items} == {options_per_item}
    assert instrument.safety_items == safety_items


@pytest.mark.parametrize("code", list(INSTRUMENTS))
def test_every_item_and_option_has_english_and_spanish_wording(code):
    instrument = get_instrument(code)

    assert instrument.stem_en and instrument.stem_es
    for item in instrument.items:
        assert item.en and item.es and item.en != item.es
        assert all(option.en and option.es for option in item.options)


@pytest.mark.parametrize(
    ("code", "item", "english"),
    [
        ("PHQ-9", 1, "Little interest or pleasure in doing things"),
        (
            "PHQ-9",
            9,
            "Thoughts that you would be better off dead or of hurting yourself in some way",
        ),
        ("PHQ-A", 1, "Feeling down, depressed, irritable, or hopeless?"),
        ("PHQ-A", 2, "Little interest or pleasure in doing things?"),
        ("GAD-7", 7, "Feeling afraid, as if something awful might happen"),
        ("PCL-5", 17, 'Being "superalert" or watchful or on guard?'),
        ("AUDIT-C", 3, "How often do you have six or more drinks on one occasion?"),
        ("EPDS", 10, "The thought of harming myself has occurred to me"),
    ],
)
def test_items_carry_the_published_english_wording(code, item, english):
    assert get_instrument(code).items[item - 1].en == english


def test_phq9_spanish_wording_follows_the_pfizer_translation():
    phq9 = get_instrument("PHQ-9")

    assert phq9.items[0].es == "Poco interés o placer en hacer cosas"
    assert [option.es for option in phq9.items[0].options] == [
        "Ningún día", "Varios días", "Más de la mitad de los días", "Casi todos los días",
    ]  # fmt: skip


def test_spanish_text_is_marked_unchecked_until_compared_with_the_licensed_translation():
    assert not any(instrument.spanish_checked for instrument in INSTRUMENTS.values())


def test_phq9_items_carry_the_verified_loinc_question_codes():
    codes = [item.loinc.code for item in get_instrument("PHQ-9").items]

    assert codes == [
        "44250-9", "44255-8", "44259-0", "44254-1", "44251-7",
        "44258-2", "44252-5", "44253-3", "44260-8",
    ]  # fmt: skip


def test_phq9_answers_carry_the_loinc_answer_list_ll358_3():
    options = get_instrument("PHQ-9").items[0].options

    assert [(option.value, option.loinc.code) for option in options] == [
        (0, "LA6568-5"), (1, "LA6569-3"), (2, "LA6570-1"), (3, "LA6571-9"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("code", "panel", "total"),
    [
        ("PHQ-9", ("44249-1", True), ("44261-6", True)),
        ("PHQ-2", ("55757-9", False), ("55758-7", True)),
        ("GAD-7", ("69737-5", True), ("70274-6", True)),
        ("GAD-2", None, None),
        ("PHQ-A", None, ("89204-2", True)),
        ("PCL-5", None, ("96762-0", False)),
        ("AUDIT-C", ("72109-2", False), ("75626-2", False)),
        ("EPDS", ("71354-5", False), ("99046-5", False)),
    ],
)
def test_panel_and_total_loinc_codes_say_whether_they_are_verified(code, panel, total):
    instrument = get_instrument(code)

    def pair(loinc):
        return None if loinc is None else (loinc.code, loinc.verified)

    assert pair(instrument.panel_loinc) == panel
    assert pair(instrument.total_loinc) == total


def test_epds_items_3_and_5_to_10_are_reverse_keyed_on_the_form():
    epds = get_instrument("EPDS")

    reversed_items = [item.number for item in epds.items if item.reverse_keyed]

    assert reversed_items == [3, 5, 6, 7, 8, 9, 10]
    assert [option.value for option in epds.items[9].options] == [3, 2, 1, 0]
    assert [option.value for option in epds.items[3].options] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "code",
    ["XYZ", "phq-9", "PHQ9", "", None, 9],
)
def test_an_unknown_instrument_code_is_rejected(code):
    with pytest.raises(ScoringError) as error:
        get_instrument(code)

    assert error.value.field == "instrument"
    assert str(error.value).startswith(f"unknown instrument {code!r}")


def test_scoring_error_is_a_value_error_with_a_message():
    error = ScoringError("PHQ-9 expects 9 answers, got 8", field="answers")

    assert isinstance(error, ValueError)
    assert error.message == str(error) == "PHQ-9 expects 9 answers, got 8"


# --------------------------------------------------------------------------- definitions


@pytest.mark.parametrize(
    ("code", "changes", "message"),
    [
        ("PHQ-2", {"items": tuple(reversed(INSTRUMENTS["PHQ-2"].items))}, "numbered 1..2"),
        ("PHQ-9", {"bands": PHQ9_BANDS[:-1]}, "bands must end at the maximum total 27"),
        ("GAD-7", {"bands": PHQ9_BANDS}, "bands must end at the maximum total 21"),
        ("PHQ-2", {"positive_at": 0}, "cut-off 0 is outside"),
        ("PHQ-2", {"positive_at": 7}, "cut-off 7 is outside"),
        ("AUDIT-C", {"positive_at_male": 13}, "cut-off 13 is outside"),
        ("PHQ-2", {"max_missing": 2}, "max_missing must be below"),
    ],
)
def test_an_inconsistent_instrument_definition_is_refused(code, changes, message):
    with pytest.raises(ValueError, match=message):
        replace(INSTRUMENTS[code], **changes)


# --------------------------------------------------------------------------- band edges

# Literal answer vectors at each published band edge: (code, answers, total, severity).
BAND_EDGES = [
    ("PHQ-9", [0, 0, 0, 0, 0, 0, 0, 0, 0], 0, MINIMAL),
    ("PHQ-9", [1, 1, 1, 1, 0, 0, 0, 0, 0], 4, MINIMAL),
    ("PHQ-9", [1, 1, 1, 1, 1, 0, 0, 0, 0], 5, MILD),
    ("PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, 1], 9, MILD),
    ("PHQ-9", [2, 1, 1, 1, 1, 1, 1, 1, 1], 10, MODERATE),
    ("PHQ-9", [2, 2, 2, 2, 2, 1, 1, 1, 1], 14, MODERATE),
    ("PHQ-9", [2, 2, 2, 2, 2, 2, 1, 1, 1], 15, MODERATELY_SEVERE),
    ("PHQ-9", [3, 3, 3, 2, 2, 2, 2, 2, 0], 19, MODERATELY_SEVERE),
    ("PHQ-9", [3, 3, 3, 3, 2, 2, 2, 2, 0], 20, SEVERE),
    ("PHQ-9", [3, 3, 3, 3, 3, 3, 3, 3, 0], 24, SEVERE),
    ("PHQ-A", [1, 1, 1, 1, 0, 0, 0, 0, 0], 4, MINIMAL),
    ("PHQ-A", [1, 1, 1, 1, 1, 0, 0, 0, 0], 5, MILD),
    ("PHQ-A", [1, 1, 1, 1, 1, 1, 1, 1, 1], 9, MILD),
    ("PHQ-A", [2, 1, 1, 1, 1, 1, 1, 1, 1], 10, MODERATE),
    ("PHQ-A", [2, 2, 2, 2, 2, 1, 1, 1, 1], 14, MODERATE),
    ("PHQ-A", [2, 2, 2, 2, 2, 2, 1, 1, 1], 15, MODERATELY_SEVERE),
    ("PHQ-A", [3, 3, 3, 3, 2, 2, 2, 2, 0], 20, SEVERE),
    ("GAD-7", [0, 0, 0, 0, 0, 0, 0], 0, MINIMAL),
    ("GAD-7", [1, 1, 1, 1, 0, 0, 0], 4, MINIMAL),
    ("GAD-7", [1, 1, 1, 1, 1, 0, 0], 5, MILD),
    ("GAD-7", [2, 2, 2, 1, 1, 1, 0], 9, MILD),
    ("GAD-7", [2, 2, 2, 1, 1, 1, 1], 10, MODERATE),
    ("GAD-7", [2, 2, 2, 2, 2, 2, 2], 14, MODERATE),
    ("GAD-7", [3, 2, 2, 2, 2, 2, 2], 15, SEVERE),
    ("GAD-7", [3, 3, 3, 3, 3, 3, 3], 21, SEVERE),
    ("PHQ-2", [0, 0], 0, NEGATIVE),
    ("PHQ-2", [1, 1], 2, NEGATIVE),
    ("PHQ-2", [2, 1], 3, POSITIVE),
    ("PHQ-2", [3, 3], 6, POSITIVE),
    ("GAD-2", [0, 2], 2, NEGATIVE),
    ("GAD-2", [1, 2], 3, POSITIVE),
    ("PCL-5", [2] * 15 + [0] * 5, 30, NEGATIVE),
    ("PCL-5", [2] * 15 + [1, 0, 0, 0, 0], 31, POSITIVE),
    ("PCL-5", [4] * 20, 80, POSITIVE),
    ("AUDIT-C", [0, 0, 0], 0, NEGATIVE),
    ("AUDIT-C", [4, 4, 4], 12, POSITIVE),
]


@pytest.mark.parametrize(("code", "answers", "total", "expected"), BAND_EDGES)
def test_answers_at_each_band_edge_score_the_published_band(code, answers, total, expected):
    result = score(code, answers)

    assert (result.total, result.severity) == (total, expected)
    assert (result.prorated, result.missing) == (False, 0)


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (0, MINIMAL), (4, MINIMAL), (5, MILD), (9, MILD), (10, MODERATE), (14, MODERATE),
        (15, MODERATELY_SEVERE), (19, MODERATELY_SEVERE), (20, SEVERE), (27, SEVERE),
    ],
)  # fmt: skip
def test_phq9_total_maps_to_published_band(total, expected):
    assert phq9_severity(total) is expected
    assert severity("PHQ-9", total) is expected
    assert severity("PHQ-A", total) is expected


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (0, MINIMAL), (4, MINIMAL), (5, MILD), (9, MILD), (10, MODERATE), (14, MODERATE),
        (15, SEVERE), (21, SEVERE),
    ],
)  # fmt: skip
def test_gad7_total_maps_to_published_band_without_a_moderately_severe_band(total, expected):
    assert gad7_severity(total) is expected
    assert severity("GAD-7", total) is expected


@pytest.mark.parametrize(
    ("function", "total"),
    [(phq9_severity, -1), (phq9_severity, 28), (phq9_severity, True), (gad7_severity, 22)],
)
def test_a_total_outside_the_instrument_range_has_no_band(function, total):
    with pytest.raises(ScoringError) as error:
        function(total)

    assert error.value.field == "total"


@pytest.mark.parametrize(
    ("code", "total", "sex", "expected"),
    [
        ("PHQ-2", 2, None, NEGATIVE),
        ("PHQ-2", 3, None, POSITIVE),
        ("GAD-2", 2, None, NEGATIVE),
        ("GAD-2", 3, None, POSITIVE),
        ("PCL-5", 30, None, NEGATIVE),
        ("PCL-5", 31, None, POSITIVE),
        ("EPDS", 12, None, NEGATIVE),
        ("EPDS", 13, None, POSITIVE),
        ("AUDIT-C", 3, "male", NEGATIVE),
        ("AUDIT-C", 4, "male", POSITIVE),
        ("AUDIT-C", 2, "female", NEGATIVE),
        ("AUDIT-C", 3, "female", POSITIVE),
    ],
)
def test_cut_off_instruments_report_positive_or_negative(code, total, sex, expected):
    assert severity(code, total, sex=sex) is expected


def test_severity_of_a_total_outside_the_range_is_refused():
    with pytest.raises(ScoringError, match=r"PHQ-2 total 7 is not an integer 0-6"):
        severity("PHQ-2", 7)


# --------------------------------------------------------------------------- AUDIT-C by sex


@pytest.mark.parametrize(
    ("answers", "sex", "expected"),
    [
        ([1, 1, 1], "male", NEGATIVE),
        ([2, 1, 1], "male", POSITIVE),
        ([1, 1, 0], "female", NEGATIVE),
        ([1, 1, 1], "female", POSITIVE),
        ([1, 1, 1], " Male ", NEGATIVE),
        ([1, 1, 1], "MALE", NEGATIVE),
        # Anyone not recorded as male gets the more sensitive cut-off of 3.
        ([1, 1, 1], "other", POSITIVE),
        ([1, 1, 1], "unknown", POSITIVE),
        ([1, 1, 1], None, POSITIVE),
        ([1, 1, 0], None, NEGATIVE),
    ],
)
def test_audit_c_uses_a_sex_specific_cut_off(answers, sex, expected):
    assert score("AUDIT-C", answers, sex=sex).severity is expected


def test_sex_does_not_change_a_cut_off_that_is_not_sex_specific():
    assert score("PHQ-2", [1, 1], sex="male").severity is NEGATIVE
    assert score("PHQ-2", [2, 1], sex="female").severity is POSITIVE


# --------------------------------------------------------------------------- configurable cut-offs


@pytest.mark.parametrize(
    ("answers", "cutoff", "expected"),
    [
        ([2] * 15 + [1, 0, 0, 0, 0], 31, POSITIVE),
        ([2] * 15 + [1, 1, 0, 0, 0], 33, NEGATIVE),
        ([2] * 15 + [1, 1, 1, 0, 0], 33, POSITIVE),
    ],
)
def test_pcl5_cut_off_can_be_set_between_31_and_33(answers, cutoff, expected):
    assert score("PCL-5", answers, cutoff=cutoff).severity is expected


def test_epds_cut_off_of_10_can_be_chosen_for_more_sensitivity():
    answers = [3, 3, 2, 3, 3, 3, 3, 3, 3, 3]  # total 10

    assert score("EPDS", answers).severity is NEGATIVE
    assert score("EPDS", answers, cutoff=10).severity is POSITIVE


def test_a_cutoff_moves_only_the_positive_screen_flag_on_a_banded_instrument():
    result = score("PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, 0], cutoff=8)

    assert (result.total, result.severity, result.flags) == (8, MILD, (ScoreFlag.POSITIVE_SCREEN,))


@pytest.mark.parametrize("cutoff", [0, 81, True, "31", 31.0])
def test_a_cutoff_outside_the_instrument_range_is_refused(cutoff):
    with pytest.raises(ScoringError) as error:
        score("PCL-5", [0] * 20, cutoff=cutoff)

    assert error.value.field == "cutoff"
    assert str(error.value) == f"cutoff for PCL-5 must be an integer 1-80, got {cutoff!r}"


# --------------------------------------------------------------------------- EPDS reverse keying

# Answers are option indexes in printed order; items 3 and 5-10 score 3 - index.
EPDS_VECTORS = [
    ([0, 0, 3, 0, 3, 3, 3, 3, 3, 3], 0, NEGATIVE, ()),
    ([3, 3, 0, 3, 0, 0, 0, 0, 0, 0], 30, POSITIVE, (10,)),
    ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 21, POSITIVE, (10,)),
    ([3, 3, 3, 3, 3, 3, 3, 3, 3, 3], 9, NEGATIVE, ()),
    ([3, 3, 0, 3, 3, 3, 3, 3, 3, 3], 12, NEGATIVE, ()),
    ([3, 3, 0, 3, 2, 3, 3, 3, 3, 3], 13, POSITIVE, ()),
    ([1, 2, 1, 2, 2, 1, 2, 1, 3, 3], 13, POSITIVE, ()),
]


@pytest.mark.parametrize(("answers", "total", "expected", "safety_items"), EPDS_VECTORS)
def test_epds_scores_reverse_keyed_items_from_the_printed_option_index(
    answers, total, expected, safety_items
):
    result = score("EPDS", answers)

    assert (result.total, result.severity, result.safety_items) == (total, expected, safety_items)


@pytest.mark.parametrize(
    ("item_10_index", "item_10_points", "safety_items", "flags"),
    [
        (0, 3, (10,), (ScoreFlag.SAFETY,)),  # "Yes, quite often"
        (1, 2, (10,), (ScoreFlag.SAFETY,)),  # "Sometimes"
        (2, 1, (10,), (ScoreFlag.SAFETY,)),  # "Hardly ever"
        (3, 0, (), ()),  # "Never"
    ],
)
def test_epds_item_10_above_0_raises_a_safety_flag(
    item_10_index, item_10_points, safety_items, flags
):
    result = score("EPDS", [0, 0, 3, 0, 3, 3, 3, 3, 3, item_10_index])

    assert result.total == item_10_points
    assert (result.safety_items, result.flags) == (safety_items, flags)


# --------------------------------------------------------------------------- flags


@pytest.mark.parametrize(
    ("code", "answers", "safety_items", "flags"),
    [
        ("PHQ-9", [0, 0, 0, 0, 0, 0, 0, 0, 1], (9,), ("safety",)),
        ("PHQ-9", [0, 0, 0, 0, 0, 0, 0, 0, 0], (), ()),
        ("PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, 2], (9,), ("safety", "positive_screen")),
        (
            "PHQ-9",
            [3, 3, 3, 3, 2, 2, 2, 2, 1],
            (9,),
            ("safety", "positive_screen", "severe"),
        ),
        ("PHQ-9", [3, 3, 3, 3, 3, 3, 2, 3, 0], (), ("positive_screen", "severe")),
        ("PHQ-A", [0, 0, 0, 0, 0, 0, 0, 0, 3], (9,), ("safety",)),
        ("GAD-7", [3, 2, 2, 2, 2, 2, 2], (), ("positive_screen", "severe")),
        ("GAD-7", [2, 2, 2, 1, 1, 1, 1], (), ("positive_screen",)),
        ("PHQ-2", [2, 1], (), ("positive_screen",)),
        ("PCL-5", [4] * 20, (), ("positive_screen",)),
    ],
)
def test_score_flags_safety_items_positive_screens_and_severe_bands(
    code, answers, safety_items, flags
):
    result = score(code, answers)

    assert result.safety_items == safety_items
    assert result.flags == flags


def test_a_score_serialises_to_json_with_plain_lowercase_strings():
    result = score("PHQ-9", [3, 3, 3, 3, 2, 2, 2, 2, 1])

    assert json.loads(json.dumps(result.__dict__)) == {
        "instrument": "PHQ-9",
        "total": 21,
        "severity": "severe",
        "prorated": False,
        "missing": 0,
        "safety_items": [9],
        "flags": ["safety", "positive_screen", "severe"],
        "subscales": [],
    }


def test_score_is_a_frozen_value():
    result = score("PHQ-2", [0, 0])

    assert result == Score("PHQ-2", 0, "negative", False, 0, (), ())
    with pytest.raises(AttributeError):
        result.total = 6


# --------------------------------------------------------------------------- missing items

# (code, answers, total, severity, flags): totals are round-half-up(mean(answered) x items).
PRORATED = [
    # One missing: 4 / 8 x 9 = 4.5 -> 5 (round-half-even would give 4, "minimal").
    ("PHQ-9", [1, 1, 1, 1, None, 0, 0, 0, 0], 5, MILD, ()),
    # One missing: 7 / 8 x 9 = 7.875 -> 8.
    ("PHQ-9", [1, 1, 1, 1, 1, 1, 1, None, 0], 8, MILD, ()),
    # One missing, the safety item: 24 / 8 x 9 = 27, and item 9 must be asked again.
    (
        "PHQ-9",
        [3, 3, 3, 3, 3, 3, 3, 3, None],
        27,
        SEVERE,
        ("safety_unanswered", "positive_screen", "severe"),
    ),
    # Two missing: 14 / 7 x 9 = 18.
    (
        "PHQ-9",
        [2, 2, 2, 2, 2, 2, 2, None, None],
        18,
        MODERATELY_SEVERE,
        ("safety_unanswered", "positive_screen"),
    ),
    # Two missing: 5 / 7 x 9 = 6.43 -> 6.
    ("PHQ-9", [1, 1, 1, 1, 1, 0, None, None, 0], 6, MILD, ()),
    # Two missing: 6 / 7 x 9 = 7.71 -> 8.
    ("PHQ-9", [None, 1, 1, 1, 1, 1, 1, None, 0], 8, MILD, ()),
    # Two missing: 15 / 7 x 9 = 19.29 -> 19.
    (
        "PHQ-9",
        [3, 2, 2, 2, 2, 2, None, None, 2],
        19,
        MODERATELY_SEVERE,
        ("safety", "positive_screen"),
    ),
    # PHQ-A follows the PHQ-9 rule: 12 / 8 x 9 = 13.5 -> 14.
    (
        "PHQ-A",
        [2, 2, 2, 2, 2, 2, 0, 0, None],
        14,
        MODERATE,
        ("safety_unanswered", "positive_screen"),
    ),
    # PHQ-A: 17 / 8 x 9 = 19.125 -> 19.
    ("PHQ-A", [2, 2, 2, 2, None, 2, 2, 2, 3], 19, MODERATELY_SEVERE, ("safety", "positive_screen")),
]


@pytest.mark.parametrize(("code", "answers", "total", "expected", "flags"), PRORATED)
def test_one_or_two_missing_phq9_items_are_prorated_and_rounded_half_up(
    code, answers, total, expected, flags
):
    result = score(code, answers)

    assert (result.total, result.severity, result.flags) == (total, expected, flags)
    assert result.prorated is True
    assert result.missing == answers.count(None)


@pytest.mark.parametrize("code", ["PHQ-9", "PHQ-A"])
def test_three_missing_phq9_items_are_not_scorable(code):
    with pytest.raises(ScoringError) as error:
        score(code, [1, None, 1, None, 1, None, 1, 1, 1])

    assert str(error.value) == f"{code} has 3 missing items; at most 2 can be missing"
    assert error.value.field == "answers"


@pytest.mark.parametrize(
    ("code", "answers", "message"),
    [
        ("GAD-7", [1, 1, 1, 1, 1, 1, None], "GAD-7 has 1 missing item; none can be missing"),
        ("PHQ-2", [None, None], "PHQ-2 has 2 missing items; none can be missing"),
        ("GAD-2", [1, None], "GAD-2 has 1 missing item; none can be missing"),
        ("PCL-5", [0] * 19 + [None], "PCL-5 has 1 missing item; none can be missing"),
        ("AUDIT-C", [None, 0, 0], "AUDIT-C has 1 missing item; none can be missing"),
        ("EPDS", [0] * 9 + [None], "EPDS has 1 missing item; none can be missing"),
    ],
)
def test_other_instruments_with_a_missing_item_are_not_scorable_by_default(code, answers, message):
    with pytest.raises(ScoringError) as error:
        score(code, answers)

    assert (str(error.value), error.value.field) == (message, "answers")


@pytest.mark.parametrize(
    ("code", "answers", "max_missing", "total"),
    [
        # 6 / 6 x 7 = 7.
        ("GAD-7", [1, 1, 1, 1, 1, 1, None], 1, 7),
        # 7 / 6 x 7 = 8.17 -> 8.
        ("GAD-7", [2, 1, 1, 1, 1, 1, None], 1, 8),
        # 3 / 6 x 7 = 3.5 -> 4.
        ("GAD-7", [1, 1, 1, 0, 0, 0, None], 1, 4),
        # EPDS prorates item points, after reverse keying: 9 answered items at 0 points.
        ("EPDS", [0, 0, 3, 0, 3, 3, 3, 3, 3, None], 1, 0),
    ],
)
def test_a_program_can_allow_missing_items_on_other_instruments(code, answers, max_missing, total):
    result = score(code, answers, max_missing=max_missing)

    assert (result.total, result.prorated, result.missing) == (total, True, 1)


def test_a_program_allowance_still_bounds_the_missing_count():
    with pytest.raises(ScoringError, match="GAD-7 has 2 missing items; at most 1 can be missing"):
        score("GAD-7", [1, 1, 1, 1, 1, None, None], max_missing=1)


def test_a_program_can_forbid_prorating_the_phq9():
    with pytest.raises(ScoringError, match="PHQ-9 has 1 missing item; none can be missing"):
        score("PHQ-9", [1, 1, 1, 1, None, 0, 0, 0, 0], max_missing=0)


def test_a_complete_questionnaire_is_not_prorated_even_when_missing_items_are_allowed():
    result = score("GAD-7", [1, 1, 1, 1, 1, 1, 1], max_missing=2)

    assert (result.total, result.prorated, result.missing) == (7, False, 0)


@pytest.mark.parametrize("max_missing", [-1, 9, True, "2", 1.0])
def test_an_impossible_missing_item_allowance_is_refused(max_missing):
    with pytest.raises(ScoringError) as error:
        score("PHQ-9", [0] * 9, max_missing=max_missing)

    assert error.value.field == "max_missing"
    assert str(error.value) == (
        f"max_missing for PHQ-9 must be an integer 0-8, got {max_missing!r}"
    )


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("code", "answers", "message", "field"),
    [
        ("PHQ-9", [0] * 8, "PHQ-9 expects 9 answers, got 8", "answers"),
        ("PHQ-9", [0] * 10, "PHQ-9 expects 9 answers, got 10", "answers"),
        ("PHQ-2", [], "PHQ-2 expects 2 answers, got 0", "answers"),
        ("PHQ-9", [0, 4, 0, 0, 0, 0, 0, 0, 0], "answer 2 (item 2) is 4; allowed 0-3", "answers[1]"),
        (
            "PHQ-9",
            [-1, 0, 0, 0, 0, 0, 0, 0, 0],
            "answer 1 (item 1) is -1; allowed 0-3",
            "answers[0]",
        ),
        ("GAD-7", [0, 0, 0, 0, 0, 0, 4], "answer 7 (item 7) is 4; allowed 0-3", "answers[6]"),
        ("PCL-5", [0] * 19 + [5], "answer 20 (item 20) is 5; allowed 0-4", "answers[19]"),
        ("AUDIT-C", [0, 5, 0], "answer 2 (item 2) is 5; allowed 0-4", "answers[1]"),
        ("EPDS", [0] * 9 + [4], "answer 10 (item 10) is 4; allowed 0-3", "answers[9]"),
        (
            "GAD-7",
            [True, 0, 0, 0, 0, 0, 0],
            "answer 1 (item 1) is True; expected an integer 0-3 or null",
            "answers[0]",
        ),
        (
            "GAD-7",
            [0, 1.0, 0, 0, 0, 0, 0],
            "answer 2 (item 2) is 1.0; expected an integer 0-3 or null",
            "answers[1]",
        ),
        (
            "PHQ-2",
            ["1", 0],
            "answer 1 (item 1) is '1'; expected an integer 0-3 or null",
            "answers[0]",
        ),
        ("PHQ-2", "12", "PHQ-2 answers must be a list of integers or nulls", "answers"),
        ("PHQ-2", None, "PHQ-2 answers must be a list of integers or nulls", "answers"),
        ("PHQ-2", {0: 1, 1: 1}, "PHQ-2 answers must be a list of integers or nulls", "answers"),
    ],
)
def test_unscorable_answers_are_refused_with_a_message_naming_the_field(
    code, answers, message, field
):
    with pytest.raises(ScoringError) as error:
        score(code, answers)

    assert (str(error.value), error.value.field) == (message, field)


def test_scoring_an_unknown_instrument_names_the_instrument_field():
    with pytest.raises(ScoringError) as error:
        score("XYZ", [0])

    assert error.value.field == "instrument"
    assert str(error.value).startswith("unknown instrument 'XYZ'")


def test_answers_may_be_a_tuple_and_the_code_an_enum_member():
    result = score(InstrumentCode.GAD2, (1, 2))

    assert (result.instrument, result.total) == ("GAD-2", 3)


# --------------------------------------------------------------------------- response, remission


@pytest.mark.parametrize(
    ("baseline", "latest", "expected"),
    [
        (20, 10, -50.0),
        (15, 7, -53.333333333333336),
        (10, 10, 0.0),
        (10, 12, 20.0),
        (0, 0, None),
        (0, 5, None),
    ],
)
def test_percent_change_is_relative_to_baseline_and_negative_when_improving(
    baseline, latest, expected
):
    assert percent_change(baseline, latest) == expected


@pytest.mark.parametrize(
    ("baseline", "latest", "threshold", "expected"),
    [
        (20, 10, 0.5, True),
        (20, 11, 0.5, False),
        (15, 7, 0.5, True),  # 53% drop
        (15, 8, 0.5, False),  # 47% drop
        (10, 5, 0.5, True),
        (10, 0, 0.5, True),
        (10, 12, 0.5, False),
        (0, 0, 0.5, False),
        (20, 8, 0.6, True),
        (20, 9, 0.6, False),
        (10, 7, 0.3, True),  # exactly 30%, not lost to binary floating point
    ],
)
def test_response_is_a_drop_of_at_least_half_the_baseline(baseline, latest, threshold, expected):
    assert is_response(baseline, latest, threshold=threshold) is expected


@pytest.mark.parametrize(
    ("baseline", "latest", "expected"),
    [
        (20, 16, False),  # 20%
        (20, 15, True),  # 25%
        (20, 11, True),  # 45%
        (20, 10, False),  # 50%: a full response
        (12, 7, True),  # 41.7%
        (0, 0, False),
    ],
)
def test_partial_response_is_a_drop_of_25_up_to_50_percent(baseline, latest, expected):
    assert is_partial_response(baseline, latest) is expected


def test_partial_response_bounds_are_configurable():
    assert is_partial_response(20, 16, lower=0.2, upper=0.5) is True
    assert is_partial_response(20, 13, lower=0.2, upper=0.3) is False


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: is_response(-1, 0), "baseline"),
        (lambda: is_response(10, True), "latest"),
        (lambda: is_response(10.0, 5), "baseline"),
        (lambda: is_response(10, 5, threshold=0), "threshold"),
        (lambda: is_response(10, 5, threshold=1.5), "threshold"),
        (lambda: is_response(10, 5, threshold=True), "threshold"),
        (lambda: is_partial_response(10, 5, lower="0.25"), "lower"),
        (lambda: is_partial_response(10, 5, upper=-0.5), "upper"),
        (lambda: percent_change("10", 5), "baseline"),
        (lambda: percent_change(10, None), "latest"),
    ],
)
def test_response_inputs_are_validated(call, field):
    with pytest.raises(ScoringError) as error:
        call()

    assert error.value.field == field


@pytest.mark.parametrize(
    ("code", "latest", "cutoff", "expected"),
    [
        ("PHQ-9", 4, 5, True),
        ("PHQ-9", 5, 5, False),
        ("PHQ-A", 4, 5, True),
        ("PHQ-A", 5, 5, False),
        ("GAD-7", 4, 5, True),
        ("GAD-7", 5, 5, False),
        ("PHQ-9", 9, 10, True),
    ],
)
def test_remission_is_a_latest_total_below_5(code, latest, cutoff, expected):
    assert is_remission(code, latest, cutoff=cutoff) is expected


@pytest.mark.parametrize("code", ["PHQ-2", "GAD-2", "PCL-5", "AUDIT-C", "EPDS"])
def test_remission_is_not_defined_for_screening_instruments(code):
    with pytest.raises(ScoringError) as error:
        is_remission(code, 0)

    assert error.value.field == "instrument"
    assert str(error.value) == (
        f"remission and treat-to-target are defined for PHQ-9, GAD-7, PHQ-A, not {code}"
    )


def test_remission_of_an_impossible_total_is_refused():
    with pytest.raises(ScoringError) as error:
        is_remission("GAD-7", 22)

    assert error.value.field == "latest"


# --------------------------------------------------------------------------- treat to target


def test_treat_to_target_sorts_scores_and_counts_weeks_from_the_baseline():
    scores = [
        (date(2025, 3, 3), 8),
        (date(2025, 1, 6), 18),
        (date(2025, 2, 3), 12),
        (date(2025, 4, 7), 4),
    ]

    result = treat_to_target("PHQ-9", scores)

    assert result == TreatToTarget(
        instrument="PHQ-9",
        baseline=18,
        baseline_on=date(2025, 1, 6),
        latest=4,
        latest_on=date(2025, 4, 7),
        change=-14,
        percent_change=pytest.approx(-77.7777777),
        eligible=True,
        response=True,
        partial_response=False,
        remission=True,
        weeks_to_first_response=8,  # 2025-03-03 is 56 days after 2025-01-06
        weeks_to_remission=13,  # 2025-04-07 is 91 days after
    )


def test_treat_to_target_counts_weeks_from_enrollment_when_given():
    scores = [(date(2025, 1, 6), 18), (date(2025, 3, 3), 8), (date(2025, 4, 7), 4)]

    result = treat_to_target("PHQ-9", scores, enrolled_on=date(2024, 12, 30))

    assert (result.weeks_to_first_response, result.weeks_to_remission) == (9, 14)


def test_weeks_round_down_to_whole_weeks():
    scores = [(date(2025, 1, 6), 16), (date(2025, 1, 19), 8)]  # 13 days

    assert treat_to_target("PHQ-9", scores).weeks_to_first_response == 1


def test_a_follow_up_dated_before_enrollment_counts_as_week_0():
    scores = [(date(2025, 1, 6), 20), (date(2025, 1, 13), 8)]

    result = treat_to_target("PHQ-9", scores, enrolled_on=date(2025, 2, 1))

    assert result.weeks_to_first_response == 0


def test_response_and_remission_are_not_reported_for_a_baseline_below_10():
    scores = [(date(2025, 1, 6), 9), (date(2025, 2, 3), 2)]

    result = treat_to_target("PHQ-9", scores)

    assert result.eligible is False
    assert (result.response, result.partial_response, result.remission) == (None, None, None)
    assert (result.weeks_to_first_response, result.weeks_to_remission) == (None, None)
    assert (result.change, result.percent_change) == (-7, pytest.approx(-77.7777777))


def test_the_minimum_baseline_is_configurable():
    scores = [(date(2025, 1, 6), 9), (date(2025, 2, 3), 2)]

    result = treat_to_target("PHQ-9", scores, min_baseline=5)

    assert (result.eligible, result.response, result.remission) == (True, True, True)
    assert (result.weeks_to_first_response, result.weeks_to_remission) == (4, 4)


def test_a_baseline_of_exactly_10_is_eligible():
    assert treat_to_target("GAD-7", [(date(2025, 1, 6), 10)]).eligible is True


def test_a_single_score_is_its_own_baseline_and_latest():
    result = treat_to_target("GAD-7", [(date(2025, 1, 6), 15)])

    assert (result.baseline, result.latest, result.change, result.percent_change) == (
        15,
        15,
        0,
        0.0,
    )
    assert (result.response, result.partial_response, result.remission) == (False, False, False)
    assert (result.weeks_to_first_response, result.weeks_to_remission) == (None, None)


def test_partial_response_is_judged_on_the_latest_score():
    scores = [(date(2025, 1, 6), 20), (date(2025, 3, 3), 14)]

    result = treat_to_target("PHQ-A", scores)

    assert (result.response, result.partial_response, result.remission) == (False, True, False)


def test_a_relapse_keeps_the_week_of_first_response_but_not_the_response():
    scores = [(date(2025, 1, 6), 20), (date(2025, 2, 17), 9), (date(2025, 4, 14), 15)]

    result = treat_to_target("PHQ-9", scores)

    assert (result.response, result.partial_response) == (False, True)
    assert (result.weeks_to_first_response, result.weeks_to_remission) == (6, None)


def test_the_remission_cut_off_is_configurable():
    scores = [(date(2025, 1, 6), 20), (date(2025, 3, 31), 9)]

    result = treat_to_target("PHQ-9", scores, remission_cutoff=10)

    assert (result.remission, result.weeks_to_remission) == (True, 12)


@pytest.mark.parametrize(
    ("scores", "baseline", "latest"),
    [
        ([(date(2025, 1, 6), 16), (date(2025, 1, 6), 12), (date(2025, 2, 3), 8)], 16, 8),
        ([(date(2025, 1, 6), 12), (date(2025, 1, 6), 16)], 12, 16),
    ],
)
def test_scores_on_the_same_date_keep_their_input_order(scores, baseline, latest):
    result = treat_to_target("PHQ-9", scores)

    assert (result.baseline, result.latest) == (baseline, latest)


@pytest.mark.parametrize(
    ("code", "scores", "field"),
    [
        ("PHQ-9", [], "scores"),
        ("PHQ-9", None, "scores"),
        ("PHQ-9", [(date(2025, 1, 6), 28)], "scores[0]"),
        ("PHQ-9", [(date(2025, 1, 6), 10), (date(2025, 2, 3), -1)], "scores[1]"),
        ("PHQ-9", [(date(2025, 1, 6), True)], "scores[0]"),
        ("PHQ-9", [(datetime(2025, 1, 6, 9, 30), 10)], "scores[0]"),
        ("PHQ-9", [("2025-01-06", 10)], "scores[0]"),
        ("PHQ-9", [[date(2025, 1, 6), 10]], "scores[0]"),
        ("PHQ-9", [(date(2025, 1, 6), 10, "extra")], "scores[0]"),
        ("PCL-5", [(date(2025, 1, 6), 40)], "instrument"),
        ("XYZ", [(date(2025, 1, 6), 10)], "instrument"),
    ],
)
def test_treat_to_target_inputs_are_validated(code, scores, field):
    with pytest.raises(ScoringError) as error:
        treat_to_target(code, scores)

    assert error.value.field == field


# --------------------------------------------------------------------------- properties

SEVERITY_RANK = {
    **{band: rank for rank, band in enumerate(Severity)},
    NEGATIVE: 0,
    POSITIVE: 1,
}
EPDS_REVERSED = {3, 5, 6, 7, 8, 9, 10}


@st.composite
def instrument_and_answers(draw, *, allow_missing=False):
    code = draw(st.sampled_from(list(INSTRUMENTS)))
    instrument = INSTRUMENTS[code]
    answers = [
        draw(st.integers(min_value=0, max_value=len(item.options) - 1)) for item in instrument.items
    ]
    if allow_missing and instrument.max_missing:
        blanks = draw(st.sets(st.integers(0, len(answers) - 1), max_size=instrument.max_missing))
        answers = [None if index in blanks else answer for index, answer in enumerate(answers)]
    return code, answers


@PROPERTY
@given(instrument_and_answers(allow_missing=True), st.sampled_from([None, "male", "female"]))
def test_totals_always_lie_within_the_instrument_range(case, sex):
    code, answers = case
    instrument = INSTRUMENTS[code]

    result = score(code, answers, sex=sex)

    assert instrument.min_total <= result.total <= instrument.max_total
    assert result.missing == answers.count(None)
    assert result.prorated is (result.missing > 0)


@PROPERTY
@given(instrument_and_answers())
def test_a_complete_total_is_the_sum_of_the_chosen_options_points(case):
    code, answers = case
    items = INSTRUMENTS[code].items

    result = score(code, answers)

    assert result.total == sum(
        item.options[a].value for item, a in zip(items, answers, strict=True)
    )


@PROPERTY
@given(st.lists(st.integers(0, 3), min_size=10, max_size=10))
def test_epds_reverse_keyed_items_score_three_minus_the_index(answers):
    expected = sum(3 - a if n in EPDS_REVERSED else a for n, a in enumerate(answers, start=1))

    assert score("EPDS", answers).total == expected


@PROPERTY
@given(
    st.lists(st.integers(0, 3), min_size=9, max_size=9),
    st.sets(st.integers(0, 8), min_size=1, max_size=2),
)
def test_prorated_phq9_total_is_the_answered_mean_times_9_rounded_half_up(complete, blanks):
    answers = [None if index in blanks else answer for index, answer in enumerate(complete)]
    answered = [a for a in answers if a is not None]
    exact = Decimal(sum(answered)) * 9 / Decimal(len(answered))

    assert score("PHQ-9", answers).total == int(exact.quantize(Decimal(1), ROUND_HALF_UP))


@PROPERTY
@given(
    st.sampled_from(list(INSTRUMENTS)),
    st.sampled_from([None, "male", "female"]),
    st.data(),
)
def test_severity_never_decreases_as_the_total_rises(code, sex, data):
    instrument = INSTRUMENTS[code]
    low = data.draw(st.integers(instrument.min_total, instrument.max_total))
    high = data.draw(st.integers(low, instrument.max_total))

    assert (
        SEVERITY_RANK[severity(code, low, sex=sex)] <= SEVERITY_RANK[severity(code, high, sex=sex)]
    )


@pytest.mark.parametrize("bands", [PHQ9_BANDS, GAD7_BANDS])
def test_band_upper_limits_rise_with_severity(bands):
    assert [band.upper for band in bands] == sorted(band.upper for band in bands)
    assert [SEVERITY_RANK[band.severity] for band in bands] == sorted(
        SEVERITY_RANK[band.severity] for band in bands
    )


@PROPERTY
@given(st.integers(0, 27), st.integers(0, 27))
def test_response_and_partial_response_never_hold_together(baseline, latest):
    response = is_response(baseline, latest)
    partial = is_partial_response(baseline, latest)

    assert not (response and partial)
    assert response is (baseline > 0 and 2 * latest <= baseline)


@PROPERTY
@given(
    st.lists(
        st.tuples(st.dates(date(2024, 1, 1), date(2026, 12, 31)), st.integers(0, 27)),
        min_size=1,
        max_size=12,
    )
)
def test_treat_to_target_baseline_is_the_earliest_score_and_latest_the_last(scores):
    result = treat_to_target("PHQ-9", scores)

    earliest = min(taken_on for taken_on, _ in scores)
    last = max(taken_on for taken_on, _ in scores)
    assert (result.baseline_on, result.latest_on) == (earliest, last)
    assert result.eligible is (result.baseline >= 10)
    if result.weeks_to_remission is not None:
        assert result.weeks_to_remission >= 0
