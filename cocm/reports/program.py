"""Program indicators for a period and a level (organization, clinic, care manager).

`program_report` loads the scope's enrolled episodes and their PHQ-9/GAD-7 dates, contacts
and reviews in a fixed number of set-based queries (one per table, whatever the number of
patients), hands them to the pure rules of `cocm.domain.indicators`, and adds what the
dashboard charts: caseload and enrollments by month, outcomes by enrollment-month cohort,
weeks to first response, the comparison of care managers and billing capture (decided by
`cocm.billing.services`, never recomputed here).

The report is cached for the day, keyed by a stamp of the scope's data: every write that
changes an episode's contacts, measures, reviews, status or payer bumps the episode's
caseload generation (`cocm.care.caseload`), so the sum of generations changes and the next
read computes afresh. A write that bypasses the signals must call `mark_changed`, as the
caseload already requires.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.http import urlencode

from cocm.accounts.models import Clinic, User, staff_name
from cocm.billing.models import ClaimLine, ClosedMonth
from cocm.billing.rules import organization_rules
from cocm.billing.services import parse_month, stored_decisions
from cocm.care.models import CaseReview, Contact, TimeRole
from cocm.domain import coding
from cocm.domain import indicators as rules
from cocm.domain import surveys as survey_rules
from cocm.domain.episodes import weeks_in_treatment
from cocm.domain.indicators import EpisodeRecord, Indicator, Kind, Period
from cocm.domain.instruments import InstrumentCode
from cocm.errors import InvalidRequest
from cocm.measures.models import Assessment
from cocm.registry.models import Episode, patient_name
from cocm.reports.quality import MeasureRate, data_stamp, rates_by_quarter
from cocm.toolkit import surveys

# Bump when ProgramReport changes shape: cached reports of the older shape are then unused.
REPORT_FORMAT = 2
CACHE_SECONDS = 24 * 60 * 60
MAX_PERIOD_DAYS = 3 * 366
CHART_MONTHS = 12
# Outcome windows reach 12 months + 60 days past the baseline, which may precede enrollment.
LOOK_BACK_DAYS = 430
CHUNK = 5000  # SQLite allows 32,766 parameters per query
CAPTURE_CODES = (
    coding.Code.CPT_99492.value,
    coding.Code.CPT_99493.value,
    coding.Code.CPT_99494.value,
    coding.Code.HCPCS_G2214.value,
    coding.Code.CPT_99484.value,
    coding.Code.HCPCS_G0512.value,
)
# The contract's keys first, then the rest, in the order the dashboard lists them.
INDICATOR_ORDER = (
    "active_caseload",
    "new_enrollments",
    "baseline_measure_pct",
    "follow_up_within_4_weeks_pct",
    "contacted_last_30_days_pct",
    "repeat_measure_last_30_days_pct",
    "psychiatric_review_of_non_improvers_pct",
    "response_10_12_weeks_pct",
    "response_6_months_pct",
    "remission_6_months_pct",
    "response_12_months_pct",
    "remission_12_months_pct",
    "median_weeks_to_response",
    "median_weeks_to_remission",
    "psychiatric_consultant_hours_per_100",
)
COMPARED = (
    "active_caseload",
    "contacted_last_30_days_pct",
    "repeat_measure_last_30_days_pct",
    "response_10_12_weeks_pct",
)
NO_CARE_MANAGER = ("No care manager", "")  # (name, username)
RESPONSE_BINS = ((0, 4), (5, 8), (9, 12), (13, 16), (17, 24), (25, None))


class UnknownFilter(InvalidRequest):
    """A clinic or care manager that is not in the user's organization and clinics."""


@dataclass(frozen=True)
class Filters:
    period: Period
    clinic: Clinic | None = None
    care_manager: User | None = None

    def query(self) -> dict[str, str]:
        """The same filters as query parameters (drill-down links, exports)."""
        params = {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()}
        if self.clinic is not None:
            params["clinic"] = str(self.clinic.id)
        if self.care_manager is not None:
            params["care_manager"] = self.care_manager.username
        return params

    @property
    def level(self) -> str:
        if self.care_manager is not None:
            return f"care manager {self.care_manager}"
        if self.clinic is not None:
            return f"clinic {self.clinic.name}"
        return "organization"


