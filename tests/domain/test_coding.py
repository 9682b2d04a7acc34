from dataclasses import replace
from datetime import date, datetime

import pytest

from cocm.domain.coding import (
    DEFAULT_RULES,
    BillingRules,
    BillingStatus,
    ClinicSetting,
    Code,
    CodeLine,
    EpisodeFacts,
    Excluded,
    Month,
    MonthType,
    Program,
    Role,
    ServiceMonth,
    TimeEntry,
    bill_month,
    codes_for_minutes,
    merge_overlapping,
    minutes_to_next_threshold,
    month_index,
    month_type,
    months_between,
    thresholds,
)

INITIAL = MonthType.INITIAL
SUBSEQUENT = MonthType.SUBSEQUENT
G2214 = CodeLine(Code.HCPCS_G2214, 1)
I99492 = CodeLine(Code.CPT_99492, 1)
S99493 = CodeLine(Code.CPT_99493, 1)
BHI_99484 = CodeLine(Code.CPT_99484, 1)
G0512 = CodeLine(Code.HCPCS_G0512, 1)
MARCH = Month(2026, 3)
FEBRUARY = Month(2026, 2)
CARE_MANAGER = Role.CARE_MANAGER

# A CoCM episode that meets every prerequisite for March 2026.
READY = EpisodeFacts(
    program=Program.COCM,
    clinic_setting=ClinicSetting.PRACTICE,
    consent_on=date(2026, 1, 5),
    initiating_visit_on=date(2025, 12, 15),
    psychiatric_consultant_assigned=True,
)


def add_on(units: int) -> CodeLine:
    return CodeLine(Code.CPT_99494, units)


def minutes_on(day: int, minutes: int, role: Role = CARE_MANAGER, staff_id: int = 1) -> TimeEntry:
    return TimeEntry(on=date(2026, 3, day), minutes=minutes, role=role, staff_id=staff_id)


def at(hour: int, minute: int, minutes: int, staff_id: int = 1) -> TimeEntry:
    start = datetime(2026, 3, 12, hour, minute)
    return TimeEntry(start.date(), minutes, CARE_MANAGER, staff_id, start=start)


def bill_march(entries, episode=READY, history=(FEBRUARY,), rules=DEFAULT_RULES):
    return bill_month(MARCH, entries, episode, history, rules=rules)


# --- thresholds (cocm-rules.md 1.3) -------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, ()),
        (15, ()),
        (16, (G2214,)),
        (30, (G2214,)),
        (31, (G2214,)),
        (35, (G2214,)),
        (36, (I99492,)),
        (85, (I99492,)),
        (86, (I99492, add_on(1))),
        (115, (I99492, add_on(1))),
        (116, (I99492, add_on(2))),
        (145, (I99492, add_on(2))),
        (146, (I99492, add_on(3))),
        (175, (I99492, add_on(3))),
        (176, (I99492, add_on(4))),
        (300, (I99492, add_on(8))),
    ],
)
def test_initial_month_minutes_map_to_midpoint_codes(minutes, expected):
    assert codes_for_minutes(minutes, INITIAL) == expected


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, ()),
        (15, ()),
        (16, (G2214,)),
        (30, (G2214,)),
        (31, (S99493,)),
        (75, (S99493,)),
        (76, (S99493, add_on(1))),
        (105, (S99493, add_on(1))),
        (106, (S99493, add_on(2))),
        (135, (S99493, add_on(2))),
        (136, (S99493, add_on(3))),
        (165, (S99493, add_on(3))),
        (166, (S99493, add_on(4))),
        (300, (S99493, add_on(8))),
    ],
)
def test_subsequent_month_minutes_map_to_midpoint_codes(minutes, expected):
    assert codes_for_minutes(minutes, SUBSEQUENT) == expected


