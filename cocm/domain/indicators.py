"""AIMS-style program indicators of a collaborative care registry (rules section 4.4).

Pure functions over plain records of enrolled episodes: no database, no clock (the period
and `as_of` are arguments). Each indicator keeps the episode ids behind its numerator and
its denominator, so that every figure can be drilled down to the patients it counts.

Response and remission use the treat-to-target rules of `cocm.domain.instruments`
(`is_response`, `is_remission`, baseline >= 10), weeks in treatment use
`cocm.domain.episodes.weeks_in_treatment`; no threshold is copied here.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from statistics import median

from cocm.domain.episodes import DischargeReason, weeks_in_treatment
from cocm.domain.instruments import InstrumentCode, is_remission, is_response

PHQ9 = InstrumentCode.PHQ9.value


@dataclass(frozen=True)
class Period:
    """A reporting period, both ends included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError("a period cannot end before it starts")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class EpisodeRecord:
    """What the indicators read of one enrolled episode. Dates are sorted ascending."""

    episode_id: int
    enrolled_on: date
    discharged_on: date | None = None
    discharge_reason: str = ""
    care_manager_id: int | None = None
    phq9: tuple[tuple[date, int], ...] = ()  # current PHQ-9 totals
    measured_on: tuple[date, ...] = ()  # current PHQ-9 or GAD-7
    contacted_on: tuple[date, ...] = ()  # care-manager contacts that reached the patient
    reviewed_on: tuple[date, ...] = ()  # psychiatric case reviews
    consultant_minutes: tuple[tuple[date, int], ...] = ()  # psychiatric consultant time


class Kind(StrEnum):
    COUNT = "count"
    PERCENT = "percent"
    MEDIAN_WEEKS = "median_weeks"
    HOURS_PER_100 = "hours_per_100_patients_per_week"


@dataclass(frozen=True)
class Indicator:
    """One figure with its numerator, denominator and the episodes behind them.

    `counted` are the episode ids (or patient-month keys) of the numerator, `population`
    those of the denominator (for a count, the same set).
    """

    key: str
    label: str
    kind: Kind
    value: float | int | None
    numerator: float | int
    denominator: float | int | None
    counted: frozenset[Hashable] = field(default_factory=frozenset)
    population: frozenset[Hashable] = field(default_factory=frozenset)
    source: str = ""


def percent(numerator: int, denominator: int) -> float | None:
    """numerator / denominator x 100, one decimal; None when nothing is counted (AIMS)."""
    if denominator == 0:
        return None
    return round(numerator * 100 / denominator, 1)


def rate(
    key: str, label: str, counted: Iterable[Hashable], population: Iterable[Hashable], source: str
) -> Indicator:
    """A percentage indicator whose numerator is the counted part of its population."""
    population_set = frozenset(population)
    counted_set = frozenset(counted) & population_set
    return Indicator(
        key,
        label,
        Kind.PERCENT,
        percent(len(counted_set), len(population_set)),
        len(counted_set),
        len(population_set),
        counted_set,
        population_set,
        source,
    )


def count(key: str, label: str, episodes: Iterable[Hashable], source: str) -> Indicator:
    """A count indicator: the numerator is the count, there is no denominator."""
    members = frozenset(episodes)
    return Indicator(
        key, label, Kind.COUNT, len(members), len(members), None, members, members, source
    )


def restricted(indicator: Indicator, episodes: Iterable[Hashable]) -> Indicator:
    """A count or a rate over part of its episodes (one care manager's): the same figure as
    computing it over those episodes alone, since each episode counts on its own (AIMS)."""
    keep = frozenset(episodes)
    if indicator.kind is Kind.COUNT:
        return count(indicator.key, indicator.label, indicator.population & keep, indicator.source)
    if indicator.kind is not Kind.PERCENT:
        raise ValueError(f"{indicator.key} is not a count or a rate of episodes")
    return rate(
        indicator.key,
        indicator.label,
        indicator.counted & keep,
        indicator.population & keep,
        indicator.source,
    )


# ------------------------------------------------------------------ episode-level predicates


