import json
from datetime import date

import pytest

from cocm.accounts.models import ApiToken, Role
from cocm.accounts.scoping import visible_patients
from cocm.domain.episodes import EpisodeStatus
from cocm.interop import patient_fhir_id
from cocm.interop.importer import import_bundle
from cocm.interop.models import ImportedResource, InteropSettings, PatientIdentifier
from cocm.measures.models import Assessment, Method
from cocm.registry.models import Episode, Patient
from tests import factories
from tests.interop.conftest import fhir_patient, phq9_observation, post_bundle, transaction

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)


def test_it_imports_a_patient_with_identifiers_into_the_importers_clinic(fhir, clinic):
    response = post_bundle(fhir, transaction(fhir_patient(deceasedBoolean=False)))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    entry = response.json()["entry"][0]["response"]
    assert entry == {"status": "201 Created", "location": "Patient/p1"}
    patient = Patient.objects.get()
    assert (patient.mrn, patient.given_name, patient.family_name) == ("MRN-1", "Ana Maria", "Lopez")
    assert (patient.birth_date, patient.sex, patient.home_clinic) == (
        date(1968, 2, 29),
        "female",
        clinic,
    )
    assert set(PatientIdentifier.objects.values_list("system", "value")) == {
        ("urn:other", "X-MRN-1"),
        ("urn:ehr:mrn", "MRN-1"),
    }
    assert patient_fhir_id(patient) == "p1"
    assert ImportedResource.objects.get().patient == patient


def test_it_stores_nothing_new_when_the_same_bundle_comes_twice(fhir):
    bundle = transaction(fhir_patient(), phq9_observation())
    post_bundle(fhir, bundle)
    counts = (Patient.objects.count(), ImportedResource.objects.count())

    response = post_bundle(fhir, bundle)

    assert [e["response"]["status"] for e in response.json()["entry"]] == ["200 OK", "200 OK"]
    assert (Patient.objects.count(), ImportedResource.objects.count()) == counts == (1, 2)


def test_it_keys_a_posted_resource_on_its_identifier_or_content(fhir):
    condition = {
        "resourceType": "Condition",
        "subject": {"reference": "urn:uuid:11111111-1111-1111-1111-111111111111"},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F32.1"}]},
        "onsetDateTime": "2026-01-05",
    }
    patient = {**fhir_patient(), "id": None}
    patient.pop("id")
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:11111111-1111-1111-1111-111111111111",
                "resource": patient,
                "request": {"method": "POST", "url": "Patient"},
            },
            {"resource": condition, "request": {"method": "POST", "url": "Condition"}},
        ],
    }
    first = post_bundle(fhir, bundle).json()

    second = post_bundle(fhir, bundle).json()

    locations = [e["response"]["location"] for e in first["entry"]]
    assert [e["response"]["location"] for e in second["entry"]] == locations
    assert ImportedResource.objects.count() == 2
    stored = ImportedResource.objects.get(resource_type="Condition")
    assert stored.body["subject"]["reference"] == locations[0]


def test_a_put_for_an_unknown_id_creates_it_and_a_changed_one_updates_it(fhir):
    post_bundle(fhir, transaction(fhir_patient(), phq9_observation(value=12)))

    response = post_bundle(fhir, transaction(fhir_patient(), phq9_observation(value=14)))

    assert response.json()["entry"][1]["response"]["status"] == "200 OK"
    assert ImportedResource.objects.get(resource_type="Observation").body["valueInteger"] == 14
    assert fhir.get("/fhir/Observation/o1").json()["valueInteger"] == 14


def test_it_acknowledges_and_skips_types_it_does_not_keep(fhir):
    report = {
        "resourceType": "MeasureReport",
        "id": "m1",
        "status": "complete",
        "type": "individual",
        "measure": "http://example.org/Measure/x",
        "period": {"start": "2025-01-01"},
    }
    nested = {"resourceType": "Bundle", "id": "b1", "type": "collection"}

    response = post_bundle(fhir, transaction(fhir_patient(), report, nested))

    skipped = response.json()["entry"][1:]
    assert [e["response"]["status"] for e in skipped] == ["200 OK", "200 OK"]
    assert "skipped" in skipped[0]["response"]["outcome"]["issue"][0]["diagnostics"]
    assert ImportedResource.objects.count() == 1


def test_references_outside_the_bundle_stay_as_sent(fhir):
    encounter = {
        "resourceType": "Encounter",
        "id": "e1",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "type": [{"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"}]}],
        "subject": {"reference": "Patient/p1"},
        "serviceProvider": {"reference": "Organization/elsewhere"},
        "participant": [{"individual": {"reference": "https://ehr.example.org/Practitioner/9"}}],
        "period": {"start": "2026-03-01T10:00:00Z", "end": "2026-03-01T10:30:00Z"},
    }

    response = post_bundle(fhir, transaction(fhir_patient(), encounter))

    assert response.json()["entry"][1]["response"]["status"] == "201 Created"
    body = ImportedResource.objects.get(resource_type="Encounter").body
    assert body["serviceProvider"] == {"reference": "Organization/elsewhere"}
    assert (
        body["participant"][0]["individual"]["reference"]
        == "https://ehr.example.org/Practitioner/9"
    )