@pytest.mark.parametrize(("kind", "first", "base"), [(INITIAL, 86, 146), (SUBSEQUENT, 76, 136)])
def test_add_on_units_follow_the_published_formula_above_the_table(kind, first, base):
    units = [codes_for_minutes(m, kind)[1].units for m in range(base, base + 400)]

    assert units == [1 + (m - first) // 30 for m in range(base, base + 400)]


@pytest.mark.parametrize(
    ("kind", "minutes", "expected"),
    [(INITIAL, 30, (G2214,)), (INITIAL, 31, ()), (INITIAL, 35, ()), (SUBSEQUENT, 30, (G2214,))],
)
def test_g2214_in_an_initial_month_stops_at_30_when_the_inference_is_off(kind, minutes, expected):
    rules = BillingRules(g2214_in_initial_31_to_35=False)

    assert codes_for_minutes(minutes, kind, rules=rules) == expected


@pytest.mark.parametrize(
    ("kind", "rules", "expected"),
    [
        (INITIAL, DEFAULT_RULES, (Code.CPT_99492, 16, 35, 36, 86, 30)),
        (
            INITIAL,
            BillingRules(g2214_in_initial_31_to_35=False),
            (Code.CPT_99492, 16, 30, 36, 86, 30),
        ),
        (SUBSEQUENT, DEFAULT_RULES, (Code.CPT_99493, 16, 30, 31, 76, 30)),
    ],
)
def test_thresholds_table(kind, rules, expected):
    table = thresholds(kind, rules)

    assert (
        table.base_code,
        table.g2214,
        table.g2214_through,
        table.base,
        table.add_on,
        table.add_on_step,
    ) == expected
    assert table.month_type is kind


def test_g2214_never_appears_with_a_base_or_add_on_code():
    for kind in MonthType:
        for minutes in range(400):
            codes = {line.code for line in codes_for_minutes(minutes, kind)}

            assert Code.HCPCS_G2214 not in codes or codes == {Code.HCPCS_G2214}


@pytest.mark.parametrize(
    ("cap", "minutes", "expected"),
    [
        (4, 165, (S99493, add_on(3))),
        (4, 166, (S99493, add_on(4))),
        (4, 300, (S99493, add_on(4))),
        (1, 106, (S99493, add_on(1))),
        (0, 200, (S99493,)),
        (None, 300, (S99493, add_on(8))),
    ],
)
def test_payer_cap_limits_add_on_units(cap, minutes, expected):
    rules = BillingRules(max_99494_units=cap)

    assert codes_for_minutes(minutes, SUBSEQUENT, rules=rules) == expected


# --- minutes to the next threshold ----------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "kind", "rules", "expected"),
    [
        (0, SUBSEQUENT, DEFAULT_RULES, 16),
        (15, INITIAL, DEFAULT_RULES, 1),
        (16, INITIAL, DEFAULT_RULES, 20),
        (20, SUBSEQUENT, DEFAULT_RULES, 11),
        (33, INITIAL, BillingRules(g2214_in_initial_31_to_35=False), 3),
        (40, INITIAL, DEFAULT_RULES, 46),
        (82, SUBSEQUENT, DEFAULT_RULES, 24),
        (106, SUBSEQUENT, DEFAULT_RULES, 30),
        (50, SUBSEQUENT, BillingRules(max_99494_units=0), None),
        (100, SUBSEQUENT, BillingRules(max_99494_units=2), 6),
        (106, SUBSEQUENT, BillingRules(max_99494_units=2), None),
        (300, SUBSEQUENT, BillingRules(max_99494_units=2), None),
    ],
)
def test_minutes_to_next_threshold_for_cocm(minutes, kind, rules, expected):
    assert minutes_to_next_threshold(minutes, kind, rules=rules) == expected


@pytest.mark.parametrize(
    ("minutes", "setting", "program", "month", "expected"),
    [
        (0, ClinicSetting.PRACTICE, Program.GENERAL_BHI, None, 20),
        (19, ClinicSetting.PRACTICE, Program.GENERAL_BHI, None, 1),
        (20, ClinicSetting.PRACTICE, Program.GENERAL_BHI, None, None),
        (45, ClinicSetting.FQHC, Program.COCM, (2025, 12), 15),
        (60, ClinicSetting.RHC, Program.COCM, (2025, 12), None),
        (20, ClinicSetting.FQHC, Program.COCM, (2026, 1), 11),
    ],
)
def test_minutes_to_next_threshold_for_other_codes(minutes, setting, program, month, expected):
    result = minutes_to_next_threshold(
        minutes, SUBSEQUENT, setting=setting, program=program, month=month
    )

    assert result == expected


# --- general BHI and FQHC/RHC (cocm-rules.md 1.3, 1.6, 1.7) --------------------------------


