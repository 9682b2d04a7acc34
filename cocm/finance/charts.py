"""The financial model's charts as inline SVG strings, rendered on the server.

As in `cocm/measures/trajectory.py`: no JavaScript, no ``style`` attribute and no
``<script>`` (a strict Content-Security-Policy allows them), colours as SVG presentation
attributes, a ``class`` on every element for the stylesheet, ``role="img"`` with a
``<title>`` and a ``<desc>`` that say in words what the chart shows. All text is escaped.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass

from cocm.domain.finance import Swing

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 78, 20, 16, 62
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
TEXT, AXIS, GRID = "#222222", "#666666", "#e3e7eb"
# Revenue and cost lines per scenario: distinguishable in colour and in dash pattern.
COLOURS = ("#0b5d7a", "#b5471b", "#5b3f8c")
COST_DASH = "6 4"
LOSS, GAIN = "#a4161a", "#1d6b34"


@dataclass(frozen=True)
class Series:
    """One scenario's monthly net revenue and cost."""

    label: str
    revenue: Sequence[float]
    cost: Sequence[float]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _money(amount: float) -> str:
    sign = "−" if amount < 0 else ""
    amount = abs(amount)
    if amount >= 1000:
        return f"{sign}${amount / 1000:,.1f}k".replace(".0k", "k")
    return f"{sign}${amount:,.0f}"


def _chart_id(*parts: object) -> str:
    return "fin-" + hashlib.sha256(repr(parts).encode()).hexdigest()[:10]


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks if span > 0 else 1
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if magnitude * factor >= raw:
            return magnitude * factor
    return magnitude * 10


def projection_svg(series: Sequence[Series], *, title: str) -> str:
    """Monthly net revenue (solid) against cost (dashed) for one to three scenarios."""
    months = max((len(s.revenue) for s in series), default=0)
    values = [v for s in series for v in (*s.revenue, *s.cost)]
    top = max([*values, 1.0])
    bottom = min([*values, 0.0])
    step = _nice_step(top - bottom)
    top = step * -(-top // step)
    bottom = step * (bottom // step)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    # One legend row per scenario under the axis.
    height = HEIGHT + 18 * (max(len(series), 1) - 1)
    chart = _chart_id(title, [(s.label, tuple(s.revenue), tuple(s.cost)) for s in series])

    def x(month: int) -> float:
        return LEFT + (month - 1) / max(months - 1, 1) * plot_w

    def y(value: float) -> float:
        return TOP + (top - value) / (top - bottom) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart}-t {chart}-d" class="finance-chart projection" '
        f'font-family="{FONT}" font-size="11" fill="{TEXT}">',
        f'<title id="{chart}-t">{_e(title)}</title>',
        f'<desc id="{chart}-d">{_e(_projection_words(series))}</desc>',
    ]
    tick = bottom
    while tick <= top + step / 2:
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_num(y(tick))}" '
            f'y2="{_num(y(tick))}" stroke="{GRID}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{_num(y(tick) + 4)}" '
            f'text-anchor="end">{_e(_money(tick))}</text>'
        )
        tick += step
    for month in range(1, months + 1):
        if month == 1 or month % 3 == 0:
            parts.append(
                f'<text class="tick" x="{_num(x(month))}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{month}</text>'
            )
    parts.append(
        f'<text class="axis-label" x="{LEFT + plot_w / 2}" y="{HEIGHT - BOTTOM + 32}" '
        f'text-anchor="middle">Month of the program</text>'
        f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" '
        f'stroke="{AXIS}"/>'
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_num(y(0))}" '
        f'y2="{_num(y(0))}" stroke="{AXIS}"/>'
    )
    for index, one in enumerate(series):
        legend_x = LEFT
        colour = COLOURS[index % len(COLOURS)]
        for kind, points, dash in (("revenue", one.revenue, ""), ("cost", one.cost, COST_DASH)):
            if not points:
                continue
            path = " ".join(
                f"{'M' if i == 0 else 'L'}{_num(x(i + 1))},{_num(y(v))}"
                for i, v in enumerate(points)
            )
            dashed = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<path class="line {kind} series-{index}" d="{path}" fill="none" '
                f'stroke="{colour}" stroke-width="2.2"{dashed}>'
                f"<title>{_e(one.label)}: {kind}</title></path>"
            )
        for kind, dash in (("revenue", ""), ("cost", COST_DASH)):
            words = "net revenue" if kind == "revenue" else "cost"
            text = f"{one.label}: {words}" if len(series) > 1 else words.capitalize()
            dashed = f' stroke-dasharray="{dash}"' if dash else ""
            legend_y = HEIGHT - 12 + 18 * index
            parts.append(
                f'<line class="legend {kind}" x1="{_num(legend_x)}" x2="{_num(legend_x + 22)}" '
                f'y1="{legend_y - 4}" y2="{legend_y - 4}" stroke="{colour}" stroke-width="2.2"'
                f"{dashed}/>"
                f'<text class="legend" x="{_num(legend_x + 27)}" y="{legend_y}">{_e(text)}</text>'
            )
            legend_x += 40 + 6.2 * len(text)
    parts.append("</svg>")
    return "".join(parts)


