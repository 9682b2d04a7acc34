"""Caseload flags: the to-dos that put an episode at the top of the care manager's list.

Each flag carries a clinician-readable reason with the literal numbers and a short citation
of its rule. The rules in words, with their settings: `docs/rules.md` section 4 (flags) and
3 (treat-to-target). Evidence labels: [V] stated by a
primary or steward source, [S] by a secondary source, [I] inferred here (a configurable
default, see `FlagRules`).

Conventions shared by every rule
--------------------------------
* Only open, enrolled episodes (enrolled, active, relapse prevention) are flagged. A
  referred or a discharged episode can only carry an open safety alert (an alert stays on
  the care team's list until its follow-up is documented, whatever the status).
* "Weeks" are whole weeks since the enrollment date (the AIMS tracker's "weeks in treatment",
  `episodes.weeks_in_treatment`); "days" are calendar days between two dates. Limits are
  "more than": 30 days without contact is on time, 31 is flagged.
* Baseline is the earliest score of an instrument, latest the most recent (same-date scores
  keep their input order, as in `instruments.treat_to_target`).
* [I] Treat-to-target rules read the PHQ-9 when the episode has one, else the GAD-7: the
  same 50%-improvement rule is applied to anxiety-only episodes.
* [I] A rule that needs a date the snapshot lacks, or an enrollment date after `as_of`, does
  not fire; a rule that needs scores defers to `no_baseline` when there are none.

Nothing here imports Django, reads settings or the clock, or does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction

from cocm.domain.episodes import EpisodeStatus, weeks_in_treatment
from cocm.domain.instruments import (
    InstrumentCode,
    TreatToTarget,
    is_response,
    treat_to_target,
)

__all__ = [
    "FLAG_LABELS",
    "FLAG_SOURCES",
    "SAME_CAUSE",
    "EpisodeSnapshot",
    "Flag",
    "FlagCode",
    "FlagRules",
    "episode_flags",
    "flag_codes",
    "flag_labels",
    "one_per_cause",
]


class FlagCode(StrEnum):
    """Caseload flags, declared in priority order (safety first)."""

    SAFETY_ALERT = "safety_alert"
    NOT_IMPROVED = "not_improved"
    SEVERE = "severe"
    NO_BASELINE = "no_baseline"
    NO_CONTACT = "no_contact"
    NO_MEASURE = "no_measure"
    NO_CONSULTANT = "no_consultant"
    NOT_REVIEWED = "not_reviewed"
    NON_RESPONDER_UNREVIEWED = "non_responder_unreviewed"
    RECOMMENDATION_WAITING = "recommendation_waiting"
    NO_EARLY_FOLLOW_UP = "no_early_follow_up"


_BAO_2016 = "Bao et al., Psychiatr Serv 2016;67:418-24 (doi:10.1176/appi.ps.201400577)"

FLAG_SOURCES: dict[FlagCode, str] = {
    FlagCode.SAFETY_ALERT: "Open safety alert (e.g. PHQ-9 item 9 above 0); [I] always listed first",
    FlagCode.NOT_IMPROVED: (
        "AIMS Center, psychiatric consultant role: not 50% improved after 10–12 weeks"
    ),
    FlagCode.SEVERE: (
        "Severe band: PHQ-9 ≥20, Kroenke et al., J Gen Intern Med 2001;16:606-13; "
        "GAD-7 ≥15, Spitzer et al., Arch Intern Med 2006;166:1092-7"
    ),
    FlagCode.NO_BASELINE: "AIMS implementation guide: % enrolled with a baseline PHQ-9/GAD-7",
    FlagCode.NO_CONTACT: (
        "AAFP FPM 2019: care manager checks in at least monthly; "
        "AIMS implementation guide: % contacted in the last 30 days"
    ),
    FlagCode.NO_MEASURE: "AIMS implementation guide: % with a repeat scale in the last 30 days",
    FlagCode.NO_CONSULTANT: (
        "CPT 99492/99493 descriptors; CMS BHI booklet MLN909432: the CoCM team includes a "
        "psychiatric consultant (general BHI, 99484, does not need one)"
    ),
    FlagCode.NOT_REVIEWED: (
        "AIMS implementation guide: registry prioritizes new patients for psychiatric case review"
    ),
    FlagCode.NON_RESPONDER_UNREVIEWED: (
        f"{_BAO_2016}: psychiatric consultation at weeks 8–12 for non-responders"
    ),
    FlagCode.RECOMMENDATION_WAITING: (
        "AIMS care loop: the PCP acts on the consultant's recommendations; "
        "[I] 7-day limit is a program setting"
    ),
    FlagCode.NO_EARLY_FOLLOW_UP: f"{_BAO_2016}: care manager follow-up within 4 weeks",
}


@dataclass(frozen=True)
class Flag:
    """One raised caseload flag of an episode: what it is, why (with the numbers), and the
    rule's source. (What a single score raises is `instruments.ScoreFlag`.)"""

    code: FlagCode
    reason: str
    source: str


