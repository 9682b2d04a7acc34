"""The symptom-score trajectory SVG: well-formed, accessible, CSP-safe and laid out exactly.

Expected coordinates for the default 640x240 chart: the plot frame is x 40..525 and y 10..210
(no markers), scores are placed on x 50..515 (10 units in from the frame) and a PHQ-9 total t
sits at y = 210 - t * 200 / 27.
"""

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocm.measures.trajectory import BandSpec, Marker, Point, trajectory_svg

SVG = "{http://www.w3.org/2000/svg}"
PROPERTY = settings(database=None, deadline=None, max_examples=100)
PHQ9_BANDS = (
    BandSpec(4, "minimal"),
    BandSpec(9, "mild"),
    BandSpec(14, "moderate"),
    BandSpec(19, "moderately severe"),
    BandSpec(27, "severe"),
)
GAD7_BANDS = (
    BandSpec(4, "minimal"),
    BandSpec(9, "mild"),
    BandSpec(14, "moderate"),
    BandSpec(21, "severe"),
)
# 2026-01-05, 30 days later and 60 days later: x = 50, 282.5, 515.
THREE = (
    Point(date(2026, 1, 5), 18),
    Point(date(2026, 2, 4), 12),
    Point(date(2026, 3, 6), 7),
)
FOUR = (
    Point(date(2026, 1, 5), 18),
    Point(date(2026, 2, 2), 14),
    Point(date(2026, 3, 2), 11, "amended"),
    Point(date(2026, 3, 30), 7),
)


def phq9(points, **options):
    return trajectory_svg("PHQ-9", points, max_total=27, bands=PHQ9_BANDS, **options)


def parse(svg):
    return ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted XML


def find(root, tag, cls=None):
    """Elements `tag` anywhere below root, whose class list includes `cls` if given."""
    found = root.iter(f"{SVG}{tag}")
    return [e for e in found if cls is None or cls in e.get("class", "").split()]


def only(root, tag, cls):
    [element] = find(root, tag, cls)
    return element


def texts(root, cls):
    return [e.text for e in find(root, "text", cls)]


def test_root_is_a_scalable_labelled_image():
    root = parse(phq9(THREE))
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 640 240"
    assert root.get("width") == "100%"
    assert root.get("height") is None
    assert root.get("preserveAspectRatio") == "xMidYMid meet"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    title, desc = root[0], root[1]
    assert (title.tag, title.get("id"), title.text) == (f"{SVG}title", title_id, "PHQ-9")
    assert (desc.tag, desc.get("id")) == (f"{SVG}desc", desc_id)
    assert re.fullmatch(r"trajectory-phq-9-[0-9a-f]{8}-title", title_id)
    assert desc_id == title_id.removesuffix("-title") + "-desc"


def test_custom_size_sets_the_view_box():
    root = parse(phq9(THREE, width=800, height=300))
    assert root.get("viewBox") == "0 0 800 300"


def test_safe_under_a_strict_content_security_policy():
    svg = phq9(FOUR, markers=[Marker(date(2026, 2, 1), "Sertraline 50 mg started")])
    root = parse(svg)
    assert not [e for e in root.iter() if "style" in e.attrib or e.tag == f"{SVG}style"]
    assert not [e for e in root.iter() if e.tag in (f"{SVG}script", f"{SVG}foreignObject")]
    assert not [e for e in root.iter() if any(name.startswith("on") for name in e.attrib)]
    for forbidden in ("<script", "style=", "href", "url(", "javascript:"):
        assert forbidden not in svg


def test_description_summarises_the_scores_in_words():
    root = parse(phq9(FOUR))
    assert root[1].text == (
        "PHQ-9 from 18 on 2026-01-05 to 7 on 2026-03-30; baseline 18; 4 scores."
        " Latest score in the mild band."
    )


def test_description_lists_treatment_changes_and_an_explicit_baseline():
    markers = [
        Marker(date(2026, 2, 20), "CBT started"),
        Marker(date(2026, 1, 12), "Sertraline 50 mg started"),
    ]
    root = parse(phq9(FOUR, markers=markers, baseline=20))
    assert root[1].text == (
        "PHQ-9 from 18 on 2026-01-05 to 7 on 2026-03-30; baseline 20; 4 scores."
        " Latest score in the mild band."
        " Treatment changes: Sertraline 50 mg started on 2026-01-12; CBT started on 2026-02-20."
    )