@dataclass(frozen=True)
class MonthPoint:
    month: str
    active_caseload: int
    new_enrollments: int
    billing_any_pct: float | None
    patient_months: int


@dataclass(frozen=True)
class Cohort:
    month: str
    eligible: int
    responded: int
    remitted: int

    @property
    def response_pct(self) -> float | None:
        return rules.percent(self.responded, self.eligible)

    @property
    def remission_pct(self) -> float | None:
        return rules.percent(self.remitted, self.eligible)


@dataclass(frozen=True)
class CareManagerRow:
    care_manager_id: int | None
    name: str
    username: str
    indicators: dict[str, Indicator]


@dataclass
class ProgramReport:
    period: Period
    level: str
    indicators: dict[str, Indicator]
    months: list[MonthPoint]
    cohorts: list[Cohort]
    weeks_to_response: list[tuple[str, int]]
    care_managers: list[CareManagerRow]
    discharge_keys: list[str] = field(default_factory=list)
    billing_keys: list[str] = field(default_factory=list)
    # The patients behind each bar of the charts (`chart_key`), for their drill-down links.
    chart_indicators: dict[str, Indicator] = field(default_factory=dict)

    def ordered(self) -> list[Indicator]:
        keys = [*INDICATOR_ORDER, "discharges", *self.discharge_keys, *self.billing_keys]
        return [self.indicators[key] for key in keys]

    def figure(self, key: str) -> Indicator | None:
        """An indicator or a chart's bar, by its key (None if there is none)."""
        return self.indicators.get(key) or self.chart_indicators.get(key)


def chart_key(chart: str, *parts: object) -> str:
    """The key of one bar of a chart, e.g. "caseload:2026-11" (drill-down links)."""
    return ":".join([chart, *map(str, parts)])


# ----------------------------------------------------------------------------- filters


def parse_date(text: str | None, name: str) -> date | None:
    if text in (None, ""):
        return None
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise InvalidRequest(f"'{text}' is not a date (YYYY-MM-DD).", name) from None


def scope(user: User) -> QuerySet[Episode]:
    """Enrolled episodes of the user's clinics. Statistics leave out break-glass patients:
    emergency access opens a chart, it does not widen a report."""
    return Episode.objects.filter(
        clinic_id__in=user.clinic_ids,
        clinic__organization_id=user.organization_id,
        enrolled_on__isnull=False,
    )


def parse_filters(user: User, data: Mapping[str, Any], *, today: date) -> Filters:
    """The period (`from`, `to`; default the 12 months to today), clinic id and care manager
    username; InvalidRequest names the field at fault, UnknownFilter one not found."""
    end = parse_date(data.get("to"), "to") or today
    start = parse_date(data.get("from"), "from") or (rules.add_months(end, -12) + timedelta(1))
    if end > today:
        raise InvalidRequest(f"The period cannot end after today ({today.isoformat()}).", "to")
    if start > end:
        raise InvalidRequest("The period starts after it ends.", "from")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise InvalidRequest("A period can be at most three years long.", "from")
    clinic = None
    clinic_text = str(data.get("clinic") or "")
    if clinic_text:
        clinic_id = int(clinic_text) if clinic_text.isdigit() else -1
        if clinic_id not in user.clinic_ids:
            raise UnknownFilter("No such clinic among yours.", "clinic")
        clinic = Clinic.objects.get(id=clinic_id)
    care_manager = None
    username = str(data.get("care_manager") or "")
    if username:
        care_manager = User.objects.filter(
            username=username,
            organization_id=user.organization_id,
            memberships__clinic_id__in=user.clinic_ids,
        ).first()
        if care_manager is None:
            raise UnknownFilter("No such care manager in your clinics.", "care_manager")
    return Filters(Period(start, end), clinic, care_manager)


def month_filters(user: User, month: str, *, today: date) -> Filters:
    """The filters of a monthly report: the month, up to today if it is the current one."""
    parsed = parse_month(month)
    period = rules.month_period(str(parsed))
    if period.start > today:
        raise InvalidRequest(f"{month} has not started yet.", "month")
    return Filters(Period(period.start, min(period.end, today)))


