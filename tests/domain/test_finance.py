"""The financial model with hand-computed scenarios (literal values, no database)."""

import pytest

from cocm.domain import finance
from cocm.domain.coding import BillingRules
from cocm.domain.finance import FinanceInputError, model, parse_value, projection, sensitivity

MEDICARE_2025 = {"99492": 145.24, "99493": 133.59, "99494": 55.96, "99484": 53.05}


def scenario(**changes):
    """The defaults with the changes a test is about (texts parsed as a user writes them)."""
    values = finance.default_values(2026, MEDICARE_2025)
    for name, text in changes.items():
        values[name] = parse_value(name, text) if isinstance(text, str) else text
    return values


def one_fte_medicare(**changes):
    """1.0 FTE, 60 patients, Medicare only: every initial month 50 min, every subsequent 45."""
    base = {
        "caseload_per_fte": "60",
        "initial_minutes": "50: 100%",
        "subsequent_minutes": "45: 100%",
        "collection_rate": "90%",
        "care_manager_salary": "60000",
        "benefits_rate": "25%",
    }
    return scenario(**{**base, **changes})


def test_a_one_fte_practice_on_medicare_only_computes_by_hand():
    result = model(one_fte_medicare())

    # 20 scheduled h × 85% + 14 h of review, documentation and outreach = 31 h a week
    assert result.value("countable_minutes_per_month") == pytest.approx(31 * 60 * 52 / 12)
    assert result.value("average_minutes_per_patient_month") == pytest.approx(45.8333, abs=1e-4)
    assert result.value("time_limited_caseload") == pytest.approx(175.8545, abs=1e-4)
    assert result.value("caseload_capacity") == 60
    assert result.value("patients_served_per_year") == 120
    # 60 patients over 6-month episodes: 10 initial months (99492) and 50 subsequent (99493)
    assert result.units_per_month == {"99492": pytest.approx(10), "99493": pytest.approx(50)}
    # (10 × $145.24 + 50 × $133.59) × 12 = $97,582.80; collected at 90%: $87,824.52
    assert result.value("gross_revenue_per_year") == pytest.approx(97582.80)
    assert result.value("net_revenue_per_year") == pytest.approx(87824.52)
    assert result.gross_by_payer_code["medicare"] == {
        "99492": pytest.approx(17428.80),
        "99493": pytest.approx(80154.00),
    }
    # $60,000 × 1.25 + 3 h × 52 × $200 + 1 h × 52 × $150 = $114,000
    assert result.value("care_manager_cost_per_year") == pytest.approx(75000)
    assert result.value("psychiatric_consultant_cost_per_year") == pytest.approx(31200)
    assert result.value("pcp_cost_per_year") == pytest.approx(7800)
    assert result.value("cost_per_year") == pytest.approx(114000)
    assert result.value("margin_per_year") == pytest.approx(-26175.48)
    assert result.value("net_revenue_per_patient_month") == pytest.approx(121.9785)
    assert result.value("break_even_caseload") == pytest.approx(77.8826, abs=1e-4)
    assert result.value("psychiatric_consultant_hours_per_week") == 3
    assert result.value("revenue_per_care_manager_hour") == pytest.approx(42.2233, abs=1e-4)


def test_each_output_explains_itself_with_the_numbers_filled_in():
    result = model(one_fte_medicare())

    assert result.outputs["caseload_capacity"].explanation == (
        "the smaller of 60 (caseload per FTE) and 175.85 (care-manager time) = 60; "
        "limited by the caseload per FTE"
    )
    assert result.outputs["net_revenue_per_year"].explanation == (
        "$97,582.80 gross × 90% collection rate = $87,824.52"
    )
    assert result.outputs["cost_per_year"].explanation == (
        "care manager $75,000.00 + psychiatric consultant $31,200.00 + PCP $7,800.00 + "
        "other $0.00 = $114,000.00"
    )
    assert (
        "10 Medicare initial months of 50 min × 1"
        in result.outputs["units_99492_per_month"].explanation
    )
    assert all(output.explanation for output in result.outputs.values())


