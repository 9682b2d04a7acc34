from datetime import date

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from cocm.accounts.models import Role
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough pass phrase"


def test_pages_run_under_the_content_security_policy_without_violations(page, live_server):
    clinic = factories.clinic()
    care_manager = factories.user(Role.CARE_MANAGER, clinic, username="carla", password=PASSWORD)
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 2))
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )

    sign_in(page, live_server, "carla", PASSWORD)
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    page.goto(f"{live_server.url}/patients/{episode.patient_id}/")
    expect(page.locator("#notification-badge")).to_be_attached()
    page.wait_for_load_state("networkidle")

    assert violations == []


def test_a_care_manager_enrolls_an_authenticator_and_signs_in_with_a_code(page, live_server):
    clinic = factories.clinic()
    clinic.organization.two_factor_roles = [Role.CARE_MANAGER]
    clinic.organization.save()
    carla = factories.user(Role.CARE_MANAGER, clinic, username="carla", password=PASSWORD)

    sign_in(page, live_server, "carla", PASSWORD)
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    device = TOTPDevice.objects.get(user=carla)
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    page.get_by_label("Six-digit code from your authenticator app").fill(f"{code:06d}")
    page.get_by_role("button", name="Verify").click()

    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
