from dataclasses import replace
from datetime import date, timedelta

import pytest

from cocm.domain.episodes import EpisodeStatus
from cocm.domain.flags import (
    FLAG_LABELS,
    FLAG_SOURCES,
    EpisodeSnapshot,
    Flag,
    FlagCode,
    FlagRules,
    episode_flags,
    flag_codes,
    flag_labels,
    one_per_cause,
)
from cocm.domain.instruments import ScoringError

F = FlagCode
ENROLLED_ON = date(2026, 9, 1)
AS_OF = date(2026, 11, 23)  # day 83 of treatment: week 11


def day(n):
    """The date n days after enrollment."""
    return ENROLLED_ON + timedelta(days=n)


# An active episode on track: responding, contacted and measured this week, reviewed after
# week 8, followed up in week 2, nothing waiting for the PCP. It raises no flag.
QUIET = EpisodeSnapshot(
    status="active",
    enrolled_on=ENROLLED_ON,
    open_safety_alert=False,
    phq9=((day(0), 18), (day(80), 8)),
    gad7=(),
    last_contact_on=day(80),
    first_follow_up_contact_on=day(9),
    last_review_on=day(60),
    oldest_unanswered_recommendation_on=None,
)

# An active episode where everything is overdue: every flag except no_baseline.
TROUBLED = replace(
    QUIET,
    open_safety_alert=True,
    phq9=((day(0), 22), (day(20), 21)),
    last_contact_on=day(30),
    first_follow_up_contact_on=None,
    last_review_on=None,
    oldest_unanswered_recommendation_on=day(60),
)


def codes(snapshot, as_of=AS_OF, **rules):
    return tuple(flag.code for flag in episode_flags(snapshot, as_of, rules=FlagRules(**rules)))


def only(snapshot, code, as_of=AS_OF, **rules):
    """The one flag with `code`, or None."""
    flags = [f for f in episode_flags(snapshot, as_of, rules=FlagRules(**rules)) if f.code is code]
    return flags[0] if flags else None


# --------------------------------------------------------------------------- status and order


def test_an_episode_on_track_raises_no_flag():
    assert episode_flags(QUIET, AS_OF) == ()


def test_flag_codes_are_in_priority_order_with_safety_first():
    assert flag_codes() == (
        F.SAFETY_ALERT,
        F.NOT_IMPROVED,
        F.SEVERE,
        F.NO_BASELINE,
        F.NO_CONTACT,
        F.NO_MEASURE,
        F.NO_CONSULTANT,
        F.NOT_REVIEWED,
        F.NON_RESPONDER_UNREVIEWED,
        F.RECOMMENDATION_WAITING,
        F.NO_EARLY_FOLLOW_UP,
    )


def test_an_overdue_episode_gets_every_flag_but_no_baseline_and_no_consultant_in_order():
    assert codes(TROUBLED) == tuple(
        code for code in flag_codes() if code not in (F.NO_BASELINE, F.NO_CONSULTANT)
    )


def test_an_episode_without_scores_gets_its_flags_in_priority_order():
    snapshot = replace(TROUBLED, phq9=())

    assert codes(snapshot) == (
        F.SAFETY_ALERT,
        F.NO_BASELINE,
        F.NO_CONTACT,
        F.NOT_REVIEWED,
        F.RECOMMENDATION_WAITING,
        F.NO_EARLY_FOLLOW_UP,
    )


@pytest.mark.parametrize("status", ["enrolled", "active", "relapse_prevention"])
def test_every_enrolled_status_is_flagged(status):
    assert codes(replace(TROUBLED, status=status))[:2] == (F.SAFETY_ALERT, F.NOT_IMPROVED)


@pytest.mark.parametrize(("safety_alert", "expected"), [(True, (F.SAFETY_ALERT,)), (False, ())])
def test_a_discharged_episode_keeps_only_its_open_safety_alert(safety_alert, expected):
    snapshot = replace(TROUBLED, status="discharged", open_safety_alert=safety_alert)

    assert codes(snapshot) == expected