def fqhc(year):
    """An FQHC with Medicare (60%) and Medicaid (40%), 60 patients, 6-month episodes."""
    return scenario(
        year=str(year),
        fqhc_rhc="yes",
        caseload_per_fte="60",
        initial_minutes="70: 100%",
        subsequent_minutes="40: 50%, 65: 50%",
        share_medicare="60%",
        share_medicaid="40%",
        rate_medicare_G0512="150",
        rate_medicaid_G0512="120",
        rate_medicaid_99492="100",
        rate_medicaid_99493="90",
    )


def test_a_mixed_payer_fqhc_before_2026_bills_g0512_for_months_of_60_minutes_or_more():
    result = model(fqhc(2025))

    # 10 initial months of 70 min and 25 subsequent of 65 reach 60; 25 of 40 bill nothing.
    assert result.units_per_month == {"G0512": pytest.approx(35)}
    assert result.units_by_payer["medicare"] == {"G0512": pytest.approx(21)}
    assert result.units_by_payer["medicaid"] == {"G0512": pytest.approx(14)}
    # (21 × $150 + 14 × $120) × 12
    assert result.value("gross_revenue_per_year") == pytest.approx(57960)


def test_the_same_fqhc_from_2026_bills_the_cpt_codes():
    result = model(fqhc(2026))

    assert result.units_per_month == {"99492": pytest.approx(10), "99493": pytest.approx(50)}
    # Medicare 6 × $145.24 + 30 × $133.59 = $4,879.14; Medicaid 4 × $100 + 20 × $90 = $2,200
    assert result.gross_by_payer_code["medicare"] == {
        "99492": pytest.approx(6 * 145.24 * 12),
        "99493": pytest.approx(30 * 133.59 * 12),
    }
    assert result.value("gross_revenue_per_year") == pytest.approx(84949.68)


def at_break_even(**changes):
    """100 patients, 5-month episodes, $150 per 99492 and $120 per 99493, collected in full:
    (150 + 4 × 120) ÷ 5 = $126 a patient-month, × 100 × 12 = $151,200 a year; cost
    $100,000 × 1.2 + 3 h × 52 × $200 = $151,200."""
    base = {
        "caseload_per_fte": "100",
        "episode_months": "5",
        "initial_minutes": "50: 100%",
        "subsequent_minutes": "45: 100%",
        "rate_medicare_99492": "150",
        "rate_medicare_99493": "120",
        "collection_rate": "100%",
        "care_manager_salary": "100000",
        "benefits_rate": "20%",
        "pcp_hours_per_week": "0",
        # 20 new patients a month need 4.6 initial assessments a week: 6 h × 85% give 5.1.
        "hours_initial_assessments": "6",
        "hours_follow_ups": "14",
    }
    return scenario(**{**base, **changes})


def test_a_scenario_exactly_at_break_even_has_no_margin_and_breaks_even_at_its_caseload():
    result = model(at_break_even())

    assert result.value("net_revenue_per_year") == pytest.approx(151200)
    assert result.value("cost_per_year") == pytest.approx(151200)
    assert result.value("margin_per_year") == pytest.approx(0, abs=0.005)
    assert result.value("net_revenue_per_patient_month") == pytest.approx(126)
    assert result.value("break_even_caseload") == pytest.approx(100)
    assert result.warnings == ()


def test_the_caseload_is_time_limited_when_the_care_manager_has_few_patient_hours():
    values = one_fte_medicare(
        hours_initial_assessments="2",
        hours_follow_ups="4",
        hours_caseload_review="1",
        hours_documentation="2",
        hours_outreach="1",
        hours_non_billable="30",
    )

    result = model(values)

    # (6 h × 85% + 4 h) × 60 × 52/12 = 2,366 min ÷ 45.83 min per patient-month
    assert result.value("countable_minutes_per_month") == pytest.approx(2366)
    assert result.value("caseload_capacity") == pytest.approx(51.6218, abs=1e-4)
    assert any("time-limited" in warning for warning in result.warnings)