@pytest.mark.parametrize(
    ("minutes", "expected"), [(0, ()), (19, ()), (20, (BHI_99484,)), (200, (BHI_99484,))]
)
def test_general_bhi_needs_at_least_20_minutes_and_has_no_add_on(minutes, expected):
    codes = codes_for_minutes(minutes, SUBSEQUENT, program=Program.GENERAL_BHI)

    assert codes == expected


@pytest.mark.parametrize(
    ("setting", "month", "minutes", "expected"),
    [
        (ClinicSetting.FQHC, Month(2025, 12), 20, ()),
        (ClinicSetting.FQHC, Month(2025, 12), 59, ()),
        (ClinicSetting.FQHC, Month(2025, 12), 60, (G0512,)),
        (ClinicSetting.RHC, Month(2024, 6), 200, (G0512,)),
        (ClinicSetting.FQHC, Month(2026, 1), 16, (G2214,)),
        (ClinicSetting.RHC, Month(2026, 1), 59, (S99493,)),
        (ClinicSetting.FQHC, Month(2026, 2), 76, (S99493, add_on(1))),
        (ClinicSetting.PRACTICE, Month(2025, 12), 31, (S99493,)),
    ],
)
def test_fqhc_and_rhc_bill_g0512_before_2026_and_cpt_codes_from_2026(
    setting, month, minutes, expected
):
    assert codes_for_minutes(minutes, SUBSEQUENT, setting=setting, month=month) == expected


def test_fqhc_codes_need_the_month():
    with pytest.raises(ValueError, match="month is required"):
        codes_for_minutes(60, SUBSEQUENT, setting=ClinicSetting.FQHC)


@pytest.mark.parametrize(
    ("month", "minutes", "codes", "decision"),
    [
        (
            Month(2025, 12),
            62,
            (G0512,),
            "G0512 x1: 62 counted minutes at an FQHC before 2026-01 "
            "crossed the 60-minute threshold",
        ),
        (
            Month(2025, 12),
            59,
            (),
            "nothing billable: 59 counted minutes at an FQHC before 2026-01; "
            "G0512 needs 60 (1 more)",
        ),
        (
            Month(2026, 1),
            62,
            (S99493,),
            "99493 x1: 62 counted minutes in a subsequent month crossed the 31-minute threshold",
        ),
    ],
)
def test_fqhc_month_decision(month, minutes, codes, decision):
    episode = replace(
        READY,
        clinic_setting=ClinicSetting.FQHC,
        consent_on=date(2025, 10, 1),
        initiating_visit_on=date(2025, 9, 15),
    )
    entries = [TimeEntry(month.first_day, minutes, CARE_MANAGER, 1)]
    history = [Month(2025, 11), Month(2025, 12)]

    result = bill_month(month, entries, episode, history)

    assert (result.codes, result.decision) == (codes, decision)


@pytest.mark.parametrize(
    ("minutes", "status", "codes", "decision"),
    [
        (
            19,
            BillingStatus.NOT_BILLABLE,
            (),
            "nothing billable: 19 counted minutes of general BHI; 99484 needs 20 (1 more)",
        ),
        (
            20,
            BillingStatus.READY,
            (BHI_99484,),
            "99484 x1: 20 counted minutes of general BHI crossed the 20-minute threshold",
        ),
    ],
)
def test_general_bhi_month_needs_no_psychiatric_consultant(minutes, status, codes, decision):
    episode = replace(READY, program=Program.GENERAL_BHI, psychiatric_consultant_assigned=False)

    result = bill_march([minutes_on(12, minutes)], episode)

    assert (result.status, result.codes, result.decision) == (status, codes, decision)
    assert result.program is Program.GENERAL_BHI


@pytest.mark.parametrize(
    ("episode", "reason"),
    [
        (
            replace(READY, general_bhi_billed_this_month=True),
            "99484 (general BHI) already billed for 2026-03; "
            "CoCM and 99484 cannot be reported in the same month",
        ),
        (
            replace(READY, program=Program.GENERAL_BHI, cocm_billed_this_month=True),
            "CoCM already billed for 2026-03; 99484 and CoCM cannot be reported in the same month",
        ),
    ],
)
def test_cocm_and_general_bhi_in_the_same_month_are_blocked(episode, reason):
    result = bill_march([minutes_on(12, 40)], episode)

    assert result.status is BillingStatus.BLOCKED
    assert result.blocked_reasons == (reason,)
    assert result.codes == ()


