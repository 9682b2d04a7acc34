"""The official MP 2025 test decks (CMS159 61 cases, CMS2 34 cases, CC0, copied into
tests/fixtures/ecqm/mp2025/tests/): each case's resources → facts → measure must give,
patient by patient, exactly the populations of the case's MeasureReport."""

import json
from pathlib import Path

import pytest

from cocm.domain import ecqm
from cocm.reports.facts import bundle_facts
from cocm.reports.valuesets import package_valuesets

DECKS = Path(__file__).resolve().parent.parent / "fixtures" / "ecqm" / "mp2025" / "tests"
CMS159_DECK = DECKS / "DepressionRemissionatTwelveMonthsFHIR"
CMS2_DECK = DECKS / "PCSDepressionScreenAndFollowUpFHIR"
POPULATIONS = {
    "initial-population": "initial_population",
    "denominator": "denominator",
    "denominator-exclusion": "denominator_exclusion",
    "denominator-exception": "denominator_exception",
    "numerator": "numerator",
}


def case_names(deck: Path) -> dict[str, str]:
    names = {}
    for line in (deck / "README.txt").read_text().splitlines():
        if " = " in line:
            uuid, name = line.split(" = ", 1)
            names[uuid.strip()] = name.strip()
    return names


def cases(deck: Path) -> list:
    names = case_names(deck)
    found = []
    for path in sorted(deck.glob("tests-*-bundle.json")):
        uuid = path.name.removeprefix("tests-").removesuffix("-bundle.json")
        found.append(pytest.param(path, id=f"{uuid[:8]}-{names[uuid]}"))
    return found


def expected_populations(bundle: dict) -> dict[str, int]:
    (report,) = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "MeasureReport"
    ]
    return {p["code"]["coding"][0]["code"]: p["count"] for p in report["group"][0]["population"]}


def evaluate(path: Path, measure: str) -> tuple[dict[str, int], dict[str, int]]:
    bundle = json.loads(path.read_text())
    version = ecqm.measure_version(measure, 2025)
    compute = ecqm.cms159 if measure == "CMS159" else ecqm.cms2
    result = compute(bundle_facts(bundle), version, package_valuesets(version.package))
    expected = expected_populations(bundle)
    got = {code: int(getattr(result, POPULATIONS[code])) for code in expected}
    return expected, got


def test_the_decks_are_the_official_size():
    assert len(cases(CMS159_DECK)) == 61
    assert len(cases(CMS2_DECK)) == 34


@pytest.mark.parametrize("path", cases(CMS159_DECK))
def test_cms159_mp2025_case_matches_its_measure_report(path):
    expected, got = evaluate(path, "CMS159")

    assert got == expected


@pytest.mark.parametrize("path", cases(CMS2_DECK))
def test_cms2_mp2025_case_matches_its_measure_report(path):
    expected, got = evaluate(path, "CMS2")

    assert got == expected


@pytest.mark.parametrize(
    ("deck", "measure", "totals"),
    [
        (
            CMS159_DECK,
            "CMS159",
            {"initial-population": 54, "denominator-exclusion": 25, "numerator": 10},
        ),
        (
            CMS2_DECK,
            "CMS2",
            {
                "initial-population": 32,
                "denominator-exclusion": 5,
                "denominator-exception": 8,
                "numerator": 12,
            },
        ),
    ],
)
def test_deck_totals_are_the_published_ones(deck, measure, totals):
    sums = dict.fromkeys(totals, 0)

    for param in cases(deck):
        _expected, got = evaluate(param.values[0], measure)
        for code in totals:
            sums[code] += got.get(code, 0)

    assert sums == totals