def test_units_come_from_the_billing_engine_with_the_payers_rules():
    values = one_fte_medicare(subsequent_minutes="140: 100%")
    capped = {"medicare": BillingRules(max_99494_units=1)}

    uncapped_result = model(values)
    capped_result = model(values, rules=capped)

    # 140 min in a subsequent month: 99493 + 99494 × 3 (76, 106, 136); the cap leaves 1.
    assert uncapped_result.units_per_month["99494"] == pytest.approx(150)
    assert capped_result.units_per_month["99494"] == pytest.approx(50)


def test_a_payer_billed_by_psychotherapy_codes_bills_the_visits():
    values = one_fte_medicare(
        share_medicare="50%",
        share_medicaid="50%",
        route_medicaid="psychotherapy",
        rate_medicaid_90791="120",
        rate_medicaid_90832="60",
    )

    result = model(values)

    # Initial visits 4 h × 60 ÷ 60 min × 85% = 3.4 a week; follow-ups 16 × 60 ÷ 30 × 85% =
    # 27.2 a week (30 min: 90832); half of them are Medicaid's, × 52/12 weeks a month.
    assert result.units_by_payer["medicaid"] == {
        "90791": pytest.approx(3.4 * 52 / 12 / 2),
        "90832": pytest.approx(27.2 * 52 / 12 / 2),
    }
    assert result.gross_by_payer_code["medicaid"]["90832"] == pytest.approx(
        27.2 * 52 / 12 / 2 * 60 * 12
    )
    assert result.units_by_payer["medicare"]["99492"] == pytest.approx(5)


@pytest.mark.parametrize(
    ("minutes", "code"),
    [(15, None), (16, "90832"), (37, "90832"), (38, "90834"), (52, "90834"), (53, "90837")],
)
def test_a_psychotherapy_session_takes_the_code_of_its_length(minutes, code):
    assert finance.psychotherapy_code(minutes) == code


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"care_manager_fte": "-1"}, "care_manager_fte", "must be more than 0"),
        ({"care_manager_fte": "0"}, "care_manager_fte", "must be more than 0"),
        ({"caseload_per_fte": "0"}, "caseload_per_fte", "must be at least 1"),
        ({"caseload_per_fte": "10000"}, "caseload_per_fte", "at most 250; got 10,000"),
        ({"collection_rate": "150%"}, "collection_rate", "at most 100%; got 150%"),
        ({"share_medicare": "80%"}, "share_medicare", "add up to 80%"),
        ({"initial_minutes": "50: 60%, 90: 30%"}, "initial_minutes", "add up to 90%"),
        ({"initial_minutes": "0: 100%"}, "initial_minutes", "average is 0 minutes"),
        ({"hours_non_billable": "30"}, "hours_non_billable", "more than the 40 paid hours"),
        ({"episode_months": "0.5"}, "episode_months", "at least 1"),
        ({"fqhc_rhc": "yes", "year": "2025"}, "rate_medicare_G0512", "No fee on file for G0512"),
    ],
)
def test_bad_inputs_are_refused_naming_the_input(changes, field, words):
    with pytest.raises(FinanceInputError) as refused:
        model(scenario(**changes))

    assert refused.value.field == field
    assert words in refused.value.message


