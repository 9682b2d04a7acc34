from io import StringIO

import pytest
from django.core.management import call_command

from cocm.accounts.models import ApiToken, Role, TokenScope
from tests import factories

pytestmark = pytest.mark.django_db

PATIENT = {
    "mrn": "T-1",
    "given_name": "Ana",
    "family_name": "Lopez",
    "birth_date": "1968-02-29",
    "sex": "female",
}


@pytest.fixture
def care_manager():
    return factories.user(Role.CARE_MANAGER, username="cm")


def test_a_read_only_token_reads(client, care_manager):
    _, raw = ApiToken.issue(care_manager, scope=TokenScope.READ)

    response = client.get("/api/v1/clinics", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 200


def test_a_read_only_token_cannot_write(client, care_manager):
    _, raw = ApiToken.issue(care_manager, scope=TokenScope.READ)

    response = client.post(
        "/api/v1/patients",
        PATIENT,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "This token is read-only."}


def test_token_create_issues_a_scoped_token(care_manager):
    call_command("token", "create", "cm", "--scope", "read", stdout=StringIO())

    assert ApiToken.objects.get(user=care_manager).scope == TokenScope.READ


def test_a_token_of_a_deactivated_user_stops_working(client, care_manager):
    _, raw = ApiToken.issue(care_manager)
    care_manager.is_active = False
    care_manager.save()

    response = client.get("/api/v1/clinics", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 401


def test_an_issued_token_never_starts_with_a_dash_that_the_cli_would_read_as_an_option(
    care_manager, monkeypatch
):
    drawn = iter(
        ["-starts-with-a-dash-xxxxxxxxxxxxxxxxxxxxxxxx", "Abc-def-ghi-xxxxxxxxxxxxxxxxxxxxxxxxx"]
    )
    monkeypatch.setattr("cocm.accounts.models.secrets.token_urlsafe", lambda _: next(drawn))

    token, raw = ApiToken.issue(care_manager)

    assert raw == "Abc-def-ghi-xxxxxxxxxxxxxxxxxxxxxxxxx"
    assert token.prefix == "Abc-def-"