def filtered(user: User, filters: Filters) -> QuerySet[Episode]:
    episodes = scope(user)
    if filters.clinic is not None:
        episodes = episodes.filter(clinic=filters.clinic)
    if filters.care_manager is not None:
        episodes = episodes.filter(care_manager=filters.care_manager)
    return episodes


# ------------------------------------------------------------------------------ loading


def chart_period(period: Period) -> Period:
    """The twelve calendar months ending with the period's last month (the charts' span)."""
    first = rules.add_months(period.end.replace(day=1), 1 - CHART_MONTHS)
    return Period(first, period.end)


def relevant(episodes: QuerySet[Episode], period: Period) -> QuerySet[Episode]:
    """The episodes any indicator or chart of the period can count."""
    since = min(period.start, chart_period(period).start)
    return episodes.filter(enrolled_on__lte=period.end).filter(
        Q(enrolled_on__gte=since - timedelta(days=LOOK_BACK_DAYS))
        | Q(discharged_on__isnull=True)
        | Q(discharged_on__gte=since)
    )


def load_records(episodes: QuerySet[Episode], period: Period) -> list[EpisodeRecord]:
    """Four queries, whatever the number of episodes: episodes, measures, contacts, reviews."""
    ids = episodes.order_by().values("id")
    rows = list(
        episodes.order_by("id").values_list(
            "id", "enrolled_on", "discharged_on", "discharge_reason", "care_manager_id"
        )
    )
    phq9: dict[int, list[tuple[date, int]]] = defaultdict(list)
    measured: dict[int, list[date]] = defaultdict(list)
    for episode_id, instrument, taken_on, total in (
        Assessment.objects.filter(
            episode_id__in=ids,
            is_current=True,
            instrument__in=[InstrumentCode.PHQ9, InstrumentCode.GAD7],
            taken_on__lte=period.end,
        )
        .order_by("episode_id", "taken_on", "id")
        .values_list("episode_id", "instrument", "taken_on", "total")
    ):
        measured[episode_id].append(taken_on)
        if instrument == InstrumentCode.PHQ9:
            phq9[episode_id].append((taken_on, total))
    contacted: dict[int, list[date]] = defaultdict(list)
    consultant: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for episode_id, occurred_on, role, minutes in (
        Contact.objects.filter(
            episode_id__in=ids,
            no_show=False,
            occurred_on__gte=period.start - timedelta(days=31),
            occurred_on__lte=period.end,
        )
        .order_by("episode_id", "occurred_on")
        .values_list("episode_id", "occurred_on", "role", "minutes")
    ):
        if role == TimeRole.CARE_MANAGER:
            contacted[episode_id].append(occurred_on)
        elif role == TimeRole.PSYCHIATRIC_CONSULTANT:
            consultant[episode_id].append((occurred_on, minutes))
    reviewed: dict[int, list[date]] = defaultdict(list)
    for episode_id, reviewed_on in (
        CaseReview.objects.filter(
            episode_id__in=ids,
            reviewed_on__gte=period.start - timedelta(days=100),
            reviewed_on__lte=period.end,
        )
        .order_by("episode_id", "reviewed_on")
        .values_list("episode_id", "reviewed_on")
    ):
        reviewed[episode_id].append(reviewed_on)
    return [
        EpisodeRecord(
            episode_id=episode_id,
            enrolled_on=enrolled_on,
            # A discharge after the period's end had not happened yet as of the report.
            discharged_on=discharged_on if discharged_on and discharged_on <= period.end else None,
            discharge_reason=reason if discharged_on and discharged_on <= period.end else "",
            care_manager_id=care_manager_id,
            phq9=tuple(phq9.get(episode_id, ())),
            measured_on=tuple(measured.get(episode_id, ())),
            contacted_on=tuple(contacted.get(episode_id, ())),
            reviewed_on=tuple(reviewed.get(episode_id, ())),
            consultant_minutes=tuple(consultant.get(episode_id, ())),
        )
        for episode_id, enrolled_on, discharged_on, reason, care_manager_id in rows
    ]


