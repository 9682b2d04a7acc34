"""Use cases of the financial model: resolve the inputs (defaults, a saved scenario, the
registry, what the user gave), run the pure model, save and compare scenarios.

The page, the API and `cocm finance` all call `resolve_inputs` and `evaluate`, so they refuse
the same inputs with the same message naming the input (InvalidRequest.field).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cocm.accounts.models import Organization, User
from cocm.billing.fees import SHIPPED, parse_fees
from cocm.billing.rules import organization_rules
from cocm.domain import coding, finance
from cocm.errors import InvalidRequest
from cocm.finance.models import Scenario

DEFAULT = "default"
GIVEN = "given"
REGISTRY = "registry"
SOURCES = (DEFAULT, GIVEN, REGISTRY)
MAX_COMPARED = 3
PROJECTION_MONTHS = 24


@cache
def shipped_medicare_fees() -> dict[str, float]:
    """The Medicare amounts of the fee schedule shipped with the product (rules 1.9)."""
    fees = parse_fees(SHIPPED.read_text(encoding="utf-8"))
    return {fee.code: float(fee.amount) for fee in fees if fee.payer_kind == "medicare"}


def shipped_fee_year() -> int:
    fees = parse_fees(SHIPPED.read_text(encoding="utf-8"))
    return max(fee.year for fee in fees)


@dataclass
class ModelInputs:
    """Every input's value, where it came from and a note saying why."""

    values: dict[str, finance.Value]
    sources: dict[str, str]
    notes: dict[str, str] = field(default_factory=dict)

    def set(self, name: str, value: finance.Value, source: str, note: str = "") -> None:
        self.values[name] = value
        self.sources[name] = source
        if note:
            self.notes[name] = note
        else:
            self.notes.pop(name, None)

    def stored(self) -> dict[str, dict[str, str]]:
        """What a scenario keeps: the inputs that are not defaults, as texts."""
        return {
            name: {
                "value": input_text(name, self.values[name]),
                "source": source,
                "note": self.notes.get(name, ""),
            }
            for name, source in self.sources.items()
            if source != DEFAULT
        }


def default_inputs(as_of: date) -> ModelInputs:
    """The defaults (docs/finance.md says where each comes from)."""
    values = finance.default_values(as_of.year, shipped_medicare_fees())
    inputs = ModelInputs(values, dict.fromkeys(values, DEFAULT))
    fee_year = shipped_fee_year()
    for name, value in values.items():
        if name.startswith("rate_") and value is not None:
            inputs.notes[name] = _default_fee_note(name, fee_year)
        else:
            inputs.notes[name] = finance.SPECS[name].default_note
    return inputs


def _default_fee_note(name: str, fee_year: int) -> str:
    payer, code = name.removeprefix("rate_").rsplit("_", 1)
    if code == str(coding.Code.HCPCS_G2214):
        return (
            "[I] no published G2214 amount (rules 1.9): the 99494 amount, the other 30-minute unit"
        )
    if payer != "medicare":
        return f"[I] no {payer} fee schedule on file: the Medicare {fee_year} amount"
    return f"Medicare national non-facility {fee_year}, the shipped fee schedule (rules 1.9)"


def input_text(name: str, value: finance.Value) -> str:
    """The text of an input as the form, a scenario and `--set` write it."""
    spec = finance.SPECS[name]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return finance.distribution_text(value)
    if isinstance(value, str):
        return value
    if spec.kind is finance.Kind.FRACTION:
        return f"{value * 100:.10g}%"
    return f"{value:.10g}"


def parse_input(name: str, text: str) -> finance.Value:
    try:
        return finance.parse_value(name, text)
    except finance.FinanceInputError as error:
        raise InvalidRequest(error.message, error.field) from None


def same_value(a: finance.Value, b: finance.Value) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, bool) or isinstance(b, bool):
            return a is b
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(
            x[0] == y[0] and math.isclose(x[1], y[1], abs_tol=1e-9)
            for x, y in zip(a, b, strict=True)
        )
    return a == b