@pytest.mark.parametrize(("safety_alert", "expected"), [(True, (F.SAFETY_ALERT,)), (False, ())])
def test_a_referred_episode_gets_only_a_safety_alert(safety_alert, expected):
    snapshot = EpisodeSnapshot(
        status="referred",
        open_safety_alert=safety_alert,
        phq9=((day(0), 24),),
        last_contact_on=day(0),
        oldest_unanswered_recommendation_on=day(0),
    )

    assert codes(snapshot) == expected


def test_status_may_be_an_episode_status_member():
    snapshot = replace(QUIET, status=EpisodeStatus.ACTIVE, open_safety_alert=True)

    assert codes(snapshot) == (F.SAFETY_ALERT,)


# --------------------------------------------------------------------------- each rule's edges


@pytest.mark.parametrize(
    ("days", "phq9", "expected"),
    [
        (69, ((day(0), 18), (day(60), 15)), False),  # week 9
        (70, ((day(0), 18), (day(60), 15)), True),  # week 10
        (70, ((day(0), 18), (day(60), 9)), False),  # exactly 50% better
        (70, ((day(0), 18), (day(60), 10)), True),  # 44% better
        (70, ((day(0), 9), (day(60), 9)), False),  # baseline 9: not judged
        (70, ((day(0), 10), (day(60), 9)), True),  # baseline 10
        (70, ((day(0), 18),), True),  # baseline only: no evidence of improvement
        (70, ((day(60), 15), (day(0), 18)), True),  # any order: baseline is the earliest
        (70, ((day(60), 9), (day(0), 18)), False),
    ],
)
def test_not_improved_from_week_10(days, phq9, expected):
    snapshot = replace(QUIET, phq9=phq9)

    assert (F.NOT_IMPROVED in codes(snapshot, day(days))) is expected


@pytest.mark.parametrize(("days", "expected"), [(76, False), (77, True)])  # weeks 10, 11
def test_not_improved_week_is_configurable(days, expected):
    snapshot = replace(QUIET, phq9=((day(0), 18), (day(60), 15)))

    assert (F.NOT_IMPROVED in codes(snapshot, day(days), not_improved_week=11)) is expected


@pytest.mark.parametrize(
    ("phq9", "gad7", "expected"),
    [
        ((), ((day(0), 14), (day(60), 12)), True),  # anxiety only: GAD-7 judged
        ((), ((day(0), 14), (day(60), 7)), False),
        (((day(0), 18), (day(60), 8)), ((day(0), 14), (day(60), 12)), False),  # PHQ-9 wins
        (((day(0), 18), (day(60), 15)), ((day(0), 14), (day(60), 5)), True),
    ],
)
def test_not_improved_reads_the_phq9_else_the_gad7(phq9, gad7, expected):
    snapshot = replace(QUIET, phq9=phq9, gad7=gad7)

    assert (F.NOT_IMPROVED in codes(snapshot, day(70))) is expected


@pytest.mark.parametrize(
    ("cutoff", "expected"),
    [(5, True), (9, True), (10, False)],  # PHQ-9 12 -> 9: 25 % better, in remission below 10
)
def test_a_patient_in_remission_under_the_cutoff_is_not_flagged_not_improved(cutoff, expected):
    snapshot = replace(QUIET, phq9=((day(0), 12), (day(60), 9)))

    assert (F.NOT_IMPROVED in codes(snapshot, day(70), remission_cutoff=cutoff)) is expected


@pytest.mark.parametrize(
    ("cutoff", "expected"),
    [(5, True), (12, True), (13, False)],  # PHQ-9 14 -> 12: neither improved nor responding
)
def test_a_patient_in_remission_under_the_cutoff_is_not_a_non_responder(cutoff, expected):
    snapshot = replace(QUIET, phq9=((day(0), 14), (day(50), 12)), last_review_on=None)

    flagged = codes(snapshot, day(60), remission_cutoff=cutoff)

    assert (F.NON_RESPONDER_UNREVIEWED in flagged) is expected