def month_codes(user: User, episodes: QuerySet[Episode], months: Sequence[str]) -> dict[str, dict]:
    """Billing codes per episode for each month: the frozen claim lines of a closed month,
    else the billing engine's decision now from the stored episode-months of all the open
    months, read in one query (`billing.services.stored_decisions`, the decisions of
    `month_decisions` without the worklist's names, fees and lines)."""
    organization = user.organization
    closed = set(
        ClosedMonth.objects.filter(organization=organization, month__in=months).values_list(
            "month", flat=True
        )
    )
    codes: dict[str, dict[int, tuple[str, ...]]] = {month: {} for month in months}
    if closed:
        for episode_id, month, claimed in ClaimLine.objects.filter(
            episode_id__in=episodes.order_by().values("id"), month__in=closed, frozen=True
        ).values_list("episode_id", "month", "codes"):
            codes[month][episode_id] = tuple(line["code"] for line in claimed)
    open_months = {parse_month(month): month for month in months if month not in closed}
    for month, decisions in stored_decisions(organization, episodes, list(open_months)).items():
        for episode_id, result in decisions.items():
            codes[open_months[month]][episode_id] = tuple(str(c.code) for c in result.codes)
    return codes


def scope_month_codes(user: User, months: Sequence[str]) -> dict[str, dict]:
    """`month_codes` for all the user's clinics, each month cached for the day: an episode's
    billing decision does not depend on the report's clinic or care-manager filter, so
    switching filters does not run the billing engine again."""
    episodes = scope(user)
    stamp = [
        REPORT_FORMAT,
        user.organization_id,
        sorted(user.clinic_ids),
        user.organization.today(),
        data_stamp(episodes),
        ClosedMonth.objects.filter(organization_id=user.organization_id).count(),
        organization_rules(user.organization).key,
    ]
    keys = {
        month: "program-month-codes:" + hashlib.sha256(repr([*stamp, month]).encode()).hexdigest()
        for month in months
    }
    cached = cache.get_many(list(keys.values()))
    codes = {month: cached[key] for month, key in keys.items() if key in cached}
    missing = [month for month in months if month not in codes]
    if missing:
        computed = month_codes(user, episodes, missing)
        cache.set_many({keys[month]: computed[month] for month in missing}, CACHE_SECONDS)
        codes.update(computed)
    return codes


def patient_months(
    records: Sequence[EpisodeRecord], months: Sequence[str], codes: Mapping[str, Mapping]
) -> list[rules.PatientMonth]:
    """Each episode's months on the caseload, with the codes of the month (none without time)."""
    result = []
    for month in months:
        span = rules.month_period(month)
        billed = codes[month]
        result.extend(
            rules.PatientMonth(record.episode_id, month, billed.get(record.episode_id, ()))
            for record in records
            if rules.in_treatment_during(record, span)
        )
    return result


# ------------------------------------------------------------------------------ the report


def compute_report(user: User, filters: Filters) -> ProgramReport:
    """Compute the report afresh (only the billing months may come from the day's cache,
    `scope_month_codes`); see `program_report`."""
    period = filters.period
    episodes = relevant(filtered(user, filters), period)
    records = load_records(episodes, period)
    cutoff = settings.COCM_REMISSION_CUTOFF
    indicators = rules.program_indicators(records, period, remission_cutoff=cutoff)
    charts = chart_period(period)
    chart_months = rules.months_of(charts)
    period_months = rules.months_of(period)
    months = sorted(set(chart_months) | set(period_months))
    codes = scope_month_codes(user, months)
    all_months = patient_months(records, months, codes)
    in_period = [pm for pm in all_months if pm.month in period_months]
    capture = rules.billing_capture(in_period, CAPTURE_CODES)
    indicators.update(capture)
    by_month: dict[str, list[rules.PatientMonth]] = defaultdict(list)
    for pm in all_months:
        by_month[pm.month].append(pm)
    enrolled_in = enrolled_by_month(records)
    bars: dict[str, Indicator] = {}
    month_points = []
    for month in chart_months:
        caseload, enrolled, billed = month_figures(
            records, enrolled_in.get(month, []), month, period, by_month.get(month, [])
        )
        bars.update({one.key: one for one in (caseload, enrolled, billed)})
        month_points.append(
            MonthPoint(
                month,
                int(caseload.value or 0),
                int(enrolled.value or 0),
                billed.value,
                int(billed.denominator or 0),
            )
        )
    cohort_rows, cohort_bars = cohorts(enrolled_in, chart_months, period, cutoff)
    weeks, weeks_bars = weeks_histogram(records, period, cutoff)
    compared = care_manager_rows(records, indicators)
    return ProgramReport(
        period=period,
        level=filters.level,
        indicators=indicators,
        months=month_points,
        cohorts=cohort_rows,
        weeks_to_response=weeks,
        care_managers=compared,
        discharge_keys=[key for key in indicators if key.startswith("discharge_")],
        billing_keys=list(capture),
        chart_indicators={**bars, **cohort_bars, **weeks_bars, **care_manager_bars(compared)},
    )