def test_one_circle_per_score_each_with_a_title():
    root = parse(phq9(FOUR))
    circles = find(root, "circle")
    assert len(circles) == 4
    assert [c.find(f"{SVG}title").text for c in circles] == [
        "2026-01-05: 18 (moderately severe)",
        "2026-02-02: 14 (moderate)",
        "2026-03-02: 11 (moderate, amended)",
        "2026-03-30: 7 (mild)",
    ]


def test_labelled_scores_are_hollow_and_classed():
    circles = find(parse(phq9(FOUR)), "circle")
    assert [c.get("class") for c in circles] == ["point", "point", "point point-amended", "point"]
    assert [c.get("fill") for c in circles] == ["#1d3557", "#1d3557", "#ffffff", "#1d3557"]


def test_score_line_coordinates():
    root = parse(phq9(THREE))
    line = only(root, "polyline", "score-line")
    assert line.get("points") == "50,76.67 282.5,121.11 515,158.15"
    assert line.get("fill") == "none"
    circles = [(c.get("cx"), c.get("cy")) for c in find(root, "circle")]
    assert circles == [("50", "76.67"), ("282.5", "121.11"), ("515", "158.15")]


def test_points_are_drawn_in_date_order():
    shuffled = (THREE[2], THREE[0], THREE[1])
    root = parse(phq9(shuffled))
    assert only(root, "polyline", "score-line").get("points") == "50,76.67 282.5,121.11 515,158.15"
    assert "from 18 on 2026-01-05 to 7 on 2026-03-06; baseline 18;" in root[1].text


def test_gad7_scale():
    # A GAD-7 total t sits at y = 210 - t * 200 / 21.
    svg = trajectory_svg("GAD-7", THREE, max_total=21, bands=GAD7_BANDS)
    root = parse(svg)
    assert only(root, "polyline", "score-line").get("points") == "50,38.57 282.5,95.71 515,143.33"
    assert texts(root, "band-label") == ["minimal", "mild", "moderate", "severe"]
    assert texts(find(root, "g", "axis-y")[0], "tick-label") == ["0", "5", "10", "15", "21"]


def test_one_band_rectangle_per_band_lightest_to_darkest():
    root = parse(phq9(THREE))
    rects = find(root, "rect", "band")
    assert len(rects) == len(PHQ9_BANDS)
    assert [r.get("class") for r in rects] == [f"band band-{i}" for i in range(5)]
    fills = [r.get("fill") for r in rects]
    assert fills[0] == "#f7f7f2"
    assert fills[-1] == "#eca08c"
    lightness = [sum(int(fill[i : i + 2], 16) for i in (1, 3, 5)) for fill in fills]
    assert lightness == sorted(lightness, reverse=True)
    assert len(set(lightness)) == 5
    assert texts(root, "band-label") == [
        "minimal",
        "mild",
        "moderate",
        "moderately severe",
        "severe",
    ]
    assert {e.get("x") for e in find(root, "text", "band-label")} == {"531"}


def test_bands_cover_their_totals_edge_to_edge():
    # Edges half-way between totals: minimal 0..4.5, mild 4.5..9.5, ..., severe 19.5..27.
    rects = find(parse(phq9(THREE)), "rect", "band")
    assert [(r.get("y"), r.get("height")) for r in rects] == [
        ("176.67", "33.33"),
        ("139.63", "37.04"),
        ("102.59", "37.04"),
        ("65.56", "37.04"),
        ("10", "55.56"),
    ]
    assert {(r.get("x"), r.get("width")) for r in rects} == {("40", "600")}


def test_y_ticks_at_zero_band_starts_and_maximum():
    axis = find(parse(phq9(THREE)), "g", "axis-y")[0]
    assert texts(axis, "tick-label") == ["0", "5", "10", "15", "20", "27"]
    assert [line.get("y1") for line in find(axis, "line", "tick")] == [
        "210",
        "172.96",
        "135.93",
        "98.89",
        "61.85",
        "10",
    ]


def test_x_ticks_every_two_weeks_for_two_months():
    axis = find(parse(phq9(THREE)), "g", "axis-x")[0]
    assert texts(axis, "tick-label") == ["Jan 5", "Jan 19", "Feb 2", "Feb 16", "Mar 2"]
    assert [line.get("x1") for line in find(axis, "line", "tick")] == [
        "50",
        "158.5",
        "267",
        "375.5",
        "484",
    ]


def test_x_ticks_use_iso_dates_across_a_new_year():
    points = [Point(date(2025, 12, 29), 15), Point(date(2026, 1, 12), 9)]
    axis = find(parse(phq9(points)), "g", "axis-x")[0]
    assert texts(axis, "tick-label") == [
        "2025-12-29",
        "2026-01-01",
        "2026-01-04",
        "2026-01-07",
        "2026-01-10",
    ]