def test_a_transaction_with_one_bad_entry_stores_nothing(fhir):
    bad = phq9_observation("o2", on="2099-01-01")

    response = post_bundle(fhir, transaction(fhir_patient(), phq9_observation(), bad))

    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["Bundle.entry[2].resource.effectiveDateTime"]
    assert "2099-01-01 is in the future" in issue["diagnostics"]
    assert Patient.objects.count() == ImportedResource.objects.count() == 0


def test_a_batch_stores_the_valid_entries_and_answers_each(fhir):
    bad = phq9_observation("o2", patient="Patient/nobody")

    response = post_bundle(fhir, transaction(fhir_patient(), phq9_observation(), bad, kind="batch"))

    body = response.json()
    assert body["type"] == "batch-response"
    assert [e["response"]["status"] for e in body["entry"]] == [
        "201 Created",
        "201 Created",
        "422 Unprocessable Entity",
    ]
    issue = body["entry"][2]["response"]["outcome"]["issue"][0]
    assert issue["expression"] == ["Bundle.entry[2].resource.subject.reference"]
    assert ImportedResource.objects.count() == 2


@pytest.mark.parametrize(
    ("resource", "expression", "words"),
    [
        (
            {"resourceType": "Patientt", "id": "x"},
            "Bundle.entry[0].resource.resourceType",
            "not a FHIR R4 resource type",
        ),
        (fhir_patient(birthDate="1968-13-45"), "Bundle.entry[0].resource.birthDate", "birthDate"),
        (fhir_patient(unknownField=1), "Bundle.entry[0].resource.unknownField", "Extra inputs"),
        (fhir_patient(gender="woman"), "Bundle.entry[0].resource.gender", "not a FHIR R4 code"),
        (
            fhir_patient(birthDate="2099-01-01"),
            "Bundle.entry[0].resource.birthDate",
            "in the future",
        ),
        ({**fhir_patient(), "name": []}, "Bundle.entry[0].resource.name", "needs a name"),
    ],
)
def test_it_names_the_entry_and_field_of_a_bad_resource(fhir, resource, expression, words):
    response = post_bundle(fhir, transaction(resource))

    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["expression"] == [expression]
    assert words in issue["diagnostics"]
    assert Patient.objects.count() == 0


def test_an_unknown_code_system_is_refused(fhir):
    observation = phq9_observation(code={"coding": [{"system": "urn:made-up", "code": "1"}]})

    response = post_bundle(fhir, transaction(fhir_patient(), observation))

    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["Bundle.entry[1].resource.code.coding[0].system"]
    assert "unknown code system 'urn:made-up'" in issue["diagnostics"]


def test_a_phq9_total_of_40_is_kept_as_sent_but_never_scored(fhir, clinic, care_manager):
    patient = factories.patient(clinic.organization, mrn="MRN-1")
    factories.episode(clinic, care_manager, the_patient=patient, referred_on=date(2026, 9, 1))
    post_bundle(fhir, transaction(fhir_patient(mrn="MRN-1", id=str(patient.pk))))

    response = post_bundle(
        fhir, transaction(phq9_observation(patient=f"Patient/{patient.pk}", value=40))
    )

    answer = response.json()["entry"][0]["response"]
    assert answer["status"] == "201 Created"
    warning = answer["outcome"]["issue"][0]
    assert warning["severity"] == "warning"
    assert warning["expression"] == ["Bundle.entry[0].resource.valueInteger"]
    assert "a PHQ-9 total is a whole number from 0 to 27; 40 is not" in warning["diagnostics"]
    assert not Assessment.objects.exists()


def test_it_refuses_a_reference_to_another_organizations_patient(fhir):
    other = factories.organization("Other Health")
    factories.clinic(other)
    import_bundle(other, transaction(fhir_patient("theirs", mrn="T-1")), as_of=TODAY)

    response = post_bundle(fhir, transaction(phq9_observation(patient="Patient/theirs")))

    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["Bundle.entry[0].resource.subject.reference"]
    assert "not a patient of this organization" in issue["diagnostics"]
    assert ImportedResource.objects.filter(resource_type="Observation").count() == 0


def test_malformed_json_and_a_non_bundle_get_an_operation_outcome(fhir):
    broken = fhir.post("/fhir", "{not json", content_type="application/fhir+json")
    patient = post_bundle(fhir, fhir_patient())
    collection = post_bundle(fhir, {"resourceType": "Bundle", "type": "collection"})

    assert broken.status_code == 400
    assert broken.json()["resourceType"] == "OperationOutcome"
    assert patient.status_code == 422
    assert patient.json()["issue"][0]["expression"] == ["Bundle.resourceType"]
    assert collection.json()["issue"][0]["expression"] == ["Bundle.type"]