def enrolled_by_month(records: Sequence[EpisodeRecord]) -> dict[str, list[EpisodeRecord]]:
    """The records by their month of enrollment (YYYY-MM), in the records' order."""
    found: dict[str, list[EpisodeRecord]] = defaultdict(list)
    for record in records:
        day = record.enrolled_on
        found[f"{day.year:04d}-{day.month:02d}"].append(record)
    return found


def month_figures(
    records: Sequence[EpisodeRecord],
    enrolled: Sequence[EpisodeRecord],
    month: str,
    period: Period,
    patient_months: Sequence[rules.PatientMonth],
) -> tuple[Indicator, Indicator, Indicator]:
    """One month of the charts: the caseload on its last day (or the period's, if sooner),
    the enrollments during it and its billing capture, each with the episodes behind it."""
    span = rules.month_period(month)
    end = min(span.end, period.end)
    label = month_label(month)
    return (
        rules.count(
            chart_key("caseload", month),
            f"Active caseload on {end.isoformat()}",
            [r.episode_id for r in records if rules.in_treatment_on(r, end)],
            rules.SOURCE_AIMS,
        ),
        rules.count(
            chart_key("enrollments", month),
            f"Enrolled in {label}",
            [r.episode_id for r in enrolled],
            rules.SOURCE_AIMS,
        ),
        rules.rate(
            chart_key("billing_capture", month),
            f"Patient-months with a billable code in {label}",
            [(pm.episode_id, pm.month) for pm in patient_months if pm.codes],
            [(pm.episode_id, pm.month) for pm in patient_months],
            "rules section 4.4; codes decided by the billing engine (cocm.domain.coding)",
        ),
    )


def month_label(month: str) -> str:
    """ "2026-11" → "Nov 2026"."""
    return date.fromisoformat(f"{month}-01").strftime("%b %Y")


def cohorts(
    enrolled_in: Mapping[str, Sequence[EpisodeRecord]],
    months: Sequence[str],
    period: Period,
    cutoff: int,
) -> tuple[list[Cohort], dict[str, Indicator]]:
    """Per enrollment month: episodes with a baseline PHQ-9 >= 10 and how many have reached
    response and remission by the period's end; and each month's two bars with their
    episodes."""
    result, bars = [], {}
    for month in months:
        eligible = [r for r in enrolled_in.get(month, ()) if rules.has_eligible_baseline(r)]
        reached = {
            outcome: [
                r.episode_id
                for r in eligible
                if (on := rules.first_reached_on(r, outcome, remission_cutoff=cutoff)) is not None
                and on <= period.end
            ]
            for outcome in ("response", "remission")
        }
        result.append(
            Cohort(month, len(eligible), len(reached["response"]), len(reached["remission"]))
        )
        for outcome, episodes in reached.items():
            key = chart_key(f"cohort_{outcome}", month)
            bars[key] = rules.rate(
                key,
                f"Enrolled in {month_label(month)} with a baseline PHQ-9 ≥ 10: {outcome} by "
                f"{period.end.isoformat()}",
                episodes,
                [r.episode_id for r in eligible],
                rules.SOURCE_ICSI,
            )
    return result, bars


def weeks_histogram(
    records: Sequence[EpisodeRecord], period: Period, cutoff: int
) -> tuple[list[tuple[str, int]], dict[str, Indicator]]:
    """Weeks in treatment at first response, for the episodes first responding in the
    period: the count per bin, and each bin's episodes."""
    weeks: dict[int, list[int]] = defaultdict(list)
    for record in records:
        on = rules.first_reached_on(record, "response", remission_cutoff=cutoff)
        if on is not None and on in period:
            weeks[weeks_in_treatment(record.enrolled_on, on) or 0].append(record.episode_id)
    bins, bars = [], {}
    for low, high in RESPONSE_BINS:
        label = f"{low}-{high}" if high is not None else f"{low}+"
        episodes = [
            episode
            for week, found in weeks.items()
            if week >= low and (high is None or week <= high)
            for episode in found
        ]
        bins.append((label, len(episodes)))
        key = chart_key("weeks_to_response", label)
        bars[key] = rules.count(
            key, f"First response in the period at {label} weeks in treatment", episodes,
            rules.SOURCE_ICSI,
        )  # fmt: skip
    return bins, bars


