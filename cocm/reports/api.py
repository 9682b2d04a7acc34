"""/api/v1/quality/*: the quality measures with their patient lists (API_CONTRACT.md)."""

from typing import Any

from django.http import HttpRequest
from ninja import Router

from cocm.accounts.audit import record_access
from cocm.api.schemas import ErrorOut
from cocm.reports import quality

router = Router(tags=["quality"])
RESPONSES: dict[int, Any] = {
    200: dict[str, Any],
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
}


def _measure(request: HttpRequest, measure: str, period: str | None) -> dict[str, Any]:
    from cocm.api import routes  # the API's one permission check (routes imports this module)

    user = routes.require(request, "view_quality_measures")
    year = quality.parse_period(period, measure, user.organization.today())
    report = quality.user_quality_report(user, measure, year)
    record_access(
        request, "view", f"quality {measure} {year}", patient_id=None, channel="api", user=user
    )
    return report.data


@router.get("/cms159", response=RESPONSES)
def cms159(request: HttpRequest, period: str | None = None) -> dict[str, Any]:
    """CMS159 Depression Remission at Twelve Months for a measurement year (?period=YYYY)."""
    return _measure(request, "cms159", period)


@router.get("/cms2", response=RESPONSES)
def cms2(request: HttpRequest, period: str | None = None) -> dict[str, Any]:
    """CMS2 Screening for Depression and Follow-Up Plan for a measurement year."""
    return _measure(request, "cms2", period)


@router.get("/drr", response=RESPONSES)
def drr(request: HttpRequest, period: str | None = None) -> dict[str, Any]:
    """HEDIS DRR-E Depression Remission or Response for a measurement year."""
    return _measure(request, "drr", period)


@router.get("/dms", response=RESPONSES)
def dms(request: HttpRequest, period: str | None = None) -> dict[str, Any]:
    """HEDIS DMS-E Utilization of the PHQ-9, per assessment period of a measurement year."""
    return _measure(request, "dms", period)