def test_a_50_mb_bundle_is_refused_with_an_operation_outcome(fhir):
    huge = json.dumps(
        transaction(fhir_patient(text={"status": "generated", "div": "x" * 50_000_000}))
    )

    response = fhir.post("/fhir", huge, content_type="application/fhir+json")

    assert response.status_code == 413
    assert response.json()["issue"][0]["code"] == "too-costly"
    assert Patient.objects.count() == 0


def test_without_a_token_or_the_role_it_answers_401_and_403(client, clinic):
    billing = factories.user(Role.BILLING, clinic)
    _, raw = ApiToken.issue(billing)

    anonymous = post_bundle(client, transaction(fhir_patient()))
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    forbidden = post_bundle(client, transaction(fhir_patient()))

    assert (anonymous.status_code, forbidden.status_code) == (401, 403)
    assert forbidden.json()["resourceType"] == "OperationOutcome"
    assert Patient.objects.count() == 0


def test_a_total_for_a_patient_in_an_episode_becomes_an_imported_assessment(
    fhir, clinic, care_manager
):
    patient = factories.patient(clinic.organization, mrn="MRN-1")
    factories.episode(clinic, care_manager, the_patient=patient, referred_on=date(2026, 9, 1))
    post_bundle(fhir, transaction(fhir_patient(str(patient.pk), mrn="MRN-1")))

    post_bundle(fhir, transaction(phq9_observation(patient=f"Patient/{patient.pk}", value=17)))

    assessment = Assessment.objects.get()
    assert (assessment.instrument, assessment.total, assessment.severity) == (
        "PHQ-9",
        17,
        "moderately_severe",
    )
    assert (assessment.taken_on, assessment.method) == (date(2026, 10, 1), Method.IMPORTED)
    assert assessment.episode.patient == patient


def test_a_death_discharges_the_open_episode(fhir, clinic, care_manager):
    patient = factories.patient(clinic.organization, mrn="MRN-1")
    episode = factories.episode(
        clinic, care_manager, the_patient=patient, referred_on=date(2026, 9, 1)
    )

    post_bundle(
        fhir, transaction(fhir_patient(str(patient.pk), mrn="MRN-1", deceasedDateTime="2026-11-01"))
    )

    patient.refresh_from_db()
    episode.refresh_from_db()
    assert (patient.deceased, patient.deceased_on) == (True, date(2026, 11, 1))
    assert (episode.status, episode.discharge_reason) == (EpisodeStatus.DISCHARGED, "deceased")


def test_an_imported_patient_without_an_episode_is_seen_only_in_their_clinic(fhir, clinic):
    other_clinic = factories.clinic(clinic.organization, name="Elsewhere")
    outsider = factories.user(Role.CARE_MANAGER, other_clinic)
    insider = factories.user(Role.PCP, clinic)

    post_bundle(fhir, transaction(fhir_patient()))

    patient = Patient.objects.get()
    assert list(visible_patients(insider, Patient.objects)) == [patient]
    assert list(visible_patients(outsider, Patient.objects)) == []


def test_the_home_clinic_comes_from_managing_organization_else_the_setting(clinic):
    second = factories.clinic(clinic.organization, name="North")
    InteropSettings.objects.create(organization=clinic.organization, import_clinic=second)
    managed = fhir_patient(
        "p2", mrn="M-2", managingOrganization={"reference": f"Organization/clinic-{clinic.pk}"}
    )

    import_bundle(clinic.organization, transaction(fhir_patient(), managed), as_of=TODAY)

    assert Patient.objects.get(mrn="MRN-1").home_clinic == second
    assert Patient.objects.get(mrn="M-2").home_clinic == clinic


def test_an_mrn_taken_by_another_patient_is_a_conflict(fhir, clinic):
    factories.patient(clinic.organization, mrn="MRN-1")

    response = post_bundle(fhir, transaction(fhir_patient("new-one", mrn="MRN-1")))

    assert response.status_code == 409
    assert response.json()["issue"][0]["expression"] == ["Bundle.entry[0].resource.identifier"]
    assert Patient.objects.count() == 1
    assert not Episode.objects.exists()


def test_the_same_resource_twice_in_one_bundle_is_stored_once(fhir):
    response = post_bundle(
        fhir, transaction(fhir_patient(), phq9_observation(), phq9_observation(value=9))
    )

    assert [e["response"]["status"] for e in response.json()["entry"]] == [
        "201 Created",
        "201 Created",
        "200 OK",
    ]
    assert ImportedResource.objects.get(resource_type="Observation").body["valueInteger"] == 9


def test_a_batch_entry_that_fails_after_storing_leaves_nothing_of_it(fhir, clinic):
    factories.patient(clinic.organization, mrn="TAKEN")
    clash = fhir_patient("p2", mrn="TAKEN")

    response = post_bundle(
        fhir,
        transaction(
            fhir_patient(), clash, phq9_observation("o2", patient="Patient/p2"), kind="batch"
        ),
    )

    statuses = [e["response"]["status"] for e in response.json()["entry"]]
    assert statuses == ["201 Created", "409 Conflict", "422 Unprocessable Entity"]
    assert set(ImportedResource.objects.values_list("resource_id", flat=True)) == {"p1"}