def in_treatment_on(episode: EpisodeRecord, day: date) -> bool:
    """On the caseload at the end of the day: enrolled on or before it, not discharged (AIMS)."""
    return episode.enrolled_on <= day and (
        episode.discharged_on is None or episode.discharged_on > day
    )


def in_treatment_during(episode: EpisodeRecord, period: Period) -> bool:
    """On the caseload on at least one day of the period (AIMS caseload size)."""
    return episode.enrolled_on <= period.end and (
        episode.discharged_on is None or episode.discharged_on > period.start
    )


def days_in_treatment(episode: EpisodeRecord, period: Period) -> int:
    """Days of the period the episode was on the caseload (patient-days, for time per patient)."""
    first = max(episode.enrolled_on, period.start)
    last = (
        period.end
        if episode.discharged_on is None
        else min(period.end, episode.discharged_on - timedelta(days=1))
    )
    return max(0, (last - first).days + 1)


def has_baseline_measure(
    episode: EpisodeRecord, *, days_before: int = 30, days_after: int = 14
) -> bool:
    """A PHQ-9 or GAD-7 from 30 days before to 14 after enrollment (AIMS process list; [I])."""
    low = episode.enrolled_on - timedelta(days=days_before)
    high = episode.enrolled_on + timedelta(days=days_after)
    return any(low <= day <= high for day in episode.measured_on)


def follow_up_due_by(episode: EpisodeRecord, *, days: int = 28) -> date:
    """Last day of the follow-up window: 4 weeks after enrollment (Bao et al. 2016)."""
    return episode.enrolled_on + timedelta(days=days)


def had_follow_up_contact(episode: EpisodeRecord, *, days: int = 28) -> bool:
    """A care-manager contact after enrollment and within 4 weeks of it (Bao et al. 2016)."""
    due = follow_up_due_by(episode, days=days)
    return any(episode.enrolled_on < day <= due for day in episode.contacted_on)


def contacted_within(episode: EpisodeRecord, as_of: date, *, days: int = 30) -> bool:
    """A care-manager contact in the `days` days ending on as_of (AIMS; AAFP FPM 2019 monthly)."""
    since = as_of - timedelta(days=days - 1)
    return any(since <= day <= as_of for day in episode.contacted_on)


def measured_within(episode: EpisodeRecord, as_of: date, *, days: int = 30) -> bool:
    """A PHQ-9 or GAD-7 in the `days` days ending on as_of (AIMS 'repeat scale' process measure)."""
    since = as_of - timedelta(days=days - 1)
    return any(since <= day <= as_of for day in episode.measured_on)


def baseline(episode: EpisodeRecord) -> tuple[date, int] | None:
    """The first PHQ-9 of the episode, the treat-to-target baseline (ICSI; rules section 3)."""
    return episode.phq9[0] if episode.phq9 else None


def has_eligible_baseline(episode: EpisodeRecord, *, min_baseline: int = 10) -> bool:
    """Response/remission are reported only from a baseline PHQ-9 >= 10 ([I] rules section 3)."""
    first = baseline(episode)
    return first is not None and first[1] >= min_baseline


def week_ends_on(episode: EpisodeRecord, week: int) -> date:
    """Last day of treatment week `week` (week 0 is the enrollment week; AIMS tracker weeks)."""
    return episode.enrolled_on + timedelta(days=7 * week + 6)


def is_non_improver(episode: EpisodeRecord, *, week: int = 8, min_baseline: int = 10) -> bool:
    """Not responding by week 8: last PHQ-9 to then < 50% below baseline (Bao et al. 2016)."""
    if not has_eligible_baseline(episode, min_baseline=min_baseline):
        return False
    first = episode.phq9[0]
    by = week_ends_on(episode, week)
    if first[0] > by:
        return False
    latest = [total for day, total in episode.phq9 if day <= by][-1]
    return not _is_response(first[1], latest)


def reviewed_between_weeks(
    episode: EpisodeRecord, first_week: int = 8, last_week: int = 12
) -> bool:
    """A psychiatric case review in treatment weeks 8-12 (Bao et al. 2016, key task 2)."""
    start = episode.enrolled_on + timedelta(days=7 * first_week)
    end = week_ends_on(episode, last_week)
    return any(start <= day <= end for day in episode.reviewed_on)


