"""Quality measures over the registry (and imported FHIR data): CMS159, CMS2, DRR-E, DMS-E.

One use case, `quality_report(organization, episodes, measure, year)`, shared by the API,
the page and `cocm report quality`; it returns the contract's shape
(../shared/API_CONTRACT.md `/quality/*`) as plain data.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet, Sum

from cocm.accounts.scoping import break_glass_patient_ids, visible_episodes, visible_patients
from cocm.domain import ecqm, hedis
from cocm.domain.clinical import PatientFacts
from cocm.errors import InvalidRequest
from cocm.registry.models import Episode, Patient
from cocm.reports.registry_facts import (
    NOTHING,
    Reads,
    born_by,
    elevated_phq9_between,
    imported_resources,
    registry_facts,
    visited_between,
)
from cocm.reports.valuesets import package_valuesets
from cocm.spreadsheets import Sheet

MEASURES = ("cms159", "cms2", "drr", "dms")
YEAR = re.compile(r"^\d{4}$")


@dataclass(frozen=True)
class QualityReport:
    """A computed measure: the contract's JSON, and the patients' names for pages/exports."""

    measure: str
    data: dict[str, Any]
    names: dict[str, tuple[str, str]]  # patient id → (MRN, name)


def parse_period(value: str | None, measure: str, today: date) -> int:
    """The measurement year asked for (default: this year), refused with the field named
    when it is not a year for which the measure has a version."""
    if measure not in MEASURES:
        raise InvalidRequest(f"Unknown measure {measure!r}; one of {MEASURES}.", "measure")
    if value in (None, ""):
        value = str(today.year)
    if not YEAR.match(str(value)):
        raise InvalidRequest("The period is a measurement year, YYYY.", "period")
    year = int(str(value))
    known = known_years(measure)
    if year not in known:
        raise InvalidRequest(
            f"No version of {measure} for measurement period {year}; known: "
            f"{', '.join(map(str, known))}.",
            "period",
        )
    return year


def known_years(measure: str) -> list[int]:
    """The measurement years with a version (HEDIS follows the eCQM packages' value sets)."""
    family = "CMS2" if measure == "cms2" else "CMS159"
    return sorted(year for (name, year) in ecqm.VERSIONS if name == family)


def user_quality_report(user: Any, measure: str, year: int) -> QualityReport:
    """The measure over the patients and episodes the user may open (clinic scoping)."""
    return quality_report(
        user.organization,
        visible_episodes(user, Episode.objects),
        measure,
        year,
        visible_patients(user, Patient.objects),
    )


def quality_report(
    organization: Any,
    episodes: QuerySet[Episode],
    measure: str,
    year: int,
    patients: QuerySet[Patient] | None = None,
) -> QualityReport:
    """Compute one measure for a measurement year over the patients of `episodes` (and of
    `patients`: those the user may open without an episode, e.g. imported over FHIR)."""
    facts = registry_facts(
        organization, episodes, patients, data_window(measure, year), candidates(measure, year)
    )
    data = measure_data(facts, measure, year)
    ids = [int(p["patient_id"]) for p in _all_patients(data)]
    names = {
        str(pk): (mrn, f"{family}, {given}")
        for pk, mrn, family, given in Patient.objects.filter(id__in=ids).values_list(
            "id", "mrn", "family_name", "given_name"
        )
    }
    return QualityReport(measure, data, names)


def data_window(measure: str, year: int) -> Reads:
    """The registry contacts and assessments a measure can read, with a margin of 7 days.
    Registry contacts are office visits (CPT 99212), which of the measures' value sets only
    "Contact or Office Visit" and "Encounter to Screen for Depression" hold; registry
    assessments are PHQ-9/PHQ-A totals. So: CMS159 reads contacts that can end in the
    identification period (a depression encounter) and assessments from its start − 7 days
    (index assessments) to the end of the year (the latest MAP ends about Dec 30); CMS2
    reads the year's contacts and no assessment (it reads only screening LOINCs 73831-0 and
    73832-8); DRR-E reads no contact (it reads encounters only for hospice) and assessments
    from the intake period to 240 days after it; DMS-E the year of both."""
    margin = timedelta(days=7)
    if measure == "cms159":
        first, last = date(year - 2, 11, 1), date(year - 1, 11, 1)
        return Reads(
            contacts=(first - margin, last + margin),
            assessments=(first - timedelta(days=7) - margin, date(year, 12, 31) + margin),
        )
    if measure == "cms2":
        return Reads(
            contacts=(date(year, 1, 1) - margin, date(year, 12, 31) + margin),
            assessments=NOTHING,
        )
    if measure == "drr":
        first, last = hedis.drr_intake_period(year, hedis.DrrSettings())
        return Reads(contacts=NOTHING, assessments=(first - margin, last + timedelta(240) + margin))
    year_days = (date(year, 1, 1) - margin, date(year, 12, 31) + margin)
    return Reads(contacts=year_days, assessments=year_days)


def candidate_window(measure: str, year: int) -> tuple[date, date] | None:
    """The days in which a patient needs a PHQ-9/PHQ-A > 9 to be in the measure's initial
    population at all: CMS159 an index assessment by the end of the identification period
    (from its start − 7 days), DRR-E one in the intake period, with a margin of 7 days.
    CMS2 and DMS-E: None (anyone can be)."""
    margin = timedelta(days=7)
    if measure == "cms159":
        return date(year - 2, 11, 1) - timedelta(days=7) - margin, date(year - 1, 11, 1) + margin
    if measure == "drr":
        first, last = hedis.drr_intake_period(year, hedis.DrrSettings())
        return first - margin, last + margin
    return None


def candidates(measure: str, year: int) -> Q | None:
    """Who can be in the initial population at all, decided in the database: CMS159 and
    DRR-E a PHQ-9/PHQ-A > 9 in `candidate_window` and 12 or older at the latest index date
    (born in its year − 12 or before); CMS2 12 or older at the start of the year and a
    contact or initiating visit in the year; DMS-E everyone. A patient with resources
    imported over FHIR is always a candidate for the first condition."""
    window = candidate_window(measure, year)
    if window is not None:
        return elevated_phq9_between(*window) & born_by(window[1].year - 12)
    if measure == "cms2":
        return visited_between(date(year, 1, 1), date(year, 12, 31)) & born_by(year - 12)
    return None


def _all_patients(data: dict[str, Any]) -> list[dict[str, Any]]:
    if "assessment_periods" in data:
        return [p for period in data["assessment_periods"] for p in period["patients"]]
    return list(data["patients"])


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def measure_data(facts: list[PatientFacts], measure: str, year: int) -> dict[str, Any]:
    """The contract's JSON for one measure over the given patients' facts (no database)."""
    if measure == "cms159":
        return ecqm_data(facts, ecqm.measure_version("CMS159", year))
    if measure == "cms2":
        return ecqm_data(facts, ecqm.measure_version("CMS2", year))
    valuesets = package_valuesets(ecqm.measure_version("CMS159", year).package)
    if measure == "drr":
        return drr_data(facts, year, valuesets)
    return dms_data(facts, year, valuesets)


def ecqm_data(facts: list[PatientFacts], version: ecqm.MeasureVersion) -> dict[str, Any]:
    """CMS159 or CMS2: counts, rate and the patients in the initial population."""
    valuesets = package_valuesets(version.package)
    compute = ecqm.cms159 if version.measure == "CMS159" else ecqm.cms2
    fhir_ids = {f.id: f.fhir_id or f.id for f in facts}
    results = [r for r in (compute(f, version, valuesets) for f in facts) if r.initial_population]
    denominator = sum(r.denominator for r in results)
    exclusions = sum(r.denominator_exclusion for r in results)
    exceptions = sum(r.denominator_exception for r in results)
    numerator = sum(r.numerator for r in results)
    data: dict[str, Any] = {
        "measure": version.measure,
        "version": version.version,
        "library": version.library,
        "period": str(version.year),
        "initial_population": len(results),
        "denominator": denominator,
        "denominator_exclusions": exclusions,
        "numerator": numerator,
        "rate": _rate(numerator, denominator - exclusions - exceptions),
    }
    if version.measure == "CMS2":
        data["denominator_exceptions"] = exceptions
    patients = []
    for r in sorted(results, key=lambda r: int(r.patient_id) if r.patient_id.isdigit() else 0):
        row: dict[str, Any] = {
            "patient_id": int(r.patient_id) if r.patient_id.isdigit() else r.patient_id,
            "fhir_id": fhir_ids[r.patient_id],
            "index_date": r.index_date.isoformat() if r.index_date else None,
            "in_initial_population": r.initial_population,
            "in_denominator": r.denominator,
            "excluded": r.denominator_exclusion,
            "exclusion_reasons": list(r.exclusion_reasons),
            "in_numerator": r.numerator,
            "index_observation": r.index_observation,
            "deciding_observation": r.deciding_observation,
            "deciding_value": r.deciding_value,
        }
        if version.measure == "CMS2":
            row["exception"] = r.denominator_exception
            row["exception_reasons"] = list(r.exception_reasons)
        patients.append(row)
    data["patients"] = patients
    return data


def drr_data(
    facts: list[PatientFacts], year: int, valuesets: Any, settings: hedis.DrrSettings | None = None
) -> dict[str, Any]:
    """DRR-E: denominator, exclusions, follow-up, remission and response with the patients."""
    settings = settings or hedis.DrrSettings()
    fhir_ids = {f.id: f.fhir_id or f.id for f in facts}
    results = [r for r in (hedis.drr(f, year, valuesets, settings) for f in facts)]
    results = [r for r in results if r.in_denominator]
    denominator = len(results)
    exclusions = sum(r.excluded for r in results)
    counted = denominator - exclusions
    intake = hedis.drr_intake_period(year, settings)
    counts = {
        key: sum(getattr(r, key) for r in results) for key in ("follow_up", "remission", "response")
    }
    return {
        "measure": "DRR-E",
        "version": f"HEDIS MY {year} (reference §4.3, [I] settings)",
        "period": str(year),
        "intake_period": [intake[0].isoformat(), intake[1].isoformat()],
        "settings": settings.described(),
        "initial_population": denominator,
        "denominator": denominator,
        "denominator_exclusions": exclusions,
        "numerator": counts["remission"],
        "rate": _rate(counts["remission"], counted),
        **counts,
        "rates": {key: _rate(value, counted) for key, value in counts.items()},
        "patients": [
            {
                "patient_id": int(r.patient_id) if r.patient_id.isdigit() else r.patient_id,
                "fhir_id": fhir_ids[r.patient_id],
                "index_date": r.iesd.isoformat() if r.iesd else None,
                "iesd": r.iesd.isoformat() if r.iesd else None,
                "iesd_score": r.iesd_score,
                "in_denominator": True,
                "excluded": r.excluded,
                "exclusion_reasons": list(r.exclusion_reasons),
                "in_numerator": r.remission,
                "follow_up": r.follow_up,
                "remission": r.remission,
                "response": r.response,
                "index_observation": r.iesd_observation,
                "deciding_observation": r.deciding_observation,
                "deciding_value": r.deciding_value,
            }
            for r in sorted(results, key=lambda r: r.patient_id)
        ],
    }


def dms_data(
    facts: list[PatientFacts], year: int, valuesets: Any, settings: hedis.DmsSettings | None = None
) -> dict[str, Any]:
    """DMS-E: per assessment period, denominator, exclusions and numerator with the patients."""
    settings = settings or hedis.DmsSettings()
    fhir_ids = {f.id: f.fhir_id or f.id for f in facts}
    per_patient = [hedis.dms(f, year, valuesets, settings) for f in facts]
    periods = []
    for index, (first, last) in enumerate(hedis.dms_assessment_periods(year, settings)):
        rows = [results[index] for results in per_patient if results[index].in_denominator]
        rows.sort(key=lambda r: r.patient_id)
        denominator = len(rows)
        exclusions = sum(r.excluded for r in rows)
        numerator = sum(r.numerator for r in rows)
        periods.append(
            {
                "start": first.isoformat(),
                "end": last.isoformat(),
                "denominator": denominator,
                "denominator_exclusions": exclusions,
                "numerator": numerator,
                "rate": _rate(numerator, denominator - exclusions),
                "patients": [
                    {
                        "patient_id": int(r.patient_id) if r.patient_id.isdigit() else r.patient_id,
                        "fhir_id": fhir_ids[r.patient_id],
                        "index_date": r.event_date.isoformat() if r.event_date else None,
                        "in_denominator": True,
                        "excluded": r.excluded,
                        "exclusion_reasons": list(r.exclusion_reasons),
                        "in_numerator": r.numerator,
                        "deciding_observation": r.deciding_observation,
                        "deciding_value": r.deciding_value,
                    }
                    for r in rows
                ],
            }
        )
    return {
        "measure": "DMS-E",
        "version": f"HEDIS MY {year} (reference §4.3, [I] settings)",
        "period": str(year),
        "settings": settings.described(),
        "assessment_periods": periods,
    }


PATIENT_COLUMNS = (
    ("patient_id", "Patient id"),
    ("fhir_id", "FHIR id"),
    ("index_date", "Index date"),
    ("in_denominator", "In denominator"),
    ("excluded", "Excluded"),
    ("exclusion_reasons", "Exclusion reasons"),
    ("exception", "Exception"),
    ("exception_reasons", "Exception reasons"),
    ("in_numerator", "In numerator"),
    ("iesd_score", "IESD score"),
    ("follow_up", "Follow-up"),
    ("remission", "Remission"),
    ("response", "Response"),
    ("deciding_observation", "Deciding observation"),
    ("deciding_value", "Deciding value"),
)


def patient_sheet(report: QualityReport) -> Sheet:
    """The patient list as one table (for CSV/XLSX): the measure's columns, MRN and name."""
    data = report.data
    periods = data.get("assessment_periods")
    sample = [p for period in periods for p in period["patients"]] if periods else data["patients"]
    always = {"patient_id", "fhir_id", "index_date", "in_denominator", "excluded", "in_numerator"}
    keys = [k for k, _ in PATIENT_COLUMNS if k in always or any(k in p for p in sample)]
    headings = ["Measure", "Version", "Period"]
    headings += ["Assessment period"] if periods else []
    headings += ["MRN", "Patient"] + [dict(PATIENT_COLUMNS)[k] for k in keys]

    def rows() -> list[list[Any]]:
        found = []
        groups = (
            [(f"{p['start']} to {p['end']}", p["patients"]) for p in periods]
            if periods
            else [(None, data["patients"])]
        )
        for label, patients in groups:
            for p in patients:
                mrn, name = report.names.get(str(p["patient_id"]), ("", ""))
                row = [data["measure"], data["version"], data["period"]]
                row += [label] if periods else []
                row += [mrn, name]
                for k in keys:
                    value = p.get(k)
                    row.append("; ".join(value) if isinstance(value, list) else value)
                found.append(row)
        return found

    return Sheet(f"{data['measure']} {data['period']}", headings, rows())


@dataclass(frozen=True)
class MeasureRate:
    """One measure's rate over one measurement period, for the program dashboard."""

    measure: str
    quarter: str  # the measurement period it covers: the measures are annual ("MP 2025")
    numerator: int
    denominator: int
    rate: float | None  # percent


DASHBOARD_MEASURES = ("cms159", "cms2", "drr")


RATES_FORMAT = 1  # bump when MeasureRate changes shape
RATES_SECONDS = 24 * 60 * 60


def data_stamp(episodes: QuerySet[Episode]) -> dict[str, Any]:
    """Changes with every write to these episodes' data: each write to an episode, its
    contacts, measures, reviews, diagnoses, payer or patient bumps the episode's caseload
    generation (`cocm.care.caseload`)."""
    return episodes.aggregate(
        n=Count("id"), generations=Sum("caseload_row__generation"), last=Max("id")
    )


def rates_by_quarter(user: Any, period: Any) -> list[MeasureRate]:
    """The measures' rates for the dashboard and the program report (cocm.reports.program):
    CMS159, CMS2 and DRR-E are annual, so each is given for every measurement year with a
    version that the period overlaps, computed as on the quality page. Cached for the day,
    keyed by the user's scope and a stamp of its data (`data_stamp`, and the resources
    imported over FHIR): the next write computes them afresh."""
    wanted = [
        (measure, year)
        for measure in DASHBOARD_MEASURES
        for year in known_years(measure)
        if period.start <= date(year, 12, 31) and period.end >= date(year, 1, 1)
    ]
    if not wanted:
        return []
    imported = imported_resources()
    parts = [
        RATES_FORMAT,
        user.organization_id,
        sorted(user.clinic_ids),
        sorted(break_glass_patient_ids(user).values_list("patient_id", flat=True)),
        user.organization.today(),
        wanted,
        data_stamp(visible_episodes(user, Episode.objects)),
        None
        if imported is None
        else imported.filter(organization_id=user.organization_id).aggregate(
            n=Count("id"), last=Max("id")
        ),
    ]
    key = "quality-rates:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    rates = cache.get(key)
    if rates is None:
        rates = [measure_rate(user, measure, year) for measure, year in wanted]
        cache.set(key, rates, RATES_SECONDS)
    return rates


def measure_rate(user: Any, measure: str, year: int) -> MeasureRate:
    """One measure's rate over one measurement year for the user's patients."""
    data = user_quality_report(user, measure, year).data
    counted = data["denominator"] - data["denominator_exclusions"]
    counted -= data.get("denominator_exceptions", 0)
    return MeasureRate(
        data["measure"] if measure == "drr" else f"{data['measure']} v{data['version']}",
        f"MP {year}",
        data["numerator"],
        counted,
        None if data["rate"] is None else round(data["rate"] * 100, 1),
    )