def test_x_ticks_by_month_and_by_year():
    months = [Point(date(2025, 11, 20), 20), Point(date(2026, 6, 2), 6)]
    axis = find(parse(phq9(months)), "g", "axis-x")[0]
    assert texts(axis, "tick-label") == [
        "Jan 2026",
        "Mar 2026",
        "May 2026",
    ]
    years = [Point(date(2014, 3, 1), 20), Point(date(2026, 6, 2), 6)]
    axis = find(parse(phq9(years)), "g", "axis-x")[0]
    assert texts(axis, "tick-label") == ["2016", "2018", "2020", "2022", "2024", "2026"]


@pytest.mark.parametrize("days", [0, 1, 2, 6, 13, 20, 45, 84, 100, 140, 200, 400, 1000, 4000])
@pytest.mark.parametrize("width", [320, 640, 1000])
def test_x_ticks_are_few_and_do_not_overlap(days, width):
    start = date(2026, 1, 5)
    points = [Point(start, 20), Point(start + timedelta(days=days), 8)]
    axis = find(parse(phq9(points, width=width)), "g", "axis-x")[0]
    labels = find(axis, "text", "tick-label")
    assert 1 <= len(labels) <= 6
    xs = [float(label.get("x")) for label in labels]
    assert xs == sorted(xs)
    widest = max(len(label.text) for label in labels) * 11 * 0.6
    assert all(b - a >= widest for a, b in pairwise(xs))
    assert all(40 - widest / 2 >= -1 and x + widest / 2 <= width for x in xs)


def test_dense_scores_over_years_render():
    start = date(2022, 1, 3)
    points = [Point(start + timedelta(days=11 * i), (i * 7) % 28) for i in range(100)]
    root = parse(phq9(points))
    assert len(find(root, "circle")) == 100
    assert len(only(root, "polyline", "score-line").get("points").split()) == 100
    assert texts(find(root, "g", "axis-x")[0], "tick-label") == [
        "Jul 2022",
        "Jan 2023",
        "Jul 2023",
        "Jan 2024",
        "Jul 2024",
    ]


def test_baseline_and_response_lines():
    root = parse(phq9(THREE))
    baseline = only(root, "line", "baseline")
    response = only(root, "line", "response")
    target = only(root, "line", "target")
    assert (baseline.get("y1"), baseline.get("y2")) == ("76.67", "76.67")  # 18
    assert (response.get("y1"), response.get("y2")) == ("143.33", "143.33")  # 9
    assert (target.get("y1"), target.get("y2")) == ("172.96", "172.96")  # 5
    assert (baseline.get("x1"), baseline.get("x2")) == ("40", "525")
    assert baseline.get("stroke-dasharray") == "6 4"
    assert only(root, "text", "baseline").text == "baseline 18"
    assert only(root, "text", "response").text == "50% of baseline"
    assert only(root, "text", "target").text == "remission < 5"


def test_explicit_baseline_and_target():
    root = parse(phq9(THREE, baseline=20, target=10))
    assert only(root, "line", "baseline").get("y1") == "61.85"  # 20
    assert only(root, "line", "response").get("y1") == "135.93"  # 10
    assert only(root, "line", "target").get("y1") == "135.93"
    assert only(root, "text", "baseline").text == "baseline 20"
    assert only(root, "text", "target").text == "remission < 10"


def test_odd_baseline_halves():
    root = parse(phq9([Point(date(2026, 1, 5), 17)]))
    assert only(root, "line", "response").get("y1") == "147.04"  # 8.5


def test_no_target_line_when_target_is_none():
    root = parse(phq9(THREE, target=None))
    assert find(root, "line", "target") == []
    assert find(root, "text", "target") == []
    assert len(find(root, "line", "reference")) == 2


def test_reference_labels_stay_inside_the_plot_and_apart():
    # Baseline 10: the 50% line and the remission line coincide at 5.
    points = [Point(date(2026, 1, 5), 10), Point(date(2026, 3, 2), 4)]
    root = parse(phq9(points))
    boxes = []
    for label in find(root, "text", "reference-label"):
        end, y = float(label.get("x")), float(label.get("y"))
        boxes.append((end - len(label.text) * 6.6, y - 9, end, y + 2))
        assert label.get("text-anchor") == "end"
        assert boxes[-1][0] >= 40 and end <= 525 and y - 9 >= 10 and y <= 210
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1]


