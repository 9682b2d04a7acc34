"""The program report's tables as spreadsheets (written by `cocm.spreadsheets`)."""

from collections.abc import Callable, Sequence

from cocm.domain.indicators import Indicator
from cocm.reports.program import COMPARED, PatientRow, ProgramReport
from cocm.spreadsheets import Sheet


def indicators_sheet(report: ProgramReport) -> Sheet:
    return Sheet(
        "Indicators",
        [
            "Indicator",
            "Key",
            "Value",
            "Numerator",
            "Denominator",
            "Period start",
            "Period end",
            "Level",
            "Source",
        ],
        [
            [
                i.label,
                i.key,
                i.value,
                i.numerator,
                i.denominator,
                report.period.start,
                report.period.end,
                report.level,
                i.source,
            ]
            for i in report.ordered()
        ],
    )


def months_sheet(report: ProgramReport) -> Sheet:
    return Sheet(
        "By month",
        [
            "Month",
            "Active caseload (month end)",
            "New enrollments",
            "Patient-months",
            "Patient-months with a billable code (%)",
        ],
        [
            [p.month, p.active_caseload, p.new_enrollments, p.patient_months, p.billing_any_pct]
            for p in report.months
        ],
    )


def cohorts_sheet(report: ProgramReport) -> Sheet:
    return Sheet(
        "Cohorts",
        [
            "Enrollment month",
            "Baseline PHQ-9 >= 10",
            "Responded",
            "Response (%)",
            "Remitted",
            "Remission (%)",
        ],
        [
            [c.month, c.eligible, c.responded, c.response_pct, c.remitted, c.remission_pct]
            for c in report.cohorts
        ],
    )


def weeks_sheet(report: ProgramReport) -> Sheet:
    return Sheet(
        "Weeks to response",
        ["Weeks in treatment at first response", "Patients"],
        [[label, n] for label, n in report.weeks_to_response],
    )


def care_managers_sheet(report: ProgramReport) -> Sheet:
    headings = ["Care manager"]
    for key in COMPARED:
        label = report.indicators[key].label
        headings += [label, f"{label}: numerator", f"{label}: denominator"]
    rows = []
    for row in report.care_managers:
        cells: list = [row.name]
        for key in COMPARED:
            one = row.indicators[key]
            cells += [one.value, one.numerator, one.denominator]
        rows.append(cells)
    return Sheet("Care managers", headings, rows)


TABLES: dict[str, Callable[[ProgramReport], Sheet]] = {
    "indicators": indicators_sheet,
    "months": months_sheet,
    "cohorts": cohorts_sheet,
    "weeks_to_response": weeks_sheet,
    "care_managers": care_managers_sheet,
}
TABLE_LABELS = (
    ("indicators", "Indicators"),
    ("months", "By month"),
    ("cohorts", "Cohorts"),
    ("weeks_to_response", "Weeks to response"),
    ("care_managers", "Care managers"),
)


def patients_sheet(indicator: Indicator, rows: Sequence[PatientRow]) -> Sheet:
    return Sheet(
        "Patients",
        [
            "Patient",
            "MRN",
            "Month",
            "Clinic",
            "Care manager",
            "Enrolled on",
            "Discharged on",
            f"Counted in: {indicator.label}",
        ],
        [
            [
                r.name,
                r.mrn,
                r.month,
                r.clinic,
                r.care_manager,
                r.enrolled_on,
                r.discharged_on,
                r.counted,
            ]
            for r in rows
        ],
    )