def last_phq9_between(episode: EpisodeRecord, start: date, end: date) -> int | None:
    """The last PHQ-9 of a window, both ends included (CMS159 and DRR-E: the last one counts)."""
    totals = [total for day, total in episode.phq9 if start <= day <= end]
    return totals[-1] if totals else None


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day (CQL date arithmetic)."""
    year, index = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = index + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


@dataclass(frozen=True)
class Window:
    """A follow-up window relative to an anchor date; `closes_on` decides the cohort."""

    opens_on: date
    closes_on: date


def weeks_10_to_12(episode: EpisodeRecord) -> Window:
    """Treatment weeks 10-12 (AIMS: review if not 50% improved after 10-12 weeks)."""
    return Window(episode.enrolled_on + timedelta(days=70), week_ends_on(episode, 12))


def six_month_window(index_on: date, *, first_day: int = 120, last_day: int = 240) -> Window:
    """120-240 days after the index PHQ-9, ends included (HEDIS DRR-E follow-up period [I])."""
    return Window(index_on + timedelta(days=first_day), index_on + timedelta(days=last_day))


def twelve_month_window(index_on: date, *, days: int = 60) -> Window:
    """12 months +/- 60 days after the index PHQ-9, ends included (CMS159 v0.2.000 MAP)."""
    anniversary = add_months(index_on, 12)
    return Window(anniversary - timedelta(days=days), anniversary + timedelta(days=days))


def first_reached_on(
    episode: EpisodeRecord, outcome: str, *, remission_cutoff: int = 5, min_baseline: int = 10
) -> date | None:
    """Date of the first follow-up PHQ-9 reaching response or remission (ICSI; rules section 3)."""
    if not has_eligible_baseline(episode, min_baseline=min_baseline):
        return None
    first = episode.phq9[0][1]
    for day, total in episode.phq9[1:]:
        if _reached(outcome, first, total, remission_cutoff):
            return day
    return None


# The same few hundred (baseline, total) pairs recur across thousands of episodes; the rules
# themselves (exact fractions) are too slow to re-run for each.
_is_response = cache(is_response)
_is_remission = cache(is_remission)


def _reached(outcome: str, first: int, total: int, remission_cutoff: int) -> bool:
    if outcome == "response":
        return _is_response(first, total)
    return _is_remission(PHQ9, total, cutoff=remission_cutoff)


def median_weeks(weeks: Sequence[int]) -> float | None:
    """The median of whole weeks in treatment; None for no episode (rules section 4.4)."""
    return float(median(weeks)) if weeks else None


def consultant_hours_per_100(minutes: int, patient_days: int) -> float | None:
    """Consultant hours per week per 100 patients on the caseload (AIMS staffing guidance)."""
    if patient_days == 0:
        return None
    return round(minutes / 60 / (patient_days / 7) * 100, 2)


class Guidance(StrEnum):
    BELOW = "below"
    WITHIN = "within"
    ABOVE = "above"


def against_guidance(
    hours_per_100: float | None, *, low: float = 2.0, high: float = 4.0
) -> Guidance | None:
    """Compare with about 2-4 consultant hours per week per 100 patients (AIMS; rules section 3)."""
    if hours_per_100 is None:
        return None
    if hours_per_100 < low:
        return Guidance.BELOW
    return Guidance.ABOVE if hours_per_100 > high else Guidance.WITHIN


# ------------------------------------------------------------------------ the indicator set

SOURCE_AIMS = "AIMS Center implementation guide, process measures"
SOURCE_BAO = "Bao et al., Psychiatr Serv 2016 (key task)"
SOURCE_ICSI = "ICSI depression guideline (response >= 50% drop, remission PHQ-9 < 5)"


def program_indicators(
    episodes: Sequence[EpisodeRecord],
    period: Period,
    *,
    remission_cutoff: int = 5,
    min_baseline: int = 10,
    guidance_low: float = 2.0,
    guidance_high: float = 4.0,
) -> dict[str, Indicator]:
    """The AIMS program indicators of these episodes for a period (rules section 4.4).

    Point-in-time figures are as of the period's last day. Outcome figures count the
    episodes whose window closed during the period (a cohort: each episode counts once, in
    the period its window ends), from a baseline PHQ-9 >= `min_baseline`; an episode
    without a PHQ-9 in its window counts in the denominator and not in the numerator.
    """
    as_of = period.end
    active = [e for e in episodes if in_treatment_on(e, as_of)]
    new = [e for e in episodes if e.enrolled_on in period]
    during = [e for e in episodes if in_treatment_during(e, period)]
    indicators: dict[str, Indicator] = {}

    def add(indicator: Indicator) -> None:
        indicators[indicator.key] = indicator

    def ids(selected: Iterable[EpisodeRecord]) -> list[int]:
        return [e.episode_id for e in selected]

    add(count("active_caseload", "Active caseload (end of period)", ids(active), SOURCE_AIMS))
    add(count("new_enrollments", "New enrollments", ids(new), SOURCE_AIMS))
    add(
        rate(
            "baseline_measure_pct",
            "New enrollments with a baseline PHQ-9 or GAD-7",
            ids(e for e in new if has_baseline_measure(e)),
            ids(new),
            SOURCE_AIMS,
        )
    )
    followable = [e for e in new if follow_up_due_by(e) <= as_of or had_follow_up_contact(e)]
    add(
        rate(
            "follow_up_within_4_weeks_pct",
            "Follow-up contact within 4 weeks of enrollment",
            ids(e for e in followable if had_follow_up_contact(e)),
            ids(followable),
            SOURCE_BAO,
        )
    )
    add(
        rate(
            "contacted_last_30_days_pct",
            "Active caseload contacted in the last 30 days",
            ids(e for e in active if contacted_within(e, as_of)),
            ids(active),
            SOURCE_AIMS,
        )
    )
    due_repeat = [e for e in active if e.enrolled_on <= as_of - timedelta(days=30)]
    add(
        rate(
            "repeat_measure_last_30_days_pct",
            "Active caseload (enrolled 30+ days) with a PHQ-9 or GAD-7 in the last 30 days",
            ids(e for e in due_repeat if measured_within(e, as_of)),
            ids(due_repeat),
            SOURCE_AIMS,
        )
    )
    week_12 = [
        e
        for e in episodes
        if week_ends_on(e, 12) in period and has_eligible_baseline(e, min_baseline=min_baseline)
    ]
    non_improvers = [e for e in week_12 if is_non_improver(e, min_baseline=min_baseline)]
    add(
        rate(
            "psychiatric_review_of_non_improvers_pct",
            "Not improved by week 8 and reviewed by the psychiatric consultant in weeks 8-12",
            ids(e for e in non_improvers if reviewed_between_weeks(e)),
            ids(non_improvers),
            SOURCE_BAO,
        )
    )
    responded = []
    for e in week_12:
        window = weeks_10_to_12(e)
        latest = last_phq9_between(e, window.opens_on, window.closes_on)
        if latest is not None and _is_response(e.phq9[0][1], latest):
            responded.append(e)
    add(
        rate(
            "response_10_12_weeks_pct",
            "Response (PHQ-9 down 50%+) at 10-12 weeks",
            ids(responded),
            ids(week_12),
            "AIMS Center 10-12 week rule; " + SOURCE_ICSI,
        )
    )
    for months, window_of, source in (
        (6, six_month_window, "HEDIS DRR-E follow-up period (120-240 days)"),
        (12, twelve_month_window, "CMS159 v0.2.000 measure assessment period (12 months +/- 60 d)"),
    ):
        cohort, response, remission = [], [], []
        for e in episodes:
            if not has_eligible_baseline(e, min_baseline=min_baseline):
                continue
            window = window_of(e.phq9[0][0])
            if window.closes_on not in period:
                continue
            cohort.append(e)
            latest = last_phq9_between(e, window.opens_on, window.closes_on)
            if latest is None:
                continue
            if _is_response(e.phq9[0][1], latest):
                response.append(e)
            if _is_remission(PHQ9, latest, cutoff=remission_cutoff):
                remission.append(e)
        add(
            rate(
                f"response_{months}_months_pct",
                f"Response at {months} months",
                ids(response),
                ids(cohort),
                source,
            )
        )
        add(
            rate(
                f"remission_{months}_months_pct",
                f"Remission (PHQ-9 < {remission_cutoff}) at {months} months",
                ids(remission),
                ids(cohort),
                source,
            )
        )
    eligible_during = [e for e in during if has_eligible_baseline(e, min_baseline=min_baseline)]
    for outcome in ("response", "remission"):
        reached = []
        weeks = []
        for e in eligible_during:
            on = first_reached_on(
                e, outcome, remission_cutoff=remission_cutoff, min_baseline=min_baseline
            )
            if on is not None and on in period:
                reached.append(e)
                weeks.append(weeks_in_treatment(e.enrolled_on, on) or 0)
        population = frozenset(ids(eligible_during))
        add(
            Indicator(
                f"median_weeks_to_{outcome}",
                f"Median weeks to {outcome} (first reached during the period)",
                Kind.MEDIAN_WEEKS,
                median_weeks(weeks),
                len(reached),
                len(population),
                frozenset(ids(reached)),
                population,
                SOURCE_ICSI,
            )
        )
    discharged = [e for e in episodes if e.discharged_on is not None and e.discharged_on in period]
    add(count("discharges", "Discharges", ids(discharged), SOURCE_AIMS))
    for reason in DischargeReason:
        add(
            rate(
                f"discharge_{reason.value}_pct",
                f"Discharged: {reason.label}",
                ids(e for e in discharged if e.discharge_reason == reason.value),
                ids(discharged),
                SOURCE_AIMS,
            )
        )
    minutes = sum(m for e in during for day, m in e.consultant_minutes if day in period)
    patient_days = sum(days_in_treatment(e, period) for e in during)
    per_100 = consultant_hours_per_100(minutes, patient_days)
    add(
        Indicator(
            "psychiatric_consultant_hours_per_100",
            "Psychiatric consultant hours per week per 100 patients "
            f"(guidance {guidance_low:g}-{guidance_high:g} h)",
            Kind.HOURS_PER_100,
            per_100,
            round(minutes / 60, 1),
            round(patient_days / 7 / 100, 2),
            frozenset(
                e.episode_id for e in during if any(d in period for d, _ in e.consultant_minutes)
            ),
            frozenset(ids(during)),
            "AIMS Center: about 3 h/week per full-time care manager (0.075 FTE); rules section 3",
        )
    )
    return indicators


# --------------------------------------------------------------------------- billing capture


@dataclass(frozen=True)
class PatientMonth:
    """One episode's calendar month on the caseload and the codes the billing engine gave."""

    episode_id: int
    month: str  # YYYY-MM
    codes: tuple[str, ...] = ()


