"""Issue 12 item 18: dates outside sensible bounds are refused with the field named, by the
services, so the pages, the API and imports refuse alike."""

from datetime import date

import pytest
from django.urls import reverse

from cocm.accounts.models import ApiToken
from cocm.registry import services
from cocm.registry.models import Coverage, Episode, Patient
from tests import factories

pytestmark = pytest.mark.django_db

PATIENT = {
    "mrn": "D-1",
    "given_name": "Dana",
    "family_name": "Cole",
    "sex": "female",
    "preferred_language": "en",
}


@pytest.mark.parametrize("birth_date", [date(1800, 1, 1), date(2099, 1, 1)])
def test_the_service_refuses_a_birth_date_out_of_bounds(clinic, birth_date):
    with pytest.raises(services.InvalidRequest) as refused:
        services.register_patient(clinic.organization, **PATIENT, birth_date=birth_date)

    assert refused.value.field == "birth_date"
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("birth_date", "says"),
    [("1800-01-01", "older than 125 years"), ("2099-01-01", "is in the future")],
)
def test_the_registration_page_refuses_a_birth_date_out_of_bounds(
    client, care_manager, birth_date, says
):
    client.force_login(care_manager)

    response = client.post(reverse("register_patient"), {**PATIENT, "birth_date": birth_date})

    assert response.status_code == 200
    assert says in " ".join(response.context["form"].errors["birth_date"])
    assert says in response.content.decode()
    assert not Patient.objects.exists()


def test_the_edit_page_refuses_a_birth_date_out_of_bounds(client, clinic, care_manager):
    patient = factories.patient(clinic.organization)
    client.force_login(care_manager)

    response = client.post(
        reverse("edit_patient", args=[patient.id]),
        {**PATIENT, "mrn": patient.mrn, "birth_date": "1800-01-01", "version": patient.version},
    )

    patient.refresh_from_db()
    assert response.status_code == 200
    assert "older than 125 years" in " ".join(response.context["form"].errors["birth_date"])
    assert patient.birth_date == date(1980, 5, 17)


def test_the_api_refuses_a_birth_date_in_1800_naming_the_field(client, care_manager):
    _, raw = ApiToken.issue(care_manager)

    response = client.post(
        "/api/v1/patients",
        {**PATIENT, "birth_date": "1800-01-01"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "birth_date"]
    assert "older than 125 years" in response.json()["detail"][0]["msg"]


def test_the_referral_page_refuses_a_referral_in_1800(client, clinic, care_manager):
    patient = factories.patient(clinic.organization)
    client.force_login(care_manager)

    response = client.post(
        reverse("refer_patient", args=[patient.id]),
        {
            "clinic": clinic.id,
            "referred_on": "1800-01-01",
            "diagnoses": "",
            "care_manager": care_manager.id,
            "billing_program": "cocm",
        },
    )

    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["referred_on"])
    assert "referral date 1800-01-01 is" in errors
    assert not Episode.objects.exists()


def test_the_api_refuses_a_referral_before_the_patients_birth(client, clinic, care_manager):
    patient = factories.patient(clinic.organization, birth_date=date(2015, 3, 1))
    _, raw = ApiToken.issue(care_manager)

    response = client.post(
        "/api/v1/episodes",
        {"patient_id": patient.id, "clinic_id": clinic.id, "referred_on": "2010-01-01"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "referred_on"]
    assert not Episode.objects.exists()


def test_the_api_refuses_a_coverage_starting_in_1800(client, clinic, care_manager):
    patient = factories.patient(clinic.organization)
    _, raw = ApiToken.issue(care_manager)

    response = client.post(
        f"/api/v1/patients/{patient.id}/coverages",
        {"payer_kind": "medicare", "starts_on": "1800-01-01"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "starts_on"]
    assert not Coverage.objects.exists()


def test_the_bounds_follow_the_deployment_setting(clinic, settings):
    settings.COCM_OLDEST_AGE_YEARS = 100

    with pytest.raises(services.InvalidRequest, match="older than 100 years"):
        services.register_patient(clinic.organization, **PATIENT, birth_date=date(1920, 1, 1))
