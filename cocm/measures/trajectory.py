"""A patient's symptom-score trajectory (PHQ-9, GAD-7...) as accessible inline SVG.

`trajectory_svg` returns a self-contained ``<svg>`` string for the patient chart page. It is
rendered on the server: no JavaScript, no external assets, no ``style`` attributes and no
``<script>``, so it works under a strict Content-Security-Policy. Colours and strokes are SVG
presentation attributes; every element also carries a ``class`` for the site's stylesheet.

The drawing, back to front:

* severity bands as horizontal rectangles, lightest (minimal) to darkest (severe), each named
  at the right edge; a band covers its integer totals, so its edges sit half-way between the
  last total of one band and the first of the next, and a plotted score never sits on an edge;
* the y axis 0..max_total with a tick at the first total of each band (5, 10, 15, 20 for the
  PHQ-9) and the x axis by date with at most six ticks, chosen from the span (days, weeks,
  months or years) and the room available, so labels never overlap;
* reference lines: the baseline (dashed), 50% of baseline (the response threshold, dotted) and
  the remission target (dash-dot), each labelled inside the plot just above (or below) its line,
  as far right as it goes without covering a score, the score line, a marker or another label;
* treatment changes as vertical dashed lines, labelled above the plot (truncated, full text in a
  ``<title>``); labels that would collide go up a row, and past three rows the label is left out
  (the line, its ``<title>`` and the ``<desc>`` still carry it);
* the score line and a circle per score, each circle with a ``<title>`` (date, score, band,
  label); scores with a label such as "amended" or "self-report" are drawn hollow.

The x axis spans the scores and the markers, so pass the treatment changes of the period being
charted. The root element has ``role="img"``, a ``<title>`` and a ``<desc>`` summarising the data
in words; element ids are derived from the title and a hash of the inputs, so two different
charts on one page never share ids. The output depends only on the inputs (no locale, no clock).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from cocm.domain.instruments import INSTRUMENTS

__all__ = ["BandSpec", "Marker", "Point", "severity_bands", "trajectory_svg"]


@dataclass(frozen=True)
class Point:
    """One score: the date it was taken, its total and an optional label ("amended")."""

    taken_on: date
    total: int
    label: str = ""


@dataclass(frozen=True)
class Marker:
    """A treatment change on a date, e.g. "Sertraline 50 mg started"."""

    on: date
    text: str


@dataclass(frozen=True)
class BandSpec:
    """A severity band: totals up to and including `upper` (and above the previous band)."""

    upper: int
    name: str


def severity_bands(code: str) -> list[BandSpec]:
    """The instrument's severity bands as the domain defines them (rules section 2), named
    for the chart ("moderately severe")."""
    return [
        BandSpec(band.upper, band.severity.value.replace("_", " "))
        for band in INSTRUMENTS[code].bands
    ]


# Layout, in user units of the viewBox.
MARGIN_LEFT = 40  # y-axis tick labels
MARGIN_RIGHT = 115  # band names ("moderately severe")
MARGIN_TOP = 10  # plus one MARKER_ROW per row of marker labels
MARGIN_BOTTOM = 30  # x-axis tick labels
X_PAD = 10  # keeps the first and last circles off the axes
MARKER_ROW = 13
MAX_MARKER_ROWS = 3
MAX_X_TICKS = 6
MARKER_LABEL_CHARS = 24
MIN_WIDTH = MARGIN_LEFT + MARGIN_RIGHT + 100
MIN_HEIGHT = MARGIN_TOP + MARGIN_BOTTOM + MAX_MARKER_ROWS * MARKER_ROW + 60

FONT_FAMILY = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
FONT_SIZE = 11
MARKER_FONT_SIZE = 10
CHAR_WIDTH = 0.6  # average glyph width per unit of font size, for label collision estimates

# Bands go from BAND_LIGHT to BAND_DARK; the darkest still gives the score line (LINE) a
# contrast ratio of about 5.9:1 and the band names (TEXT) about 7.5:1.
BAND_LIGHT = (247, 247, 242)
BAND_DARK = (236, 160, 140)
BACKGROUND = "#ffffff"
TEXT = "#222222"
AXIS = "#666666"
LINE = "#1d3557"
REFERENCE = "#333333"
TARGET = "#1e6b35"
MARKER = "#5b3f8c"

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def trajectory_svg(
    title: str,
    points: Sequence[Point],
    *,
    max_total: int,
    bands: Sequence[BandSpec],
    markers: Sequence[Marker] = (),
    baseline: int | None = None,
    width: int = 640,
    height: int = 240,
    target: int | None = 5,
) -> str:
    """The trajectory of `points` (any order; drawn by date) as an inline SVG string.

    `baseline` defaults to the first score's total. `target` is the remission cut-off (scores
    below it are in remission); None draws no target line. With no points the chart is an empty
    frame (bands and y axis) saying "No scores yet"; markers and reference lines are then left out.
    Totals outside 0..max_total are drawn clamped to the frame (their titles keep the real value).
    """
    if max_total <= 0:
        raise ValueError("max_total must be positive")
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        raise ValueError(f"the chart must be at least {MIN_WIDTH}x{MIN_HEIGHT}")
    scores = sorted(points, key=lambda point: point.taken_on)
    changes = sorted(markers, key=lambda marker: marker.on) if scores else []
    if baseline is None and scores:
        baseline = scores[0].total
    chart_id = _chart_id(
        title,
        tuple(points),
        max_total,
        tuple(bands),
        tuple(markers),
        baseline,
        width,
        height,
        target,
    )
    right = width - MARGIN_RIGHT
    bottom = height - MARGIN_BOTTOM

    parts = [
        _open(
            "svg",
            {
                "xmlns": "http://www.w3.org/2000/svg",
                "viewBox": f"0 0 {width} {height}",
                "width": "100%",
                "preserveAspectRatio": "xMidYMid meet",
                "role": "img",
                "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
                "class": "trajectory",
                "font-family": FONT_FAMILY,
                "font-size": FONT_SIZE,
            },
        ),
        _tag("title", {"id": f"{chart_id}-title"}, _escape(title)),
        _tag(
            "desc",
            {"id": f"{chart_id}-desc"},
            _escape(_description(title, scores, bands, changes, baseline)),
        ),
        _tag(
            "rect",
            {
                "class": "background",
                "x": 0,
                "y": 0,
                "width": width,
                "height": height,
                "fill": BACKGROUND,
            },
        ),
    ]

    if not scores:
        ys = _YScale(MARGIN_TOP, bottom, max_total)
        parts += _bands(bands, ys, width)
        parts += _frame(MARGIN_LEFT, right, ys)
        parts += _y_axis(bands, ys)
        parts.append(
            _tag(
                "text",
                {
                    "class": "empty",
                    "x": (MARGIN_LEFT + right) / 2,
                    "y": (MARGIN_TOP + bottom) / 2 + 4,
                    "text-anchor": "middle",
                    "font-size": 12,
                    "fill": TEXT,
                    **_HALO,
                },
                "No scores yet",
            )
        )
        parts.append("</svg>")
        return "\n".join(parts) + "\n"

    days = [point.taken_on for point in scores] + [marker.on for marker in changes]
    start, end = min(days), max(days)
    xs = _XScale(MARGIN_LEFT + X_PAD, right - X_PAD, start, (end - start).days)
    labels, rows = _layout_markers(changes, xs, width)
    ys = _YScale(MARGIN_TOP + rows * MARKER_ROW, bottom, max_total)

    parts += _bands(bands, ys, width)
    parts += _frame(MARGIN_LEFT, right, ys)
    parts += _y_axis(bands, ys)
    parts += _x_axis(xs, ys, start, end)
    coordinates = [(xs(point.taken_on), ys(point.total)) for point in scores]
    radius = 3.5 if len(scores) <= 40 else 2.5
    obstacles = _Obstacles(
        [(x - radius - 1, y - radius - 1, x + radius + 1, y + radius + 1) for x, y in coordinates],
        list(pairwise(coordinates))
        + [((label.x, ys.top), (label.x, ys.bottom)) for label in labels],
    )
    reference_lines, reference_labels = _references(
        baseline, target, MARGIN_LEFT, right, ys, obstacles
    )
    parts += reference_lines
    parts += _markers(labels, ys)
    parts += _scores(scores, bands, coordinates, radius)
    parts += reference_labels
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


# --- scales -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _XScale:
    left: float
    right: float
    start: date
    span: int  # days

    def __call__(self, day: date) -> float:
        if self.span == 0:
            return (self.left + self.right) / 2
        return self.left + (day - self.start).days * (self.right - self.left) / self.span


@dataclass(frozen=True)
class _YScale:
    top: float
    bottom: float
    max_total: int

    def __call__(self, total: float) -> float:
        clamped = min(max(total, 0), self.max_total)
        return self.bottom - clamped * (self.bottom - self.top) / self.max_total


# --- pieces -------------------------------------------------------------------------------

# A white outline behind text drawn over bands and lines keeps it readable.
_HALO: dict[str, object] = {
    "stroke": BACKGROUND,
    "stroke-width": 3,
    "stroke-linejoin": "round",
    "paint-order": "stroke",
}


def _bands(bands: Sequence[BandSpec], ys: _YScale, width: int) -> list[str]:
    """Band rectangles from the plot's left edge to the chart's right edge, named at the right."""
    parts = ['<g class="bands">']
    names: list[str] = []
    previous_y = float("inf")
    lower = 0.0
    for index, band in enumerate(bands):
        last = index == len(bands) - 1
        upper = ys.max_total if last else min(band.upper + 0.5, ys.max_total)
        if upper <= lower:
            continue
        top, bottom = ys(upper), ys(lower)
        parts.append(
            _tag(
                "rect",
                {
                    "class": f"band band-{index}",
                    "x": MARGIN_LEFT,
                    "y": top,
                    "width": width - MARGIN_LEFT,
                    "height": bottom - top,
                    "fill": _band_colour(index, len(bands)),
                },
            )
        )
        # Centred in the band, but never closer than a line of text to the name below it.
        label_y = min((top + bottom) / 2 + FONT_SIZE * 0.35, previous_y - FONT_SIZE - 1)
        previous_y = label_y
        names.append(
            _tag(
                "text",
                {
                    "class": "band-label",
                    "x": width - MARGIN_RIGHT + 6,
                    "y": label_y,
                    "fill": TEXT,
                },
                _escape(band.name),
            )
        )
        lower = upper
    parts += names
    parts.append("</g>")
    return parts


def _band_colour(index: int, count: int) -> str:
    share = index / (count - 1) if count > 1 else 0.0
    rgb = (round(a + (b - a) * share) for a, b in zip(BAND_LIGHT, BAND_DARK, strict=True))
    return "#" + "".join(f"{channel:02x}" for channel in rgb)


def _frame(left: float, right: float, ys: _YScale) -> list[str]:
    return [
        _tag(
            "rect",
            {
                "class": "frame",
                "x": left,
                "y": ys.top,
                "width": right - left,
                "height": ys.bottom - ys.top,
                "fill": "none",
                "stroke": AXIS,
            },
        )
    ]


def _y_axis(bands: Sequence[BandSpec], ys: _YScale) -> list[str]:
    """Ticks at 0, at the first total of each band and at the maximum, thinned to fit."""
    values = sorted(
        {0, ys.max_total} | {band.upper + 1 for band in bands[:-1] if band.upper < ys.max_total}
    )
    kept: list[int] = []
    for value in values:
        if kept and ys(kept[-1]) - ys(value) < FONT_SIZE + 1:
            if value != ys.max_total or len(kept) == 1:
                continue
            kept.pop()
        kept.append(value)
    parts = ['<g class="axis axis-y">']
    for value in kept:
        y = ys(value)
        parts.append(
            _tag(
                "line",
                {
                    "class": "tick",
                    "x1": MARGIN_LEFT - 4,
                    "y1": y,
                    "x2": MARGIN_LEFT,
                    "y2": y,
                    "stroke": AXIS,
                },
            )
        )
        parts.append(
            _tag(
                "text",
                {
                    "class": "tick-label",
                    "x": MARGIN_LEFT - 6,
                    "y": y + FONT_SIZE * 0.35,
                    "text-anchor": "end",
                    "fill": TEXT,
                },
                str(value),
            )
        )
    parts.append("</g>")
    return parts


def _x_axis(xs: _XScale, ys: _YScale, start: date, end: date) -> list[str]:
    parts = ['<g class="axis axis-x">']
    for day, label in _x_ticks(start, end, xs):
        x = xs(day)
        parts.append(
            _tag(
                "line",
                {
                    "class": "tick",
                    "x1": x,
                    "y1": ys.bottom,
                    "x2": x,
                    "y2": ys.bottom + 4,
                    "stroke": AXIS,
                },
            )
        )
        parts.append(
            _tag(
                "text",
                {
                    "class": "tick-label",
                    "x": x,
                    "y": ys.bottom + 6 + FONT_SIZE,
                    "text-anchor": "middle",
                    "fill": TEXT,
                },
                label,
            )
        )
    parts.append("</g>")
    return parts


def _x_ticks(start: date, end: date, xs: _XScale) -> list[tuple[date, str]]:
    """At most MAX_X_TICKS (date, label) pairs whose labels fit side by side on the x axis.

    The first that fits of: every 1, 2, 3, 7, 14, 21 or 28 days from `start` ("Jan 5", or ISO
    dates when the span crosses a year), every 1, 2, 3 or 6 months on the 1st ("Feb 2026"),
    every 1, 2, 5, 10, 20, 50... years on 1 January ("2027").
    """
    for ticks in _tick_candidates(start, end):
        if len(ticks) <= MAX_X_TICKS and _ticks_fit(ticks, xs):
            return ticks or [(start, start.isoformat())]
    return [(start, start.isoformat())]  # pragma: no cover - the year steps end with one tick


def _tick_candidates(start: date, end: date) -> Iterator[list[tuple[date, str]]]:
    span = (end - start).days
    if span <= 0:
        yield [(start, start.isoformat())]
        return
    same_year = start.year == end.year
    for step in (1, 2, 3, 7, 14, 21, 28):
        days = [start + timedelta(days=k * step) for k in range(span // step + 1)]
        yield [(day, _short(day) if same_year else day.isoformat()) for day in days]
    for step in (1, 2, 3, 6):
        months = _month_starts(start, end, step)
        yield [(day, f"{MONTHS[day.month - 1]} {day.year}") for day in months]
    first_year = start.year if (start.month, start.day) == (1, 1) else start.year + 1
    scale = 1
    while scale <= 10_000:
        for step in (scale, 2 * scale, 5 * scale):
            years = [year for year in range(first_year, end.year + 1) if year % step == 0]
            yield [(date(year, 1, 1), str(year)) for year in years]
        scale *= 10


def _ticks_fit(ticks: Sequence[tuple[date, str]], xs: _XScale) -> bool:
    gap = max((_text_width(label, FONT_SIZE) for _, label in ticks), default=0) + 6
    positions = [xs(day) for day, _ in ticks]
    return all(b - a >= gap for a, b in pairwise(positions))


def _month_starts(start: date, end: date, step: int) -> list[date]:
    index = start.year * 12 + start.month - 1 + (0 if start.day == 1 else 1)
    index += -index % step
    last = end.year * 12 + end.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index, last + 1, step)]


def _short(day: date) -> str:
    return f"{MONTHS[day.month - 1]} {day.day}"


_Box = tuple[float, float, float, float]  # x0, y0, x1, y1
_Segment = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class _Obstacles:
    """What reference labels should not cover: circles, the score line and marker lines."""

    boxes: list[_Box]
    segments: list[_Segment]

    def hit(self, box: _Box) -> bool:
        return any(_boxes_overlap(box, other) for other in self.boxes) or any(
            _segment_hits(box, segment) for segment in self.segments
        )


def _boxes_overlap(a: _Box, b: _Box) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _segment_hits(box: _Box, segment: _Segment) -> bool:
    (ax, ay), (bx, by) = sorted(segment)
    if bx < box[0] or ax > box[2]:
        return False
    if bx == ax:
        low, high = min(ay, by), max(ay, by)
    else:
        slope = (by - ay) / (bx - ax)
        ends = [ay + slope * (x - ax) for x in (max(ax, box[0]), min(bx, box[2]))]
        low, high = min(ends), max(ends)
    return low <= box[3] and high >= box[1]


def _references(
    baseline: int | None,
    target: int | None,
    left: float,
    right: float,
    ys: _YScale,
    obstacles: _Obstacles,
) -> tuple[list[str], list[str]]:
    """Baseline, 50%-of-baseline and remission lines, and their labels (drawn on top).

    A label goes just above its line (below it at the top of the frame), as far right as it can
    without covering a score, the score line, a marker line or another label; if there is no
    such place it goes at the right end, above everything, with a white outline.
    """
    lines: list[tuple[str, float, str, str, str]] = []
    if baseline is not None:
        lines.append(("baseline", baseline, f"baseline {baseline}", REFERENCE, "6 4"))
        lines.append(("response", baseline / 2, "50% of baseline", REFERENCE, "2 3"))
    if target is not None:
        lines.append(("target", target, f"remission < {target}", TARGET, "8 3 2 3"))
    drawn = ['<g class="references">']
    labels = ['<g class="reference-labels">']
    placed: list[_Box] = []
    for kind, value, label, colour, dashes in sorted(lines, key=lambda line: ys(line[1])):
        y = ys(value)
        drawn.append(
            _tag(
                "line",
                {
                    "class": f"reference {kind}",
                    "x1": left,
                    "y1": y,
                    "x2": right,
                    "y2": y,
                    "stroke": colour,
                    "stroke-width": 1.5,
                    "stroke-dasharray": dashes,
                },
            )
        )
        others = [((left, ys(line[1])), (right, ys(line[1]))) for line in lines if line[1] != value]
        taken = _Obstacles(obstacles.boxes + placed, obstacles.segments + others)
        text_width = _text_width(label, FONT_SIZE)
        above, below = y - 3, y + FONT_SIZE + 1
        rows = [row for row in (above, below) if ys.top + FONT_SIZE <= row <= ys.bottom - 3]
        rows = rows or [below if y < (ys.top + ys.bottom) / 2 else above]
        candidates = [
            (end, text_y) for text_y in rows for end in _steps(right - 4, left + 4 + text_width, -5)
        ]
        end, text_y = next(
            (
                (end, text_y)
                for end, text_y in candidates
                if not taken.hit(_text_box(end - text_width, end, text_y))
            ),
            candidates[0],
        )
        placed.append(_text_box(end - text_width, end, text_y))
        labels.append(
            _tag(
                "text",
                {
                    "class": f"reference-label {kind}",
                    "x": end,
                    "y": text_y,
                    "text-anchor": "end",
                    "fill": colour,
                    **_HALO,
                },
                _escape(label),
            )
        )
    drawn.append("</g>")
    labels.append("</g>")
    return drawn, labels


def _steps(start: float, stop: float, step: float) -> list[float]:
    """start, start + step, ... while not past stop (at least [start])."""
    values = [start]
    while (values[-1] + step - stop) * step <= 0:
        values.append(values[-1] + step)
    return values


def _text_box(x0: float, x1: float, baseline_y: float) -> _Box:
    """Where a text's glyphs may be, with a little room around them."""
    return (x0 - 2, baseline_y - FONT_SIZE * 0.8 - 2, x1 + 2, baseline_y + 3)