@pytest.mark.parametrize(
    ("phq9", "gad7", "expected"),
    [
        (((day(0), 8), (day(80), 19)), (), False),
        (((day(0), 8), (day(80), 20)), (), True),
        (((day(0), 24), (day(80), 8)), (), False),  # severe baseline, latest is not
        ((), ((day(80), 14),), False),
        ((), ((day(80), 15),), True),
        (((day(80), 4),), ((day(80), 21),), True),
    ],
)
def test_severe_from_phq9_20_or_gad7_15(phq9, gad7, expected):
    snapshot = replace(QUIET, phq9=phq9, gad7=gad7)

    assert (F.SEVERE in codes(snapshot)) is expected


@pytest.mark.parametrize(("latest", "expected"), [(14, False), (15, True)])
def test_severe_threshold_is_configurable(latest, expected):
    snapshot = replace(QUIET, phq9=((day(0), 18), (day(80), latest)))

    assert (F.SEVERE in codes(snapshot, severe_phq9=15)) is expected


@pytest.mark.parametrize(
    ("phq9", "gad7", "expected"),
    [
        ((), (), True),
        (((day(0), 12),), (), False),
        ((), ((day(0), 12),), False),
    ],
)
def test_no_baseline_without_any_phq9_or_gad7(phq9, gad7, expected):
    snapshot = replace(QUIET, phq9=phq9, gad7=gad7)

    assert (F.NO_BASELINE in codes(snapshot, ENROLLED_ON)) is expected


@pytest.mark.parametrize(
    ("last_contact_on", "as_of", "expected"),
    [
        (day(50), day(80), False),  # 30 days
        (day(50), day(81), True),  # 31 days
        (None, day(30), False),  # 30 days since enrollment
        (None, day(31), True),
        (day(-40), day(0), True),  # [I] a contact before enrollment still counts as last
    ],
)
def test_no_contact_after_30_days(last_contact_on, as_of, expected):
    snapshot = replace(QUIET, last_contact_on=last_contact_on)

    assert (F.NO_CONTACT in codes(snapshot, as_of)) is expected


@pytest.mark.parametrize(("days", "expected"), [(14, False), (15, True)])
def test_no_contact_days_are_configurable(days, expected):
    snapshot = replace(QUIET, last_contact_on=day(80))

    assert (F.NO_CONTACT in codes(snapshot, day(80 + days), no_contact_days=14)) is expected


@pytest.mark.parametrize(
    ("phq9", "gad7", "as_of", "expected"),
    [
        (((day(0), 18), (day(50), 8)), (), day(80), False),  # 30 days
        (((day(0), 18), (day(50), 8)), (), day(81), True),  # 31 days
        (((day(0), 18),), ((day(60), 9),), day(81), False),  # the GAD-7 is recent
        ((), ((day(0), 9),), day(31), True),
        ((), (), day(31), False),  # no_baseline covers it
    ],
)
def test_no_measure_after_30_days(phq9, gad7, as_of, expected):
    snapshot = replace(QUIET, phq9=phq9, gad7=gad7, last_contact_on=as_of)

    assert (F.NO_MEASURE in codes(snapshot, as_of)) is expected


@pytest.mark.parametrize(
    ("last_review_on", "as_of", "expected"),
    [
        (None, day(0), True),  # a to-do from the day of enrollment
        (None, day(83), True),
        (day(3), day(83), False),
        (day(-2), day(0), False),  # reviewed at referral
        (None, day(-1), False),  # enrollment date in the future
    ],
)
def test_not_reviewed_from_enrollment(last_review_on, as_of, expected):
    snapshot = replace(QUIET, last_review_on=last_review_on)

    assert (F.NOT_REVIEWED in codes(snapshot, as_of)) is expected


@pytest.mark.parametrize(("days", "expected"), [(13, False), (14, True)])
def test_not_reviewed_grace_weeks_are_configurable(days, expected):
    snapshot = replace(QUIET, last_review_on=None)

    assert (F.NOT_REVIEWED in codes(snapshot, day(days), new_patient_review_weeks=2)) is expected