def test_general_bhi_billed_elsewhere_does_not_block_a_general_bhi_month():
    episode = replace(READY, program=Program.GENERAL_BHI, general_bhi_billed_this_month=False)

    result = bill_march([minutes_on(12, 25)], episode)

    assert result.codes == (BHI_99484,)


# --- initial and subsequent months (cocm-rules.md 1.4) --------------------------------------


@pytest.mark.parametrize(
    ("history", "month", "expected"),
    [
        ([], (2026, 3), INITIAL),
        ([(2026, 4)], (2026, 3), INITIAL),
        ([(2026, 2)], (2026, 3), SUBSEQUENT),
        ([(2026, 3)], (2026, 3), INITIAL),
        ([(2026, 1)], (2026, 7), SUBSEQUENT),
        ([(2026, 1)], (2026, 8), INITIAL),
        ([(2025, 7)], (2026, 1), SUBSEQUENT),
        ([(2025, 6)], (2026, 1), INITIAL),
        ([(2025, 1), (2025, 2), (2025, 8)], (2025, 9), SUBSEQUENT),
        ([(2025, 8), (2025, 1), (2025, 2)], (2025, 9), SUBSEQUENT),
        ([(2024, 12), (2025, 6), (2025, 12)], (2026, 6), SUBSEQUENT),
    ],
)
def test_month_type_follows_the_six_empty_months_rule(history, month, expected):
    assert month_type(month, history) is expected


def test_a_short_first_month_is_initial_and_the_next_month_subsequent():
    history = [Month(2026, 1)]
    january = bill_month(
        Month(2026, 1), [TimeEntry(date(2026, 1, 20), 20, CARE_MANAGER, 1)], READY, []
    )

    february = bill_month(
        FEBRUARY, [TimeEntry(date(2026, 2, 3), 35, CARE_MANAGER, 1)], READY, history
    )

    assert (january.month_type, january.codes) == (INITIAL, (G2214,))
    assert (february.month_type, february.codes) == (SUBSEQUENT, (S99493,))


@pytest.mark.parametrize(
    ("billable", "first_short_month_is_initial", "expected"),
    [
        (False, True, SUBSEQUENT),
        (False, False, INITIAL),
        (True, False, SUBSEQUENT),
    ],
)
def test_a_first_month_with_nothing_billable_can_leave_the_initial_month_unused(
    billable, first_short_month_is_initial, expected
):
    history = [ServiceMonth(Month(2026, 1), billable=billable)]
    rules = BillingRules(first_short_month_is_initial=first_short_month_is_initial)

    assert month_type(FEBRUARY, history, rules=rules) is expected


@pytest.mark.parametrize(
    ("nonbillable_months_are_service_months", "expected"), [(True, SUBSEQUENT), (False, INITIAL)]
)
def test_months_with_nothing_billable_keep_the_episode_open_by_default(
    nonbillable_months_are_service_months, expected
):
    history = [ServiceMonth(Month(2025, 12)), ServiceMonth(Month(2026, 3), billable=False)]
    rules = BillingRules(
        nonbillable_months_are_service_months=nonbillable_months_are_service_months
    )

    assert month_type(Month(2026, 7), history, rules=rules) is expected


A_THEN_B = [
    ServiceMonth(Month(2026, 1), registry_episode=1),
    ServiceMonth(Month(2026, 2), registry_episode=1),
    ServiceMonth(Month(2026, 4), registry_episode=2),
]


@pytest.mark.parametrize(
    ("restart", "month", "registry_episode", "history", "expected"),
    [
        (False, Month(2026, 4), 2, A_THEN_B, SUBSEQUENT),
        (True, Month(2026, 4), 2, A_THEN_B, INITIAL),
        (True, Month(2026, 4), None, A_THEN_B, INITIAL),
        (True, Month(2026, 5), 2, A_THEN_B, SUBSEQUENT),
        (True, Month(2026, 2), 1, A_THEN_B, SUBSEQUENT),
        (True, Month(2026, 4), None, [*A_THEN_B[:2], Month(2026, 4)], SUBSEQUENT),
        (True, Month(2026, 4), 2, [Month(2026, 1), Month(2026, 2)], SUBSEQUENT),
    ],
)
def test_reenrollment_restarts_the_initial_month_only_when_configured(
    restart, month, registry_episode, history, expected
):
    rules = BillingRules(restart_on_reenrollment=restart)

    result = month_type(month, history, rules=rules, registry_episode=registry_episode)

    assert result is expected


