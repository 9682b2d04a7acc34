"""The dashboard's and the program report's charts, as server-rendered SVG.

Presentation only: each function takes figures a service computed and returns an ``<svg>``
string. As in `cocm.measures.trajectory`: no script, no ``style`` attribute (colours are
presentation attributes, every element has a class), ``role="img"`` with a ``<title>`` and a
``<desc>`` that says in words what the chart counts, so it works under a strict
Content-Security-Policy, in WeasyPrint and for screen readers.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cocm.reports.program import ProgramReport, chart_key

FONT = "DejaVu Sans, system-ui, sans-serif"
TEXT = "#222222"
AXIS = "#666666"
GRID = "#dddddd"
# Colour-blind-safe pairs (Okabe-Ito) with enough contrast on white.
COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#56b4e9", "#e69f00")

LEFT, RIGHT, TOP, BOTTOM = 44, 12, 34, 46


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | int | None]
    # Per category, where its bar leads: the list of the patients it stands for.
    links: Sequence[str | None] = ()


def _escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 5:
            return step * 5 if value > step * 4 else step * (int(value // step) + 1)
    return value


def bar_chart(
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "",
    max_value: float | None = None,
    width: int = 640,
    height: int = 240,
) -> str:
    """Grouped vertical bars: one group per category, one bar per series, each value printed
    above its bar (a missing value is drawn as "—"). `description` says what is counted."""
    chart_id = "chart-" + hashlib.sha256(repr((title, categories, series)).encode()).hexdigest()[:8]
    values = [v for s in series for v in s.values if v is not None]
    # Counts get whole-number ticks: at least 0..4.
    top = max_value if max_value is not None else _nice_max(max([4, *values]))
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    group_w = plot_w / max(len(categories), 1)
    bar_w = max(group_w * 0.8 / max(len(series), 1), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'font-family="{FONT}" font-size="10" fill="{TEXT}">',
        f'<title id="{chart_id}-t">{_escape(title)}</title>',
        f'<desc id="{chart_id}-d">{_escape(description)}</desc>',
        f'<rect class="chart-bg" x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    # Legend across the top.
    x = LEFT
    for index, one in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        parts.append(
            f'<rect class="legend-key" x="{x}" y="8" width="10" height="10" fill="{colour}"/>'
        )
        parts.append(f'<text class="legend" x="{x + 14}" y="17">{_escape(one.name)}</text>')
        x += 24 + len(one.name) * 6
    # Horizontal grid and y-axis labels at 0, 1/4 .. top.
    for step in range(5):
        value = top * step / 4
        y = TOP + plot_h - plot_h * step / 4
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{_num(y)}" y2="{_num(y)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text class="tick" x="{LEFT - 4}" y="{_num(y + 3)}" text-anchor="end" '
            f'fill="{AXIS}">{_num(value)}{_escape(unit)}</text>'
        )
    for group, category in enumerate(categories):
        flat = category.replace("\n", " ")
        group_x = LEFT + group * group_w + group_w * 0.1
        for index, one in enumerate(series):
            value = one.values[group] if group < len(one.values) else None
            bar_x = group_x + index * bar_w
            colour = COLOURS[index % len(COLOURS)]
            label = "—" if value is None else f"{_num(value)}{unit}"
            link = one.links[group] if group < len(one.links) and value is not None else None
            if link:
                parts.append(
                    f'<a class="bar-link" href="{_escape(link)}"><title>{_escape(flat)}, '
                    f"{_escape(one.name)}: {_escape(label)}, show the patients</title>"
                )
            if value is not None and top:
                bar_h = plot_h * min(value, top) / top
                y = TOP + plot_h - bar_h
                parts.append(
                    f'<rect class="bar" x="{_num(bar_x)}" y="{_num(y)}" width="{_num(bar_w - 1)}" '
                    f'height="{_num(bar_h)}" fill="{colour}"><title>{_escape(flat)}, '
                    f"{_escape(one.name)}: {_escape(label)}</title></rect>"
                )
            else:
                y = TOP + plot_h
            if len(categories) * len(series) <= 40:
                parts.append(
                    f'<text class="value" x="{_num(bar_x + bar_w / 2)}" y="{_num(y - 3)}" '
                    f'text-anchor="middle" font-size="8">{_escape(label)}</text>'
                )
            if link:
                parts.append("</a>")
        label_y = TOP + plot_h + 14
        centre = _num(LEFT + group * group_w + group_w / 2)
        fits = max(4, int(group_w / 6))  # characters of a 10-unit font that fit the group
        lines = "".join(
            f'<tspan x="{centre}" dy="{0 if index == 0 else 11}">{_escape(line[:fits])}</tspan>'
            for index, line in enumerate(category.split("\n"))
        )
        parts.append(
            f'<text class="category" x="{centre}" y="{label_y}" text-anchor="middle">{lines}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" '
        f'y2="{TOP + plot_h}" stroke="{AXIS}" stroke-width="1"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _month_label(month: str) -> str:
    names = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    year, number = month.split("-")
    return f"{names[int(number) - 1]} {year[2:]}"


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    counts: str  # what the chart counts, in words (shown under its title)
    svg: str


def report_charts(report: ProgramReport, link: Callable[[str], str] | None = None) -> list[Chart]:
    """The five charts of the dashboard and the PDF, each saying what it counts. With
    `link` (a bar's key → its URL, on the dashboard) each bar that stands for patients
    links to the list of those patients."""
    months = [_month_label(point.month) for point in report.months]

    def links(chart: str, parts: Sequence[object]) -> list[str | None]:
        if link is None:
            return []
        keys = [chart_key(chart, *(p if isinstance(p, tuple) else (p,))) for p in parts]
        return [link(key) if key in report.chart_indicators else None for key in keys]

    month_keys = [point.month for point in report.months]
    cohort_keys = [c.month for c in report.cohorts]
    charts = []
    counts = (
        "Patients on the caseload on the last day of each month (enrolled, not discharged) "
        "and patients enrolled during the month."
    )
    charts.append(
        Chart(
            "caseload",
            "Caseload and enrollments by month",
            counts,
            bar_chart(
                "Caseload and enrollments by month",
                counts,
                months,
                [
                    Series(
                        "Active caseload",
                        [p.active_caseload for p in report.months],
                        links("caseload", month_keys),
                    ),
                    Series(
                        "New enrollments",
                        [p.new_enrollments for p in report.months],
                        links("enrollments", month_keys),
                    ),
                ],
            ),
        )
    )
    counts = (
        "Of the patients enrolled each month with a baseline PHQ-9 of 10 or more, the share "
        "whose PHQ-9 has since dropped 50% or more (response) or below the remission cut-off."
    )
    charts.append(
        Chart(
            "cohorts",
            "Response and remission by enrollment month",
            counts,
            bar_chart(
                "Response and remission by enrollment month",
                counts,
                [f"{_month_label(c.month)}\nn={c.eligible}" for c in report.cohorts],
                [
                    Series(
                        "Response",
                        [c.response_pct for c in report.cohorts],
                        links("cohort_response", cohort_keys),
                    ),
                    Series(
                        "Remission",
                        [c.remission_pct for c in report.cohorts],
                        links("cohort_remission", cohort_keys),
                    ),
                ],
                unit="%",
                max_value=100,
            ),
        )
    )
    counts = (
        "Patients whose PHQ-9 first dropped 50% or more during the period, by weeks in "
        "treatment at that first response."
    )
    charts.append(
        Chart(
            "weeks_to_response",
            "Weeks to first response",
            counts,
            bar_chart(
                "Weeks to first response",
                counts,
                [f"{label} wk" for label, _ in report.weeks_to_response],
                [
                    Series(
                        "Patients",
                        [n for _, n in report.weeks_to_response],
                        links(
                            "weeks_to_response", [label for label, _ in report.weeks_to_response]
                        ),
                    )
                ],
            ),
        )
    )
    counts = (
        "Per care manager: the active caseload contacted in the last 30 days, re-measured in "
        "the last 30 days, and responding at 10-12 weeks."
    )
    names = [row.name for row in report.care_managers]
    staff = [row.care_manager_id or "none" for row in report.care_managers]
    charts.append(
        Chart(
            "care_managers",
            "Care managers compared",
            counts,
            bar_chart(
                "Care managers compared",
                counts,
                names,
                [
                    Series(
                        "Contacted 30 d",
                        [
                            r.indicators["contacted_last_30_days_pct"].value
                            for r in report.care_managers
                        ],
                        links("care_manager", [(s, "contacted_last_30_days_pct") for s in staff]),
                    ),
                    Series(
                        "Measured 30 d",
                        [
                            r.indicators["repeat_measure_last_30_days_pct"].value
                            for r in report.care_managers
                        ],
                        links(
                            "care_manager", [(s, "repeat_measure_last_30_days_pct") for s in staff]
                        ),
                    ),
                    Series(
                        "Response 10-12 wk",
                        [
                            r.indicators["response_10_12_weeks_pct"].value
                            for r in report.care_managers
                        ],
                        links("care_manager", [(s, "response_10_12_weeks_pct") for s in staff]),
                    ),
                ],
                unit="%",
                max_value=100,
            ),
        )
    )
    counts = (
        "Of the patient-months on the caseload, the share that reached a billable code's "
        "time threshold, as the billing engine (or the closed month) decided."
    )
    charts.append(
        Chart(
            "billing_capture",
            "Billing capture by month",
            counts,
            bar_chart(
                "Billing capture by month",
                counts,
                months,
                [
                    Series(
                        "Patient-months with a code",
                        [p.billing_any_pct for p in report.months],
                        links("billing_capture", month_keys),
                    )
                ],
                unit="%",
                max_value=100,
            ),
        )
    )
    return charts