def _projection_words(series: Sequence[Series]) -> str:
    sentences = []
    for one in series:
        if not one.revenue:
            continue
        first_profit = next(
            (i + 1 for i, (r, c) in enumerate(zip(one.revenue, one.cost, strict=False)) if r >= c),
            None,
        )
        when = (
            f"revenue first covers cost in month {first_profit}"
            if first_profit
            else "revenue stays below cost"
        )
        sentences.append(
            f"{one.label}: net revenue {_money(one.revenue[0])} in month 1 and "
            f"{_money(one.revenue[-1])} in month {len(one.revenue)} against a cost of "
            f"{_money(one.cost[-1])} a month; {when}."
        )
    return " ".join(sentences) or "No projection."


def tornado_svg(swings: Sequence[Swing], *, base_margin: float, title: str) -> str:
    """The yearly margin with each input 10% lower and 10% higher, largest swing on top:
    per input its name, then a bar from the margin to each moved margin, labelled at its end."""
    row_h = 54
    height = TOP + 30 + row_h * max(len(swings), 1) + 10
    plot_l, plot_r = 130, WIDTH - 130  # room for the value labels at both ends
    margins = [m for s in swings for m in (s.low_margin, s.high_margin) if m is not None]
    low = min([*margins, base_margin])
    high = max([*margins, base_margin])
    span = max(high - low, 1.0)
    chart = _chart_id(title, base_margin, [(s.name, s.low_margin, s.high_margin) for s in swings])

    def x(value: float) -> float:
        return plot_l + (value - low) / span * (plot_r - plot_l)

    words = "; ".join(
        f"{s.label}: {_money(s.low_margin) if s.low_margin is not None else 'unchanged'} at "
        f"−10%, {_money(s.high_margin) if s.high_margin is not None else 'unchanged'} at +10%"
        for s in swings
    )
    base_x = _num(x(base_margin))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart}-t {chart}-d" class="finance-chart tornado" '
        f'font-family="{FONT}" font-size="12" fill="{TEXT}">',
        f'<title id="{chart}-t">{_e(title)}</title>',
        f'<desc id="{chart}-d">Margin per year {_e(_money(base_margin))}. {_e(words)}.</desc>',
        f'<line class="axis base" x1="{base_x}" x2="{base_x}" y1="{TOP + 18}" '
        f'y2="{height - 6}" stroke="{AXIS}" stroke-width="1.5"/>',
        f'<text class="tick" x="{base_x}" y="{TOP + 12}" text-anchor="middle">'
        f"margin today {_e(_money(base_margin))}</text>",
    ]
    if not swings:
        parts.append(
            f'<text class="empty" x="{WIDTH / 2}" y="{TOP + 60}" text-anchor="middle">'
            "No input moves the margin.</text>"
        )
    for index, swing in enumerate(swings):
        top = TOP + 30 + index * row_h
        parts.append(
            f'<text class="label" x="{plot_l}" y="{top + 12}" font-weight="600">'
            f"{_e(swing.label)}</text>"
        )
        for sign, margin in (("−10%", swing.low_margin), ("+10%", swing.high_margin)):
            if margin is None:
                continue
            start, end = sorted((x(base_margin), x(margin)))
            gain = margin >= base_margin
            parts.append(
                f'<rect class="bar {"gain" if gain else "loss"}" x="{_num(start)}" '
                f'y="{top + 18}" width="{_num(max(end - start, 1))}" height="22" '
                f'fill="{GAIN if gain else LOSS}">'
                f"<title>{_e(swing.label)} {sign}: margin {_e(_money(margin))}</title></rect>"
            )
            parts.append(
                f'<text class="value" x="{_num(end + 5 if gain else start - 5)}" '
                f'y="{top + 33}" text-anchor="{"start" if gain else "end"}">'
                f"{sign}: {_e(_money(margin))}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
