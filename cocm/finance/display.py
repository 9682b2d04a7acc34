"""What the finance pages show: inputs grouped as a form, outputs formatted with their
explanation, the tables by payer and code. Plain values only; the templates lay them out."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe

from cocm.domain import finance
from cocm.finance import charts
from cocm.finance.models import Scenario
from cocm.finance.services import (
    COMPARED_OUTPUTS,
    Evaluation,
    ModelInputs,
    differing_inputs,
    input_text,
)

HEADLINE = (
    "margin_per_year",
    "net_revenue_per_year",
    "cost_per_year",
    "caseload_capacity",
    "break_even_caseload",
    "patients_served_per_year",
)
SOURCE_LABELS = {
    "default": "default",
    "given": "entered",
    "registry": "from the registry",
}


@dataclass(frozen=True)
class InputRow:
    name: str
    label: str
    unit: str
    show_unit: bool
    text: str
    source: str
    source_label: str
    note: str
    kind: str
    choices: tuple[str, ...]
    error: str


@dataclass(frozen=True)
class OutputRow:
    name: str
    label: str
    shown: str
    explanation: str


def formatted(value: float | None, unit: str) -> str:
    if value is None:
        return "never"
    if unit.startswith("$"):
        sign = "−" if value < -0.004 else ""
        suffix = unit[1:] if unit != "$" else ""
        return (
            f"{sign}${abs(value):,.0f}{suffix}"
            if abs(value) >= 1000
            else (f"{sign}${abs(value):,.2f}{suffix}")
        )
    number = f"{value:,.1f}".removesuffix(".0")
    return f"{number} {unit}".strip()


def input_groups(
    inputs: ModelInputs, texts: dict[str, str], error_field: str, error: str
) -> list[tuple[str, list[InputRow]]]:
    """The inputs other than fees and payer rows, grouped as the form shows them."""
    groups: dict[str, list[InputRow]] = {}
    for name, spec in finance.SPECS.items():
        if spec.group in ("Fees",) or name.startswith(("share_", "route_")):
            continue
        groups.setdefault(spec.group, []).append(_row(name, inputs, texts, error_field, error))
    return list(groups.items())


def _row(
    name: str, inputs: ModelInputs, texts: dict[str, str], error_field: str, error: str
) -> InputRow:
    spec = finance.SPECS[name]
    source = inputs.sources[name]
    return InputRow(
        name=name,
        label=spec.label,
        unit=spec.unit,
        # Not for percentages, nor where the label already names the unit.
        show_unit=bool(spec.unit)
        and spec.kind is not finance.Kind.FRACTION
        and f"({spec.unit})" not in spec.label,
        text=texts.get(name, input_text(name, inputs.values[name])),
        source=source,
        source_label=SOURCE_LABELS[source],
        note=inputs.notes.get(name, ""),
        kind=str(spec.kind),
        choices=spec.choices,
        error=error if name == error_field else "",
    )


def payer_rows(
    inputs: ModelInputs, texts: dict[str, str], error_field: str, error: str
) -> list[dict[str, object]]:
    """One row per payer: its share, its route and a fee per code."""
    return [
        {
            "label": finance.PAYER_LABELS[payer],
            "share": _row(finance.share_name(payer), inputs, texts, error_field, error),
            "route": _row(finance.route_name(payer), inputs, texts, error_field, error),
            "rates": [
                _row(finance.rate_name(payer, code), inputs, texts, error_field, error)
                for code in finance.RATE_CODES
            ],
        }
        for payer in finance.Payer
    ]


def output_rows(evaluation: Evaluation, names: tuple[str, ...] | None = None) -> list[OutputRow]:
    outputs = evaluation.result.outputs
    chosen = names or tuple(outputs)
    return [
        OutputRow(
            name,
            outputs[name].label,
            formatted(outputs[name].value, outputs[name].unit),
            outputs[name].explanation,
        )
        for name in chosen
        if name in outputs
    ]


def revenue_table(evaluation: Evaluation) -> list[dict[str, object]]:
    """Units per month and gross and net revenue per year, per payer and code."""
    result = evaluation.result
    collection = result.values["collection_rate"]
    assert isinstance(collection, float)
    rows = []
    for payer, codes in result.gross_by_payer_code.items():
        for code, gross in sorted(codes.items()):
            rows.append(
                {
                    "payer": finance.PAYER_LABELS[finance.Payer(payer)],
                    "code": code,
                    "units": f"{result.units_by_payer[payer].get(code, 0):,.1f}",
                    "gross": formatted(gross, "$"),
                    "net": formatted(gross * collection, "$"),
                }
            )
    return rows


def projection_chart(series: list[tuple[str, Evaluation]]) -> SafeString:
    drawn = [
        charts.Series(
            label,
            [row.revenue for row in evaluation.projection],
            [row.cost for row in evaluation.projection],
        )
        for label, evaluation in series
    ]
    title = "Monthly net revenue and cost over 24 months"
    return mark_safe(charts.projection_svg(drawn, title=title))  # noqa: S308 - text escaped


def tornado_chart(evaluation: Evaluation) -> SafeString:
    svg = charts.tornado_svg(
        evaluation.sensitivity,
        base_margin=evaluation.result.value("margin_per_year"),
        title="The three inputs that move the yearly margin most (each ±10%)",
    )
    return mark_safe(svg)  # noqa: S308 - tornado_svg escapes all text


def swing_rows(evaluation: Evaluation) -> list[dict[str, str]]:
    """The three largest swings in words (None: the input cannot move that way)."""
    return [
        {
            "label": swing.label,
            "low": formatted(swing.low_margin, "$")
            if swing.low_margin is not None
            else ("unchanged"),
            "high": formatted(swing.high_margin, "$")
            if swing.high_margin is not None
            else ("unchanged (already at its maximum)"),
        }
        for swing in evaluation.sensitivity
    ]


def comparison(compared: list[tuple[Scenario, Evaluation]]) -> dict[str, object]:
    """The comparison page: the scenarios' outputs and differing inputs side by side, and
    their monthly projections on one chart."""
    columns = [scenario for scenario, _ in compared]
    rows = [
        {
            "label": compared[0][1].result.outputs[name].label,
            "values": [
                formatted(
                    evaluation.result.outputs[name].value, evaluation.result.outputs[name].unit
                )
                for _, evaluation in compared
            ],
        }
        for name in COMPARED_OUTPUTS
    ]
    inputs = [
        {
            "label": finance.SPECS[name].label,
            "values": [
                input_text(name, evaluation.result.values[name]) for _, evaluation in compared
            ],
        }
        for name in differing_inputs(compared)
    ]
    chart = projection_chart([(scenario.name, evaluation) for scenario, evaluation in compared])
    return {"error": "", "columns": columns, "rows": rows, "inputs": inputs, "chart": chart}
