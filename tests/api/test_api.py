from datetime import date

import pytest

from cocm.accounts.models import ApiToken, AuditEvent, ClinicSetting, Role
from cocm.registry.models import Episode, Patient
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.clinic(setting=ClinicSetting.FQHC)]


@pytest.fixture
def care_manager(clinic):
    return factories.user(Role.CARE_MANAGER, clinic, username="cm")


@pytest.fixture
def api(client, care_manager):
    _, raw = ApiToken.issue(care_manager)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def post(client, path, body):
    return client.post(f"/api/v1{path}", body, content_type="application/json")


PATIENT = {
    "mrn": "A-1",
    "given_name": "Ana",
    "family_name": "Lopez",
    "birth_date": "1968-02-29",
    "sex": "female",
}


def test_it_refuses_requests_without_a_token(client):
    response = client.get("/api/v1/clinics")

    assert response.status_code == 401


def test_it_refuses_a_revoked_token(client, care_manager):
    token, raw = ApiToken.issue(care_manager)
    token.revoked_at = token.created_at
    token.save()

    response = client.get("/api/v1/clinics", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 401


def test_tokens_are_stored_hashed(care_manager):
    token, raw = ApiToken.issue(care_manager)

    assert raw not in token.digest
    assert len(token.digest) == 64


def test_clinics_carry_their_setting(api, clinic):
    response = api.get("/api/v1/clinics")

    assert response.json() == [{"id": clinic.id, "name": clinic.name, "setting": "fqhc"}]


def test_create_and_read_a_patient(api):
    response = post(api, "/patients", {**PATIENT, "preferred_language": "es"})

    assert response.status_code == 201
    body = response.json()
    assert body["mrn"] == "A-1"
    assert body["preferred_language"] == "es"
    fetched = api.get(f"/api/v1/patients/{body['id']}").json()
    assert fetched["birth_date"] == "1968-02-29"
    assert AuditEvent.objects.filter(patient_id=body["id"], channel="api").count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sex": "dragon"}, "sex"),
        ({"birth_date": "1968-02-30"}, "birth_date"),
        ({"mrn": ""}, "mrn"),
        ({"mrn": "A 1<script>"}, "mrn"),
        ({"email": "not-an-email"}, "email"),
        ({"birth_date": "2099-01-01"}, "birth_date"),
        ({"given_name": None}, "given_name"),
    ],
)
def test_bad_patient_fields_get_422_naming_the_field(api, change, field):
    response = post(api, "/patients", {**PATIENT, **change})

    assert response.status_code == 422
    assert field in [str(part) for error in response.json()["detail"] for part in error["loc"]]
    assert not Patient.objects.exists()


def test_duplicate_mrn_is_a_422(api):
    post(api, "/patients", PATIENT)

    response = post(api, "/patients", PATIENT)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "mrn"]


def test_unknown_patient_is_404(api):
    assert api.get("/api/v1/patients/999999").status_code == 404