def test_bill_month_uses_the_registry_episode_of_the_episode_facts():
    rules = BillingRules(restart_on_reenrollment=True)
    history = [ServiceMonth(FEBRUARY, registry_episode=1)]
    episode = replace(READY, registry_episode=2)

    result = bill_march([minutes_on(12, 40)], episode, history, rules)

    assert (result.month_type, result.codes) == (INITIAL, (I99492,))


@pytest.mark.parametrize(("gap", "expected"), [(3, INITIAL), (4, SUBSEQUENT)])
def test_the_gap_that_starts_a_new_episode_is_configurable(gap, expected):
    rules = BillingRules(gap_months_for_new_episode=gap)

    assert month_type(Month(2026, 5), [Month(2026, 1)], rules=rules) is expected


# --- whose minutes count (cocm-rules.md 1.2, 1.5) -------------------------------------------


def test_minutes_before_consent_never_count():
    episode = replace(READY, consent_on=date(2026, 3, 10))
    entries = [minutes_on(5, 20), minutes_on(9, 10), minutes_on(10, 15), minutes_on(20, 25)]

    result = bill_march(entries, episode)

    assert result.minutes_counted == 40
    assert result.excluded == (Excluded(30, "before consent on 2026-03-10"),)
    assert result.codes == (S99493,)
    assert result.status is BillingStatus.READY


@pytest.mark.parametrize(
    ("consent_on", "entries", "reason", "counted"),
    [
        (None, [minutes_on(4, 40)], "no documented consent", 40),
        (
            date(2026, 3, 20),
            [minutes_on(2, 20), minutes_on(4, 20)],
            "no documented consent before 2026-03-04",
            0,
        ),
        (date(2026, 4, 2), [minutes_on(4, 40)], "no documented consent before 2026-03-04", 0),
        (date(2026, 4, 2), [], "no documented consent before 2026-03-31", 0),
    ],
)
def test_missing_or_late_consent_blocks_the_month(consent_on, entries, reason, counted):
    episode = replace(READY, consent_on=consent_on, started_on=date(2026, 1, 5))

    result = bill_march(entries, episode)

    assert result.blocked_reasons == (reason,)
    assert result.status is BillingStatus.BLOCKED
    assert result.minutes_counted == counted
    assert result.codes == ()
    assert not result.billable


def test_consent_later_in_the_month_without_entries_is_not_blocked():
    episode = replace(READY, consent_on=date(2026, 3, 20), started_on=date(2026, 3, 1))

    result = bill_march([], episode)

    assert (result.status, result.blocked_reasons) == (BillingStatus.NOT_BILLABLE, ())


@pytest.mark.parametrize(
    ("entry", "rules", "counted", "excluded"),
    [
        (
            minutes_on(12, 40, Role.PSYCHIATRIC_CONSULTANT, 9),
            DEFAULT_RULES,
            40,
            (Excluded(40, "psychiatric consultant time (included in the codes)"),),
        ),
        (
            minutes_on(12, 40, Role.PSYCHIATRIC_CONSULTANT, 9),
            BillingRules(count_consultant_minutes=True),
            80,
            (),
        ),
        (minutes_on(12, 40, Role.BILLING_PRACTITIONER, 7), DEFAULT_RULES, 80, ()),
        (
            replace(minutes_on(12, 40, Role.BILLING_PRACTITIONER, 7), separately_billed=True),
            DEFAULT_RULES,
            40,
            (Excluded(40, "separately billed service"),),
        ),
        (
            replace(minutes_on(12, 40), separately_billed=True),
            DEFAULT_RULES,
            40,
            (Excluded(40, "separately billed service"),),
        ),
        (replace(minutes_on(12, 40), inpatient=True), DEFAULT_RULES, 80, ()),
        (
            replace(minutes_on(12, 40), inpatient=True),
            BillingRules(count_inpatient_minutes=False),
            40,
            (Excluded(40, "inpatient or observation time"),),
        ),
        (
            TimeEntry(date(2026, 2, 27), 40, CARE_MANAGER, 1),
            DEFAULT_RULES,
            40,
            (Excluded(40, "outside 2026-03"),),
        ),
        (minutes_on(12, 0, Role.PSYCHIATRIC_CONSULTANT, 9), DEFAULT_RULES, 40, ()),
        (
            replace(minutes_on(12, 30), no_show=True),
            BillingRules(count_consultant_minutes=True, count_inpatient_minutes=True),
            40,
            (Excluded(30, "no-show (the patient did not attend)"),),
        ),
    ],
)
def test_whose_minutes_count(entry, rules, counted, excluded):
    care_manager = minutes_on(3, 40)

    result = bill_march([care_manager, entry], rules=rules)

    assert (result.minutes_counted, result.excluded) == (counted, excluded)


