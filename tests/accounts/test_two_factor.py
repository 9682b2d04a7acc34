import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from cocm.accounts.models import AuditEvent, Role
from tests import factories

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def clinic(clinic):
    """The shared clinic, in an organization that asks care managers for a second factor."""
    clinic.organization.two_factor_roles = [Role.CARE_MANAGER]
    clinic.organization.save()
    return clinic


@pytest.fixture
def carla(clinic):
    return factories.user(Role.CARE_MANAGER, clinic, username="carla", password=PASSWORD)


def sign_in(client, username="carla"):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def test_a_chosen_role_is_asked_to_enroll_an_authenticator_after_the_password(client, carla):
    response = sign_in(client)
    page = client.get(response.url, follow=True)

    assert page.redirect_chain[-1][0].startswith(reverse("two_factor"))
    html = page.content.decode()
    assert "Set up two-factor sign-in" in html
    assert "<svg" in html  # the QR code, drawn on the server
    assert "otpauth://totp/CoCM%20Registry%3Acarla?secret=" in html


def test_no_page_is_reachable_before_the_code(client, carla):
    sign_in(client)

    responses = [client.get(reverse(name)) for name in ("caseload", "patient_search", "home")]

    for response in responses:
        assert response.status_code == 302
        assert response.url.startswith(reverse("two_factor"))


def test_a_wrong_code_is_refused(client, carla):
    sign_in(client)
    client.get(reverse("two_factor"))

    response = client.post(reverse("two_factor"), {"code": "000000", "next": "/caseload/"})

    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert client.get(reverse("caseload")).status_code == 302


def test_the_current_code_confirms_the_authenticator_and_opens_the_product(client, carla):
    sign_in(client)
    client.get(reverse("two_factor"))
    device = TOTPDevice.objects.get(user=carla)

    response = client.post(
        reverse("two_factor"), {"code": current_code(device), "next": "/caseload/"}
    )

    assert response.status_code == 302
    assert response.url == "/caseload/"
    assert client.get(reverse("caseload")).status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(user=carla, what="two-factor enrolled").exists()


def test_the_next_sign_in_asks_for_a_code_without_showing_the_secret_again(client, carla):
    device = TOTPDevice.objects.create(user=carla, name="authenticator", confirmed=True)
    sign_in(client)

    page = client.get(reverse("two_factor"))
    response = client.post(reverse("two_factor"), {"code": current_code(device), "next": "/"})

    assert "Enter your one-time code" in page.content.decode()
    assert "otpauth://" not in page.content.decode()
    assert response.status_code == 302
    assert client.get(reverse("caseload")).status_code == 200


def test_roles_the_organization_did_not_choose_sign_in_with_the_password_alone(client, clinic):
    factories.user(Role.PCP, clinic, username="priya", password=PASSWORD)

    sign_in(client, username="priya")

    assert client.get(reverse("pcp_patients")).status_code == 200


def test_the_organization_admin_chooses_the_roles(client, clinic):
    admin = factories.user(Role.ORG_ADMIN, clinic)
    clinic.organization.two_factor_roles = []
    clinic.organization.save()
    client.force_login(admin)

    response = client.post(
        reverse("organization_security"), {"two_factor_roles": ["pcp", "billing"]}
    )

    assert response.status_code == 302
    clinic.organization.refresh_from_db()
    assert clinic.organization.two_factor_roles == ["pcp", "billing"]
    assert AuditEvent.objects.filter(action="settings", user=admin).exists()


def test_only_the_organization_admin_changes_two_factor_settings(client, clinic):
    client.force_login(factories.user(Role.PCP, clinic))

    response = client.post(reverse("organization_security"), {"two_factor_roles": []})

    assert response.status_code == 403
    clinic.organization.refresh_from_db()
    assert clinic.organization.two_factor_roles == [Role.CARE_MANAGER]