def billing_capture(
    patient_months: Sequence[PatientMonth], codes: Sequence[str]
) -> dict[str, Indicator]:
    """Share of patient-months reaching each code's time threshold (AIMS; rules section 4.4)."""
    population = [(pm.episode_id, pm.month) for pm in patient_months]
    source = "rules section 4.4; codes decided by the billing engine (cocm.domain.coding)"
    result = {
        "billing_capture_any_pct": rate(
            "billing_capture_any_pct",
            "Patient-months with a billable code",
            [(pm.episode_id, pm.month) for pm in patient_months if pm.codes],
            population,
            source,
        )
    }
    for code in codes:
        key = f"billing_capture_{code.lower()}_pct"
        result[key] = rate(
            key,
            f"Patient-months reaching {code}",
            [(pm.episode_id, pm.month) for pm in patient_months if code in pm.codes],
            population,
            source,
        )
    return result


def months_of(period: Period) -> list[str]:
    """The calendar months (YYYY-MM) a period touches, in order."""
    months = []
    year, month = period.start.year, period.start.month
    while (year, month) <= (period.end.year, period.end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def month_period(month: str) -> Period:
    """The first to the last day of a YYYY-MM month."""
    year, number = (int(part) for part in month.split("-"))
    start = date(year, number, 1)
    return Period(start, add_months(start, 1) - timedelta(days=1))