@pytest.mark.parametrize(
    ("days", "phq9", "last_review_on", "expected"),
    [
        (55, ((day(0), 20), (day(50), 15)), None, False),  # week 7
        (56, ((day(0), 20), (day(50), 15)), None, True),  # week 8
        (56, ((day(0), 20), (day(50), 11)), None, True),  # 45% better, still >= 10
        (56, ((day(0), 20), (day(50), 10)), None, False),  # 50% better
        (56, ((day(0), 16), (day(50), 9)), None, False),  # below 10: improved
        (56, ((day(0), 8), (day(50), 12)), None, True),  # worse from a low baseline
        (56, ((day(0), 20), (day(50), 15)), day(55), True),  # reviewed before week 8
        (56, ((day(0), 20), (day(50), 15)), day(56), False),  # reviewed in week 8
        (91, ((day(0), 20), (day(50), 15)), day(30), True),  # week 13: still overdue
        (91, ((day(0), 20), (day(50), 15)), day(88), False),  # reviewed late, after week 12
        (56, (), None, False),  # no scores: no_baseline covers it
    ],
)
def test_non_responder_unreviewed_from_week_8(days, phq9, last_review_on, expected):
    snapshot = replace(QUIET, phq9=phq9, last_review_on=last_review_on)

    assert (F.NON_RESPONDER_UNREVIEWED in codes(snapshot, day(days))) is expected


@pytest.mark.parametrize(
    ("gad7", "expected"),
    [(((day(0), 16), (day(50), 12)), True), (((day(0), 16), (day(50), 9)), False)],
)
def test_non_responder_reads_the_gad7_without_a_phq9(gad7, expected):
    snapshot = replace(QUIET, phq9=(), gad7=gad7, last_review_on=None)

    assert (F.NON_RESPONDER_UNREVIEWED in codes(snapshot, day(56))) is expected


@pytest.mark.parametrize(
    ("unanswered_on", "expected"),
    [(AS_OF - timedelta(days=7), False), (AS_OF - timedelta(days=8), True), (None, False)],
)
def test_recommendation_waiting_more_than_7_days(unanswered_on, expected):
    snapshot = replace(QUIET, oldest_unanswered_recommendation_on=unanswered_on)

    assert (F.RECOMMENDATION_WAITING in codes(snapshot)) is expected


@pytest.mark.parametrize(
    ("first_follow_up_contact_on", "as_of", "expected"),
    [
        (None, day(28), False),  # the 4 weeks are not over
        (None, day(29), True),
        (day(28), day(60), False),  # on the last day of week 4
        (day(29), day(60), True),  # [I] a late first follow-up stays flagged
        (day(1), day(365), False),
    ],
)
def test_no_early_follow_up_within_28_days(first_follow_up_contact_on, as_of, expected):
    snapshot = replace(QUIET, first_follow_up_contact_on=first_follow_up_contact_on)

    assert (F.NO_EARLY_FOLLOW_UP in codes(snapshot, as_of)) is expected


def test_nothing_time_based_fires_before_an_enrollment_dated_after_as_of():
    snapshot = replace(TROUBLED, open_safety_alert=False, phq9=((day(0), 22),))

    assert codes(snapshot, day(-1)) == (F.SEVERE,)


# --------------------------------------------------------------------------- reasons and sources