def test_create_an_enrolled_episode(api, clinic, care_manager):
    consultant = factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic, username="psych")
    pcp = factories.user(Role.PCP, clinic, username="doc")
    patient_id = post(api, "/patients", PATIENT).json()["id"]

    response = post(
        api,
        "/episodes",
        {
            "patient_id": patient_id,
            "clinic_id": clinic.id,
            "referred_on": "2026-10-01",
            "referring_pcp": "doc",
            "care_manager": "cm",
            "psychiatric_consultant": "psych",
            "diagnoses": ["f32.1", "F41.1"],
            "consent": {"obtained_on": "2026-10-02", "method": "verbal"},
            "initiating_visit_on": "2026-09-15",
            "billing_program": "cocm",
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "enrolled"
    assert body["enrolled_on"] == "2026-10-02"
    assert [d["code"] for d in body["diagnoses"]] == ["F32.1", "F41.1"]
    assert body["psychiatric_consultant"] == consultant.username
    assert body["referring_pcp"] == pcp.username
    assert [h["to_status"] for h in body["status_history"]] == ["referred", "enrolled"]


def test_episode_without_consent_is_referred(api, clinic):
    patient_id = post(api, "/patients", PATIENT).json()["id"]

    response = post(
        api,
        "/episodes",
        {
            "patient_id": patient_id,
            "clinic_id": clinic.id,
            "referred_on": "2026-10-01",
            "diagnoses": ["F32.1"],
        },
    )

    assert response.json()["status"] == "referred"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"diagnoses": ["depression"]}, "diagnoses"),
        ({"care_manager": "nobody"}, "care_manager"),
        ({"psychiatric_consultant": "cm"}, "psychiatric_consultant"),
        ({"clinic_id": 999999}, "clinic_id"),
        ({"referred_on": "2099-01-01"}, "referred_on"),
        ({"consent": {"obtained_on": "2026-10-02", "method": "telepathy"}}, "method"),
    ],
)
def test_bad_episode_fields_get_422_naming_the_field(api, clinic, change, field):
    patient_id = post(api, "/patients", PATIENT).json()["id"]
    body = {
        "patient_id": patient_id,
        "clinic_id": clinic.id,
        "referred_on": "2026-10-01",
        "diagnoses": ["F32.1"],
        **change,
    }

    response = post(api, "/episodes", body)

    assert response.status_code == 422
    assert field in [str(part) for error in response.json()["detail"] for part in error["loc"]]
    assert not Episode.objects.exists()


def test_status_changes_through_the_api(api, clinic, care_manager):
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))

    active = post(api, f"/episodes/{episode.id}/status", {"status": "active", "on": "2026-09-10"})
    missing_reason = post(
        api, f"/episodes/{episode.id}/status", {"status": "discharged", "on": "2026-11-01"}
    )
    discharged = post(
        api,
        f"/episodes/{episode.id}/status",
        {"status": "discharged", "on": "2026-11-01", "reason": "goals_met"},
    )

    assert active.json()["status"] == "active"
    assert missing_reason.status_code == 422
    assert missing_reason.json()["detail"][0]["loc"] == ["body", "reason"]
    assert discharged.json()["discharge_reason"] == "goals_met"
    assert discharged.json()["discharged_on"] == "2026-11-01"


def test_enrolling_without_consent_is_a_422(api, clinic, care_manager):
    episode = factories.episode(clinic, care_manager)

    response = post(
        api, f"/episodes/{episode.id}/status", {"status": "enrolled", "on": "2026-09-10"}
    )

    assert response.status_code == 422
    assert "consent" in response.json()["detail"][0]["msg"]


def test_add_a_diagnosis(api, clinic, care_manager):
    episode = factories.episode(clinic, care_manager)

    response = post(
        api, f"/episodes/{episode.id}/diagnoses", {"code": "F41.1", "onset_on": "2026-01-01"}
    )
    bad = post(api, f"/episodes/{episode.id}/diagnoses", {"code": "XYZ.123"})

    assert response.status_code == 201
    assert [d["code"] for d in response.json()["diagnoses"]] == ["F32.1", "F41.1"]
    assert bad.status_code == 422


def test_episode_of_another_clinic_is_404(api, clinic):
    elsewhere = factories.clinic(clinic.organization)
    theirs = factories.episode(elsewhere, factories.user(Role.CARE_MANAGER, elsewhere))

    assert api.get(f"/api/v1/episodes/{theirs.id}").status_code == 404


def test_billing_role_cannot_create_patients(client, clinic):
    _, raw = ApiToken.issue(factories.user(Role.BILLING, clinic))

    response = client.post(
        "/api/v1/patients",
        PATIENT,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )

    assert response.status_code == 403


def test_malformed_json_is_a_client_error(api):
    response = api.post("/api/v1/patients", "{not json", content_type="application/json")

    assert response.status_code in (400, 422)


def test_openapi_schema_is_served(client):
    schema = client.get("/api/v1/openapi.json").json()

    assert "/api/v1/episodes/{episode_id}/status" in schema["paths"]
