"""NCQA HEDIS ECDS depression measures DRR-E (Depression Remission or Response) and DMS-E
(Utilization of the PHQ-9), as described in the CoCM rules reference §4.3.

NCQA's own specification and value sets are licensed and not shipped; every choice the
public sources leave open is an [I] keyword setting, named in each result (`settings`):
- value sets: the CMS159 value sets of the same measurement period's eCQM package
  (depression = Major Depression Including Remission or Dysthymia; PHQ-9 = PHQ 9 and PHQ 9M
  Tools; outpatient encounter = Contact or Office Visit; exclusions as CMS159);
- DRR-E intake period: May 1 of the year before the measurement year to April 30 of it
  ([I] reference §4.3: "probably shifted to about May 1 to Apr 30", not verified);
- DRR-E follow-up period: 120–240 days after the IESD, endpoints inclusive ([I]);
- ages: ≥ 12 at the IESD (DRR-E) and at the start of the measurement year (DMS-E) [I];
- a depression diagnosis counts when it is active on the date in question [I].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta

from cocm.domain import cql
from cocm.domain.clinical import Observation, PatientFacts, ValueSets, age_in_years, in_valueset
from cocm.domain.cql import DAY, Interval
from cocm.domain.ecqm import (
    ASSESSMENT_STATUSES,
    CMS159_VALUESETS,
    condition_retrieve,
    effective_start,
    is_active,
    is_confirmed_active,
    numeric_value,
    prevalence_interval,
    union,
)

EXCLUDING_DIAGNOSES = (
    "Bipolar Disorder",
    "Personality Disorder Emotionally Labile",
    "Schizophrenia or Psychotic Disorder",
    "Pervasive Developmental Disorder",
)


@dataclass(frozen=True)
class DrrSettings:
    """DRR-E [I] choices (reference §4.3), named in every result."""

    intake_start_month: int = 5  # intake runs from this month of the prior year…
    follow_up_first_day: int = 120  # …follow-up starts this many days after the IESD
    follow_up_last_day: int = 240
    endpoints_inclusive: bool = True
    elevated_above: float = 9  # PHQ-9 > 9 at the IESD
    remission_below: float = 5  # most recent follow-up PHQ-9 < 5
    response_reduction: float = 0.5  # most recent ≥ 50% lower than the IESD score
    minimum_age: int = 12
    valuesets: str = "CMS159 value sets of the eCQM package of the same year"

    def described(self) -> dict[str, object]:
        """The settings as a plain mapping, for the output."""
        return asdict(self)


@dataclass(frozen=True)
class DrrResult:
    """One patient's DRR-E result."""

    patient_id: str
    in_denominator: bool
    excluded: bool = False
    exclusion_reasons: tuple[str, ...] = ()
    iesd: date | None = None
    iesd_score: float | None = None
    iesd_observation: str | None = None
    follow_up: bool = False
    remission: bool = False
    response: bool = False
    deciding_observation: str | None = None
    deciding_value: float | None = None


def _phq9s(patient: PatientFacts, valuesets: ValueSets) -> list[tuple[date, Observation, float]]:
    members = valuesets[CMS159_VALUESETS["PHQ 9 and PHQ 9M Tools"]]
    found = []
    for o in patient.observations:
        start = effective_start(o)
        value = numeric_value(o)
        if (
            in_valueset(o.codes, members)
            and o.status in ASSESSMENT_STATUSES
            and start is not None
            and value is not None
        ):
            found.append((cql.to_date(start), o, value))
    found.sort(key=lambda t: (t[0], _instant(t[1])))
    return found


def _instant(o: Observation) -> datetime:
    start = effective_start(o)
    return start.astimezone(UTC) if isinstance(start, datetime) else cql.MIN_DATETIME


def _has_active_depression(patient: PatientFacts, valuesets: ValueSets, on: date) -> bool:
    members = union(
        valuesets[CMS159_VALUESETS["Major Depression Including Remission"]],
        valuesets[CMS159_VALUESETS["Dysthymia"]],
    )
    return any(
        is_active(c) and cql.in_interval(on, prevalence_interval(c), DAY) is True
        for c in condition_retrieve(patient, members, "4.1.1")
    )


