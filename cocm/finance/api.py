"""`GET /api/v1/finance/model` (../shared/API_CONTRACT.md): the model's inputs with their
sources and its outputs, from query parameters; `calibrate=true` fills from the registry."""

from typing import Any

from django.http import HttpRequest
from ninja import Router

from cocm.api.schemas import ErrorOut
from cocm.domain import finance
from cocm.errors import InvalidRequest
from cocm.finance import calibration, services
from cocm.pages import Audit

router = Router(tags=["finance"])
CONTROL_PARAMETERS = frozenset({"calibrate", "months"})


@router.get("/model", response={200: dict[str, Any], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut})
def finance_model(
    request: HttpRequest, calibrate: bool = False, months: int = calibration.DEFAULT_MONTHS
) -> dict[str, Any]:
    """Inputs as query parameters (any omitted one takes its default); outputs explained."""
    # Imported here: cocm.api.routes mounts this router at its end, so a module-level
    # import would be circular. require() asks the one permission table.
    from cocm.api.routes import audited, require

    user = require(request, "view_finance")
    organization = user.organization
    as_of = organization.today()
    given = {name: value for name, value in request.GET.items() if name not in CONTROL_PARAMETERS}
    unknown = [name for name in given if name not in finance.SPECS]
    if unknown:
        raise InvalidRequest(f"'{unknown[0]}' is not an input of the financial model.", unknown[0])
    calibrated = None
    if calibrate:
        calibrated = audited(
            request,
            Audit("view", "finance calibration"),
            lambda: calibration.calibrate(organization, as_of=as_of, months=months),
        )
    inputs = services.resolve_inputs(given, as_of=as_of, calibration=calibrated)
    return services.as_json(services.evaluate(inputs, organization=organization))
