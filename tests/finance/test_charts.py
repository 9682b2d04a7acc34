from cocm.domain.finance import Swing
from cocm.finance.charts import Series, projection_svg, tornado_svg


def test_the_projection_chart_is_csp_safe_and_says_in_words_what_it_shows():
    svg = projection_svg(
        [Series("<Plan & grow>", [1000.0, 12000.0, 13000.0], [10000.0, 10000.0, 10000.0])],
        title="Revenue",
    )

    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "style=" not in svg and "<script" not in svg
    assert "&lt;Plan &amp; grow&gt;: net revenue $1k in month 1 and $13k in month 3" in svg
    assert "revenue first covers cost in month 2" in svg
    assert svg.count("<path") == 2  # revenue and cost


def test_the_tornado_chart_draws_each_swing_around_the_margin():
    swings = [
        Swing("caseload_per_fte", "Caseload per FTE", 80, -15120.0, 15120.0, 0.0),
        Swing("collection_rate", "Collection rate", 1.0, -15120.0, None, 0.0),
    ]

    svg = tornado_svg(swings, base_margin=0.0, title="Sensitivity")

    assert "style=" not in svg and "<script" not in svg
    assert svg.count('<rect class="bar') == 3  # the collection rate cannot rise
    assert "Collection rate: −$15.1k at −10%, unchanged at +10%" in svg
    assert "margin today $0" in svg


def test_a_tornado_without_swings_says_so():
    assert "No input moves the margin." in tornado_svg([], base_margin=0.0, title="Sensitivity")
