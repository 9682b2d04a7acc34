"""The FHIR read and search server over registry data: every resource type it emits is valid
for the fhir.resources R4B models, with the codes we promise."""

from datetime import date

import pytest
from fhir.resources.R4B import get_fhir_model_class

from cocm.accounts.models import Role
from cocm.care import services as care
from cocm.interop.mapping.patient import patient_from_fhir, patient_to_fhir
from cocm.measures import services as measures
from cocm.measures.models import Assessment, Method
from cocm.registry.models import Patient
from tests import factories
from tests.interop.conftest import fhir_patient, phq9_observation, post_bundle, transaction

pytestmark = pytest.mark.django_db

TODAY = factories.TODAY
LOINC = "http://loinc.org"


@pytest.fixture
def chart(clinic, care_manager):
    """One patient in collaborative care with a bit of everything the registry keeps."""
    consultant = factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic)
    patient = factories.patient(
        clinic.organization, mrn="R-1", given_name="Rosa", family_name="Diaz"
    )
    episode = factories.episode(
        clinic,
        care_manager,
        the_patient=patient,
        referred_on=date(2026, 9, 1),
        consent_on=date(2026, 9, 2),
        psychiatric_consultant=consultant,
    )
    for taken_on, answers in (
        (date(2026, 9, 2), [2, 2, 2, 2, 2, 2, 2, 1, 1]),
        (date(2026, 10, 14), [1, 1, 1, 1, 1, 0, 0, 0, 0]),
    ):
        measures.record_assessment(
            episode,
            "PHQ-9",
            taken_on,
            answers,
            method=Method.IN_CLINIC,
            by=care_manager,
            as_of=TODAY,
        )
    care.record_contact(
        episode,
        occurred_on=date(2026, 9, 10),
        minutes=35,
        mode="phone",
        activity="follow_up",
        staff=care_manager,
        by=care_manager,
        as_of=TODAY,
    )
    care.record_review(
        episode,
        consultant=consultant,
        reviewed_on=date(2026, 10, 1),
        minutes=10,
        summary="Improving; continue.",
        recommendations=[],
        as_of=TODAY,
    )
    care.save_relapse_plan(
        episode,
        warning_signs="Poor sleep",
        coping_steps="Walks",
        whom_to_call="Dana",
        by=care_manager,
    )
    return patient


def resources(client, kind, **params):
    response = client.get(f"/fhir/{kind}", params)
    assert response.status_code == 200, response.json()
    assert response["Content-Type"] == "application/fhir+json"
    bundle = response.json()
    get_fhir_model_class("Bundle").model_validate(bundle)
    return [entry["resource"] for entry in bundle["entry"]]


@pytest.mark.parametrize(
    "kind",
    [
        "Patient",
        "EpisodeOfCare",
        "Condition",
        "Observation",
        "QuestionnaireResponse",
        "Questionnaire",
        "Encounter",
        "CarePlan",
        "Procedure",
    ],
)
def test_every_emitted_resource_is_valid_r4b(fhir, chart, kind):
    found = resources(fhir, kind)

    assert found, kind
    for resource in found:
        get_fhir_model_class(kind).model_validate(resource)
        read = fhir.get(f"/fhir/{kind}/{resource['id']}")
        assert read.json() == resource


def test_a_total_score_observation_carries_loinc_category_item_9_and_its_response(fhir, chart):
    first = resources(fhir, "Observation", date="le2026-09-30")

    assert len(first) == 1
    observation = first[0]
    assert observation["code"]["coding"] == [{"system": LOINC, "code": "44261-6"}]
    assert observation["valueInteger"] == 16
    assert observation["effectiveDateTime"] == "2026-09-02"
    categories = [c["coding"][0] for c in observation["category"]]
    assert [(c["system"], c["code"]) for c in categories] == [
        ("http://terminology.hl7.org/CodeSystem/observation-category", "survey"),
        ("http://hl7.org/fhir/us/core/CodeSystem/us-core-category", "screening-assessment"),
    ]
    assert observation["component"] == [
        {
            "code": {
                "text": observation["component"][0]["code"]["text"],
                "coding": [{"system": LOINC, "code": "44260-8"}],
            },
            "valueInteger": 1,
        }
    ]
    response_ref = observation["derivedFrom"][0]["reference"]
    response = fhir.get(f"/fhir/{response_ref}").json()
    assert response["questionnaire"] == "urn:cocm:Questionnaire/phq-9"
    assert len(response["item"]) == 9


def test_conditions_episodes_encounters_say_what_the_registry_keeps(fhir, chart):
    condition = resources(fhir, "Condition")[0]
    episode = resources(fhir, "EpisodeOfCare")[0]
    encounter = resources(fhir, "Encounter")[0]

    assert condition["code"]["coding"][0]["system"] == "http://hl7.org/fhir/sid/icd-10-cm"
    assert condition["code"]["coding"][0]["code"] == "F32.1"
    assert episode["status"] == "active"
    assert [h["status"] for h in episode["statusHistory"]] == ["planned"]
    assert "psychiatric consultant" in episode["team"][0]["display"]
    assert encounter["length"]["value"] == 35
    assert encounter["class"]["code"] == "VR"
    assert encounter["type"][1]["text"] == "Mode: Phone"