@dataclass(frozen=True)
class _MarkerLabel:
    marker: Marker
    x: float
    row: int | None  # None: no room for the visible label (the <title> still has it)
    anchor: str
    text: str


def _layout_markers(
    markers: Sequence[Marker], xs: _XScale, width: int
) -> tuple[list[_MarkerLabel], int]:
    """Rows for the marker labels so that no label overlaps another label or a marker's line.

    Markers are placed right to left: a label sits to the right of its line (left of it near
    the chart's right edge) and a marker's line rises through the rows below its own label.
    """
    placed: list[tuple[int, float, float, float]] = []  # (row, label start, label end, line x)
    laid_out: dict[int, _MarkerLabel] = {}
    for position in reversed(range(len(markers))):
        marker = markers[position]
        x = xs(marker.on)
        text = _truncate(marker.text, MARKER_LABEL_CHARS)
        text_width = _text_width(text, MARKER_FONT_SIZE)
        anchor, lo, hi = "start", x + 3, x + 3 + text_width
        if hi > width - 2:
            anchor, lo, hi = "end", x - 3 - text_width, x - 3
        row = next(
            (
                row
                for row in range(MAX_MARKER_ROWS)
                if not any(
                    (other_row == row and lo < other_hi + 6 and other_lo < hi + 6)
                    or (other_row < row and other_lo - 2 <= x <= other_hi + 2)
                    or (other_row > row and lo - 2 <= other_x <= hi + 2)
                    for other_row, other_lo, other_hi, other_x in placed
                )
            ),
            None,
        )
        if row is not None:
            placed.append((row, lo, hi, x))
        laid_out[position] = _MarkerLabel(marker, x, row, anchor, text)
    rows = 1 + max((row for row, _, _, _ in placed), default=-1)
    return [laid_out[position] for position in range(len(markers))], rows


