"""The official CMS159 and CMS2 test decks (tests/fixtures/ecqm, CC0) import cleanly through
POST /fhir and read back through /fhir search.

Resource ids and Patient identifier values repeat across the cases (an identifier names the
test-case group): each case is a different patient, so every id and identifier value gets
the case's own suffix before import.
"""

import json
from collections import Counter

import pytest

from cocm.interop.models import ImportedResource
from cocm.registry.models import Patient
from tests.interop.conftest import DECK, post_bundle

pytestmark = pytest.mark.django_db

CASES = sorted(DECK.glob("*/tests-*-bundle.json"))


def case_bundle(path):
    """The case's bundle with ids and Patient identifier values unique to the case."""
    bundle = json.loads(path.read_text())
    suffix = path.name.removeprefix("tests-")[:6]
    ids = {}
    for entry in bundle["entry"]:
        kind, _, old = entry["request"]["url"].partition("/")
        ids[f"{kind}/{old}"] = f"{kind}/{old}-{suffix}"

    def rewrite(value):
        if isinstance(value, dict):
            return {
                key: ids.get(item, item) if key == "reference" else rewrite(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [rewrite(item) for item in value]
        return value

    for entry in bundle["entry"]:
        new = ids[entry["request"]["url"]]
        entry["request"]["url"] = new
        entry["resource"] = rewrite(entry["resource"])
        entry["resource"]["id"] = new.partition("/")[2]
        if entry["resource"]["resourceType"] == "Patient":
            for identifier in entry["resource"].get("identifier", []):
                identifier["value"] = f"{identifier['value']}-{suffix}"
    return bundle


def test_the_decks_hold_61_and_34_cases():
    per_measure = Counter(path.parent.name for path in CASES)

    assert per_measure == {
        "DepressionRemissionatTwelveMonthsFHIR": 61,
        "PCSDepressionScreenAndFollowUpFHIR": 34,
    }


def test_every_case_imports_cleanly_and_reads_back_through_search(fhir):
    for path in CASES:
        bundle = case_bundle(path)

        response = post_bundle(fhir, bundle)

        assert response.status_code == 200, (path.name, response.json())
        statuses = [e["response"]["status"] for e in response.json()["entry"]]
        assert all(s in {"201 Created", "200 OK"} for s in statuses), (path.name, statuses)
        patient = next(
            e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
        )
        identifier = patient["identifier"][0]
        found = fhir.get(
            "/fhir/Patient", {"identifier": f"{identifier['system']}|{identifier['value']}"}
        )
        assert [e["resource"]["id"] for e in found.json()["entry"]] == [patient["id"]], path.name
        sent = Counter(
            e["resource"]["resourceType"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"]
            in {"Observation", "Encounter", "Condition", "Procedure"}
        )
        for kind, expected in sent.items():
            search = fhir.get(f"/fhir/{kind}", {"patient": f"Patient/{patient['id']}"}).json()
            assert search["total"] == expected, (path.name, kind)

    assert Patient.objects.count() == 95
    kept = len(
        [
            1
            for p in CASES
            for e in json.loads(p.read_text())["entry"]
            if e["resource"]["resourceType"] != "MeasureReport"
        ]
    )
    assert ImportedResource.objects.count() == kept


def test_the_whole_deck_posted_again_stores_nothing_new(fhir):
    bundles = [case_bundle(path) for path in CASES[:10]]
    for bundle in bundles:
        post_bundle(fhir, bundle)
    before = ImportedResource.objects.count(), Patient.objects.count()

    for bundle in bundles:
        answers = post_bundle(fhir, bundle).json()["entry"]
        assert {a["response"]["status"] for a in answers} == {"200 OK"}

    assert (ImportedResource.objects.count(), Patient.objects.count()) == before
