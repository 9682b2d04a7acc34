"""The financial model pages: the model with its explanations, scenarios, comparison."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core import signing
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from cocm.accounts.audit import record_access
from cocm.accounts.models import Organization
from cocm.accounts.permissions import requires
from cocm.domain import finance
from cocm.errors import InvalidRequest
from cocm.finance import display, export, services
from cocm.finance.calibration import DEFAULT_MONTHS, calibrate
from cocm.spreadsheets import XLSX_TYPE

STATE_SALT = "cocm.finance.state"


def _state_token(inputs: services.ModelInputs) -> str:
    # Signed: the sources travel with the values and a user cannot mark a value as the
    # registry's.
    return signing.dumps(inputs.stored(), salt=STATE_SALT, compress=True)


def _state(token: str) -> dict[str, dict[str, str]]:
    if not token:
        return {}
    try:
        data = signing.loads(token, salt=STATE_SALT, max_age=60 * 60 * 24)
    except signing.BadSignature:
        raise InvalidRequest(
            "The page has expired or was altered: the inputs were reset.", "base"
        ) from None
    return data if isinstance(data, dict) else {}


def _months(query: QueryDict) -> int:
    try:
        return int(query.get("months") or DEFAULT_MONTHS)
    except ValueError:
        raise InvalidRequest("Months must be a whole number.", "months") from None


def _scenario_or_404(organization: Organization, text: str | int) -> Any:
    try:
        scenario_id = int(text)
    except (TypeError, ValueError):
        raise Http404("No such scenario") from None
    if not 0 < scenario_id < 2**63:
        raise Http404("No such scenario")
    scenario = services.scenario_of(organization, scenario_id)
    if scenario is None:
        raise Http404("No such scenario")
    return scenario


@requires("view_finance")
def finance_model(request: HttpRequest) -> HttpResponse:
    """The model: inputs with their sources, outputs with how each was computed."""
    organization = request.user.organization
    as_of = organization.today()
    query = request.GET
    scenario = _scenario_or_404(organization, query["scenario"]) if query.get("scenario") else None
    error: InvalidRequest | None = None
    base: dict[str, dict[str, str]] = dict(scenario.inputs) if scenario else {}
    try:
        base.update(_state(query.get("base", "")))
        if query.get("calibrate"):
            base.update(calibrate(organization, as_of=as_of, months=_months(query)))
            record_access(request, "view", "finance calibration", patient_id=None)
    except InvalidRequest as problem:
        error = problem
    inputs = services.resolve_inputs({}, as_of=as_of, stored=base)
    base_token = _state_token(inputs)
    given = {name: text for name, text in query.items() if name in finance.SPECS}
    evaluation = None
    try:
        services.apply_given(inputs, given, only_changed=True)
        evaluation = services.evaluate(inputs, organization=organization)
    except InvalidRequest as problem:
        error = error or problem
    return render(
        request,
        "finance/model.html",
        _model_context(inputs, evaluation, given, error, base_token, scenario),
    )


def _model_context(
    inputs: services.ModelInputs,
    evaluation: services.Evaluation | None,
    given: dict[str, str],
    error: InvalidRequest | None,
    base_token: str,
    scenario: Any,
) -> dict[str, Any]:
    field, message = (error.field, error.message) if error else ("", "")
    return {
        "groups": display.input_groups(inputs, given, field, message),
        "payers": display.payer_rows(inputs, given, field, message),
        "rate_codes": finance.RATE_CODES,
        "route_labels": ROUTE_LABELS,
        "error": message,
        "error_field": field,
        "base_token": base_token,
        "scenario": scenario,
        "months_choices": (3, 6, 12, 24),
        "default_months": DEFAULT_MONTHS,
        "registry_count": sum(1 for s in inputs.sources.values() if s == services.REGISTRY),
        **_evaluation_context(inputs, evaluation),
    }


def _evaluation_context(
    inputs: services.ModelInputs, evaluation: services.Evaluation | None
) -> dict[str, Any]:
    """The model's results, charts and the token that recalls them (empty without a result)."""
    if evaluation is None:
        return {
            "evaluation": None,
            "headline": [],
            "outputs": [],
            "revenue": [],
            "warnings": (),
        } | {"projection_svg": "", "tornado_svg": "", "swings": [], "state_token": ""}
    return {
        "evaluation": evaluation,
        "headline": display.output_rows(evaluation, display.HEADLINE),
        "outputs": display.output_rows(evaluation),
        "revenue": display.revenue_table(evaluation),
        "warnings": evaluation.result.warnings,
        "projection_svg": display.projection_chart([("This scenario", evaluation)]),
        "tornado_svg": display.tornado_chart(evaluation),
        "swings": display.swing_rows(evaluation),
        "state_token": _state_token(inputs),
    }