def care_manager_bars(rows: Sequence[CareManagerRow]) -> dict[str, Indicator]:
    """The care-manager chart's bars: each compared indicator of each care manager's
    episodes (also "No care manager", which no filter selects)."""
    bars = {}
    for row in rows:
        for key in COMPARED:
            bar = chart_key("care_manager", row.care_manager_id or "none", key)
            one = row.indicators[key]
            bars[bar] = replace(one, key=bar, label=f"{one.label}: {row.name}")
    return bars


def care_manager_rows(
    records: Sequence[EpisodeRecord], indicators: Mapping[str, Indicator]
) -> list[CareManagerRow]:
    """The compared indicators of each care manager's episodes, by name: each is the
    organization's figure restricted to those episodes (`indicators.restricted`)."""
    groups: dict[int | None, list[int]] = defaultdict(list)
    for record in records:
        groups[record.care_manager_id].append(record.episode_id)
    names = {
        user_id: (staff_name(username, first, last, credentials), username)
        for user_id, username, first, last, credentials in User.objects.filter(
            id__in=[key for key in groups if key is not None]
        ).values_list("id", "username", "first_name", "last_name", "credentials")
    }
    rows = []
    for user_id, episode_ids in groups.items():
        name, username = names.get(user_id, NO_CARE_MANAGER) if user_id else NO_CARE_MANAGER
        compared = {key: rules.restricted(indicators[key], episode_ids) for key in COMPARED}
        rows.append(CareManagerRow(user_id, name, username, compared))
    return sorted(rows, key=lambda row: (row.care_manager_id is None, row.name))


def cache_key(user: User, filters: Filters, today: date) -> str:
    """Who sees the same figures (the same clinics), for which filters, day and data."""
    stamp = data_stamp(filtered(user, filters))
    closed = ClosedMonth.objects.filter(organization_id=user.organization_id).count()
    parts = [
        REPORT_FORMAT,
        user.organization_id,
        sorted(user.clinic_ids),
        sorted(filters.query().items()),
        today,
        stamp,
        closed,
        settings.COCM_REMISSION_CUTOFF,
        organization_rules(user.organization).key,
    ]
    return "program-report:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def program_report(user: User, filters: Filters, *, today: date) -> ProgramReport:
    """The report for the user's clinics and these filters, cached for the day until the
    next write to the scope's episodes (see the module docstring)."""
    key = cache_key(user, filters, today)
    report = cache.get(key)
    if report is None:
        report = compute_report(user, filters)
        cache.set(key, report, CACHE_SECONDS)
    return report


# ------------------------------------------------------------------------------ drill-down


def patients_url(filters: Filters, key: str, **extra: str) -> str:
    return (
        reverse("indicator_patients")
        + "?"
        + urlencode({"indicator": key, **filters.query(), **extra})
    )


@dataclass(frozen=True)
class PatientRow:
    patient_id: int
    episode_id: int
    name: str
    mrn: str
    clinic: str
    care_manager: str
    enrolled_on: date | None
    discharged_on: date | None
    month: str
    counted: bool


