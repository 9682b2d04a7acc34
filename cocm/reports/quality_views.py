"""The quality-measures page: each measure's counts and rate, and the patients behind them."""

from typing import Any

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render

from cocm.accounts.audit import record_access
from cocm.accounts.permissions import requires
from cocm.errors import InvalidRequest
from cocm.replica import reads_from_replica
from cocm.reports import quality
from cocm.spreadsheets import spreadsheet_response

TITLES = {
    "cms159": "CMS159 Depression Remission at Twelve Months",
    "cms2": "CMS2 Screening for Depression and Follow-Up Plan",
    "drr": "HEDIS DRR-E Depression Remission or Response",
    "dms": "HEDIS DMS-E Utilization of the PHQ-9",
}


def _rows(report: quality.QualityReport, patients: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for p in patients:
        mrn, name = report.names.get(str(p["patient_id"]), ("", ""))
        rows.append({**p, "mrn": mrn, "name": name})
    return rows


@requires("view_quality_measures")
@reads_from_replica
def quality_measures(request: HttpRequest) -> HttpResponseBase:
    """/reports/quality/?measure=cms159&period=2025 (&export=csv|xlsx)."""
    user = request.user
    measure = request.GET.get("measure", "cms159")
    try:
        year = quality.parse_period(request.GET.get("period"), measure, user.organization.today())
    except InvalidRequest as error:
        raise Http404(error.message) from error
    report = quality.user_quality_report(user, measure, year)
    export_format = request.GET.get("export")
    if export_format in ("csv", "xlsx"):
        record_access(
            request, "export", f"quality {measure} {year} {export_format}", patient_id=None
        )
        return spreadsheet_response(
            quality.patient_sheet(report), export_format, f"quality-{measure}-{year}"
        )
    record_access(request, "view", f"quality {measure} {year}", patient_id=None)
    context = page_context(report, measure, year)
    return render(request, "reports/quality.html", context)


def page_context(report: quality.QualityReport, measure: str, year: int) -> dict[str, Any]:
    """What the quality page shows of a report: the patients, by assessment period if the
    measure has them."""
    data = report.data
    periods = [
        {**period, "rows": _rows(report, period["patients"])}
        for period in data.get("assessment_periods", [])
    ]
    return {
        "measure": measure,
        "title": TITLES[measure],
        "library": data.get("library", ""),
        "year": year,
        "years": quality.known_years(measure),
        "measures": list(TITLES.items()),
        "data": data,
        "rows": [] if periods else _rows(report, data["patients"]),
        "periods": periods,
        "is_cms2": measure == "cms2",
        "is_drr": measure == "drr",
        "settings": sorted(data.get("settings", {}).items()),
    }