def test_exclusions_are_summed_per_reason_in_first_seen_order():
    entries = [
        replace(minutes_on(3, 30), separately_billed=True),
        minutes_on(4, 10, Role.PSYCHIATRIC_CONSULTANT, 9),
        replace(minutes_on(5, 15), separately_billed=True),
        minutes_on(6, 35),
    ]

    result = bill_march(entries)

    assert result.excluded == (
        Excluded(45, "separately billed service"),
        Excluded(10, "psychiatric consultant time (included in the codes)"),
    )


def test_a_no_show_with_30_minutes_does_not_reach_99492():
    entries = [minutes_on(3, 10), replace(minutes_on(12, 30), no_show=True)]

    result = bill_march(entries, history=())  # an initial month: 99492 from 36 minutes

    assert (result.minutes_counted, result.codes) == (10, ())
    assert result.excluded == (Excluded(30, "no-show (the patient did not attend)"),)


# --- overlapping entries --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "counted"),
    [
        ([at(10, 0, 30), at(10, 15, 30)], 45),
        ([at(10, 15, 30), at(10, 0, 30)], 45),
        ([at(10, 0, 30), at(10, 15, 30, staff_id=2)], 60),
        ([at(10, 0, 60), at(10, 10, 20)], 60),
        ([at(10, 0, 30), at(10, 30, 30)], 60),
        ([at(10, 0, 30), at(10, 10, 30), at(10, 20, 30)], 50),
        ([at(10, 0, 30), minutes_on(12, 30)], 60),
    ],
)
def test_overlapping_time_of_the_same_person_counts_once(entries, counted):
    merged = merge_overlapping(entries)

    assert sum(entry.minutes for entry in merged) == counted
    assert len(merged) == len(entries)


def test_merged_entries_keep_their_order_and_trim_the_later_one():
    first, second = at(10, 0, 30), at(10, 15, 30)

    merged = merge_overlapping([second, first])

    assert merged == (replace(second, minutes=15, start=datetime(2026, 3, 12, 10, 30)), first)


def test_entries_without_start_are_returned_as_given():
    entries = [minutes_on(3, 30), minutes_on(3, 30)]

    assert merge_overlapping(entries) == tuple(entries)


def test_overlap_is_reported_as_an_exclusion():
    result = bill_march([at(10, 0, 30), at(10, 15, 30)])

    assert result.minutes_counted == 45
    assert result.excluded == (
        Excluded(15, "overlapping time by the same staff member (counted once)"),
    )


# --- prerequisites (cocm-rules.md 1.5) ------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        (
            {"initiating_visit_on": None},
            ("no initiating visit within 12 months before 2026-01-05",),
        ),
        (
            {"initiating_visit_on": date(2025, 1, 4)},
            ("no initiating visit within 12 months before 2026-01-05",),
        ),
        ({"initiating_visit_on": date(2025, 1, 5)}, ()),
        ({"initiating_visit_on": date(2026, 1, 5)}, ()),
        (
            {"initiating_visit_on": date(2026, 1, 6)},
            ("no initiating visit within 12 months before 2026-01-05",),
        ),
        (
            {"initiating_visit_on": date(2025, 1, 20), "started_on": date(2026, 2, 1)},
            ("no initiating visit within 12 months before 2026-02-01",),
        ),
        ({"initiating_visit_on": date(2023, 2, 28), "started_on": date(2024, 2, 29)}, ()),
        ({"psychiatric_consultant_assigned": False}, ("no psychiatric consultant assigned",)),
        (
            {"psychiatric_consultant_assigned": False, "initiating_visit_on": None},
            (
                "no initiating visit within 12 months before 2026-01-05",
                "no psychiatric consultant assigned",
            ),
        ),
    ],
)
def test_prerequisites_block_the_month(changes, reasons):
    result = bill_march([minutes_on(12, 40)], replace(READY, **changes))

    assert result.blocked_reasons == reasons
    assert result.status is (BillingStatus.BLOCKED if reasons else BillingStatus.READY)