@dataclass(frozen=True)
class FlagRules:
    """Thresholds of the flag rules; one per organization, defaults from the sources.

    * `not_improved_week` [V] AIMS "not 50% improved after 10–12 weeks"; [I] default 10,
      only 10, 11 or 12 accepted.
    * `no_contact_days`, `no_measure_days` [V] AIMS process measures over the last 30 days.
    * `recommendation_wait_days` [I] program setting from the registry issue; no source.
    * `early_follow_up_days` [V] Bao 2016: a follow-up contact within 4 weeks (28 days).
    * `severe_phq9`, `severe_gad7` [V] lower bounds of the "severe" bands.
    * `non_responder_window` [V] Bao 2016: consultation between weeks 8 and 12.
    * `new_patient_review_weeks` [I] 0: AIMS prioritizes every new patient for case review,
      so an unreviewed patient is a to-do from the day of enrollment. Raise it (e.g. to 2)
      to give the consultant a grace period.
    * `min_baseline_for_response` [I] 10, as CMS159 (>9) and DRR-E: response is only judged
      from a baseline in the depression range.
    * `improved_below` [V] Bao 2016: a latest PHQ-9 below 10 counts as improved.
    * `remission_cutoff` [V] remission is a latest score below it (5; rules section 3,
      `COCM_REMISSION_CUTOFF`): a patient in remission is neither "not improved" nor a
      non-responder, whatever the cut-off.
    """

    not_improved_week: int = 10
    no_contact_days: int = 30
    no_measure_days: int = 30
    recommendation_wait_days: int = 7
    early_follow_up_days: int = 28
    severe_phq9: int = 20
    severe_gad7: int = 15
    non_responder_window: tuple[int, int] = (8, 12)
    new_patient_review_weeks: int = 0
    min_baseline_for_response: int = 10
    improved_below: int = 10
    remission_cutoff: int = 5

    def __post_init__(self) -> None:
        _check_int("not_improved_week", self.not_improved_week, 10, 12)
        for name in (
            "no_contact_days",
            "no_measure_days",
            "recommendation_wait_days",
            "early_follow_up_days",
            "new_patient_review_weeks",
        ):
            _check_int(name, getattr(self, name), 0, None)
        _check_int("severe_phq9", self.severe_phq9, 1, 27)
        _check_int("severe_gad7", self.severe_gad7, 1, 21)
        _check_int("min_baseline_for_response", self.min_baseline_for_response, 1, 27)
        _check_int("improved_below", self.improved_below, 1, 27)
        _check_int("remission_cutoff", self.remission_cutoff, 1, 27)
        window = self.non_responder_window
        if not isinstance(window, tuple) or len(window) != 2:
            raise ValueError(f"non_responder_window must be a (start, end) pair, got {window!r}")
        start, end = window
        _check_int("non_responder_window start", start, 0, None)
        _check_int("non_responder_window end", end, start, None)


def _check_int(name: str, value: int, low: int, high: int | None) -> None:
    # bool is an int subclass; True must not silently mean 1.
    too_high = high is not None and isinstance(value, int) and value > high
    if isinstance(value, bool) or not isinstance(value, int) or value < low or too_high:
        allowed = f"{low}-{high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be an integer {allowed}, got {value!r}")


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