@pytest.mark.parametrize(
    ("changes", "as_of", "rules", "code", "reason"),
    [
        (
            {"open_safety_alert": True},
            AS_OF,
            {},
            F.SAFETY_ALERT,
            "Open safety alert: review it before anything else",
        ),
        (
            {"phq9": ((day(0), 18), (day(70), 15))},
            day(77),
            {},
            F.NOT_IMPROVED,
            "PHQ-9 18 → 15 (−17%) at week 11: not improved ≥50% by week 10",
        ),
        (
            {"phq9": ((day(0), 18), (day(70), 20))},
            day(84),
            {"not_improved_week": 12},
            F.NOT_IMPROVED,
            "PHQ-9 18 → 20 (+11%) at week 12: not improved ≥50% by week 12",
        ),
        (
            {"phq9": (), "gad7": ((day(0), 12),)},
            day(70),
            {},
            F.NOT_IMPROVED,
            "GAD-7 12 → 12 (0%) at week 10: not improved ≥50% by week 10",
        ),
        (
            {"phq9": ((day(80), 22),)},
            AS_OF,
            {},
            F.SEVERE,
            "Latest PHQ-9 22 on 2026-11-20 (severe: ≥20)",
        ),
        (
            {"phq9": ((day(80), 22),), "gad7": ((day(81), 16),)},
            AS_OF,
            {},
            F.SEVERE,
            "Latest PHQ-9 22 on 2026-11-20 (severe: ≥20); GAD-7 16 on 2026-11-21 (severe: ≥15)",
        ),
        (
            {"phq9": ()},
            AS_OF,
            {},
            F.NO_BASELINE,
            "No baseline PHQ-9 or GAD-7 (enrolled 2026-09-01)",
        ),
        (
            {"last_contact_on": day(42)},
            AS_OF,
            {},
            F.NO_CONTACT,
            "No contact for 41 days (limit 30)",
        ),
        (
            {"last_contact_on": None},
            day(41),
            {},
            F.NO_CONTACT,
            "No contact since enrollment on 2026-09-01, 41 days ago (limit 30)",
        ),
        (
            {"last_contact_on": day(82)},
            AS_OF,
            {"no_contact_days": 0},
            F.NO_CONTACT,
            "No contact for 1 day (limit 0)",
        ),
        (
            {"phq9": ((day(0), 18), (day(48), 8))},
            AS_OF,
            {},
            F.NO_MEASURE,
            "No PHQ-9 or GAD-7 for 35 days (limit 30)",
        ),
        (
            {"last_review_on": None},
            day(15),
            {},
            F.NOT_REVIEWED,
            "New patient not yet reviewed by the psychiatric consultant "
            "(enrolled 2026-09-01, week 2)",
        ),
        (
            {"phq9": ((day(0), 16), (day(60), 14)), "last_review_on": day(20)},
            day(63),
            {},
            F.NON_RESPONDER_UNREVIEWED,
            "PHQ-9 16 → 14 (−13%) at week 9: not responding and no psychiatric review "
            "since week 8 (due by week 12)",
        ),
        (
            {"phq9": ((day(0), 0), (day(60), 12)), "last_review_on": None},
            day(63),
            {},
            F.NON_RESPONDER_UNREVIEWED,
            "PHQ-9 0 → 12 at week 9: not responding and no psychiatric review "
            "since week 8 (due by week 12)",
        ),
        (
            {"oldest_unanswered_recommendation_on": date(2026, 11, 15)},
            AS_OF,
            {},
            F.RECOMMENDATION_WAITING,
            "Recommendation waiting for the PCP for 8 days (limit 7, since 2026-11-15)",
        ),
        (
            {"first_follow_up_contact_on": None},
            AS_OF,
            {},
            F.NO_EARLY_FOLLOW_UP,
            "No follow-up contact within 4 weeks of enrollment (enrolled 2026-09-01)",
        ),
        (
            {"first_follow_up_contact_on": day(34)},
            AS_OF,
            {},
            F.NO_EARLY_FOLLOW_UP,
            "First follow-up contact 34 days after enrollment, not within 4 weeks "
            "(enrolled 2026-09-01)",
        ),
        (
            {"first_follow_up_contact_on": None},
            AS_OF,
            {"early_follow_up_days": 7},
            F.NO_EARLY_FOLLOW_UP,
            "No follow-up contact within 1 week of enrollment (enrolled 2026-09-01)",
        ),
        (
            {"first_follow_up_contact_on": day(12)},
            AS_OF,
            {"early_follow_up_days": 10},
            F.NO_EARLY_FOLLOW_UP,
            "First follow-up contact 12 days after enrollment, not within 10 days "
            "(enrolled 2026-09-01)",
        ),
    ],
)
def test_reason_states_the_numbers(changes, as_of, rules, code, reason):
    flag = only(replace(QUIET, **changes), code, as_of, **rules)

    assert flag == Flag(code, reason, FLAG_SOURCES[code])