def test_initiating_visit_window_uses_the_month_when_start_and_consent_are_unknown():
    episode = replace(READY, consent_on=None, initiating_visit_on=date(2025, 2, 28))

    result = bill_march([minutes_on(12, 40)], episode)

    assert result.blocked_reasons == (
        "no documented consent",
        "no initiating visit within 12 months before 2026-03-01",
    )


# --- the explained result -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "minutes", "rules", "decision"),
    [
        (
            (FEBRUARY,),
            82,
            DEFAULT_RULES,
            "99493 x1 + 99494 x1: 82 counted minutes in a subsequent month "
            "crossed the 76-minute threshold",
        ),
        (
            (),
            33,
            DEFAULT_RULES,
            "G2214 x1: 33 counted minutes in an initial month crossed the 16-minute threshold; "
            "99492 needs 36",
        ),
        (
            (FEBRUARY,),
            20,
            DEFAULT_RULES,
            "G2214 x1: 20 counted minutes in a subsequent month crossed the 16-minute threshold; "
            "99493 needs 31",
        ),
        (
            (),
            40,
            DEFAULT_RULES,
            "99492 x1: 40 counted minutes in an initial month crossed the 36-minute threshold",
        ),
        (
            (FEBRUARY,),
            10,
            DEFAULT_RULES,
            "nothing billable: 10 counted minutes in a subsequent month; G2214 needs 16 (6 more)",
        ),
        (
            (),
            33,
            BillingRules(g2214_in_initial_31_to_35=False),
            "nothing billable: 33 counted minutes in an initial month; 99492 needs 36 (3 more)",
        ),
        (
            (FEBRUARY,),
            200,
            BillingRules(max_99494_units=4),
            "99493 x1 + 99494 x4: 200 counted minutes in a subsequent month "
            "crossed the 196-minute threshold; 99494 capped at 4 units by payer rule (5 reached)",
        ),
        (
            (FEBRUARY,),
            166,
            BillingRules(max_99494_units=4),
            "99493 x1 + 99494 x4: 166 counted minutes in a subsequent month "
            "crossed the 166-minute threshold",
        ),
    ],
)
def test_decision_explains_the_codes(history, minutes, rules, decision):
    result = bill_march([minutes_on(12, minutes)], history=history, rules=rules)

    assert result.decision == decision


def test_ready_result_carries_every_field():
    result = bill_march([minutes_on(3, 50), minutes_on(17, 32)])

    assert result.month == MARCH
    assert result.program is Program.COCM
    assert result.month_type is SUBSEQUENT
    assert result.minutes_counted == 82
    assert result.excluded == ()
    assert result.codes == (S99493, add_on(1))
    assert result.threshold_crossed == 76
    assert result.blocked_reasons == ()
    assert result.minutes_to_next_threshold == 24
    assert result.status is BillingStatus.READY
    assert result.billable


def test_not_billable_result_has_no_codes_and_counts_down_to_the_first_threshold():
    result = bill_march([minutes_on(3, 12)])

    assert result.status is BillingStatus.NOT_BILLABLE
    assert result.codes == ()
    assert result.threshold_crossed is None
    assert result.minutes_to_next_threshold == 4
    assert not result.billable


def test_blocked_result_still_explains_what_the_minutes_would_bill():
    episode = replace(READY, psychiatric_consultant_assigned=False)

    result = bill_march([minutes_on(3, 40)], episode)

    assert result.decision == (
        "blocked (no psychiatric consultant assigned); by minutes alone: "
        "99493 x1: 40 counted minutes in a subsequent month crossed the 31-minute threshold"
    )
    assert result.codes == ()
    assert result.threshold_crossed == 31
    assert result.minutes_to_next_threshold == 36