def _markers(labels: Sequence[_MarkerLabel], ys: _YScale) -> list[str]:
    parts = ['<g class="markers">']
    for label in labels:
        marker = label.marker
        row = label.row if label.row is not None else 0
        text_y = ys.top - 4 - row * MARKER_ROW
        parts.append('<g class="marker">')
        parts.append(_tag("title", {}, _escape(f"{marker.on.isoformat()}: {marker.text}")))
        parts.append(
            _tag(
                "line",
                {
                    "class": "marker-line",
                    "x1": label.x,
                    "y1": text_y - MARKER_FONT_SIZE + 1 if label.row is not None else ys.top,
                    "x2": label.x,
                    "y2": ys.bottom,
                    "stroke": MARKER,
                    "stroke-width": 1.25,
                    "stroke-dasharray": "3 3",
                },
            )
        )
        if label.row is not None:
            parts.append(
                _tag(
                    "text",
                    {
                        "class": "marker-label",
                        "x": label.x + (3 if label.anchor == "start" else -3),
                        "y": text_y,
                        "text-anchor": label.anchor,
                        "font-size": MARKER_FONT_SIZE,
                        "fill": MARKER,
                    },
                    _escape(label.text),
                )
            )
        parts.append("</g>")
    parts.append("</g>")
    return parts


