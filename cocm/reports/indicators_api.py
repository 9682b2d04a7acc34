"""`GET /api/v1/indicators` (API_CONTRACT.md): the program indicators for a period and level."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.errors import HttpError
from pydantic import BaseModel, RootModel

from cocm.api.schemas import ErrorOut
from cocm.pages import Audit
from cocm.reports import program

router = Router(tags=["reports"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class IndicatorOut(BaseModel):
    label: str
    kind: str
    value: float | int | None
    numerator: float | int
    denominator: float | int | None
    patients_url: str
    source: str


class IndicatorsOut(RootModel[dict[str, IndicatorOut]]):
    pass


@router.get("/indicators", response={200: IndicatorsOut, **ERRORS})
def indicators(
    request: HttpRequest,
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
    clinic: str | None = None,
    care_manager: str | None = None,
) -> dict[str, Any]:
    """Each indicator: value, numerator, denominator and the URL of the patients behind it."""
    # Imported here: cocm.api.routes imports this module to mount the router.
    from cocm.api.routes import audited, require

    user = require(request, "view_program_indicators")
    today = user.organization.today()
    data = {"from": from_, "to": to, "clinic": clinic, "care_manager": care_manager}
    try:
        filters = program.parse_filters(user, data, today=today)
    except program.UnknownFilter as error:
        raise HttpError(404, f"{error.field}: {error.message}") from None
    report = audited(
        request,
        Audit("view", "program indicators"),
        lambda: program.program_report(user, filters, today=today),
    )
    return {key: program.indicator_json(one, filters) for key, one in report.indicators.items()}