def test_blocked_month_without_consent_counts_down_from_the_counted_minutes():
    episode = replace(READY, consent_on=None)

    result = bill_march([minutes_on(3, 20)], episode)

    assert (result.status, result.minutes_counted) == (BillingStatus.BLOCKED, 20)
    assert result.minutes_to_next_threshold == 11


# --- months, rules and inputs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("earlier", "later", "between"),
    [
        ((2026, 1), (2026, 2), 0),
        ((2026, 1), (2026, 7), 5),
        ((2026, 1), (2026, 8), 6),
        (Month(2025, 6), Month(2026, 1), 6),
        ((2025, 12), (2026, 1), 0),
    ],
)
def test_months_between_counts_full_months_strictly_between(earlier, later, between):
    assert months_between(earlier, later) == between


@pytest.mark.parametrize(
    ("month", "first", "last", "text"),
    [
        (Month(2026, 2), date(2026, 2, 1), date(2026, 2, 28), "2026-02"),
        (Month(2024, 2), date(2024, 2, 1), date(2024, 2, 29), "2024-02"),
        (Month(2025, 12), date(2025, 12, 1), date(2025, 12, 31), "2025-12"),
    ],
)
def test_month_days_and_text(month, first, last, text):
    assert (month.first_day, month.last_day, str(month)) == (first, last, text)


def test_month_of_a_date_and_its_index():
    month = Month.of(date(2026, 3, 17))

    assert month == MARCH
    assert month_index(month) == month_index((2026, 3)) == 2026 * 12 + 2
    assert month_index((2026, 1)) - month_index((2025, 12)) == 1
    assert Month(2025, 12) < Month(2026, 1)


@pytest.mark.parametrize("bad", [0, 13])
def test_month_must_be_a_calendar_month(bad):
    with pytest.raises(ValueError, match=r"month must be 1\.\.12"):
        Month(2026, bad)


def test_time_entry_minutes_cannot_be_negative():
    with pytest.raises(ValueError, match="minutes must be >= 0"):
        TimeEntry(date(2026, 3, 1), -5, CARE_MANAGER, 1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_99494_units": -1}, "max_99494_units"),
        ({"gap_months_for_new_episode": 0}, "gap_months_for_new_episode"),
    ],
)
def test_billing_rules_reject_impossible_settings(changes, message):
    with pytest.raises(ValueError, match=message):
        BillingRules(**changes)


def test_default_rules_are_the_conservative_readings():
    rules = BillingRules()

    assert rules == DEFAULT_RULES
    assert rules.g2214_in_initial_31_to_35 is True
    assert rules.first_short_month_is_initial is True
    assert rules.restart_on_reenrollment is False
    assert rules.count_consultant_minutes is False
    assert rules.count_inpatient_minutes is True
    assert rules.max_99494_units is None
    assert rules.gap_months_for_new_episode == 6
    assert rules.nonbillable_months_are_service_months is True
    assert rules.initiating_visit_lookback_months == 12
    assert rules.fqhc_rhc_cpt_codes_from == Month(2026, 1)


@pytest.mark.parametrize(
    ("code", "value"),
    [
        (Code.CPT_99492, "99492"),
        (Code.CPT_99493, "99493"),
        (Code.CPT_99494, "99494"),
        (Code.HCPCS_G2214, "G2214"),
        (Code.CPT_99484, "99484"),
        (Code.HCPCS_G0512, "G0512"),
    ],
)
def test_code_values_are_the_code_strings(code, value):
    assert code == value


# --- date the threshold was reached (a date of service option) -----------------------------


@pytest.mark.parametrize(
    ("entries", "reached_on"),
    [
        ([minutes_on(3, 20), minutes_on(10, 15), minutes_on(20, 40)], date(2026, 3, 10)),
        ([minutes_on(20, 40), minutes_on(3, 20)], date(2026, 3, 20)),
        ([minutes_on(3, 30), minutes_on(4, 46)], date(2026, 3, 4)),
        ([minutes_on(3, 10)], None),
    ],
)
def test_threshold_reached_on_is_the_day_the_running_total_crossed_it(entries, reached_on):
    assert bill_march(entries).threshold_reached_on == reached_on


def test_consultant_minutes_do_not_move_the_threshold_day():
    entries = [minutes_on(2, 25, Role.PSYCHIATRIC_CONSULTANT), minutes_on(9, 31)]

    assert bill_march(entries).threshold_reached_on == date(2026, 3, 9)
