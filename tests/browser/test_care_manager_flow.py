from datetime import date

import pytest
from playwright.sync_api import expect

from cocm.accounts.models import Role
from cocm.registry.models import Episode
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough pass phrase"


def test_care_manager_signs_in_sees_caseload_and_enrolls_a_referred_patient(page, live_server):
    clinic = factories.clinic(name="Riverside Family Medicine")
    care_manager = factories.user(Role.CARE_MANAGER, clinic, username="carla", password=PASSWORD)
    consultant = factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic, username="paul")
    enrolled = factories.episode(
        clinic,
        care_manager,
        consent_on=date(2026, 9, 2),
        the_patient=factories.patient(given_name="Maria", family_name="Lopez"),
    )
    referred = factories.episode(
        clinic,
        care_manager,
        diagnoses=(),
        the_patient=factories.patient(given_name="James", family_name="Wright"),
    )

    sign_in(page, live_server, "carla", PASSWORD)

    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    # The product's own stylesheet is served and applied (no CDN).
    expect(page.locator("header.topbar")).to_have_css("background-color", "rgb(11, 93, 122)")
    expect(page.get_by_role("link", name="Lopez, Maria")).to_be_visible()
    expect(page.get_by_role("row", name="Wright, James")).to_contain_text("Referred")
    page.get_by_role("link", name="Wright, James").click()
    expect(page.get_by_role("heading", name="Wright, James")).to_be_visible()
    page.get_by_role("link", name="Enroll").click()
    page.get_by_label("Consent date").fill("2026-11-20")
    page.get_by_label("How consent was given").select_option("verbal")
    page.get_by_label("cost sharing").check()
    page.get_by_label("psychiatric consultation").check()
    page.get_by_label("Enrollment date").fill("2026-11-20")
    page.get_by_label("Add diagnoses (ICD-10-CM)").fill("F33.1")
    page.get_by_label("Psychiatric consultant").select_option(str(consultant.id))
    page.get_by_role("button", name="Enroll").click()

    expect(page.get_by_text("Patient enrolled.")).to_be_visible()
    expect(page.locator(".status").first).to_have_text("Enrolled")
    referred.refresh_from_db()
    assert referred.status == "enrolled"
    assert referred.consent_on == date(2026, 11, 20)
    assert referred.psychiatric_consultant_id == consultant.id
    assert enrolled.status == Episode.objects.get(id=enrolled.id).status == "enrolled"


def test_enrolling_without_a_diagnosis_shows_the_reason(page, live_server):
    clinic = factories.clinic()
    care_manager = factories.user(Role.CARE_MANAGER, clinic, username="carla", password=PASSWORD)
    referred = factories.episode(clinic, care_manager, diagnoses=())

    sign_in(page, live_server, "carla", PASSWORD)
    page.goto(f"{live_server.url}/episodes/{referred.id}/enroll/")
    page.get_by_label("How consent was given").select_option("written")
    page.get_by_label("cost sharing").check()
    page.get_by_label("psychiatric consultation").check()
    page.get_by_role("button", name="Enroll").click()

    expect(page.get_by_text("cannot be enrolled without a provisional diagnosis")).to_be_visible()
    referred.refresh_from_db()
    assert referred.status == "referred"