def _scores(
    scores: Sequence[Point],
    bands: Sequence[BandSpec],
    coordinates: Sequence[tuple[float, float]],
    radius: float,
) -> list[str]:
    parts = ['<g class="scores">']
    if len(scores) > 1:
        parts.append(
            _tag(
                "polyline",
                {
                    "class": "score-line",
                    "points": " ".join(f"{_num(x)},{_num(y)}" for x, y in coordinates),
                    "fill": "none",
                    "stroke": LINE,
                    "stroke-width": 2,
                    "stroke-linejoin": "round",
                },
            )
        )
    for point, (x, y) in zip(scores, coordinates, strict=True):
        notes = [note for note in (_band_name(point.total, bands), point.label) if note]
        tooltip = f"{point.taken_on.isoformat()}: {point.total}"
        if notes:
            tooltip += f" ({', '.join(notes)})"
        classes = "point" + (f" point-{_slug(point.label)}" if point.label else "")
        circle = _open(
            "circle",
            {
                "class": classes,
                "cx": x,
                "cy": y,
                "r": radius,
                "fill": BACKGROUND if point.label else LINE,
                "stroke": LINE if point.label else BACKGROUND,
                "stroke-width": 1.5 if point.label else 1,
            },
        )
        parts.append(f"{circle}{_tag('title', {}, _escape(tooltip))}</circle>")
    parts.append("</g>")
    return parts