def test_markers_are_dashed_lines_with_short_labels_and_full_titles():
    markers = [
        Marker(date(2026, 1, 5), "Sertraline 50 mg started"),
        Marker(date(2026, 2, 4), "Behavioural activation started with weekly sessions"),
    ]
    root = parse(phq9(THREE, markers=markers))
    groups = find(root, "g", "marker")
    assert len(groups) == 2
    assert [g.find(f"{SVG}title").text for g in groups] == [
        "2026-01-05: Sertraline 50 mg started",
        "2026-02-04: Behavioural activation started with weekly sessions",
    ]
    lines = find(root, "line", "marker-line")
    assert [(line.get("x1"), line.get("x2")) for line in lines] == [
        ("50", "50"),
        ("282.5", "282.5"),
    ]
    assert {line.get("y2") for line in lines} == {"210"}
    assert {line.get("stroke-dasharray") for line in lines} == {"3 3"}
    assert texts(root, "marker-label") == ["Sertraline 50 mg started", "Behavioural activation…"]
    assert len(texts(root, "marker-label")[1]) <= 24
    # One row of marker labels above the plot moves the frame's top from 10 to 23.
    assert only(root, "rect", "frame").get("y") == "23"
    assert [e.get("y") for e in find(root, "text", "marker-label")] == ["19", "19"]


def test_crowded_markers_stack_in_rows():
    markers = [
        Marker(date(2026, 2, 1), "Sertraline 50 mg started"),
        Marker(date(2026, 2, 3), "CBT started"),
    ]
    root = parse(phq9(THREE, markers=markers))
    assert sorted(e.get("y") for e in find(root, "text", "marker-label")) == ["19", "32"]
    assert only(root, "rect", "frame").get("y") == "36"


def test_marker_dates_widen_the_time_axis():
    root = parse(phq9([Point(date(2026, 1, 5), 18)], markers=[Marker(date(2026, 1, 19), "CBT")]))
    assert only(root, "circle", "point").get("cx") == "50"
    assert only(root, "line", "marker-line").get("x1") == "515"


def test_empty_chart():
    svg = phq9([], markers=[Marker(date(2026, 1, 5), "Sertraline started")], baseline=18)
    root = parse(svg)
    assert only(root, "text", "empty").text == "No scores yet"
    assert root[1].text == "PHQ-9: no scores yet."
    assert find(root, "circle") == []
    assert find(root, "polyline") == []
    assert find(root, "g", "marker") == []
    assert find(root, "line", "reference") == []
    frame = only(root, "rect", "frame")
    assert [frame.get(k) for k in ("x", "y", "width", "height")] == ["40", "10", "485", "200"]
    assert len(find(root, "rect", "band")) == 5


def test_single_score_is_centred_without_a_line():
    root = parse(phq9([Point(date(2026, 1, 5), 18)]))
    assert find(root, "polyline") == []
    circle = only(root, "circle", "point")
    assert (circle.get("cx"), circle.get("cy")) == ("282.5", "76.67")
    assert texts(find(root, "g", "axis-x")[0], "tick-label") == ["2026-01-05"]
    assert root[1].text == (
        "PHQ-9: 18 on 2026-01-05; baseline 18; 1 score. Latest score in the moderately severe band."
    )


def test_two_scores_on_the_same_date():
    points = [Point(date(2026, 1, 5), 10), Point(date(2026, 1, 5), 13, "amended")]
    root = parse(phq9(points))
    circles = find(root, "circle")
    assert [(c.get("cx"), c.get("cy")) for c in circles] == [
        ("282.5", "135.93"),
        ("282.5", "113.7"),
    ]
    assert only(root, "polyline", "score-line").get("points") == "282.5,135.93 282.5,113.7"
    assert texts(find(root, "g", "axis-x")[0], "tick-label") == ["2026-01-05"]


def test_totals_outside_the_scale_are_clamped_but_reported():
    points = [Point(date(2026, 1, 5), 30), Point(date(2026, 1, 6), -1)]
    circles = find(parse(phq9(points)), "circle")
    assert [c.get("cy") for c in circles] == ["10", "210"]
    assert circles[0].find(f"{SVG}title").text == "2026-01-05: 30"