def test_no_task_hours_on_patients_is_refused_instead_of_dividing_by_zero():
    no_patient_time = {name: "0" for name in finance.TASK_HOURS}

    with pytest.raises(FinanceInputError) as refused:
        model(scenario(**no_patient_time))

    assert refused.value.field == "hours_follow_ups"


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("caseload_per_fte", "many", "'many' is not a number"),
        ("collection_rate", "lots", "'lots' is not a percentage"),
        ("route_medicare", "barter", "choose one of cocm, psychotherapy, mixed, none"),
        ("initial_minutes", "fifty", "is not 'minutes: share'"),
        ("nonsense", "1", "'nonsense' is not an input"),
    ],
)
def test_unreadable_texts_are_refused_naming_the_input(name, text, words):
    with pytest.raises(FinanceInputError) as refused:
        parse_value(name, text)

    assert refused.value.field == name
    assert words in refused.value.message


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("collection_rate", "95%", 0.95),
        ("collection_rate", "0.95", 0.95),
        ("care_manager_salary", "$65,000", 65000.0),
        ("rate_medicare_G0512", "", None),
        ("fqhc_rhc", "yes", True),
        ("initial_minutes", "50: 60%, 90: 0.4", ((50, 0.6), (90, 0.4))),
    ],
)
def test_inputs_are_read_as_people_write_them(name, text, value):
    assert parse_value(name, text) == value


def test_the_projection_ramps_the_caseload_up_then_holds_it():
    values = at_break_even(ramp_up_months="4")
    result = model(values)

    months = projection(values, result)

    assert len(months) == 24
    # Month 1: 25 new patients (initial months at $150); cost $151,200 ÷ 12 = $12,600.
    assert months[0].caseload == pytest.approx(25)
    assert months[0].new_patients == pytest.approx(25)
    assert months[0].revenue == pytest.approx(25 * 150)
    assert months[0].cost == pytest.approx(12600)
    # Month 2: 50 patients; 25 ÷ 5 = 5 discharged, so 30 new and 20 subsequent months.
    assert months[1].new_patients == pytest.approx(30)
    assert months[1].revenue == pytest.approx(30 * 150 + 20 * 120)
    # From month 4 on: 100 patients, 20 new a month, $12,600 a month: break-even.
    assert months[3].caseload == pytest.approx(100)
    assert months[23].revenue == pytest.approx(12600)
    assert months[23].margin == pytest.approx(0, abs=0.005)


def test_an_existing_caseload_starts_the_projection_full():
    values = at_break_even(starting_caseload="100", ramp_up_months="0")
    result = model(values)

    months = projection(values, result)

    assert {round(month.caseload, 6) for month in months} == {100}
    assert months[0].new_patients == pytest.approx(20)


def test_the_three_inputs_that_move_the_margin_most():
    swings = sensitivity(at_break_even())

    # ±10% of 100 patients is ±$15,120 a year; the collection rate cannot rise past 100%;
    # ±10% of the $100,000 salary (with 20% benefits) is ∓$12,000.
    assert [swing.name for swing in swings] == [
        "caseload_per_fte",
        "collection_rate",
        "care_manager_salary",
    ]
    assert swings[0].low_margin == pytest.approx(-15120)
    assert swings[0].high_margin == pytest.approx(15120)
    assert swings[1].low_margin == pytest.approx(-15120)
    assert swings[1].high_margin is None
    assert swings[2].low_margin == pytest.approx(12000)
    assert swings[2].high_margin == pytest.approx(-12000)


def test_more_care_managers_at_the_same_caseload_per_fte_move_revenue_and_cost_together():
    one, two = model(at_break_even()), model(at_break_even(care_manager_fte="2"))

    assert two.value("caseload_capacity") == 200
    assert two.value("psychiatric_consultant_hours_per_week") == 6
    assert two.value("margin_per_year") == pytest.approx(2 * one.value("margin_per_year"), abs=0.01)


def test_default_fees_follow_the_medicare_schedule_and_leave_unknown_ones_empty():
    rates = finance.default_rates(MEDICARE_2025)

    assert rates["rate_medicare_99492"] == 145.24
    assert rates["rate_medicare_G2214"] == 55.96  # the 99494 amount: no G2214 figure known
    assert rates["rate_commercial_99493"] == 133.59
    assert rates["rate_medicare_G0512"] is None
    assert rates["rate_self_pay_99492"] is None
    assert rates["rate_medicare_90837"] is None


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("fqhc_rhc", "perhaps", "write yes or no, not 'perhaps'"),
        ("care_manager_fte", "inf", "'inf' is not finite"),
        ("initial_minutes", " , ", "enter at least one 'minutes: share'"),
    ],
)
def test_more_unreadable_texts_are_refused(name, text, words):
    with pytest.raises(FinanceInputError) as refused:
        parse_value(name, text)

    assert words in refused.value.message