# --- text ---------------------------------------------------------------------------------


def _description(
    title: str,
    scores: Sequence[Point],
    bands: Sequence[BandSpec],
    markers: Sequence[Marker],
    baseline: int | None,
) -> str:
    if not scores:
        return f"{title}: no scores yet."
    first, last = scores[0], scores[-1]
    if len(scores) == 1:
        text = f"{title}: {first.total} on {first.taken_on.isoformat()}"
    else:
        text = (
            f"{title} from {first.total} on {first.taken_on.isoformat()}"
            f" to {last.total} on {last.taken_on.isoformat()}"
        )
    text += f"; baseline {baseline}; {len(scores)} score{'' if len(scores) == 1 else 's'}."
    band = _band_name(last.total, bands)
    if band:
        text += f" Latest score in the {band} band."
    if markers:
        changes = "; ".join(f"{marker.text} on {marker.on.isoformat()}" for marker in markers)
        text += f" Treatment changes: {changes}."
    return text


# Characters XML 1.0 does not allow (C0 controls but tab and newlines, surrogates, U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _escape(text: str) -> str:
    """Text for an SVG element or attribute: characters XML can't hold dropped, then escaped."""
    return html.escape(_NOT_XML.sub("", text), quote=True)


def _band_name(total: int, bands: Sequence[BandSpec]) -> str:
    return next((band.name for band in bands if total <= band.upper), "")