def test_text_is_escaped():
    svg = trajectory_svg(
        "PHQ-9 <b>& co",
        [Point(date(2026, 1, 5), 18, "a&b")],
        max_total=27,
        bands=[BandSpec(27, "<all>")],
        markers=[Marker(date(2026, 1, 19), "Drug <X> & \"Y\" 'Z'")],
    )
    assert "<b>" not in svg and "<X>" not in svg and "<all>" not in svg
    assert "PHQ-9 &lt;b&gt;&amp; co" in svg
    root = parse(svg)
    assert root[0].text == "PHQ-9 <b>& co"
    assert root[1].text.startswith("PHQ-9 <b>& co: 18 on 2026-01-05;")
    assert only(root, "g", "marker").find(f"{SVG}title").text == "2026-01-19: Drug <X> & \"Y\" 'Z'"
    assert texts(root, "marker-label") == ["Drug <X> & \"Y\" 'Z'"]
    assert texts(root, "band-label") == ["<all>"]
    assert only(root, "circle", "point").get("class") == "point point-a-b"
    assert re.fullmatch(r"trajectory-phq-9-b-co-[0-9a-f]{8}-title", root[0].get("id"))


def test_characters_xml_cannot_hold_are_dropped():
    svg = phq9(THREE, markers=[Marker(date(2026, 1, 19), "CBT\x08 started\x00")])
    assert texts(parse(svg), "marker-label") == ["CBT started"]


def test_dates_at_the_end_of_the_calendar():
    points = [Point(date(9999, 6, 1), 20), Point(date(9999, 12, 31), 4)]
    root = parse(phq9(points))
    assert texts(find(root, "g", "axis-x")[0], "tick-label") == ["Jul 9999", "Sep 9999", "Nov 9999"]


def test_ids_are_unique_across_charts_on_one_page():
    first = phq9(THREE)
    second = phq9(FOUR)
    gad7 = trajectory_svg("GAD-7", THREE, max_total=21, bands=GAD7_BANDS)
    same_title_other_baseline = phq9(THREE, baseline=20)
    page = parse(f"<div>{first}{second}{gad7}{same_title_other_baseline}</div>")
    ids = [e.get("id") for e in page.iter() if e.get("id")]
    assert len(ids) == 8
    assert len(set(ids)) == 8
    for chart in page:
        assert set(chart.get("aria-labelledby").split()) <= set(ids)


def test_title_without_letters_still_gets_a_valid_id():
    root = parse(trajectory_svg("—", THREE, max_total=27, bands=PHQ9_BANDS))
    assert re.fullmatch(r"trajectory-[0-9a-f]{8}-title", root[0].get("id"))


def test_output_is_deterministic():
    markers = [Marker(date(2026, 2, 1), "Sertraline 50 mg started")]
    assert phq9(FOUR, markers=markers) == phq9(list(FOUR), markers=tuple(markers))


def test_instrument_without_bands():
    root = parse(trajectory_svg("Score", THREE, max_total=27, bands=()))
    assert find(root, "rect", "band") == []
    assert texts(find(root, "g", "axis-y")[0], "tick-label") == ["0", "27"]
    assert "band" not in root[1].text


@pytest.mark.parametrize(
    "options",
    [{"max_total": 0}, {"max_total": 27, "width": 100}, {"max_total": 27, "height": 50}],
)
def test_rejects_impossible_charts(options):
    with pytest.raises(ValueError):
        trajectory_svg("PHQ-9", THREE, bands=PHQ9_BANDS, **options)


DAYS = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))


@PROPERTY
@given(
    st.lists(st.builds(Point, DAYS, st.integers(-3, 30), st.sampled_from(["", "amended"]))),
    st.lists(st.builds(Marker, DAYS, st.text(max_size=60))),
    st.one_of(st.none(), st.integers(0, 27)),
    st.one_of(st.none(), st.integers(0, 27)),
    st.sampled_from([(255, 139), (360, 240), (640, 240), (1200, 400)]),
)
def test_any_input_renders_well_formed_accessible_svg(points, markers, baseline, target, size):
    width, height = size
    svg = phq9(
        points, markers=markers, baseline=baseline, target=target, width=width, height=height
    )
    root = parse(svg)
    assert len(find(root, "circle")) == len(points)
    assert len(find(root, "rect", "band")) == 5
    assert "style=" not in svg and "<script" not in svg
    assert len(root.get("aria-labelledby").split()) == 2
    ticks = find(find(root, "g", "axis-x")[0], "text", "tick-label") if points else []
    assert len(ticks) <= 6
    xs = [float(tick.get("x")) for tick in ticks]
    assert all(b - a >= max(len(t.text) for t in ticks) * 6.6 for a, b in pairwise(xs))
    for element in root.iter():
        for name in ("x", "y", "x1", "x2", "y1", "y2", "cx", "cy"):
            if element.get(name) is not None:
                assert -1 <= float(element.get(name)) <= max(width, height)