def exclusion_reasons(
    patient: PatientFacts, valuesets: ValueSets, span_start: date, span_end: date
) -> tuple[str, ...]:
    """DRR-E/DMS-E exclusions (reference §4.3, "as in CMS159"): hospice, death, and bipolar,
    personality, psychotic or pervasive developmental disorder, over [span_start, span_end]."""
    span = Interval(span_start, span_end)
    reasons = []

    def vs(name: str) -> frozenset[tuple[str, str]]:
        return valuesets[CMS159_VALUESETS[name]]

    hospice = (
        any(
            in_valueset(e.codes, vs("Hospice Encounter"))
            and e.status not in {"cancelled", "entered-in-error", "unknown"}
            and cql.overlaps(cql.period_interval(e.period), span, DAY) is True
            for e in patient.encounters
        )
        or any(
            in_valueset(p.codes, vs("Hospice Care Ambulatory"))
            and p.status not in {"not-done", "entered-in-error", "unknown"}
            and cql.overlaps(cql.period_interval(p.performed), span, DAY) is True
            for p in patient.procedures
        )
        or any(
            is_confirmed_active(c) and cql.overlaps(prevalence_interval(c), span, DAY) is True
            for c in condition_retrieve(patient, vs("Hospice Diagnosis"), "4.1.1")
        )
    )
    if hospice:
        reasons.append("hospice")
    if isinstance(patient.deceased, datetime) and cql.to_date(patient.deceased) <= span_end:
        reasons.append("expired")
    members = union(*(vs(name) for name in EXCLUDING_DIAGNOSES))
    for c in condition_retrieve(patient, members, "4.1.1"):
        start = prevalence_interval(c).low
        if is_confirmed_active(c) and start is not None and cql.to_date(start) <= span_end:
            reasons.append("mental health disorder")
            break
    return tuple(reasons)


def drr_intake_period(year: int, settings: DrrSettings) -> tuple[date, date]:
    """DRR-E intake period [I]: the intake month of the prior year to the day before it in
    the measurement year (default May 1 to April 30)."""
    start = date(year - 1, settings.intake_start_month, 1)
    return start, date(year, settings.intake_start_month, 1) - timedelta(days=1)


def drr_follow_up_period(iesd: date, settings: DrrSettings) -> tuple[date, date]:
    """DRR-E follow-up period: 120–240 days after the IESD; [I] endpoints inclusive (else
    both ends open: 121–239)."""
    shrink = 0 if settings.endpoints_inclusive else 1
    return (
        iesd + timedelta(days=settings.follow_up_first_day + shrink),
        iesd + timedelta(days=settings.follow_up_last_day - shrink),
    )


def drr(
    patient: PatientFacts, year: int, valuesets: ValueSets, settings: DrrSettings | None = None
) -> DrrResult:
    """DRR-E for one patient (reference §4.3): the IESD is the first PHQ-9 > 9 in the intake
    period on a day with an active depression diagnosis; follow-up, remission (< 5) and
    response (≥ 50% lower) read the most recent PHQ-9 of the follow-up period."""
    settings = settings or DrrSettings()
    intake_start, intake_end = drr_intake_period(year, settings)
    phq9s = _phq9s(patient, valuesets)
    index = next(
        (
            (day, o, value)
            for day, o, value in phq9s
            if intake_start <= day <= intake_end
            and value > settings.elevated_above
            and _has_active_depression(patient, valuesets, day)
        ),
        None,
    )
    if index is None or patient.birth_date is None:
        return DrrResult(patient.id, in_denominator=False)
    iesd, index_observation, iesd_score = index
    if age_in_years(patient.birth_date, iesd) < settings.minimum_age:
        return DrrResult(patient.id, in_denominator=False)
    first, last = drr_follow_up_period(iesd, settings)
    reasons = exclusion_reasons(patient, valuesets, iesd, last)
    in_period = [(day, o, value) for day, o, value in phq9s if first <= day <= last]
    most_recent = in_period[-1] if in_period and not reasons else None
    value = most_recent[2] if most_recent else None
    return DrrResult(
        patient_id=patient.id,
        in_denominator=True,
        excluded=bool(reasons),
        exclusion_reasons=reasons,
        iesd=iesd,
        iesd_score=iesd_score,
        iesd_observation=index_observation.id,
        follow_up=most_recent is not None,
        remission=value is not None and value < settings.remission_below,
        response=value is not None and value <= iesd_score * (1 - settings.response_reduction),
        deciding_observation=most_recent[1].id if most_recent else None,
        deciding_value=value,
    )