def test_no_reads_as_no_and_a_distribution_skips_empty_parts():
    assert parse_value("fqhc_rhc", "no") is False
    assert parse_value("initial_minutes", "50: 100%,") == ((50, 1.0),)
    assert finance.distribution_text(((50, 0.6), (100, 0.4))) == "50: 60%, 100: 40%"


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("care_manager_fte", None, "is missing"),
        ("care_manager_fte", "two", "must be a number"),
        ("care_manager_fte", True, "must be a number"),
        ("fqhc_rhc", "yes", "must be yes or no"),
        ("route_medicare", "barter", "choose one of"),
        ("initial_minutes", (), "enter at least one"),
        ("initial_minutes", "50: 100%", "enter at least one"),
        ("initial_minutes", ((-5, 1.0),), "-5 minutes is not a month's minutes"),
        ("initial_minutes", ((50, 1.5),), "share 150% is not 0-100%"),
        ("initial_minutes", tuple((m, 1 / 51) for m in range(51)), "at most 50 'minutes: share'"),
    ],
)
def test_values_of_the_wrong_kind_are_refused_naming_the_input(name, value, words):
    values = scenario()
    values[name] = value

    with pytest.raises(FinanceInputError) as refused:
        model(values)

    assert refused.value.field == name
    assert words in refused.value.message


def test_an_input_left_out_is_named():
    values = scenario()
    del values["episode_months"]

    with pytest.raises(FinanceInputError) as refused:
        model(values)

    assert refused.value.field == "episode_months"


def test_a_mixed_route_bills_part_of_a_payers_patients_by_psychotherapy():
    values = one_fte_medicare(
        route_medicare="mixed",
        mixed_psychotherapy_share="25%",
        rate_medicare_90791="120",
        rate_medicare_90832="60",
    )

    result = model(values)

    # 75% of the 10 initial months bill 99492; 25% of the visits bill psychotherapy codes.
    assert result.units_per_month["99492"] == pytest.approx(7.5)
    assert result.units_per_month["90791"] == pytest.approx(3.4 * 52 / 12 * 0.25)


def test_a_follow_up_too_short_for_any_psychotherapy_code_is_pointed_out():
    values = one_fte_medicare(
        route_medicare="psychotherapy",
        follow_up_appointment_minutes="15",
        rate_medicare_90791="120",
    )

    result = model(values)

    assert set(result.units_per_month) == {"90791"}
    assert any("shorter than any psychotherapy code" in w for w in result.warnings)


def test_a_program_that_collects_nothing_never_breaks_even():
    result = model(scenario(route_medicare="none"))

    assert result.outputs["break_even_caseload"].value is None
    assert "no caseload breaks even" in result.outputs["break_even_caseload"].explanation


def test_warnings_for_a_caseload_outside_the_aims_range_and_too_few_consultant_hours():
    result = model(
        one_fte_medicare(caseload_per_fte="140", psychiatric_consultant_hours_per_week="1")
    )

    assert "outside the AIMS guidance of 50-120" in " ".join(result.warnings)
    assert "1 h/week of psychiatric consultant is less than the 2.8 h" in " ".join(result.warnings)
    assert result.value("psychiatric_consultant_cost_per_year") == pytest.approx(52 * 200)


def test_the_projection_names_an_input_it_lacks():
    values = at_break_even()
    result = model(values)
    del values["ramp_up_months"]

    with pytest.raises(FinanceInputError) as refused:
        projection(values, result)

    assert refused.value.field == "ramp_up_months"