def _truncate(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _text_width(text: str, font_size: float) -> float:
    return len(text) * font_size * CHAR_WIDTH


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _chart_id(*inputs: object) -> str:
    """An id prefix from the title and a short hash of every input (repr is deterministic)."""
    digest = hashlib.sha256(repr(inputs).encode()).hexdigest()[:8]
    slug = _slug(str(inputs[0]))[:32].strip("-")
    return f"trajectory-{slug}-{digest}" if slug else f"trajectory-{digest}"


# --- markup -------------------------------------------------------------------------------


def _num(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros ("76.67", "50")."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _attributes(attrs: Mapping[str, object]) -> str:
    rendered = []
    for key, value in attrs.items():
        if isinstance(value, float):
            text = _num(value)
        elif isinstance(value, int):
            text = str(value)
        else:
            text = _escape(str(value))
        rendered.append(f' {key}="{text}"')
    return "".join(rendered)


def _open(name: str, attrs: Mapping[str, object]) -> str:
    return f"<{name}{_attributes(attrs)}>"


def _tag(name: str, attrs: Mapping[str, object], body: str | None = None) -> str:
    """An element; `body` must already be escaped markup."""
    if body is None:
        return f"<{name}{_attributes(attrs)}/>"
    return f"<{name}{_attributes(attrs)}>{body}</{name}>"