@pytest.mark.parametrize(
    ("code", "cited"),
    [
        (F.NOT_IMPROVED, "AIMS Center, psychiatric consultant role: not 50% improved"),
        (F.SEVERE, "Kroenke et al., J Gen Intern Med 2001"),
        (F.NON_RESPONDER_UNREVIEWED, "Bao et al., Psychiatr Serv 2016"),
        (F.NO_EARLY_FOLLOW_UP, "Bao et al., Psychiatr Serv 2016"),
        (F.NO_MEASURE, "AIMS implementation guide"),
    ],
)
def test_flag_cites_the_source_of_its_rule(code, cited):
    flag = only(TROUBLED, code)

    assert cited in flag.source


def test_every_flag_code_has_a_label_and_a_source():
    assert set(FLAG_LABELS) == set(FLAG_SOURCES) == set(FlagCode)


def test_default_labels_name_the_default_thresholds():
    assert FLAG_LABELS == {
        F.SAFETY_ALERT: "Safety alert",
        F.NOT_IMPROVED: "Not improved by week 10",
        F.SEVERE: "Severe score",
        F.NO_BASELINE: "No baseline measure",
        F.NO_CONTACT: "No contact in 30 days",
        F.NO_MEASURE: "No measure in 30 days",
        F.NO_CONSULTANT: "No psychiatric consultant",
        F.NOT_REVIEWED: "New patient not reviewed",
        F.NON_RESPONDER_UNREVIEWED: "Non-responder at weeks 8–12 not reviewed",
        F.RECOMMENDATION_WAITING: "Recommendation waiting over 7 days",
        F.NO_EARLY_FOLLOW_UP: "No follow-up within 4 weeks",
    }


def test_labels_follow_the_organization_thresholds():
    rules = FlagRules(
        not_improved_week=12,
        no_contact_days=14,
        no_measure_days=1,
        recommendation_wait_days=3,
        early_follow_up_days=14,
        non_responder_window=(6, 10),
    )

    labels = flag_labels(rules)

    assert [labels[code] for code in flag_codes() if labels[code] != FLAG_LABELS[code]] == [
        "Not improved by week 12",
        "No contact in 14 days",
        "No measure in 1 day",
        "Non-responder at weeks 6–10 not reviewed",
        "Recommendation waiting over 3 days",
        "No follow-up within 2 weeks",
    ]


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("week", [10, 11, 12])
def test_not_improved_week_accepts_10_to_12(week):
    assert FlagRules(not_improved_week=week).not_improved_week == week


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"not_improved_week": 9}, "not_improved_week must be an integer 10-12, got 9"),
        ({"not_improved_week": 13}, "not_improved_week must be an integer 10-12, got 13"),
        ({"not_improved_week": True}, "not_improved_week must be an integer 10-12, got True"),
        ({"not_improved_week": 10.0}, "not_improved_week must be an integer 10-12, got 10.0"),
        ({"no_contact_days": -1}, "no_contact_days must be an integer at least 0, got -1"),
        ({"no_measure_days": -1}, "no_measure_days must be an integer at least 0"),
        ({"recommendation_wait_days": -1}, "recommendation_wait_days must be an integer"),
        ({"early_follow_up_days": -1}, "early_follow_up_days must be an integer"),
        ({"new_patient_review_weeks": -1}, "new_patient_review_weeks must be an integer"),
        ({"severe_phq9": 28}, "severe_phq9 must be an integer 1-27, got 28"),
        ({"severe_gad7": 22}, "severe_gad7 must be an integer 1-21, got 22"),
        ({"min_baseline_for_response": 0}, "min_baseline_for_response must be an integer 1-27"),
        ({"improved_below": 0}, "improved_below must be an integer 1-27"),
        ({"remission_cutoff": 28}, "remission_cutoff must be an integer 1-27, got 28"),
        ({"non_responder_window": (8,)}, r"non_responder_window must be a \(start, end\) pair"),
        ({"non_responder_window": [8, 12]}, r"non_responder_window must be a \(start, end\)"),
        ({"non_responder_window": (-1, 12)}, "non_responder_window start must be an integer"),
        (
            {"non_responder_window": (12, 8)},
            "non_responder_window end must be an integer at least 12",
        ),
    ],
)
def test_flag_rules_refuse_out_of_range_thresholds(changes, message):
    with pytest.raises(ValueError, match=message):
        FlagRules(**changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": "closed"}, "unknown episode status 'closed'"),
        ({"enrolled_on": None}, "an episode in status 'active' needs its enrollment date"),
        ({"first_follow_up_contact_on": ENROLLED_ON}, "must be after the enrollment date"),
        (
            {"status": "referred", "enrolled_on": None, "first_follow_up_contact_on": day(3)},
            "must be after the enrollment date",
        ),
    ],
)
def test_snapshot_refuses_inconsistent_facts(changes, message):
    with pytest.raises(ValueError, match=message):
        replace(QUIET, **changes)