def test_search_by_patient_code_date_and_pages_with_next(fhir, chart):
    fhir_id = str(chart.pk)

    by_code = resources(fhir, "Observation", patient=f"Patient/{fhir_id}", code=f"{LOINC}|44261-6")
    other_code = resources(fhir, "Observation", code=f"{LOINC}|70274-6")
    after = resources(fhir, "Observation", date="gt2026-10-01")
    page = fhir.get("/fhir/Observation", {"_count": 1}).json()
    following = fhir.get(next(link["url"] for link in page["link"] if link["relation"] == "next"))

    assert len(by_code) == 2
    assert other_code == []
    assert [o["valueInteger"] for o in after] == [5]
    assert (page["total"], len(page["entry"])) == (2, 1)
    assert following.json()["entry"][0]["resource"]["id"] != page["entry"][0]["resource"]["id"]
    assert not [link for link in following.json()["link"] if link["relation"] == "next"]


def test_search_mixes_registry_and_imported_resources(fhir, chart):
    post_bundle(
        fhir,
        transaction(
            fhir_patient(str(chart.pk), mrn="R-1"),
            phq9_observation("ext-1", patient=f"Patient/{chart.pk}", on="2026-08-01"),
        ),
    )

    found = resources(fhir, "Observation", patient=str(chart.pk))

    assert sorted(o["id"] for o in found) == sorted(
        [f"as-{a.pk}" for a in Assessment.objects.filter(method=Method.IN_CLINIC)] + ["ext-1"]
    )


def test_patients_are_found_by_identifier(fhir, chart):
    by_mrn = resources(fhir, "Patient", identifier="R-1")
    by_system = resources(fhir, "Patient", identifier="urn:cocm:mrn|R-1")
    nobody = resources(fhir, "Patient", identifier="nope")

    assert [p["id"] for p in by_mrn] == [str(chart.pk)]
    assert by_system == by_mrn
    assert nobody == []


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/fhir/Medication", 404, "not supported"),
        ("/fhir/Observation/as-999999", 404, "not known"),
        ("/fhir/Observation?date=yesterday", 400, "not a date"),
        ("/fhir/Observation?colour=red", 400, "Unsupported search parameter 'colour'"),
        ("/fhir/Observation?_count=ten", 400, "whole numbers"),
        ("/fhir/Observation?_offset=99999999999999999999", 400, "out of range"),
        ("/fhir/Observation/as-99999999999999999999999", 404, "not known"),
    ],
)
def test_errors_are_operation_outcomes(fhir, chart, url, status, words):
    response = fhir.get(url)

    assert response.status_code == status
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert words in body["issue"][0]["diagnostics"]


def test_the_capability_statement_lists_what_is_supported(fhir):
    statement = fhir.get("/fhir/metadata").json()

    get_fhir_model_class("CapabilityStatement").model_validate(statement)
    kinds = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert {"Patient", "Observation", "Questionnaire", "CarePlan", "Procedure"} <= set(kinds)
    assert [p["name"] for p in kinds["Observation"]["searchParam"]] == [
        "patient",
        "date",
        "code",
        "_count",
    ]
    assert [p["name"] for p in kinds["Patient"]["searchParam"]] == [
        "identifier",
        "birthdate",
        "_count",
    ]


def test_a_patient_round_trips_through_fhir(chart):
    chart.deceased_on = date(2026, 11, 1)
    chart.deceased = True
    chart.phone = "555-0100"

    data = patient_from_fhir(patient_to_fhir(chart, "x"), "Patient")

    assert (data.mrn, data.given_name, data.family_name) == (
        chart.mrn,
        chart.given_name,
        chart.family_name,
    )
    assert (data.birth_date, data.sex, data.deceased_on, data.phone) == (
        chart.birth_date,
        chart.sex,
        date(2026, 11, 1),
        "555-0100",
    )


def test_an_assessment_round_trips_through_fhir_into_another_registry(fhir, chart, client):
    observation = resources(fhir, "Observation", date="le2026-09-30")[0]
    patient = fhir.get(f"/fhir/Patient/{chart.pk}").json()
    other = factories.clinic(factories.organization("Second Health"))
    manager = factories.user(Role.CARE_MANAGER, other)
    from cocm.interop.importer import import_bundle

    import_bundle(other.organization, transaction(patient), as_of=TODAY)
    copy = Patient.objects.get(organization=other.organization)
    factories.episode(other, manager, the_patient=copy, referred_on=date(2026, 9, 1))
    observation.pop("derivedFrom")
    import_bundle(other.organization, transaction(observation), as_of=TODAY)

    imported = Assessment.objects.get(episode__patient=copy)
    original = Assessment.objects.filter(episode__patient=chart).order_by("taken_on").first()
    assert (imported.instrument, imported.taken_on, imported.total, imported.severity) == (
        original.instrument,
        original.taken_on,
        original.total,
        original.severity,
    )