# --- DMS-E ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DmsSettings:
    """DMS-E [I] choices (reference §4.3), named in every result."""

    # Assessment periods (month, day) starts; NCQA/cqframework hedis-ig dms-logic.cql.
    period_starts: tuple[tuple[int, int], ...] = ((1, 1), (5, 1), (9, 1))
    minimum_age: int = 12
    valuesets: str = "CMS159 value sets of the eCQM package of the same year"
    encounter_valueset: str = "Contact or Office Visit"

    def described(self) -> dict[str, object]:
        """The settings as a plain mapping, for the output."""
        return asdict(self)


@dataclass(frozen=True)
class DmsPeriodResult:
    """One patient in one DMS-E assessment period."""

    patient_id: str
    period: tuple[date, date]
    in_denominator: bool
    excluded: bool = False
    exclusion_reasons: tuple[str, ...] = ()
    event_date: date | None = None
    numerator: bool = False
    deciding_observation: str | None = None
    deciding_value: float | None = None


def dms_assessment_periods(year: int, settings: DmsSettings) -> list[tuple[date, date]]:
    """DMS-E assessment periods of a measurement year (default Jan–Apr, May–Aug, Sep–Dec)."""
    starts = [date(year, m, d) for m, d in settings.period_starts]
    ends = [s - timedelta(days=1) for s in starts[1:]] + [date(year, 12, 31)]
    return list(zip(starts, ends, strict=True))


def dms(
    patient: PatientFacts, year: int, valuesets: ValueSets, settings: DmsSettings | None = None
) -> list[DmsPeriodResult]:
    """DMS-E for one patient (reference §4.3): per assessment period, the first outpatient
    encounter on a day with an active depression diagnosis is the denominator event; the
    numerator is a PHQ-9 in the same period."""
    settings = settings or DmsSettings()
    encounters = valuesets[CMS159_VALUESETS[settings.encounter_valueset]]
    old_enough = (
        patient.birth_date is not None
        and age_in_years(patient.birth_date, date(year, 1, 1)) >= settings.minimum_age
    )
    phq9s = _phq9s(patient, valuesets)
    results = []
    for first, last in dms_assessment_periods(year, settings):
        events = sorted(
            d
            for e in patient.encounters
            if in_valueset(e.codes, encounters)
            and e.status == "finished"
            and e.period.start is not None
            and first <= (d := cql.to_date(e.period.start)) <= last
            and _has_active_depression(patient, valuesets, d)
        )
        if not old_enough or not events:
            results.append(DmsPeriodResult(patient.id, (first, last), in_denominator=False))
            continue
        reasons = exclusion_reasons(patient, valuesets, first, last)
        in_period = [(d, o, v) for d, o, v in phq9s if first <= d <= last]
        deciding = in_period[-1] if in_period and not reasons else None
        results.append(
            DmsPeriodResult(
                patient_id=patient.id,
                period=(first, last),
                in_denominator=True,
                excluded=bool(reasons),
                exclusion_reasons=reasons,
                event_date=events[0],
                numerator=deciding is not None,
                deciding_observation=deciding[1].id if deciding else None,
                deciding_value=deciding[2] if deciding else None,
            )
        )
    return results


@dataclass(frozen=True)
class Rate:
    """A numerator over a denominator; rate None when the denominator is empty."""

    numerator: int
    denominator: int
    rate: float | None = field(init=False)

    def __post_init__(self) -> None:
        rate = round(self.numerator / self.denominator, 4) if self.denominator else None
        object.__setattr__(self, "rate", rate)
