"""Monthly billing decision for Collaborative Care (CoCM) and general BHI.

For one patient and one calendar month, decide which codes and units may be reported and
explain why. Rules and sources: `docs/rules.md` section 1 (its 1.x numbers are cited below). Every
inference marked [I] there is a `BillingRules` setting whose default is the conservative
reading. Pure: no clock, no I/O, no framework.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache, lru_cache
from typing import NamedTuple

from cocm.domain.consent import RevokedPeriod, revoked_period_on


class Code(StrEnum):
    CPT_99492 = "99492"  # initial month CoCM, first 70 minutes
    CPT_99493 = "99493"  # subsequent month CoCM, first 60 minutes
    CPT_99494 = "99494"  # add-on: each additional 30 minutes of CoCM
    HCPCS_G2214 = "G2214"  # CoCM, first 30 minutes (short months)
    CPT_99484 = "99484"  # general BHI, at least 20 minutes
    HCPCS_G0512 = "G0512"  # RHC/FQHC CoCM, 60 minutes or more (through 2025)


class MonthType(StrEnum):
    INITIAL = "initial"
    SUBSEQUENT = "subsequent"


class Program(StrEnum):
    COCM = "cocm"
    GENERAL_BHI = "general_bhi"


class ClinicSetting(StrEnum):
    PRACTICE = "practice"
    FQHC = "fqhc"
    RHC = "rhc"


class Role(StrEnum):
    CARE_MANAGER = "care_manager"
    BILLING_PRACTITIONER = "billing_practitioner"
    PSYCHIATRIC_CONSULTANT = "psychiatric_consultant"


class BillingStatus(StrEnum):
    READY = "ready"
    BLOCKED = "blocked"
    NOT_BILLABLE = "not_billable"


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """A calendar month."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1..12, got {self.month}")

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @property
    def index(self) -> int:
        """Months since year 0; consecutive months differ by one."""
        return self.year * 12 + self.month - 1

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return _last_day(self.year, self.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


MonthLike = Month | tuple[int, int]


@cache
def _last_day(year: int, month: int) -> date:
    # Cached: a month close asks it tens of thousands of times for the same few months.
    return date(year, month, monthrange(year, month)[1])


# CMS discontinued G0512 on 2026-01-01; RHC/FQHC bill the CPT CoCM codes from then on.
CPT_CODES_AT_FQHC_RHC_FROM = Month(2026, 1)


@dataclass(frozen=True, slots=True)
class BillingRules:
    """Payer-configurable choices; each default is the conservative reading of an [I] rule."""

    # [I] 1.3: report G2214 for 31-35 minutes in an initial month, where 99492 (36) is not
    # reached. False: nothing is billable at 31-35 in an initial month.
    g2214_in_initial_31_to_35: bool = True
    # [I] 1.4 step 3: the first service month is the initial month even if nothing was
    # billable in it. False: earlier months of the episode with nothing billable do not use up
    # the initial month (ServiceMonth.billable says which months billed something).
    first_short_month_is_initial: bool = True
    # [I] 1.4 step 4: re-enrollment less than `gap_months_for_new_episode` months after a
    # discharge continues the same episode. True: the first service month of a new registry
    # episode is initial.
    restart_on_reenrollment: bool = False
    # [I] 1.2: psychiatric consultant time is bundled in the codes and does not count toward
    # thresholds. True for payers (e.g. BCBSM 2022) that count the whole care team triad.
    count_consultant_minutes: bool = False
    # [I] 1.2: time while the patient is inpatient or in observation. CMS (CY2017 rule) allows
    # it, so the Medicare default is True; CPT/AAP guidance says False.
    count_inpatient_minutes: bool = True
    # [V] 1.3: per-payer cap on 99494 units per month (NC Medicaid: 4). None: no cap.
    max_99494_units: int | None = None
    # [V] 1.4: full calendar months without service that start a new episode.
    gap_months_for_new_episode: int = 6
    # [I] 1.4 step 1 and 6.5: a month with documented activity but nothing billable is a
    # service month for the gap rule. False: only billable months keep an episode going.
    nonbillable_months_are_service_months: bool = True
    # [V] 1.5: the initiating visit must fall within this many months before CoCM starts.
    initiating_visit_lookback_months: int = 12
    # [V] 1.7: first month in which RHC/FQHC bill the CPT codes instead of G0512.
    fqhc_rhc_cpt_codes_from: Month = CPT_CODES_AT_FQHC_RHC_FROM

    def __post_init__(self) -> None:
        if self.max_99494_units is not None and self.max_99494_units < 0:
            raise ValueError("max_99494_units must be >= 0 or None")
        if self.gap_months_for_new_episode < 1:
            raise ValueError("gap_months_for_new_episode must be >= 1")


DEFAULT_RULES = BillingRules()


@dataclass(frozen=True, slots=True)
class TimeEntry:
    """Documented minutes of one person on one day; `start` enables overlap merging."""

    on: date
    minutes: int
    role: Role
    staff_id: int | str
    separately_billed: bool = False
    start: datetime | None = None
    inpatient: bool = False
    no_show: bool = False  # the patient did not attend: an attempt, not a service

    def __post_init__(self) -> None:
        if self.minutes < 0:
            raise ValueError(f"minutes must be >= 0, got {self.minutes}")


@dataclass(frozen=True, slots=True)
class ServiceMonth:
    """A month with any documented CoCM activity, in any registry episode."""

    month: Month
    registry_episode: int | str | None = None  # None: unknown, treated as the same episode
    billable: bool = True  # False: documented activity but nothing was billable that month


@dataclass(frozen=True, slots=True)
class EpisodeFacts:
    """What the billing decision needs to know about the patient's episode and this month."""

    program: Program
    clinic_setting: ClinicSetting
    consent_on: date | None
    initiating_visit_on: date | None
    psychiatric_consultant_assigned: bool
    general_bhi_billed_this_month: bool = False  # a separate 99484 claim exists this month
    cocm_billed_this_month: bool = False  # a separate CoCM claim exists this month
    started_on: date | None = None  # CoCM start (referral); None: the consent date is used
    registry_episode: int | str | None = None  # registry episode this month belongs to
    # Revocations of consent: no minute from a revocation to the next consent counts (1.5).
    consent_revoked: tuple[RevokedPeriod, ...] = ()


@dataclass(frozen=True, slots=True)
class CodeLine:
    code: Code
    units: int


class Excluded(NamedTuple):
    minutes: int
    reason: str


@dataclass(frozen=True, slots=True)
class MonthResult:
    """The decision for one patient-month, with everything needed to explain it."""

    month: Month
    program: Program
    month_type: MonthType
    minutes_counted: int
    excluded: tuple[Excluded, ...]  # minutes left out, summed per reason, first seen first
    codes: tuple[CodeLine, ...]  # empty unless status is READY
    decision: str
    threshold_crossed: int | None  # highest threshold reached by the counted minutes
    blocked_reasons: tuple[str, ...]
    minutes_to_next_threshold: int | None  # None: no higher billable threshold exists
    status: BillingStatus
    # The day the counted minutes reached `threshold_crossed` (a possible date of service).
    threshold_reached_on: date | None = None

    @property
    def billable(self) -> bool:
        return self.status is BillingStatus.READY


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Minutes at which each CoCM code is attained in one kind of month."""

    month_type: MonthType
    base_code: Code  # 99492 (initial) or 99493 (subsequent)
    g2214: int  # G2214 from here ...
    g2214_through: int  # ... through here
    base: int
    add_on: int  # first 99494 unit
    add_on_step: int  # minutes per further 99494 unit


def _midpoint(unit_minutes: int) -> int:
    # CPT: "a unit of time is attained when the mid-point is passed".
    return unit_minutes // 2 + 1


_G2214_MINUTES = 30
_INITIAL_BASE_MINUTES = 70  # 99492
_SUBSEQUENT_BASE_MINUTES = 60  # 99493
_ADD_ON_MINUTES = 30  # 99494
_GENERAL_BHI_MINUTES = 20  # 99484 "at least 20 minutes": the midpoint rule does not lower it
_G0512_MINUTES = 60  # G0512 "60 minutes or more"


def _thresholds_for(kind: MonthType, g2214_in_initial_31_to_35: bool) -> Thresholds:
    base_minutes = _INITIAL_BASE_MINUTES if kind is MonthType.INITIAL else _SUBSEQUENT_BASE_MINUTES
    base = _midpoint(base_minutes)
    # G2214 covers "the first 30 minutes"; in an initial month it also fills 31-35, where
    # 99492 is not yet reached ([I] 1.3).
    fills_gap = kind is MonthType.INITIAL and g2214_in_initial_31_to_35
    return Thresholds(
        month_type=kind,
        base_code=Code.CPT_99492 if kind is MonthType.INITIAL else Code.CPT_99493,
        g2214=_midpoint(_G2214_MINUTES),
        g2214_through=base - 1 if fills_gap else min(_G2214_MINUTES, base - 1),
        base=base,
        add_on=base_minutes + _midpoint(_ADD_ON_MINUTES),
        add_on_step=_ADD_ON_MINUTES,
    )


_THRESHOLDS = {
    (kind, flag): _thresholds_for(kind, flag) for kind in MonthType for flag in (True, False)
}
_CPT_COCM_SETTINGS = frozenset({ClinicSetting.FQHC, ClinicSetting.RHC})

REASON_NO_CONSENT = "no documented consent"
REASON_SEPARATELY_BILLED = "separately billed service"
REASON_CONSULTANT = "psychiatric consultant time (included in the codes)"
REASON_INPATIENT = "inpatient or observation time"
REASON_OVERLAP = "overlapping time by the same staff member (counted once)"
REASON_NO_CONSULTANT = "no psychiatric consultant assigned"
REASON_NO_SHOW = "no-show (the patient did not attend)"
REASON_REVOKED = "consent revoked"


def month_index(month: MonthLike) -> int:
    """Months since year 0, so that consecutive calendar months differ by one (1.4)."""
    return _as_month(month).index


def months_between(earlier: MonthLike, later: MonthLike) -> int:
    """Full calendar months strictly between two months (the gap of docs/rules.md 1.4)."""
    return _as_month(later).index - _as_month(earlier).index - 1


def _as_month(value: MonthLike) -> Month:
    return value if isinstance(value, Month) else Month(*value)


def _as_service_month(value: ServiceMonth | MonthLike) -> ServiceMonth:
    return value if isinstance(value, ServiceMonth) else ServiceMonth(_as_month(value))


def month_type(
    month: MonthLike,
    service_months: Iterable[ServiceMonth | MonthLike],
    *,
    rules: BillingRules = DEFAULT_RULES,
    registry_episode: int | str | None = None,
) -> MonthType:
    """Initial or subsequent month: CPT episode of care (NC Medicaid 2025) and [I] 1.4."""
    target = _as_month(month).index
    earlier: list[tuple[int, ServiceMonth]] = []
    own_episode = registry_episode
    for item in service_months:
        service_month = _as_service_month(item)
        index = service_month.month.index
        if index < target:
            if service_month.billable or rules.nonbillable_months_are_service_months:
                earlier.append((index, service_month))
        elif index == target and own_episode is None:
            own_episode = service_month.registry_episode
    earlier.sort(key=lambda pair: pair[0], reverse=True)

    # Walk back from the month while gaps stay short: those months form its episode of care.
    episode: list[ServiceMonth] = []
    later = target
    for index, service_month in earlier:
        if later - index - 1 >= rules.gap_months_for_new_episode:
            break
        episode.append(service_month)
        later = index
    if rules.restart_on_reenrollment and own_episode is not None:
        # A month of unknown registry episode is taken to be the same one: no restart.
        episode = [
            service_month
            for service_month in episode
            if service_month.registry_episode in (None, own_episode)
        ]
    if not episode:
        return MonthType.INITIAL
    if not rules.first_short_month_is_initial and not any(m.billable for m in episode):
        return MonthType.INITIAL
    return MonthType.SUBSEQUENT


def thresholds(month_type: MonthType, rules: BillingRules = DEFAULT_RULES) -> Thresholds:
    """CoCM thresholds by the CPT midpoint rule (docs/rules.md 1.3)."""
    return _THRESHOLDS[(month_type, rules.g2214_in_initial_31_to_35)]


class _Plan(NamedTuple):
    codes: tuple[CodeLine, ...]
    threshold_crossed: int | None
    next_threshold: int | None
    next_code: Code | None
    add_on_units_reached: int  # 99494 units before any payer cap


def _single_code_plan(minutes: int, code: Code, minimum: int) -> _Plan:
    if minutes >= minimum:
        return _Plan((CodeLine(code, 1),), minimum, None, None, 0)
    return _Plan((), None, minimum, code, 0)


def _cocm_plan(minutes: int, table: Thresholds, cap: int | None) -> _Plan:
    if minutes < table.g2214:
        return _Plan((), None, table.g2214, Code.HCPCS_G2214, 0)
    if minutes < table.base:
        if minutes <= table.g2214_through:
            g2214 = (CodeLine(Code.HCPCS_G2214, 1),)
            return _Plan(g2214, table.g2214, table.base, table.base_code, 0)
        return _Plan((), None, table.base, table.base_code, 0)
    base = CodeLine(table.base_code, 1)
    if minutes < table.add_on:
        if cap == 0:
            return _Plan((base,), table.base, None, None, 0)
        return _Plan((base,), table.base, table.add_on, Code.CPT_99494, 0)
    units = 1 + (minutes - table.add_on) // table.add_on_step
    crossed = table.add_on + (units - 1) * table.add_on_step
    billed = units if cap is None else min(units, cap)
    codes = (base, CodeLine(Code.CPT_99494, billed)) if billed else (base,)
    if cap is not None and units >= cap:
        return _Plan(codes, crossed, None, None, units)
    return _Plan(codes, crossed, crossed + table.add_on_step, Code.CPT_99494, units)


def _bills_g0512(setting: ClinicSetting, month: Month | None, rules: BillingRules) -> bool:
    if setting not in _CPT_COCM_SETTINGS:
        return False
    if month is None:
        raise ValueError("month is required to choose codes for an FQHC or RHC")
    return month < rules.fqhc_rhc_cpt_codes_from


def _plan(
    minutes: int,
    month_type: MonthType,
    rules: BillingRules,
    setting: ClinicSetting,
    program: Program,
    month: Month | None,
) -> _Plan:
    g0512 = program is not Program.GENERAL_BHI and _bills_g0512(setting, month, rules)
    return _codes_plan(
        minutes,
        month_type,
        program,
        g0512,
        rules.g2214_in_initial_31_to_35,
        rules.max_99494_units,
    )


def _codes_plan(
    minutes: int,
    month_type: MonthType,
    program: Program,
    g0512: bool,
    g2214_in_initial_31_to_35: bool,
    cap: int | None,
) -> _Plan:
    if program is Program.GENERAL_BHI:
        return _single_code_plan(minutes, Code.CPT_99484, _GENERAL_BHI_MINUTES)
    if g0512:
        return _single_code_plan(minutes, Code.HCPCS_G0512, _G0512_MINUTES)
    return _cocm_plan(minutes, _THRESHOLDS[(month_type, g2214_in_initial_31_to_35)], cap)


def codes_for_minutes(
    minutes: int,
    month_type: MonthType,
    *,
    rules: BillingRules = DEFAULT_RULES,
    setting: ClinicSetting = ClinicSetting.PRACTICE,
    program: Program = Program.COCM,
    month: MonthLike | None = None,
) -> tuple[CodeLine, ...]:
    """Codes and units for counted minutes alone (docs/rules.md 1.3 and 1.7)."""
    target = None if month is None else _as_month(month)
    return _plan(minutes, month_type, rules, setting, program, target).codes


def minutes_to_next_threshold(
    minutes: int,
    month_type: MonthType,
    *,
    rules: BillingRules = DEFAULT_RULES,
    setting: ClinicSetting = ClinicSetting.PRACTICE,
    program: Program = Program.COCM,
    month: MonthLike | None = None,
) -> int | None:
    """Minutes still needed for the next billable threshold (docs/rules.md 1.3 and 1.7)."""
    target = None if month is None else _as_month(month)
    plan = _plan(minutes, month_type, rules, setting, program, target)
    return None if plan.next_threshold is None else plan.next_threshold - minutes


def merge_overlapping(entries: Sequence[TimeEntry]) -> tuple[TimeEntry, ...]:
    """Count a person's overlapping timed entries once (same minutes not twice, 1.2)."""
    if all(entry.start is None for entry in entries):
        return tuple(entries)
    merged = list(entries)
    covered_until: dict[int | str, datetime] = {}
    # Entries sorted by start: whatever of an entry lies before the running end of the same
    # person's earlier entries is already counted, the rest is new.
    timed = [(entry.start, i) for i, entry in enumerate(entries) if entry.start is not None]
    timed.sort(key=lambda pair: pair[0])
    for start, i in timed:
        entry = entries[i]
        end = start + timedelta(minutes=entry.minutes)
        until = covered_until.get(entry.staff_id)
        if until is None or until <= start:
            covered_until[entry.staff_id] = end
            continue
        kept = max(0, (end - until) // timedelta(minutes=1))
        merged[i] = replace(entry, minutes=kept, start=min(until, end))
        covered_until[entry.staff_id] = max(until, end)
    return tuple(merged)


def _exclusion_reason(entry: TimeEntry, rules: BillingRules) -> str | None:
    """Why documented minutes do not count (1.2); a no-show is no care-management service
    (CPT: time spent on the patient's care; an unattended appointment is not)."""
    if entry.no_show:
        return REASON_NO_SHOW
    if entry.separately_billed:
        return REASON_SEPARATELY_BILLED
    if entry.role is Role.PSYCHIATRIC_CONSULTANT and not rules.count_consultant_minutes:
        return REASON_CONSULTANT
    if entry.inpatient and not rules.count_inpatient_minutes:
        return REASON_INPATIENT
    return None


@lru_cache(maxsize=8192)  # a month close asks it for the same start dates many times
def _minus_months(day: date, months: int) -> date:
    year, month0 = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month0 + 1, min(day.day, _last_day(year, month0 + 1).day))


def _blocked_reasons(
    month: Month,
    episode: EpisodeFacts,
    rules: BillingRules,
    latest_before_consent: date | None,
    any_on_or_after_consent: bool,
) -> list[str]:
    reasons = []
    consent_on = episode.consent_on
    if consent_on is None:
        reasons.append(REASON_NO_CONSENT)
    elif not any_on_or_after_consent and (
        latest_before_consent is not None or consent_on > month.last_day
    ):
        before = latest_before_consent or month.last_day
        reasons.append(f"{REASON_NO_CONSENT} before {before.isoformat()}")

    started_on = episode.started_on or consent_on or month.first_day
    lookback = rules.initiating_visit_lookback_months
    visit_on = episode.initiating_visit_on
    if visit_on is None or not _minus_months(started_on, lookback) <= visit_on <= started_on:
        reasons.append(
            f"no initiating visit within {lookback} months before {started_on.isoformat()}"
        )

    if episode.program is Program.COCM:
        if not episode.psychiatric_consultant_assigned:
            reasons.append(REASON_NO_CONSULTANT)
        if episode.general_bhi_billed_this_month:
            reasons.append(
                f"99484 (general BHI) already billed for {month}; "
                "CoCM and 99484 cannot be reported in the same month"
            )
    elif episode.cocm_billed_this_month:
        reasons.append(
            f"CoCM already billed for {month}; 99484 and CoCM cannot be reported in the same month"
        )
    return reasons


def _context(
    program: Program, kind: MonthType, setting: ClinicSetting, g0512_until: Month | None
) -> str:
    if program is Program.GENERAL_BHI:
        return " of general BHI"
    if g0512_until is not None:
        return f" at an {setting.upper()} before {g0512_until}"
    article = "an" if kind is MonthType.INITIAL else "a"
    return f" in {article} {kind} month"


def _decision(minutes: int, plan: _Plan, context: str, cap: int | None) -> str:
    if not plan.codes:
        text = f"nothing billable: {minutes} counted minutes{context}"
        if plan.next_threshold is not None:  # always: every schedule starts with a threshold
            text += (
                f"; {plan.next_code} needs {plan.next_threshold} "
                f"({plan.next_threshold - minutes} more)"
            )
        return text
    codes = " + ".join(f"{line.code} x{line.units}" for line in plan.codes)
    text = (
        f"{codes}: {minutes} counted minutes{context} "
        f"crossed the {plan.threshold_crossed}-minute threshold"
    )
    if plan.codes[0].code is Code.HCPCS_G2214:
        text += f"; {plan.next_code} needs {plan.next_threshold}"
    if cap is not None and plan.add_on_units_reached > cap:
        text += f"; 99494 capped at {cap} units by payer rule ({plan.add_on_units_reached} reached)"
    return text


@dataclass(frozen=True, slots=True)
class CountedMinutes:
    """A patient-month's minutes as the engine counts them (1.2, 1.5): what the month's
    decision needs of its time entries, and what a stored per-episode-month aggregate holds."""

    minutes: int  # counted, after overlapping time is counted once
    excluded: tuple[Excluded, ...] = ()  # minutes left out, summed per reason, first seen first
    daily: tuple[tuple[date, int], ...] = ()  # counted minutes per day, by day
    latest_before_consent: date | None = None  # the last day with an entry before consent
    any_on_or_after_consent: bool = False  # an entry on or after the consent date


def count_minutes(
    month: MonthLike,
    entries: Sequence[TimeEntry],
    *,
    consent_on: date | None,
    consent_revoked: Sequence[RevokedPeriod] = (),
    rules: BillingRules = DEFAULT_RULES,
) -> CountedMinutes:
    """The minutes that count toward the month's thresholds, and why others do not (1.2, 1.5)."""
    target = _as_month(month)
    excluded: dict[str, int] = {}
    countable: list[TimeEntry] = []
    latest_before_consent: date | None = None
    any_on_or_after_consent = False
    for entry in entries:
        on = entry.on
        if on.year != target.year or on.month != target.month:
            reason: str | None = f"outside {target}"
        elif consent_on is not None and on < consent_on:
            # Minutes before consent never count (CMS-1654-F: consent before starting).
            reason = f"before consent on {consent_on.isoformat()}"
            if latest_before_consent is None or on > latest_before_consent:
                latest_before_consent = on
        elif consent_revoked and (period := revoked_period_on(consent_revoked, on)) is not None:
            # Consent withdrawn: the basis for billing ends on that day (1.5).
            any_on_or_after_consent = True
            reason = f"{REASON_REVOKED} on {period.revoked_on.isoformat()}"
        else:
            any_on_or_after_consent = True
            reason = _exclusion_reason(entry, rules)
        if reason is None:
            countable.append(entry)
        elif entry.minutes:
            excluded[reason] = excluded.get(reason, 0) + entry.minutes

    raw_minutes = sum(entry.minutes for entry in countable)
    merged = merge_overlapping(countable)
    minutes = sum(entry.minutes for entry in merged)
    if minutes < raw_minutes:
        excluded[REASON_OVERLAP] = raw_minutes - minutes
    daily: dict[date, int] = {}
    for entry in sorted(merged, key=lambda entry: entry.on):
        daily[entry.on] = daily.get(entry.on, 0) + entry.minutes
    return CountedMinutes(
        minutes,
        tuple(Excluded(m, reason) for reason, m in excluded.items()),
        tuple(daily.items()),
        latest_before_consent,
        any_on_or_after_consent,
    )


def bill_month(
    month: MonthLike,
    entries: Sequence[TimeEntry],
    episode: EpisodeFacts,
    service_months: Iterable[ServiceMonth | MonthLike],
    *,
    rules: BillingRules = DEFAULT_RULES,
) -> MonthResult:
    """Codes, units and explanation for one patient-month (docs/rules.md section 1)."""
    counted = count_minutes(
        month,
        entries,
        consent_on=episode.consent_on,
        consent_revoked=episode.consent_revoked,
        rules=rules,
    )
    return decide_month(month, counted, episode, service_months, rules=rules)


def decide_month(
    month: MonthLike,
    counted: CountedMinutes,
    episode: EpisodeFacts,
    service_months: Iterable[ServiceMonth | MonthLike],
    *,
    rules: BillingRules = DEFAULT_RULES,
) -> MonthResult:
    """The month's codes and explanation from its counted minutes (docs/rules.md section 1)."""
    target = _as_month(month)
    kind = month_type(
        target, service_months, rules=rules, registry_episode=episode.registry_episode
    )
    minutes = counted.minutes
    setting = episode.clinic_setting
    program = episode.program
    g0512 = program is Program.COCM and _bills_g0512(setting, target, rules)
    g0512_until = rules.fqhc_rhc_cpt_codes_from if g0512 else None
    plan, decision = _explained_plan(
        minutes,
        kind,
        program,
        setting,
        g0512_until,
        rules.g2214_in_initial_31_to_35,
        rules.max_99494_units,
    )
    reasons = tuple(
        _blocked_reasons(
            target,
            episode,
            rules,
            counted.latest_before_consent,
            counted.any_on_or_after_consent,
        )
    )
    if episode.consent_revoked:
        decision += _revocation_note(target, episode.consent_revoked)
    if reasons:
        status = BillingStatus.BLOCKED
        decision = f"blocked ({'; '.join(reasons)}); by minutes alone: {decision}"
    elif plan.codes:
        status = BillingStatus.READY
    else:
        status = BillingStatus.NOT_BILLABLE
    return MonthResult(
        month=target,
        program=program,
        month_type=kind,
        minutes_counted=minutes,
        excluded=counted.excluded,
        codes=plan.codes if status is BillingStatus.READY else (),
        decision=decision,
        threshold_crossed=plan.threshold_crossed,
        blocked_reasons=reasons,
        minutes_to_next_threshold=(
            None if plan.next_threshold is None else plan.next_threshold - minutes
        ),
        status=status,
        threshold_reached_on=_reached_on(counted.daily, plan.threshold_crossed),
    )


@lru_cache(maxsize=8192)
def _explained_plan(
    minutes: int,
    kind: MonthType,
    program: Program,
    setting: ClinicSetting,
    g0512_until: Month | None,
    g2214_in_initial_31_to_35: bool,
    cap: int | None,
) -> tuple[_Plan, str]:
    # Cached: a month close decides tens of thousands of months in which these few values
    # repeat; the codes and their explanation depend on nothing else (`_plan`, `_decision`).
    g0512 = g0512_until is not None
    plan = _codes_plan(minutes, kind, program, g0512, g2214_in_initial_31_to_35, cap)
    return plan, _decision(minutes, plan, _context(program, kind, setting, g0512_until), cap)


def _revocation_note(month: Month, revoked: Sequence[RevokedPeriod]) -> str:
    """What the explanation says of revocations in force during the month (1.5)."""
    notes = []
    for period in revoked:
        if period.revoked_on > month.last_day:
            continue
        if period.renewed_on is not None and period.renewed_on <= month.first_day:
            continue
        note = f"{REASON_REVOKED} on {period.revoked_on.isoformat()}: no minute from then counts"
        if period.renewed_on is not None:
            note += f" until consent was given again on {period.renewed_on.isoformat()}"
        notes.append(note)
    return "".join(f"; {note}" for note in notes)


def _reached_on(daily: Sequence[tuple[date, int]], threshold: int | None) -> date | None:
    """First day the running total of counted minutes reaches the threshold (1.3)."""
    if threshold is None:
        return None
    total = 0
    for day, minutes in daily:
        total += minutes
        if total >= threshold:
            return day
    return None
