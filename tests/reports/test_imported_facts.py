"""Imported data is registry data (issue 14): a patient imported through POST /fhir, with
PHQ-9 Observations imported too, counts in the registry-side measures exactly as the same
resources do on the deck path (cocm.reports.facts), and once only when the registry also
holds an assessment fed from that Observation or entered by hand."""

import json
from datetime import date

import pytest

from cocm.accounts.models import ApiToken, Role
from cocm.domain import ecqm
from cocm.interop.models import ImportedResource
from cocm.measures.models import Assessment, Method
from cocm.registry.models import Episode, Patient
from cocm.reports.facts import patient_facts
from cocm.reports.registry_facts import imported_resources, registry_facts
from cocm.reports.valuesets import package_valuesets
from tests import factories

pytestmark = pytest.mark.django_db

LOINC = "http://loinc.org"


def resources():
    """Imported patient: depression diagnosed 2024-01-10, seen 2024-03-01 with a PHQ-9 of 18
    (the index), PHQ-9 of 4 on 2025-03-01 (remission in the window 2025-01-30 .. 2025-05-01)."""
    patient = {
        "resourceType": "Patient",
        "id": "ehr-77",
        "identifier": [
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                    ]
                },
                "system": "urn:ehr:mrn",
                "value": "E-77",
            }
        ],
        "name": [{"family": "Imported", "given": ["Iris"]}],
        "gender": "female",
        "birthDate": "1980-05-05",
    }
    condition = {
        "resourceType": "Condition",
        "id": "dx-1",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "confirmed",
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "problem-list-item",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F32.1"}]},
        "subject": {"reference": "Patient/ehr-77"},
        "onsetDateTime": "2024-01-10",
    }
    encounter = {
        "resourceType": "Encounter",
        "id": "visit-1",
        "status": "finished",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
        },
        "type": [{"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99212"}]}],
        "subject": {"reference": "Patient/ehr-77"},
        "period": {"start": "2024-03-01T09:00:00Z", "end": "2024-03-01T09:30:00Z"},
    }
    return [
        patient,
        condition,
        encounter,
        phq9("phq-index", "2024-03-01T09:10:00Z", 18),
        phq9("phq-later", "2025-03-01T10:00:00Z", 4),
    ]


def phq9(obs_id, when, value):
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "44261-6"}]},
        "subject": {"reference": "Patient/ehr-77"},
        "effectiveDateTime": when,
        "valueInteger": value,
    }


def bundle(items):
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
            for r in items
        ],
    }


@pytest.fixture
def setup(client):
    clinic = factories.clinic(name="Import Clinic")
    admin = factories.user(Role.ORG_ADMIN, clinic)
    care_manager = factories.user(Role.CARE_MANAGER, clinic)
    _, raw = ApiToken.issue(admin)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client, clinic, care_manager


def post(client, items):
    response = client.post("/fhir", json.dumps(bundle(items)), content_type="application/fhir+json")
    assert response.status_code == 200, response.json()


def deck_path_result(items):
    version = ecqm.measure_version("CMS159", 2025)
    facts = patient_facts(items[0], items[1:])
    return ecqm.cms159(facts, version, package_valuesets(version.package))


def cms159_row(client, fhir_id):
    data = client.get("/api/v1/quality/cms159", {"period": "2025"}).json()
    rows = [p for p in data["patients"] if p["fhir_id"] == fhir_id]
    return data, rows


def test_imported_resources_is_every_stored_resource(setup):
    client, _clinic, _care_manager = setup
    post(client, resources())

    assert sorted(imported_resources().values_list("resource_type", "resource_id")) == [
        ("Condition", "dx-1"),
        ("Encounter", "visit-1"),
        ("Observation", "phq-index"),
        ("Observation", "phq-later"),
        ("Patient", "ehr-77"),
    ]


def test_imported_patient_without_episode_counts_as_on_the_deck_path(setup):
    client, _clinic, _care_manager = setup
    items = resources()
    post(client, items)
    expected = deck_path_result(items)

    data, (row,) = cms159_row(client, "ehr-77")

    assert Episode.objects.count() == 0
    assert (expected.initial_population, expected.numerator) == (True, True)
    assert (row["in_initial_population"], row["excluded"], row["in_numerator"]) == (
        True,
        False,
        True,
    )
    assert row["index_date"] == "2024-03-01"
    assert (
        (row["index_observation"], row["deciding_observation"])
        == (
            expected.index_observation,
            expected.deciding_observation,
        )
        == ("phq-index", "phq-later")
    )
    assert (data["initial_population"], data["numerator"]) == (1, 1)


def test_an_observation_fed_into_an_episode_counts_once(setup):
    """The patient is enrolled before the Observations arrive: the import feeds them into
    the episode as assessments; the measures still read each PHQ-9 once."""
    client, clinic, care_manager = setup
    items = resources()
    post(client, items[:3])  # the patient, diagnosis and visit
    patient = Patient.objects.get()
    episode = factories.episode(
        clinic, care_manager, the_patient=patient, referred_on=date(2024, 2, 1)
    )
    post(client, items[3:])  # the two PHQ-9s, fed into the episode
    fed = Assessment.objects.filter(episode=episode, method=Method.IMPORTED)
    assert sorted(fed.values_list("taken_on", "total")) == [
        (date(2024, 3, 1), 18),
        (date(2025, 3, 1), 4),
    ]
    assert ImportedResource.objects.filter(assessment__isnull=False).count() == 2

    (facts,) = registry_facts(patient.organization, Episode.objects.all())

    phq9s = sorted((o.effective.start.date(), o.value) for o in facts.observations)
    assert phq9s == [(date(2024, 3, 1), 18.0), (date(2025, 3, 1), 4.0)]
    assert {o.id for o in facts.observations} == {"phq-index", "phq-later"}
    expected = deck_path_result(items)
    _data, (row,) = cms159_row(client, "ehr-77")
    assert (row["in_numerator"], row["index_observation"], row["deciding_observation"]) == (
        expected.numerator,
        expected.index_observation,
        expected.deciding_observation,
    )


def test_a_registry_assessment_adds_to_the_imported_ones(setup):
    """A PHQ-9 entered in the registry (not imported) is one more observation: the latest
    in the window decides (here a relapse to 12, so no remission)."""
    client, clinic, care_manager = setup
    items = resources()
    post(client, items[:3])
    patient = Patient.objects.get()
    episode = factories.episode(
        clinic, care_manager, the_patient=patient, referred_on=date(2024, 2, 1)
    )
    post(client, items[3:])
    entered = Assessment.objects.create(
        episode=episode,
        instrument="PHQ-9",
        taken_on=date(2025, 4, 1),
        answers=[1, 1, 1, 1, 2, 2, 2, 1, 1],
        total=12,
        severity="moderate",
    )

    (facts,) = registry_facts(patient.organization, Episode.objects.all())

    assert sorted(o.id for o in facts.observations) == [
        f"assessment-{entered.pk}",
        "phq-index",
        "phq-later",
    ]
    _data, (row,) = cms159_row(client, "ehr-77")
    assert (row["in_numerator"], row["deciding_observation"], row["deciding_value"]) == (
        False,
        f"assessment-{entered.pk}",
        "12",
    )
