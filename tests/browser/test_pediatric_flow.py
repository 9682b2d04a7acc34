"""A care manager enrolls a 14-year-old with a guardian, sends the guardian a link, and sees
the guardian's answers, with the respondent, on the chart (issue 17)."""

import re
from datetime import date, timedelta

import pytest
from django.core import mail
from playwright.sync_api import expect

from cocm.accounts.models import Role
from cocm.measures.models import Assessment
from cocm.registry.models import Episode
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough pass phrase"
SCREENSHOTS = "var/screenshots"


def test_enroll_a_teen_with_a_guardian_who_answers_a_link(browser, page, live_server):
    today = date.today()  # browser tests keep the real clock
    clinic = factories.clinic(name="Riverside Pediatrics")
    care_manager = factories.user(Role.CARE_MANAGER, clinic, username="carla", password=PASSWORD)
    teen = factories.patient(
        clinic.organization,
        given_name="Leo",
        family_name="Lopez",
        birth_date=today.replace(year=today.year - 14) - timedelta(days=40),
    )
    episode = factories.episode(clinic, care_manager, the_patient=teen)

    sign_in(page, live_server, "carla", PASSWORD)
    page.goto(f"{live_server.url}/patients/{teen.id}/")
    expect(page.get_by_text("No parent or guardian recorded")).to_be_visible()
    page.get_by_role("link", name="Add parent or guardian").click()
    page.get_by_label("Name:", exact=True).fill("Maria Lopez")
    page.get_by_label("Relationship").select_option("mother")
    page.get_by_label("Email").fill("maria@example.org")
    page.get_by_label("Has legal authority to consent").check()
    page.get_by_label("May receive questionnaire links").check()
    page.get_by_label("May see results").check()
    page.get_by_role("button", name="Save guardian").click()
    expect(page.get_by_text("Guardian added: Maria Lopez (mother).")).to_be_visible()

    page.get_by_role("link", name="Enroll").click()
    expect(page.get_by_text("Introducing collaborative care")).to_be_visible()
    page.get_by_label("Consent date").fill(today.isoformat())
    page.get_by_label("How consent was given").select_option("verbal")
    page.get_by_label("cost sharing").check()
    page.get_by_label("psychiatric consultation").check()
    page.get_by_label("Consent given by (parent or guardian)").select_option(
        label="Maria Lopez (mother)"
    )
    page.get_by_label("The patient gave their assent").check()
    page.get_by_label("Enrollment date").fill(today.isoformat())
    page.screenshot(path=f"{SCREENSHOTS}/enroll-minor.png", full_page=True)
    page.get_by_role("button", name="Enroll").click()
    expect(page.get_by_text("Patient enrolled.")).to_be_visible()
    expect(
        page.get_by_text("given by Maria Lopez (mother), with the patient's assent")
    ).to_be_visible()

    send = page.locator("form", has_text="Send a self-report link")
    send.get_by_label("PHQ-9", exact=True).uncheck()
    send.get_by_label("PHQ-A", exact=True).check()
    send.get_by_label("Maria Lopez (mother)").check()
    send.get_by_label("Email").check()
    send.get_by_role("button", name="Send link").click()
    expect(page.get_by_text("Sent PHQ-A to Maria Lopez (mother) by email.")).to_be_visible()

    (message,) = mail.outbox
    assert message.to == ["maria@example.org"]
    link = re.search(r"https?://\S+/r/\S+/", message.body).group(0)
    guardian_page = browser.new_context().new_page()
    guardian_page.goto(live_server.url + link[link.index("/r/") :])
    expect(guardian_page.get_by_text("Hello Maria,")).to_be_visible()
    for number in range(9):
        guardian_page.locator("fieldset.question").nth(number).get_by_label(
            "Not at all" if number == 8 else "Several days"
        ).check()
    guardian_page.get_by_role("button", name="Send my answers").click()
    guardian_page.context.close()

    page.reload()
    row = page.get_by_role("row", name=re.compile("PHQ-A"))
    expect(row).to_contain_text("8")
    expect(row).to_contain_text("guardian: Maria Lopez (mother)")
    page.screenshot(path=f"{SCREENSHOTS}/chart-minor.png", full_page=True)
    assessment = Assessment.objects.get(episode=episode)
    assert (assessment.respondent, assessment.respondent_guardian.name) == (
        "guardian",
        "Maria Lopez",
    )
    assert Episode.objects.get(id=episode.id).consent_patient_assent is True