def apply_stored(inputs: ModelInputs, stored: Mapping[str, Mapping[str, str]]) -> None:
    """Put a scenario's (or a signed calibration's) inputs over the defaults."""
    for name, entry in stored.items():
        if name not in finance.SPECS:
            continue  # an input a later version removed
        source = entry.get("source", GIVEN)
        inputs.set(
            name,
            parse_input(name, entry.get("value", "")),
            source if source in SOURCES else GIVEN,
            entry.get("note", ""),
        )


def apply_given(
    inputs: ModelInputs, given: Mapping[str, str], *, only_changed: bool = False
) -> None:
    """The user's values; `only_changed` (a page's form sends every field): a field whose
    value is the one already in place keeps its source."""
    for name, text in given.items():
        if name not in finance.SPECS:
            raise InvalidRequest(f"'{name}' is not an input of the financial model.", name)
        value = parse_input(name, text)
        if only_changed and same_value(value, inputs.values[name]):
            continue
        inputs.set(name, value, GIVEN)


def resolve_inputs(
    given: Mapping[str, str],
    *,
    as_of: date,
    stored: Mapping[str, Mapping[str, str]] | None = None,
    calibration: Mapping[str, Mapping[str, str]] | None = None,
    only_changed: bool = False,
) -> ModelInputs:
    """Defaults, then a saved scenario, then the registry's figures, then the given values."""
    inputs = default_inputs(as_of)
    if stored:
        apply_stored(inputs, stored)
    if calibration:
        apply_stored(inputs, calibration)
    apply_given(inputs, given, only_changed=only_changed)
    return inputs


@dataclass(frozen=True)
class Evaluation:
    inputs: ModelInputs
    result: finance.Result
    projection: tuple[finance.ProjectionMonth, ...]
    sensitivity: tuple[finance.Swing, ...]


def billing_rules(organization: Organization | None) -> dict[str, coding.BillingRules]:
    """Each payer's billing rules (e.g. a 99494 cap) as the month worklist applies them."""
    if organization is None:
        return {}
    rules = organization_rules(organization)
    return {payer: rules.for_payer(payer) for payer in finance.Payer}


def evaluate(inputs: ModelInputs, *, organization: Organization | None = None) -> Evaluation:
    """The model's outputs, the 24-month projection and the three most sensitive inputs."""
    rules = billing_rules(organization)
    try:
        result = finance.model(inputs.values, rules=rules)
        swings = finance.sensitivity(inputs.values, rules=rules)
    except finance.FinanceInputError as error:
        raise InvalidRequest(error.message, error.field) from None
    if inputs.values["psychiatric_consultant_hours_per_week"] is None:
        fte = input_text("care_manager_fte", inputs.values["care_manager_fte"])
        inputs.notes["psychiatric_consultant_hours_per_week"] = (
            f"as AIMS recommends: 3 h/week × {fte} FTE"
        )
    return Evaluation(
        inputs, result, finance.projection(inputs.values, result, PROJECTION_MONTHS), swings
    )