def drill_down(indicator: Indicator, counted: bool | None = None) -> list[PatientRow]:
    """The patients behind an indicator: its denominator (or, for a count, its members),
    each saying whether it is in the numerator; `counted` keeps only one side."""
    keys: list[Hashable] = sorted(indicator.population, key=repr)
    if counted is not None:
        keys = [key for key in keys if (key in indicator.counted) is counted]
    episode_ids = sorted({key[0] if isinstance(key, tuple) else key for key in keys})
    facts: dict[int, tuple] = {}
    for index in range(0, len(episode_ids), CHUNK):
        chunk = episode_ids[index : index + CHUNK]
        for row in Episode.objects.filter(id__in=chunk).values_list(
            "id",
            "patient_id",
            "patient__family_name",
            "patient__given_name",
            "patient__mrn",
            "clinic__name",
            "care_manager__username",
            "care_manager__first_name",
            "care_manager__last_name",
            "care_manager__credentials",
            "enrolled_on",
            "discharged_on",
        ):
            facts[row[0]] = row
    rows = []
    for key in keys:
        episode_id, month = key if isinstance(key, tuple) else (key, "")
        (_, patient_id, family, given, mrn, clinic, cm, first, last, creds, enrolled, gone) = facts[
            episode_id
        ]
        rows.append(
            PatientRow(
                patient_id,
                episode_id,
                patient_name(family, given),
                mrn,
                clinic,
                staff_name(cm, first, last, creds) if cm else "",
                enrolled,
                gone,
                month,
                key in indicator.counted,
            )
        )
    return sorted(rows, key=lambda row: (row.name, row.episode_id, row.month))


def indicator_json(indicator: Indicator, filters: Filters) -> dict[str, Any]:
    """The contract's shape: value, numerator, denominator, patients_url."""
    return {
        "label": indicator.label,
        "kind": indicator.kind.value,
        "value": indicator.value,
        "numerator": indicator.numerator,
        "denominator": indicator.denominator,
        "patients_url": patients_url(filters, indicator.key),
        "source": indicator.source,
    }


def display_value(indicator: Indicator) -> str:
    """How a figure reads on the page and in the PDF: 42, 57.1%, 9 weeks, 3.2 h."""
    if indicator.value is None:
        return "—"
    if indicator.kind is Kind.PERCENT:
        return f"{indicator.value:g}%"
    if indicator.kind is Kind.MEDIAN_WEEKS:
        return f"{indicator.value:g} weeks"
    if indicator.kind is Kind.HOURS_PER_100:
        return f"{indicator.value:g} h"
    return str(indicator.value)


def display_fraction(indicator: Indicator) -> str:
    """Numerator and denominator in words, for every figure."""
    if indicator.kind is Kind.COUNT:
        return f"{indicator.numerator} patients"
    if indicator.kind is Kind.MEDIAN_WEEKS:
        return f"{indicator.numerator} reached of {indicator.denominator} with a baseline ≥ 10"
    if indicator.kind is Kind.HOURS_PER_100:
        guidance = rules.against_guidance(indicator.value)
        return f"{indicator.numerator} h over {indicator.denominator} hundred patient-weeks" + (
            f" ({guidance.value} guidance)" if guidance else ""
        )
    return f"{indicator.numerator} of {indicator.denominator}"


# ------------------------------------------------------------------- quality measure rates


def measure_rates_by_quarter(user: User, filters: Filters) -> list[MeasureRate]:
    """The eCQM/HEDIS measure rates of the period (cocm.reports.quality), in percent."""
    return rates_by_quarter(user, filters.period)


# ------------------------------------------------------------------------------ surveys


@dataclass(frozen=True)
class SurveySummary:
    """One survey over the period and the user's clinics: invitations, responses, rate."""

    code: str
    name: str
    invited: int
    responses: int | None  # None: an anonymous survey with too few respondents to show
    rate: float | None  # percent


def survey_summaries(user: User, filters: Filters) -> list[SurveySummary]:
    """The toolkit's surveys (cocm.toolkit.surveys) for the dashboard: an anonymous survey
    with fewer than MIN_RESPONDENTS answers over all the clinics shows no count."""
    clinics = list(Clinic.objects.filter(id__in=user.clinic_ids).order_by("name"))
    periods = surveys.months(f"{filters.period.start:%Y-%m}", f"{filters.period.end:%Y-%m}")
    summaries = []
    for code, definition in survey_rules.SURVEYS.items():
        results = [row.result for row in surveys.survey_results(code, clinics, periods)]
        invited = sum(result.invited for result in results)
        responses = sum(result.responses for result in results)
        hidden = definition.anonymous and responses < survey_rules.MIN_RESPONDENTS
        summaries.append(
            SurveySummary(
                code,
                definition.name,
                invited,
                None if hidden else responses,
                None if hidden or not invited else round(100 * responses / invited, 1),
            )
        )
    return summaries
