from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import expect

from cocm.accounts.models import Role
from cocm.measures import services
from cocm.measures.models import Invitation
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough pass phrase"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_patient_answers_on_a_phone_and_the_chart_shows_the_alert(browser, page, live_server):
    clinic = factories.clinic(name="Riverside Family Medicine")
    clinic.phone = "555-0142"
    clinic.save()
    care_manager = factories.user(Role.CARE_MANAGER, clinic, username="carla", password=PASSWORD)
    patient = factories.patient(
        clinic.organization, given_name="Rosa", family_name="Diaz", email="rosa@example.org"
    )
    episode = factories.episode(
        clinic, care_manager, the_patient=patient, consent_on=date(2026, 9, 1)
    )
    invitation = services.send_invitation(
        episode, ["PHQ-9"], channel="email", by=care_manager, now=datetime.now(UTC)
    )
    token, digest = Invitation.new_token()
    invitation.token_digest = digest
    invitation.save()

    phone = browser.new_context(**PHONE)
    patient_page = phone.new_page()
    patient_page.goto(f"{live_server.url}/r/{token}/")
    expect(patient_page.get_by_text("Hello Rosa,")).to_be_visible()
    assert "Diaz" not in patient_page.content()
    for number in range(1, 10):
        question = patient_page.locator("fieldset.question").nth(number - 1)
        answer = "Several days" if number == 9 else "More than half the days"
        question.get_by_label(answer).check()
    patient_page.get_by_role("button", name="Send my answers").click()
    expect(patient_page.get_by_role("alert")).to_contain_text("988")
    expect(patient_page.get_by_role("alert")).to_contain_text("555-0142")
    phone.close()

    sign_in(page, live_server, "carla", PASSWORD)
    expect(page.locator("#notification-badge")).to_contain_text("Safety alert")
    expect(page.get_by_role("row", name="Diaz, Rosa")).to_contain_text("safety alert")
    # The banner names the patient too (issue 12): open her chart from her caseload row.
    page.get_by_role("row", name="Diaz, Rosa").get_by_role("link", name="Diaz, Rosa").click()
    expect(page.get_by_role("heading", name="Open safety alert")).to_be_visible()
    expect(page.get_by_role("cell", name="17", exact=True)).to_be_visible()
    expect(page.get_by_text("item 9 positive")).to_be_visible()
    page.get_by_label("What was done").select_option("risk_assessment")
    page.get_by_label("Note").fill("Called; low risk; safety plan reviewed")
    page.get_by_role("button", name="Document follow-up").click()
    expect(page.get_by_text("Safety follow-up documented.")).to_be_visible()
    expect(page.get_by_role("heading", name="Open safety alert")).to_have_count(0)