def as_json(evaluation: Evaluation) -> dict[str, Any]:
    """The contract's answer (`GET /finance/model`, `cocm finance --format json`)."""
    inputs = evaluation.inputs
    result = evaluation.result
    return {
        "inputs": {
            name: {
                "value": _json_value(name, result.values.get(name, inputs.values[name])),
                "source": inputs.sources[name],
                "note": inputs.notes.get(name, ""),
            }
            for name in finance.SPECS
        },
        "outputs": {
            **{name: _rounded(output.value) for name, output in result.outputs.items()},
            "billable_units_per_month": {
                code: round(units, 4) for code, units in sorted(result.units_per_month.items())
            },
            "gross_revenue_by_payer_and_code": {
                payer: {code: round(amount, 2) for code, amount in codes.items()}
                for payer, codes in result.gross_by_payer_code.items()
                if codes
            },
            "net_revenue_by_payer": {
                payer: round(amount, 2) for payer, amount in result.net_by_payer.items()
            },
        },
        "explanations": {name: output.explanation for name, output in result.outputs.items()},
        "warnings": list(result.warnings),
        "projection": [
            {
                "month": row.month,
                "caseload": round(row.caseload, 2),
                "new_patients": round(row.new_patients, 2),
                "revenue": round(row.revenue, 2),
                "cost": round(row.cost, 2),
                "margin": round(row.margin, 2),
                "cumulative_margin": round(row.cumulative_margin, 2),
            }
            for row in evaluation.projection
        ],
        "sensitivity": [
            {
                "input": swing.name,
                "label": swing.label,
                "value": swing.base_value,
                "margin_at_minus_10_percent": _rounded(swing.low_margin),
                "margin_at_plus_10_percent": _rounded(swing.high_margin),
            }
            for swing in evaluation.sensitivity
        ],
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _json_value(name: str, value: finance.Value) -> Any:
    if name == "year" and isinstance(value, float):
        return int(value)
    if isinstance(value, tuple):
        return [{"minutes": minutes, "share": round(share, 10)} for minutes, share in value]
    if isinstance(value, float):
        return round(value, 10)  # "16.66666667%" read back is 0.16666666670000002
    return value


# ------------------------------------------------------------------------------ scenarios


def scenarios(organization: Organization) -> list[Scenario]:
    return list(Scenario.objects.filter(organization=organization).select_related("created_by"))


def scenario_of(organization: Organization, scenario_id: int) -> Scenario | None:
    return Scenario.objects.filter(organization=organization, pk=scenario_id).first()


def save_scenario(
    organization: Organization, name: str, inputs: ModelInputs, *, by: User
) -> Scenario:
    """Save (or replace) a named scenario; the inputs must run (the caller owns the transaction)."""
    name = " ".join(name.split())
    if not name:
        raise InvalidRequest("Give the scenario a name.", "name")
    if len(name) > 100:
        raise InvalidRequest("A scenario name has at most 100 characters.", "name")
    evaluate(inputs, organization=organization)  # refuses inputs the model cannot use
    scenario = Scenario.objects.filter(organization=organization, name=name).first()
    if scenario is None:
        try:
            with transaction.atomic():
                return Scenario.objects.create(
                    organization=organization, name=name, inputs=inputs.stored(), created_by=by
                )
        except IntegrityError:  # saved by someone else meanwhile
            scenario = Scenario.objects.get(organization=organization, name=name)
    scenario.inputs = inputs.stored()
    scenario.updated_at = timezone.now()
    scenario.save(update_fields=["inputs", "updated_at"])
    return scenario


def delete_scenario(organization: Organization, scenario_id: int) -> bool:
    deleted, _ = Scenario.objects.filter(organization=organization, pk=scenario_id).delete()
    return bool(deleted)


def scenario_inputs(scenario: Scenario, *, as_of: date) -> ModelInputs:
    return resolve_inputs({}, as_of=as_of, stored=scenario.inputs)


COMPARED_OUTPUTS = (
    "caseload_capacity",
    "patients_served_per_year",
    "gross_revenue_per_year",
    "net_revenue_per_year",
    "cost_per_year",
    "margin_per_year",
    "break_even_caseload",
    "psychiatric_consultant_hours_per_week",
    "revenue_per_care_manager_hour",
)


def compare(
    organization: Organization, scenario_ids: list[int], *, as_of: date
) -> list[tuple[Scenario, Evaluation]]:
    """Two or three of the organization's scenarios, evaluated side by side."""
    unique = list(dict.fromkeys(scenario_ids))
    if not 2 <= len(unique) <= MAX_COMPARED:
        raise InvalidRequest("Choose two or three scenarios to compare.", "scenario")
    found = {s.pk: s for s in Scenario.objects.filter(organization=organization, pk__in=unique)}
    if len(found) != len(unique):
        raise InvalidRequest("One of the scenarios does not exist.", "scenario")
    compared = []
    for scenario_id in unique:
        scenario = found[scenario_id]
        try:
            evaluation = evaluate(scenario_inputs(scenario, as_of=as_of), organization=organization)
        except InvalidRequest as error:
            raise InvalidRequest(
                f"Scenario '{scenario.name}': {error.message}", error.field
            ) from None
        compared.append((scenario, evaluation))
    return compared


def differing_inputs(compared: list[tuple[Scenario, Evaluation]]) -> list[str]:
    """The inputs whose values differ between the compared scenarios."""
    names = []
    for name in finance.SPECS:
        values = [evaluation.result.values.get(name) for _, evaluation in compared]
        if any(not same_value(values[0], other) for other in values[1:]):
            names.append(name)
    return names