def test_an_impossible_score_is_refused():
    snapshot = replace(QUIET, phq9=((day(0), 28),))

    with pytest.raises(ScoringError, match="PHQ-9 total 28"):
        episode_flags(snapshot, AS_OF)


# --------------------------------------------------------------------------- care team


@pytest.mark.parametrize(
    ("assigned", "collaborative_care", "expected"),
    [(False, True, True), (True, True, False), (False, False, False)],  # 99484 needs none
)
def test_no_consultant_when_a_cocm_care_team_has_none(assigned, collaborative_care, expected):
    snapshot = replace(
        QUIET, psychiatric_consultant_assigned=assigned, collaborative_care=collaborative_care
    )

    assert (F.NO_CONSULTANT in codes(snapshot)) is expected


def test_no_consultant_flag_says_billing_is_blocked_and_cites_cpt():
    flag = only(replace(QUIET, psychiatric_consultant_assigned=False), F.NO_CONSULTANT)

    assert "no CoCM billing" in flag.reason
    assert "CPT 99492/99493" in flag.source


# --------------------------------------------------------------------------- one per cause


def test_one_per_cause_keeps_one_flag_for_a_non_responder_never_reviewed():
    snapshot = replace(QUIET, phq9=((day(0), 18), (day(70), 16)), last_review_on=None)
    assert codes(snapshot) == (F.NOT_IMPROVED, F.NOT_REVIEWED, F.NON_RESPONDER_UNREVIEWED)

    shown = one_per_cause(episode_flags(snapshot, AS_OF))

    assert [flag.code for flag in shown] == [F.NON_RESPONDER_UNREVIEWED]
    assert shown[0].reason.startswith("PHQ-9 18 → 16 (−11%) at week 11")


def test_one_per_cause_keeps_no_contact_over_a_missed_early_follow_up():
    snapshot = replace(QUIET, last_contact_on=day(5), first_follow_up_contact_on=None)

    shown = one_per_cause(episode_flags(snapshot, AS_OF))

    assert [flag.code for flag in shown] == [F.NO_CONTACT]


def test_one_per_cause_keeps_no_consultant_over_not_reviewed():
    snapshot = replace(QUIET, psychiatric_consultant_assigned=False, last_review_on=None)

    shown = one_per_cause(episode_flags(snapshot, AS_OF))

    assert [flag.code for flag in shown] == [F.NO_CONSULTANT]


def test_one_per_cause_leaves_unrelated_flags_alone():
    flags = episode_flags(replace(QUIET, open_safety_alert=True), AS_OF)

    assert one_per_cause(flags) == flags