def _span(days: int) -> str:
    """28 -> '4 weeks'; a limit that is not whole weeks stays in days."""
    if days and days % 7 == 0:
        return _count(days // 7, "week")
    return _count(days, "day")


_ENROLLED_STATUSES = frozenset(
    {EpisodeStatus.ENROLLED, EpisodeStatus.ACTIVE, EpisodeStatus.RELAPSE_PREVENTION}
)


@dataclass(frozen=True)
class EpisodeSnapshot:
    """What the flag rules need to know about one episode, as plain values.

    `phq9` and `gad7` are the episode's current (date, total) scores in any order.
    `first_follow_up_contact_on` is the first contact strictly after the enrollment date;
    `last_review_on` the last psychiatric caseload review of this episode;
    `oldest_unanswered_recommendation_on` the date of the oldest consultant recommendation
    the PCP has not answered yet; `psychiatric_consultant_assigned` whether the episode's
    care team names one.
    """

    status: str
    enrolled_on: date | None = None
    open_safety_alert: bool = False
    phq9: tuple[tuple[date, int], ...] = ()
    gad7: tuple[tuple[date, int], ...] = ()
    last_contact_on: date | None = None
    first_follow_up_contact_on: date | None = None
    last_review_on: date | None = None
    oldest_unanswered_recommendation_on: date | None = None
    psychiatric_consultant_assigned: bool = True
    collaborative_care: bool = True  # False for general BHI (99484): no consultant needed

    def __post_init__(self) -> None:
        if self.status not in set(EpisodeStatus):
            known = ", ".join(EpisodeStatus)
            raise ValueError(f"unknown episode status {self.status!r}; known: {known}")
        if EpisodeStatus(self.status) in _ENROLLED_STATUSES and self.enrolled_on is None:
            raise ValueError(f"an episode in status {self.status!r} needs its enrollment date")
        first = self.first_follow_up_contact_on
        if first is not None and (self.enrolled_on is None or first <= self.enrolled_on):
            raise ValueError("first_follow_up_contact_on must be after the enrollment date")


def flag_codes() -> tuple[FlagCode, ...]:
    """Flag codes in priority order, safety first (AIMS: registry prioritizes patients)."""
    return tuple(FlagCode)


def flag_labels(rules: FlagRules = FlagRules()) -> dict[FlagCode, str]:
    """Short filter labels with the organization's thresholds (rules as in FLAG_SOURCES)."""
    start, end = rules.non_responder_window
    return {
        FlagCode.SAFETY_ALERT: "Safety alert",
        FlagCode.NOT_IMPROVED: f"Not improved by week {rules.not_improved_week}",
        FlagCode.SEVERE: "Severe score",
        FlagCode.NO_BASELINE: "No baseline measure",
        FlagCode.NO_CONTACT: f"No contact in {_count(rules.no_contact_days, 'day')}",
        FlagCode.NO_MEASURE: f"No measure in {_count(rules.no_measure_days, 'day')}",
        FlagCode.NO_CONSULTANT: "No psychiatric consultant",
        FlagCode.NOT_REVIEWED: "New patient not reviewed",
        FlagCode.NON_RESPONDER_UNREVIEWED: f"Non-responder at weeks {start}–{end} not reviewed",
        FlagCode.RECOMMENDATION_WAITING: (
            f"Recommendation waiting over {_count(rules.recommendation_wait_days, 'day')}"
        ),
        FlagCode.NO_EARLY_FOLLOW_UP: f"No follow-up within {_span(rules.early_follow_up_days)}",
    }


# Labels for the default rules; an organization with its own rules calls flag_labels(rules).
FLAG_LABELS: dict[FlagCode, str] = flag_labels()


def episode_flags(
    snapshot: EpisodeSnapshot, as_of: date, *, rules: FlagRules = FlagRules()
) -> tuple[Flag, ...]:
    """Flags of one episode in priority order (AIMS 10–12 weeks; Bao 2016; FLAG_SOURCES)."""
    status = EpisodeStatus(snapshot.status)
    safety = _safety_alert(snapshot)
    if status not in _ENROLLED_STATUSES:
        # A referred patient is not on the caseload yet, a discharged one no longer is: only
        # a safety alert still needs action.
        return () if safety is None else (safety,)

    facts = _Facts.of(snapshot, as_of, rules)
    candidates = (
        safety,
        _not_improved(facts, rules),
        _severe(facts, rules),
        _no_baseline(facts),
        _no_contact(facts, rules),
        _no_measure(facts, rules),
        _no_consultant(facts),
        _not_reviewed(facts, rules),
        _non_responder_unreviewed(facts, rules),
        _recommendation_waiting(facts, rules),
        _no_early_follow_up(facts, rules),
    )
    return tuple(flag for flag in candidates if flag is not None)


# A flag that states the same cause as others, more precisely, stands for them on the
# caseload: a non-responder never reviewed is one to-do (the review), not three; a patient
# not contacted for a month needs a contact, whether or not the first follow-up was late;
# without a consultant there can be no review.
SAME_CAUSE: dict[FlagCode, tuple[FlagCode, ...]] = {
    FlagCode.NON_RESPONDER_UNREVIEWED: (FlagCode.NOT_IMPROVED, FlagCode.NOT_REVIEWED),
    FlagCode.NO_CONTACT: (FlagCode.NO_EARLY_FOLLOW_UP,),
    FlagCode.NO_CONSULTANT: (FlagCode.NOT_REVIEWED,),
}


def one_per_cause(flags: tuple[Flag, ...]) -> tuple[Flag, ...]:
    """The flags to show, one per cause: each flag of SAME_CAUSE hides the ones it covers
    ([I] a display rule of this registry; every rule's own flag stays in episode_flags)."""
    raised = {flag.code for flag in flags}
    hidden = {code for keeper in raised for code in SAME_CAUSE.get(keeper, ())}
    return tuple(flag for flag in flags if flag.code not in hidden)


# --------------------------------------------------------------------------- the rules


@dataclass(frozen=True)
class _Facts:
    """Derived values shared by the rules of one enrolled episode."""

    snapshot: EpisodeSnapshot
    as_of: date
    enrolled_on: date
    weeks: int | None  # None when the enrollment date is after as_of
    phq9: TreatToTarget | None
    gad7: TreatToTarget | None

    @classmethod
    def of(cls, snapshot: EpisodeSnapshot, as_of: date, rules: FlagRules) -> _Facts:
        enrolled_on = snapshot.enrolled_on
        assert enrolled_on is not None  # EpisodeSnapshot checks it for enrolled statuses
        return cls(
            snapshot=snapshot,
            as_of=as_of,
            enrolled_on=enrolled_on,
            weeks=weeks_in_treatment(enrolled_on, as_of),
            phq9=_trajectory(InstrumentCode.PHQ9, snapshot.phq9, enrolled_on, rules),
            gad7=_trajectory(InstrumentCode.GAD7, snapshot.gad7, enrolled_on, rules),
        )

    @property
    def primary(self) -> TreatToTarget | None:
        """The PHQ-9 trajectory, else the GAD-7 one ([I] anxiety-only episodes)."""
        return self.phq9 if self.phq9 is not None else self.gad7

    def days_since(self, earlier: date) -> int:
        return (self.as_of - earlier).days


def _trajectory(
    code: InstrumentCode,
    scores: tuple[tuple[date, int], ...],
    enrolled_on: date,
    rules: FlagRules,
) -> TreatToTarget | None:
    if not scores:
        return None
    # treat_to_target validates the scores (ScoringError, a ValueError) and orders them.
    return treat_to_target(
        code,
        scores,
        enrolled_on=enrolled_on,
        remission_cutoff=rules.remission_cutoff,
        min_baseline=rules.min_baseline_for_response,
    )


def _safety_alert(snapshot: EpisodeSnapshot) -> Flag | None:
    """An open safety alert, whatever else is true of the episode."""
    if not snapshot.open_safety_alert:
        return None
    return _flag(FlagCode.SAFETY_ALERT, "Open safety alert: review it before anything else")


def _not_improved(facts: _Facts, rules: FlagRules) -> Flag | None:
    """AIMS: not >=50% below baseline at `not_improved_week` or later.

    [I] The latest score is used however old it is (no_measure flags a stale one): without a
    newer score there is no evidence of improvement. A single score counts as 0% change.
    """
    primary = facts.primary
    if facts.weeks is None or facts.weeks < rules.not_improved_week or primary is None:
        return None
    if primary.baseline < rules.min_baseline_for_response:
        return None
    if primary.remission or is_response(primary.baseline, primary.latest):
        return None
    return _flag(
        FlagCode.NOT_IMPROVED,
        f"{_change(primary)} at week {facts.weeks}: "
        f"not improved ≥50% by week {rules.not_improved_week}",
    )


def _severe(facts: _Facts, rules: FlagRules) -> Flag | None:
    """Latest PHQ-9 or GAD-7 in its severe band (Kroenke 2001; Spitzer 2006)."""
    parts = [
        f"{scores.instrument} {scores.latest} on {scores.latest_on.isoformat()} "
        f"(severe: ≥{threshold})"
        for scores, threshold in ((facts.phq9, rules.severe_phq9), (facts.gad7, rules.severe_gad7))
        if scores is not None and scores.latest >= threshold
    ]
    if not parts:
        return None
    return _flag(FlagCode.SEVERE, "Latest " + "; ".join(parts))


def _no_baseline(facts: _Facts) -> Flag | None:
    """Enrolled without any PHQ-9 or GAD-7 (AIMS: % enrolled with a baseline measure)."""
    if facts.phq9 is not None or facts.gad7 is not None:
        return None
    return _flag(
        FlagCode.NO_BASELINE,
        f"No baseline PHQ-9 or GAD-7 (enrolled {facts.enrolled_on.isoformat()})",
    )


def _no_contact(facts: _Facts, rules: FlagRules) -> Flag | None:
    """More than `no_contact_days` since the last contact, or since enrollment if none.

    [I] The last contact counts even when it precedes enrollment (a referral call): the
    patient has still not been heard from for that long.
    """
    last = facts.snapshot.last_contact_on
    limit = rules.no_contact_days
    days = facts.days_since(last if last is not None else facts.enrolled_on)
    if days <= limit:
        return None
    if last is None:
        reason = (
            f"No contact since enrollment on {facts.enrolled_on.isoformat()}, "
            f"{_count(days, 'day')} ago (limit {limit})"
        )
    else:
        reason = f"No contact for {_count(days, 'day')} (limit {limit})"
    return _flag(FlagCode.NO_CONTACT, reason)


def _no_measure(facts: _Facts, rules: FlagRules) -> Flag | None:
    """More than `no_measure_days` since the latest PHQ-9/GAD-7 (AIMS repeat-scale measure)."""
    latest_on = max(
        (scores.latest_on for scores in (facts.phq9, facts.gad7) if scores is not None),
        default=None,
    )
    if latest_on is None:  # no_baseline covers an episode without scores
        return None
    days = facts.days_since(latest_on)
    if days <= rules.no_measure_days:
        return None
    return _flag(
        FlagCode.NO_MEASURE,
        f"No PHQ-9 or GAD-7 for {_count(days, 'day')} (limit {rules.no_measure_days})",
    )


def _no_consultant(facts: _Facts) -> Flag | None:
    """A CoCM episode whose care team has no psychiatric consultant (CPT 99492/99493: the
    consultant's review is a required element; the month cannot be billed without one)."""
    snapshot = facts.snapshot
    if snapshot.psychiatric_consultant_assigned or not snapshot.collaborative_care:
        return None
    return _flag(
        FlagCode.NO_CONSULTANT,
        "No psychiatric consultant assigned: no caseload review and no CoCM billing until one is",
    )


def _not_reviewed(facts: _Facts, rules: FlagRules) -> Flag | None:
    """Never reviewed by the psychiatric consultant (AIMS: review new patients).

    [I] With the default `new_patient_review_weeks=0` the flag is raised from the day of
    enrollment: the review of a new patient is a to-do, not an overdue task.
    """
    if facts.snapshot.last_review_on is not None or facts.weeks is None:
        return None
    if facts.weeks < rules.new_patient_review_weeks:
        return None
    return _flag(
        FlagCode.NOT_REVIEWED,
        "New patient not yet reviewed by the psychiatric consultant "
        f"(enrolled {facts.enrolled_on.isoformat()}, week {facts.weeks})",
    )


def _non_responder_unreviewed(facts: _Facts, rules: FlagRules) -> Flag | None:
    """Bao 2016: not improved at week 8 or later and no psychiatric review since week 8.

    Improved (Bao's "clinically significant improvement") = latest below `improved_below`
    (PHQ-9 <10) or >=50% below baseline. [I] The flag stays after week 12 until a review
    dated on or after the start of week 8 is recorded: the task is then overdue, not void.
    [I] Anxiety-only episodes are judged on the GAD-7 with the same cut-offs.
    """
    start, end = rules.non_responder_window
    primary = facts.primary
    if facts.weeks is None or facts.weeks < start or primary is None:
        return None
    if primary.remission or primary.latest < rules.improved_below:
        return None
    if is_response(primary.baseline, primary.latest):
        return None
    window_opens_on = facts.enrolled_on + timedelta(weeks=start)
    last_review_on = facts.snapshot.last_review_on
    if last_review_on is not None and last_review_on >= window_opens_on:
        return None
    return _flag(
        FlagCode.NON_RESPONDER_UNREVIEWED,
        f"{_change(primary)} at week {facts.weeks}: not responding and no psychiatric review "
        f"since week {start} (due by week {end})",
    )


def _recommendation_waiting(facts: _Facts, rules: FlagRules) -> Flag | None:
    """A consultant recommendation unanswered by the PCP for more than the limit [I]."""
    waiting_since = facts.snapshot.oldest_unanswered_recommendation_on
    if waiting_since is None:
        return None
    days = facts.days_since(waiting_since)
    if days <= rules.recommendation_wait_days:
        return None
    return _flag(
        FlagCode.RECOMMENDATION_WAITING,
        f"Recommendation waiting for the PCP for {_count(days, 'day')} "
        f"(limit {rules.recommendation_wait_days}, since {waiting_since.isoformat()})",
    )


def _no_early_follow_up(facts: _Facts, rules: FlagRules) -> Flag | None:
    """Bao 2016: no care manager follow-up contact within 4 weeks of enrollment.

    [I] Once the window has closed without a follow-up the flag stays: it records a missed
    key task (AIMS indicator "% with a follow-up contact within 4 weeks"), not a to-do.
    """
    limit = rules.early_follow_up_days
    if facts.days_since(facts.enrolled_on) <= limit:
        return None
    first = facts.snapshot.first_follow_up_contact_on
    enrolled = facts.enrolled_on.isoformat()
    if first is None:
        reason = f"No follow-up contact within {_span(limit)} of enrollment (enrolled {enrolled})"
    else:
        days = (first - facts.enrolled_on).days
        if days <= limit:
            return None
        reason = (
            f"First follow-up contact {_count(days, 'day')} after enrollment, "
            f"not within {_span(limit)} (enrolled {enrolled})"
        )
    return _flag(FlagCode.NO_EARLY_FOLLOW_UP, reason)


# --------------------------------------------------------------------------- formatting


def _flag(code: FlagCode, reason: str) -> Flag:
    return Flag(code=code, reason=reason, source=FLAG_SOURCES[code])


def _change(scores: TreatToTarget) -> str:
    """'PHQ-9 18 → 15 (−17%)'; no percentage from a baseline of 0."""
    text = f"{scores.instrument} {scores.baseline} → {scores.latest}"
    if scores.baseline == 0:
        return text
    change = Fraction(scores.latest - scores.baseline, scores.baseline) * 100
    # Half away from zero, as a reader rounds (16 -> 14 is -12.5%, shown -13%); round() would
    # give -12. U+2212 minus sign, as printed in clinical reports.
    magnitude = int(abs(change) + Fraction(1, 2))
    signed = f"−{magnitude}" if change < 0 and magnitude else f"+{magnitude}" if magnitude else "0"
    return f"{text} ({signed}%)"