ROUTE_LABELS = {
    "cocm": "CoCM codes",
    "psychotherapy": "Psychotherapy codes",
    "mixed": "Mixed",
    "none": "Not billed",
}


@requires("view_finance")
def finance_export(request: HttpRequest) -> HttpResponse:
    """The inputs on the page (or a saved scenario) as an XLSX workbook with formulas."""
    organization = request.user.organization
    as_of = organization.today()
    scenario = None
    if request.GET.get("scenario"):
        scenario = _scenario_or_404(organization, request.GET["scenario"])
        stored = scenario.inputs
    else:
        try:
            stored = _state(request.GET.get("state", ""))
        except InvalidRequest:
            stored = {}
    try:
        evaluation = services.evaluate(
            services.resolve_inputs({}, as_of=as_of, stored=stored), organization=organization
        )
    except InvalidRequest as error:
        messages.error(request, error.message)
        return redirect("finance_model")
    name = scenario.name if scenario else "Financial model"
    record_access(request, "export", "finance model xlsx", patient_id=None)
    response = HttpResponse(export.as_xlsx(evaluation, title=name), content_type=XLSX_TYPE)
    filename = f"cocm-finance-{scenario.pk}" if scenario else "cocm-finance"
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


@require_POST
@requires("save_finance_scenario")
def finance_save(request: HttpRequest) -> HttpResponse:
    organization = request.user.organization
    try:
        inputs = services.resolve_inputs(
            {},
            as_of=organization.today(),
            stored=_state(request.POST.get("state", "")),
        )
        with transaction.atomic():
            scenario = services.save_scenario(
                organization, request.POST.get("name", ""), inputs, by=request.user
            )
    except InvalidRequest as error:
        messages.error(request, f"Not saved: {error.message}")
        return redirect("finance_scenarios")
    messages.success(request, f"Scenario '{scenario.name}' saved.")
    return redirect(f"{reverse('finance_model')}?scenario={scenario.pk}")


@requires("view_finance")
def finance_scenarios(request: HttpRequest) -> HttpResponse:
    """The organization's saved scenarios, to open, compare, export or delete."""
    organization = request.user.organization
    as_of = organization.today()
    rows = []
    for scenario in services.scenarios(organization):
        try:
            evaluation = services.evaluate(
                services.scenario_inputs(scenario, as_of=as_of), organization=organization
            )
            outputs = evaluation.result.outputs
            summary = {
                name: display.formatted(outputs[name].value, outputs[name].unit)
                for name in ("margin_per_year", "caseload_capacity", "net_revenue_per_year")
            }
            problem = ""
        except InvalidRequest as error:
            summary, problem = {}, error.message
        rows.append({"scenario": scenario, "summary": summary, "problem": problem})
    return render(request, "finance/scenarios.html", {"rows": rows})


@require_POST
@requires("save_finance_scenario")
def finance_delete(request: HttpRequest, scenario_id: int) -> HttpResponse:
    scenario = _scenario_or_404(request.user.organization, scenario_id)
    with transaction.atomic():
        services.delete_scenario(request.user.organization, scenario.pk)
    messages.success(request, f"Scenario '{scenario.name}' deleted.")
    return redirect("finance_scenarios")


@requires("view_finance")
def finance_compare(request: HttpRequest) -> HttpResponse:
    """Two or three scenarios side by side, with their monthly revenue and cost."""
    organization = request.user.organization
    ids: list[int] = []
    for text in request.GET.getlist("scenario"):
        if not text.isdigit() or len(text) > 18:
            raise Http404("No such scenario")
        ids.append(int(text))
    try:
        compared = services.compare(organization, ids, as_of=organization.today())
    except InvalidRequest as error:
        return render(
            request,
            "finance/compare.html",
            {"error": error.message, "columns": [], "rows": [], "inputs": [], "chart": ""},
        )
    return render(request, "finance/compare.html", display.comparison(compared))
