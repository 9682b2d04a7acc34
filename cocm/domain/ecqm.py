"""eCQM CMS159 (Depression Remission at Twelve Months) and CMS2 (Screening for Depression and
Follow-Up Plan), one version per measurement period, following each version's CQL.

Sources (the CQL is the specification; where prose and CQL disagree the CQL wins):
- MP 2025: `DepressionRemissionatTwelveMonthsFHIR` v0.2.000 and
  `PCSDepressionScreenAndFollowUpFHIR` v0.2.000 (QI-Core 4.1.1).
- MP 2026: `CMS159FHIRDepressionRemissionatTwelveMonths` v0.3.000 and
  `CMS2FHIRPCSDepressionScreenAndFollowUp` v0.4.001 (QI-Core 6.0.0).
The CQL files ship in `cocm/reports/data/ecqm/<package>/cql/`. A version differs by data
(its value-set expansions, its measurement period) and, where the CQL really differs, by a
branch on `MeasureVersion.qicore` ("4.1.1" or "6.0.0"). A new year is a package folder of
value sets plus an entry in `VERSIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, cached_property

from cocm.domain import cql
from cocm.domain.clinical import (
    CONDITION_CATEGORY,
    LOINC,
    SNOMEDCT,
    US_CORE_CONDITION_CATEGORY,
    Coding,
    Condition,
    Encounter,
    MedicationRequest,
    Observation,
    PatientFacts,
    ValueSets,
    age_in_years,
    has_code,
    in_valueset,
)
from cocm.domain.cql import DAY, Interval, Point, Truth, and3, or3

VSAC = "http://cts.nlm.nih.gov/fhir/ValueSet/"

# The value sets each measure's CQL declares (name → canonical URL), identical in both
# versions. Note Major Depression's URL really is "2.16.840.113883…" (no ".1" after 840).
CMS159_VALUESETS: dict[str, str] = {
    "Bipolar Disorder": VSAC + "2.16.840.1.113883.3.67.1.101.1.128",
    "Contact or Office Visit": VSAC + "2.16.840.1.113762.1.4.1080.5",
    "Dysthymia": VSAC + "2.16.840.1.113883.3.67.1.101.1.254",
    "Encounter Inpatient": VSAC + "2.16.840.1.113883.3.666.5.307",
    "Hospice Care Ambulatory": VSAC + "2.16.840.1.113883.3.526.3.1584",
    "Hospice Diagnosis": VSAC + "2.16.840.1.113883.3.464.1003.1165",
    "Hospice Encounter": VSAC + "2.16.840.1.113883.3.464.1003.1003",
    "Major Depression Including Remission": VSAC + "2.16.840.113883.3.67.1.101.3.2444",
    "Palliative Care Diagnosis": VSAC + "2.16.840.1.113883.3.464.1003.1167",
    "Palliative Care Encounter": VSAC + "2.16.840.1.113883.3.464.1003.101.12.1090",
    "Palliative Care Intervention": VSAC + "2.16.840.1.113883.3.464.1003.198.12.1135",
    "Palliative or Hospice Care": VSAC + "2.16.840.1.113883.3.600.1.1579",
    "Personality Disorder Emotionally Labile": VSAC + "2.16.840.1.113883.3.67.1.101.1.246",
    "Pervasive Developmental Disorder": VSAC + "2.16.840.1.113883.3.464.1003.105.12.1152",
    "PHQ 9 and PHQ 9M Tools": VSAC + "2.16.840.1.113883.3.67.1.101.1.263",
    "Schizophrenia or Psychotic Disorder": VSAC + "2.16.840.1.113883.3.464.1003.105.12.1104",
}
CMS2_VALUESETS: dict[str, str] = {
    "Adolescent Depression Medications": VSAC + "2.16.840.1.113883.3.526.3.1567",
    "Adult Depression Medications": VSAC + "2.16.840.1.113883.3.526.3.1566",
    "Bipolar Disorder": VSAC + "2.16.840.1.113883.3.67.1.101.1.128",
    "Encounter to Screen for Depression": VSAC + "2.16.840.1.113883.3.600.1916",
    "Follow Up for Adolescent Depression": VSAC + "2.16.840.1.113883.3.526.3.1569",
    "Follow Up for Adult Depression": VSAC + "2.16.840.1.113883.3.526.3.1568",
    "Medical Reason": VSAC + "2.16.840.1.113883.3.526.3.1007",
    "Physical Therapy Evaluation": VSAC + "2.16.840.1.113883.3.526.3.1022",
    "Referral for Adolescent Depression": VSAC + "2.16.840.1.113883.3.526.3.1570",
    "Referral for Adult Depression": VSAC + "2.16.840.1.113883.3.526.3.1571",
    "Telephone Visits": VSAC + "2.16.840.1.113883.3.464.1003.101.12.1080",
}

ASSESSMENT_STATUSES = frozenset({"final", "amended", "corrected"})
ORDER_INTENTS = frozenset({"order", "original-order", "reflex-order", "filler-order",
                           "instance-order"})  # fmt: skip
ACTIVE_STATUSES = frozenset({"active", "recurrence", "relapse"})


@dataclass(frozen=True)
class MeasureVersion:
    """One published version of a measure, in force for one measurement period."""

    measure: str  # "CMS159" or "CMS2"
    library: str
    version: str
    year: int
    package: str  # folder of value sets and CQL under cocm/reports/data/ecqm/
    qicore: str  # "4.1.1" (MP 2025) or "6.0.0" (MP 2026): selects the CQL branches
    valuesets: dict[str, str]

    @cached_property
    def measurement_period(self) -> Interval:
        """The CQL's default "Measurement Period" parameter."""
        if self.qicore == "4.1.1":  # Interval[@Y-01-01T00:00:00.000Z, @Y-12-31T23:59:59.999Z]
            return Interval(
                datetime(self.year, 1, 1, tzinfo=UTC),
                datetime(self.year, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
            )
        # Interval[@Y-01-01, @Y+1-01-01 ): day-precision boundaries
        return cql.interval(date(self.year, 1, 1), date(self.year + 1, 1, 1), high_closed=False)

    @property
    def title(self) -> str:
        """Measure id, library and version, as named in every output."""
        return f"{self.measure} {self.library} v{self.version}"


VERSIONS: dict[tuple[str, int], MeasureVersion] = {
    ("CMS159", 2025): MeasureVersion(
        "CMS159", "DepressionRemissionatTwelveMonthsFHIR", "0.2.000", 2025, "mp2025", "4.1.1",
        CMS159_VALUESETS,
    ),
    ("CMS159", 2026): MeasureVersion(
        "CMS159", "CMS159FHIRDepressionRemissionatTwelveMonths", "0.3.000", 2026, "mp2026",
        "6.0.0", CMS159_VALUESETS,
    ),
    ("CMS2", 2025): MeasureVersion(
        "CMS2", "PCSDepressionScreenAndFollowUpFHIR", "0.2.000", 2025, "mp2025", "4.1.1",
        CMS2_VALUESETS,
    ),
    ("CMS2", 2026): MeasureVersion(
        "CMS2", "CMS2FHIRPCSDepressionScreenAndFollowUp", "0.4.001", 2026, "mp2026", "6.0.0",
        CMS2_VALUESETS,
    ),
}  # fmt: skip


class UnknownMeasureVersion(LookupError):
    """No version of the measure is defined for that measurement period."""


def measure_version(measure: str, year: int) -> MeasureVersion:
    """The version of a measure in force for a measurement period (the table above)."""
    try:
        return VERSIONS[(measure, year)]
    except KeyError:
        known = sorted(y for m, y in VERSIONS if m == measure)
        raise UnknownMeasureVersion(
            f"{measure} has no version for measurement period {year}; known: {known}"
        ) from None


def expansion(
    valuesets: ValueSets, version: MeasureVersion, names: tuple[str, ...]
) -> frozenset[tuple[str, str]]:
    """The codes of the value sets a version's CQL names (the union of their expansions)."""
    sets = tuple(valuesets[version.valuesets[name]] for name in names)
    return sets[0] if len(sets) == 1 else union(*sets)


@cache
def union(*members: frozenset[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    """CQL `union` of value-set expansions; kept, since every patient asks for the same few."""
    return frozenset().union(*members)


@dataclass(frozen=True)
class MeasureResult:
    """One patient's populations, as in the measure's individual MeasureReport."""

    patient_id: str
    initial_population: bool
    denominator: bool
    denominator_exclusion: bool
    numerator: bool
    denominator_exception: bool = False
    exclusion_reasons: tuple[str, ...] = ()
    exception_reasons: tuple[str, ...] = ()
    index_date: date | None = None
    index_observation: str | None = None
    deciding_observation: str | None = None
    deciding_value: str | None = None


# --- shared QICoreCommon helpers --------------------------------------------------------


def is_active(condition: Condition) -> bool:
    """QICoreCommon isActive: clinical status active, recurrence or relapse."""
    return condition.clinical_status in ACTIVE_STATUSES


def is_confirmed_active(condition: Condition) -> bool:
    """CMS159 isConfirmedActiveDiagnosis: active and verification status confirmed."""
    return is_active(condition) and condition.verification_status == "confirmed"


def has_category(condition: Condition, code: str) -> bool:
    """QICoreCommon isProblemListItem / isEncounterDiagnosis (condition-category system) and
    isHealthConcern (US Core's condition-category system)."""
    system = US_CORE_CONDITION_CATEGORY if code == "health-concern" else CONDITION_CATEGORY
    return has_code(condition.categories, system, code)


def abatement_end(condition: Condition) -> Point | None:
    """QICoreCommon abatementInterval's end: a DateTime t gives t; a Period gives
    Interval[start, end) whose end is end − 1 ms, unknown when the Period has no end."""
    a = condition.abatement
    if a is None:
        return None
    if a.start is not None and a.start == a.end:
        return a.start
    return None if a.end is None else a.end - cql.MILLISECOND


def prevalence_interval(condition: Condition) -> Interval:
    """QICoreCommon prevalenceInterval: [onset start, abatement end] when active or abated,
    [onset start, null) (an unknown end) when inactive with no abatement."""
    onset_start = condition.onset.start if condition.onset else None
    end = abatement_end(condition)
    if is_active(condition):
        return cql.interval(onset_start, end)
    return cql.interval(onset_start, end, high_closed=end is not None)


def condition_retrieve(
    patient: PatientFacts, members: frozenset[tuple[str, str]], qicore: str
) -> list[Condition]:
    """[Condition: VS] (QI-Core 4.1.1), or [ConditionProblemsHealthConcerns: VS] union
    [ConditionEncounterDiagnosis: VS] (QI-Core 6.0.0: those profiles fix the category)."""
    found = [c for c in patient.conditions if in_valueset(c.codes, members)]
    if qicore == "4.1.1":
        return found
    return [
        c
        for c in found
        if has_category(c, "problem-list-item")
        or has_category(c, "health-concern")
        or has_category(c, "encounter-diagnosis")
    ]


def effective_interval(o: Observation) -> Interval | None:
    """QICoreCommon toInterval of Observation.effective (a DateTime or a Period)."""
    return cql.period_interval(o.effective)


def effective_start(o: Observation) -> Point | None:
    """start of Observation.effective.toInterval()."""
    i = effective_interval(o)
    return None if i is None else i.low


def numeric_value(o: Observation) -> float | None:
    """Observation.value as a number (integer or Quantity), else None."""
    v = o.value
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


def value_is(o: Observation, system: str, code: str) -> bool:
    """Observation.value ~ Code (a CodeableConcept value)."""
    return has_code(o.value_codes, system, code)


def _sort_key(p: Point | None) -> datetime:
    if p is None:
        return cql.MIN_DATETIME
    if isinstance(p, datetime):
        return p.astimezone(UTC)
    return datetime(p.year, p.month, p.day, tzinfo=UTC)


# --- CMS159 -----------------------------------------------------------------------------

DISCHARGE_HOSPICE_HOME = Coding(SNOMEDCT, "428361000124107")
DISCHARGE_HOSPICE_FACILITY = Coding(SNOMEDCT, "428371000124100")
FACIT_PAL = "71007-9"
HOSPICE_MDS = "45755-6"
YES = "373066001"


class Cms159:
    """CMS159 Depression Remission at Twelve Months for one patient; each define of the CQL
    is one property of the same name."""

    def __init__(self, patient: PatientFacts, version: MeasureVersion, valuesets: ValueSets):
        self.patient = patient
        self.version = version
        self._valuesets = valuesets
        self.qicore6 = version.qicore == "6.0.0"

    def vs(self, *names: str) -> frozenset[tuple[str, str]]:
        """The expansion of the value sets the CQL names (their union), by canonical URL."""
        return expansion(self._valuesets, self.version, names)

    def _prec(self) -> str | None:
        # v0.3.000 added "day of" to several comparisons that v0.2.000 made without one.
        return DAY if self.qicore6 else None

    @property
    def denominator_identification_period(self) -> Interval:
        """Interval[start of MP − 14 months, start of MP − 2 months) (both versions)."""
        return _identification_period(self.version.measurement_period)

    @cached_property
    def depression_diagnoses(self) -> list[Condition]:
        """Major Depression Including Remission or Dysthymia, confirmed and active."""
        members = self.vs("Major Depression Including Remission", "Dysthymia")
        return [
            c
            for c in condition_retrieve(self.patient, members, self.version.qicore)
            if is_confirmed_active(c)
        ]

    @cached_property
    def depression_encounters(self) -> list[tuple[Encounter, Interval]]:
        """Finished Contact or Office Visit overlapping a depression diagnosis and ending
        during the Denominator Identification Period (v0.3.000: "during day of"), each with
        its period as an interval."""
        members = self.vs("Contact or Office Visit")
        dip = self.denominator_identification_period
        prevalences = [prevalence_interval(d) for d in self.depression_diagnoses]
        found = []
        for e in self.patient.encounters:
            if e.status != "finished" or not in_valueset(e.codes, members):
                continue
            period = cql.period_interval(e.period)
            if period is None or not cql.in_interval(period.high, dip, self._prec()):
                continue
            if any(cql.overlaps(period, p) for p in prevalences):
                found.append((e, period))
        return found

    @cached_property
    def depression_assessments_greater_than_9(self) -> list[Observation]:
        """PHQ-9/PHQ-9M with value > 9, status final, amended or corrected."""
        members = self.vs("PHQ 9 and PHQ 9M Tools")
        return [
            o
            for o in self.patient.observations
            if in_valueset(o.codes, members)
            and (numeric_value(o) or 0) > 9
            and o.status in ASSESSMENT_STATUSES
        ]

    @cached_property
    def index_depression_assessment(self) -> Observation | None:
        """First assessment > 9 during day of [encounter start − 7 days, encounter end]."""
        assessments = sorted(
            self.depression_assessments_greater_than_9,
            key=lambda o: _sort_key(effective_start(o)),
        )
        if not assessments:
            return None
        windows = [
            Interval(cql.to_date(period.low - timedelta(days=7)), period.high)
            for _e, period in self.depression_encounters
            if isinstance(period.low, datetime)
        ]
        for o in assessments:
            effective = effective_interval(o)
            if any(cql.included_in(effective, w, DAY) for w in windows):
                return o
        return None

    @cached_property
    def index_date(self) -> date | None:
        """The date of the index assessment (start of its effective time)."""
        o = self.index_depression_assessment
        start = None if o is None else effective_start(o)
        return None if start is None else cql.to_date(start)

    @cached_property
    def measure_assessment_period(self) -> Interval | None:
        """Interval[index date + 12 months − 60 days, index date + 12 months + 60 days]."""
        if self.index_date is None:
            return None
        year_after = cql.add_months(self.index_date, 12)
        return Interval(year_after - timedelta(days=60), year_after + timedelta(days=60))

    def initial_population(self) -> bool:
        """CMS159 v0.2.000/v0.3.000 Initial Population: age ≥ 12 at the index assessment."""
        if self.index_date is None or self.patient.birth_date is None:
            return False
        return age_in_years(self.patient.birth_date, self.index_date) >= 12

    def denominator(self) -> bool:
        """CMS159 Denominator: the Initial Population."""
        return self.initial_population()

    @cached_property
    def _exclusion_span(self) -> Interval:
        """Interval[start of DIP, end of MAP] (MAP end a Date)."""
        assert self.measure_assessment_period is not None
        return Interval(
            self.denominator_identification_period.low, self.measure_assessment_period.high
        )

    def has_hospice_services(self) -> bool:
        """CMS159 "Has Hospice Services in the Measure Assessment Period"."""
        span = self._exclusion_span
        p = self.patient
        inpatient = self.vs("Encounter Inpatient")
        hospice_enc = self.vs("Hospice Encounter")
        ambulatory = self.vs("Hospice Care Ambulatory")
        checks: list[Truth] = []
        for e in p.encounters:
            period = cql.period_interval(e.period)
            if in_valueset(e.codes, inpatient) and e.status == "finished":
                disp = e.discharge_disposition
                if has_code(disp, SNOMEDCT, DISCHARGE_HOSPICE_HOME.code) or has_code(
                    disp, SNOMEDCT, DISCHARGE_HOSPICE_FACILITY.code
                ):
                    end = None if period is None else period.high
                    checks.append(cql.in_interval(end, span, DAY))
            if in_valueset(e.codes, hospice_enc) and e.status not in {
                "cancelled", "entered-in-error", "unknown"
            }:  # fmt: skip
                checks.append(cql.overlaps(period, span, DAY))
        for o in p.observations:
            if (
                has_code(o.codes, LOINC, HOSPICE_MDS)
                and value_is(o, SNOMEDCT, YES)
                and o.status in ASSESSMENT_STATUSES
            ):
                checks.append(cql.overlaps(effective_interval(o), span, DAY))
        for s in p.service_requests:
            if (
                in_valueset(s.codes, ambulatory)
                and s.status in {"active", "completed"}
                and s.intent in ORDER_INTENTS
                and s.do_not_perform is not True
            ):
                checks.append(cql.in_interval(s.authored_on, span, DAY))
        for pr in p.procedures:
            if in_valueset(pr.codes, ambulatory) and pr.status not in {
                "not-done", "entered-in-error", "unknown"
            }:  # fmt: skip
                checks.append(cql.overlaps(cql.period_interval(pr.performed), span, DAY))
        for c in condition_retrieve(p, self.vs("Hospice Diagnosis"), self.version.qicore):
            if is_confirmed_active(c):
                checks.append(cql.overlaps(prevalence_interval(c), span, DAY))
        return any(v is True for v in checks)

    def has_palliative_care(self) -> bool:
        """CMS159 "Has Palliative Care in the Measure Assessment Period" (v0.2.000 compares
        without a precision, v0.3.000 "overlaps day of")."""
        span = self._exclusion_span
        p = self.patient
        prec = self._prec()
        checks: list[Truth] = []
        for o in p.observations:
            if has_code(o.codes, LOINC, FACIT_PAL) and o.status in ASSESSMENT_STATUSES:
                checks.append(cql.overlaps(effective_interval(o), span, prec))
        for c in condition_retrieve(p, self.vs("Palliative Care Diagnosis"), self.version.qicore):
            if is_confirmed_active(c):
                checks.append(cql.overlaps(prevalence_interval(c), span, prec))
        for e in p.encounters:
            if in_valueset(e.codes, self.vs("Palliative Care Encounter")) and (
                e.status == "finished"
            ):
                checks.append(cql.overlaps(cql.period_interval(e.period), span, prec))
        for pr in p.procedures:
            if in_valueset(pr.codes, self.vs("Palliative Care Intervention")) and (
                pr.status not in {"not-done", "entered-in-error", "unknown"}
            ):
                checks.append(cql.overlaps(cql.period_interval(pr.performed), span, prec))
        return any(v is True for v in checks)

    def patient_expired(self) -> bool:
        """CMS159 "Patient Expired": deceased on or before (day of) end of MAP."""
        deceased = self.patient.deceased
        if not isinstance(deceased, datetime):
            return False  # deceasedBoolean has no time to compare with the MAP
        assert self.measure_assessment_period is not None
        return cql.before_or_same(deceased, self.measure_assessment_period.high, DAY) is True

    def has_mental_health_disorder(self) -> bool:
        """CMS159 "Has Mental Health Disorder Diagnoses": bipolar, personality disorder
        emotionally labile, schizophrenia/psychotic or pervasive developmental disorder,
        confirmed and active, starting on or before the end of the MAP."""
        assert self.measure_assessment_period is not None
        members = self.vs(
            "Bipolar Disorder",
            "Personality Disorder Emotionally Labile",
            "Schizophrenia or Psychotic Disorder",
            "Pervasive Developmental Disorder",
        )
        for c in condition_retrieve(self.patient, members, self.version.qicore):
            start = prevalence_interval(c).low
            if (
                start is not None
                and is_confirmed_active(c)
                and cql.before_or_same(cql.to_date(start), self.measure_assessment_period.high, DAY)
            ):
                return True
        return False

    def denominator_exclusion_reasons(self) -> tuple[str, ...]:
        """CMS159 Denominator Exclusions, each reason that holds."""
        if not self.denominator():
            return ()
        reasons = []
        if self.has_hospice_services():
            reasons.append("hospice")
        if self.has_palliative_care():
            reasons.append("palliative care")
        if self.patient_expired():
            reasons.append("expired")
        if self.has_mental_health_disorder():
            reasons.append("mental health disorder")
        return tuple(reasons)

    @cached_property
    def last_assessment_in_map(self) -> Observation | None:
        """Last PHQ-9/PHQ-9M whose date is during the MAP, status final/amended/corrected."""
        mapi = self.measure_assessment_period
        if mapi is None:
            return None
        members = self.vs("PHQ 9 and PHQ 9M Tools")
        found = [
            o
            for o in self.patient.observations
            if in_valueset(o.codes, members)
            and o.status in ASSESSMENT_STATUSES
            and (start := effective_start(o)) is not None
            and cql.in_interval(cql.to_date(start), mapi, DAY)
        ]
        if not found:
            return None
        return max(found, key=lambda o: _sort_key(effective_start(o)))

    def numerator(self) -> bool:
        """CMS159 Numerator: the last PHQ-9/PHQ-9M in the MAP is < 5."""
        last = self.last_assessment_in_map
        value = None if last is None else numeric_value(last)
        return value is not None and value < 5

    def result(self) -> MeasureResult:
        """The patient's populations (exclusion removes the patient from the numerator)."""
        ip = self.initial_population()
        reasons = self.denominator_exclusion_reasons() if ip else ()
        last = self.last_assessment_in_map if ip else None
        index = self.index_depression_assessment
        return MeasureResult(
            patient_id=self.patient.id,
            initial_population=ip,
            denominator=ip,
            denominator_exclusion=bool(reasons),
            numerator=ip and not reasons and self.numerator(),
            exclusion_reasons=reasons,
            index_date=self.index_date,
            index_observation=index.id if index is not None else None,
            deciding_observation=last.id if last is not None else None,
            deciding_value=_value_text(last),
        )


@cache
def _identification_period(measurement_period: Interval) -> Interval:
    start = measurement_period.low
    assert start is not None
    return cql.interval(_minus_months(start, 14), _minus_months(start, 2), high_closed=False)


def _minus_months(p: Point, months: int) -> Point:
    if isinstance(p, datetime):
        d = cql.add_months(p.date(), -months)
        return p.replace(year=d.year, month=d.month, day=d.day)
    return cql.add_months(p, -months)


def _value_text(o: Observation | None) -> str | None:
    if o is None:
        return None
    v = numeric_value(o)
    if v is not None:
        return f"{v:g}"
    if o.value_codes:
        return o.value_codes[0].code
    return None


def cms159(patient: PatientFacts, version: MeasureVersion, valuesets: ValueSets) -> MeasureResult:
    """CMS159 for one patient under the given version (see the module docstring)."""
    return Cms159(patient, version, valuesets).result()


# --- CMS2 -------------------------------------------------------------------------------

ADOLESCENT_SCREENING = "73831-0"
ADULT_SCREENING = "73832-8"
SCREENING_DECLINED = "720834000"
SCREENING_NEGATIVE = "428171000124102"
SCREENING_POSITIVE = "428181000124104"
ADOLESCENT = "adolescent"
ADULT = "adult"


@dataclass(frozen=True)
class FollowUp:
    """A follow-up intervention: medication order, referral or procedure."""

    id: str
    performed_start: Point | None  # Procedure.performed
    authored_on: Point | None  # MedicationRequest / ServiceRequest.authoredOn


class Cms2:
    """CMS2 Screening for Depression and Follow-Up Plan for one patient; each define of the
    CQL is one method or property of the same name."""

    def __init__(self, patient: PatientFacts, version: MeasureVersion, valuesets: ValueSets):
        self.patient = patient
        self.version = version
        self._valuesets = valuesets
        self.qicore6 = version.qicore == "6.0.0"
        self.mp = version.measurement_period
        self._screenings_of: dict[str, list[Observation]] = {}

    def vs(self, *names: str) -> frozenset[tuple[str, str]]:
        """The expansion of the value sets the CQL names (their union), by canonical URL."""
        return expansion(self._valuesets, self.version, names)

    @cached_property
    def age_at_start(self) -> int | None:
        """AgeInYearsAt(date from start of "Measurement Period")."""
        if self.patient.birth_date is None or self.mp.low is None:
            return None
        return age_in_years(self.patient.birth_date, cql.to_date(self.mp.low))

    @cached_property
    def qualifying_encounters(self) -> list[Encounter]:
        """Encounter to Screen for Depression, Physical Therapy Evaluation or Telephone
        Visits, finished, period during day of the MP."""
        members = self.vs(
            "Encounter to Screen for Depression", "Physical Therapy Evaluation", "Telephone Visits"
        )
        return [
            e
            for e in self.patient.encounters
            if in_valueset(e.codes, members)
            and e.status == "finished"
            and cql.included_in(cql.period_interval(e.period), self.mp, DAY) is True
        ]

    def initial_population(self) -> bool:
        """CMS2 v0.2.000/v0.4.001 Initial Population: age ≥ 12 at MP start and a
        qualifying encounter during the MP."""
        return (self.age_at_start or 0) >= 12 and bool(self.qualifying_encounters)

    def denominator(self) -> bool:
        """CMS2 Denominator: the Initial Population."""
        return self.initial_population()

    def history_of_bipolar(self) -> bool:
        """CMS2 Denominator Exclusion: a bipolar diagnosis (problem list or health concern)
        starting before the qualifying encounter (v0.4.001: before day of its start)."""
        for c in self.patient.conditions:
            if not in_valueset(c.codes, self.vs("Bipolar Disorder")):
                continue
            if not (has_category(c, "problem-list-item") or has_category(c, "health-concern")):
                continue
            start = prevalence_interval(c).low
            for e in self.qualifying_encounters:
                enc_start = cql.period_interval(e.period)
                low = None if enc_start is None else enc_start.low
                prec = DAY if self.qicore6 else None
                if cql.before(start, low, prec):
                    return True
        return False

    def _screenings(self, code: str) -> list[Observation]:
        """Screenings of the tool within 14 days on or before a qualifying encounter's start,
        with a value, status final (v0.4.001: final or corrected)."""
        if code not in self._screenings_of:
            self._screenings_of[code] = self._find_screenings(code)
        return self._screenings_of[code]

    def _find_screenings(self, code: str) -> list[Observation]:
        statuses = {"final", "corrected"} if self.qicore6 else {"final"}
        found = []
        starts = [_start(e) for e in self.qualifying_encounters]
        for o in self.patient.observations:
            if not has_code(o.codes, LOINC, code) or o.status not in statuses:
                continue
            if o.value is None and not o.value_codes:
                continue
            i = effective_interval(o)
            end = None if i is None else i.high
            if any(cql.within_days_on_or_before(end, s, 14) is True for s in starts):
                found.append(o)
        return found

    def has_screening(self, tool: str) -> bool:
        """CMS2 "Has Adolescent/Adult Depression Screening"."""
        return bool(self._screenings(_tool_code(tool)))

    def most_recent_screening(self, tool: str) -> Observation | None:
        """CMS2 "Most Recent Adolescent/Adult Depression Screening" (Last, by start)."""
        found = self._screenings(_tool_code(tool))
        if not found:
            return None
        return max(found, key=lambda o: _sort_key(effective_start(o)))

    def most_recent_negative(self, tool: str) -> bool:
        """CMS2 "Has Most Recent Adolescent/Adult Screening Negative"."""
        last = self.most_recent_screening(tool)
        return last is not None and value_is(last, SNOMEDCT, SCREENING_NEGATIVE)

    def follow_up_interventions(self, tool: str) -> list[FollowUp]:
        """CMS2 "Follow Up Intervention for Positive Adolescent/Adult Depression Screening":
        medication order (active/completed; v0.2.000 intent order, v0.4.001 any order intent
        and a medicationRequestPeriod overlapping after the encounter), referral
        (active/completed) or follow-up procedure (completed)."""
        meds = self.vs(f"{tool.capitalize()} Depression Medications")
        referrals = self.vs(f"Referral for {tool.capitalize()} Depression")
        procedures = self.vs(f"Follow Up for {tool.capitalize()} Depression")
        found: list[FollowUp] = []
        for m in self.patient.medication_requests:
            if not in_valueset(m.codes, meds) or m.status not in {"active", "completed"}:
                continue
            if self.qicore6:
                if m.intent not in ORDER_INTENTS or not self._medication_with_encounter(m, tool):
                    continue
            elif m.intent != "order":
                continue
            found.append(FollowUp(m.id, None, m.authored_on))
        for s in self.patient.service_requests:
            if in_valueset(s.codes, referrals) and s.status in {"active", "completed"}:
                found.append(FollowUp(s.id, None, s.authored_on))
        for pr in self.patient.procedures:
            if in_valueset(pr.codes, procedures) and pr.status == "completed":
                i = cql.period_interval(pr.performed)
                found.append(FollowUp(pr.id, None if i is None else i.low, None))
        return found

    def _medication_with_encounter(self, m: MedicationRequest, tool: str) -> bool:
        last = self.most_recent_screening(tool)
        if last is None or not value_is(last, SNOMEDCT, SCREENING_POSITIVE):
            return False
        period = medication_request_period(m)
        for e in self.qualifying_encounters:
            if cql.within_days_on_or_before(effective_start(last), _start(e), 14) is not True:
                continue
            if cql.overlaps_after(period, cql.period_interval(e.period), DAY) is True:
                return True
        return False

    def positive_and_follow_up(self, tool: str) -> FollowUp | None:
        """CMS2 "Most Recent Adolescent/Adult Depression Screening Positive and Follow Up
        Provided": positive, and a follow-up during the encounter or authored within 2 days
        after it, itself during day of the MP."""
        last = self.most_recent_screening(tool)
        if last is None or not value_is(last, SNOMEDCT, SCREENING_POSITIVE):
            return None
        for f in self.follow_up_interventions(tool):
            for e in self.qualifying_encounters:
                period = cql.period_interval(e.period)
                if cql.within_days_on_or_before(effective_start(last), _start(e), 14) is not True:
                    continue
                timely = or3(
                    cql.in_interval(f.performed_start, period),
                    cql.within_days_on_or_after(
                        f.authored_on, None if period is None else period.high, 2
                    ),
                )
                when = f.performed_start if f.performed_start is not None else f.authored_on
                if and3(timely, cql.in_interval(when, self.mp, DAY)) is True:
                    return f
        return None

    def _tools_for_age(self) -> tuple[str, ...]:
        age = self.age_at_start
        if age is None or age < 12:
            return ()
        if age <= 16:
            return (ADOLESCENT,)
        if age == 17:
            return (ADOLESCENT, ADULT)
        return (ADULT,)

    def numerator(self) -> bool:
        """CMS2 Numerator: by age at MP start (12–16 adolescent tool, 17 either, ≥ 18 adult),
        the most recent screening is negative, or positive with follow-up."""
        return self._deciding() is not None

    def _deciding(self) -> tuple[Observation, str | None] | None:
        for tool in self._tools_for_age():
            last = self.most_recent_screening(tool)
            if last is None:
                continue
            if self.most_recent_negative(tool):
                return last, None
            follow_up = self.positive_and_follow_up(tool)
            if follow_up is not None:
                return last, follow_up.id
        return None

    def reason_not_screening(self, tool: str) -> list[Observation]:
        """CMS2 "Medical or Patient Reason for Not Screening Adolescent/Adult for
        Depression": a cancelled screening issued during (day of) a qualifying encounter,
        declined or for a medical reason."""
        code = _tool_code(tool)
        prec = DAY if self.qicore6 else None
        found = []
        for o in self.patient.observations:
            if not has_code(o.codes, LOINC, code) or o.status != "cancelled":
                continue
            if not (
                has_code(o.not_done_reason, SNOMEDCT, SCREENING_DECLINED)
                or in_valueset(o.not_done_reason, self.vs("Medical Reason"))
            ):
                continue
            if any(
                cql.in_interval(o.issued, cql.period_interval(e.period), prec) is True
                for e in self.qualifying_encounters
            ):
                found.append(o)
        return found

    def denominator_exception_reasons(self) -> tuple[str, ...]:
        """CMS2 Denominator Exceptions: a reason for not screening with the tool and no
        screening with that tool."""
        reasons = []
        for tool in (ADOLESCENT, ADULT):
            not_done = self.reason_not_screening(tool)
            if not_done and not self.has_screening(tool):
                declined = any(
                    has_code(o.not_done_reason, SNOMEDCT, SCREENING_DECLINED) for o in not_done
                )
                reasons.append(
                    f"{tool} screening {'declined' if declined else 'not done: medical reason'}"
                )
        return tuple(reasons)

    def result(self) -> MeasureResult:
        """The patient's populations: exclusion first, then numerator, then exception."""
        ip = self.initial_population()
        excluded = ip and self.history_of_bipolar()
        deciding = self._deciding() if ip and not excluded else None
        in_numerator = deciding is not None
        exceptions = (
            self.denominator_exception_reasons() if ip and not excluded and not in_numerator
            else ()
        )  # fmt: skip
        encounter = self.qualifying_encounters[0] if ip else None
        start = _start(encounter) if encounter is not None else None
        return MeasureResult(
            patient_id=self.patient.id,
            initial_population=ip,
            denominator=ip,
            denominator_exclusion=excluded,
            numerator=in_numerator,
            denominator_exception=bool(exceptions),
            exclusion_reasons=("bipolar disorder",) if excluded else (),
            exception_reasons=exceptions,
            index_date=cql.to_date(start) if start is not None else None,
            deciding_observation=deciding[0].id if deciding else None,
            deciding_value=_value_text(deciding[0]) if deciding else None,
        )


def _start(e: Encounter) -> Point | None:
    i = cql.period_interval(e.period)
    return None if i is None else i.low


def _tool_code(tool: str) -> str:
    return ADOLESCENT_SCREENING if tool == ADOLESCENT else ADULT_SCREENING


DAYS_PER_UNIT = {
    "s": 1 / 86400, "second": 1 / 86400, "seconds": 1 / 86400,
    "min": 1 / 1440, "minute": 1 / 1440, "minutes": 1 / 1440,
    "h": 1 / 24, "hour": 1 / 24, "hours": 1 / 24,
    "d": 1, "day": 1, "days": 1,
    "wk": 7, "week": 7, "weeks": 7,
    "mo": 30, "month": 30, "months": 30,
    "a": 365, "year": 365, "years": 365,
}  # fmt: skip


def medication_request_period(m: MedicationRequest) -> Interval | None:
    """CumulativeMedicationDuration v6.0.000 medicationRequestPeriod: from the bounds start,
    authoredOn or validity start, for the days supplied (× (1 + refills)), else to the
    bounds end."""
    d = m.dosage
    start_point = next(
        (p for p in (d.bounds.start if d.bounds else None, m.authored_on, d.validity_start)
         if p is not None),
        None,
    )  # fmt: skip
    if start_point is None:
        return None
    start = cql.to_date(start_point)
    per_day: float | None = None
    if d.frequency is not None and d.period and d.period_unit in DAYS_PER_UNIT:
        per_day = d.frequency / (d.period * DAYS_PER_UNIT[d.period_unit])
    if per_day is None:
        per_day = float(d.times_of_day)  # Count() of no times of day is 0, not null
    supplied = d.expected_supply_days
    if supplied is None and d.quantity is not None and d.dose and per_day:
        supplied = d.quantity / (d.dose * per_day)
    if supplied is not None:
        total = supplied * (1 + (d.refills or 0))
        return Interval(start, start + timedelta(days=int(total - 1)))
    if d.bounds is not None and d.bounds.end is not None:
        return Interval(start, cql.to_date(d.bounds.end))
    return None


def cms2(patient: PatientFacts, version: MeasureVersion, valuesets: ValueSets) -> MeasureResult:
    """CMS2 for one patient under the given version (see the module docstring)."""
    return Cms2(patient, version, valuesets).result()
