"""The page and the API register a patient through the same service, so they refuse the
same input with the same field-named message."""

import pytest
from django.urls import reverse

from cocm.accounts.models import ApiToken, Role
from cocm.registry.models import Patient
from tests import factories

pytestmark = pytest.mark.django_db

FUTURE = "2030-01-01"


@pytest.fixture
def care_manager():
    return factories.user(Role.CARE_MANAGER, factories.clinic())


def page_refusal(client, care_manager) -> tuple[str, str]:
    client.force_login(care_manager)
    response = client.post(
        reverse("register_patient"),
        {
            "mrn": "P-1",
            "given_name": "Dana",
            "family_name": "Cole",
            "birth_date": FUTURE,
            "sex": "female",
            "preferred_language": "en",
        },
    )
    assert response.status_code == 200
    ((field, (message,)),) = response.context["form"].errors.items()
    return field, message


def api_refusal(client, care_manager) -> tuple[str, str]:
    _, raw = ApiToken.issue(care_manager)
    response = client.post(
        "/api/v1/patients",
        {
            "mrn": "A-1",
            "given_name": "Ana",
            "family_name": "Lopez",
            "birth_date": FUTURE,
            "sex": "female",
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    return error["loc"][-1], error["msg"]


def test_a_future_birth_date_is_refused_alike_by_the_page_and_the_api(client, care_manager):
    page = page_refusal(client, care_manager)
    api = api_refusal(client, care_manager)

    assert page[0] == api[0] == "birth_date"
    assert page[1] == api[1]
    assert "future" in page[1]
    assert not Patient.objects.exists()
