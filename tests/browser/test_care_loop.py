from datetime import date

import pytest
from playwright.sync_api import expect

from cocm.accounts.models import Role, User
from cocm.care.models import Contact, Recommendation
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough pass phrase"


def test_contact_review_recommendation_and_pcp_answer(browser, live_server):
    clinic = factories.clinic(name="Riverside Family Medicine")
    care_manager = factories.user(Role.CARE_MANAGER, clinic, username="carla", password=PASSWORD)
    factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic, username="paul", password=PASSWORD)
    pcp = factories.user(Role.PCP, clinic, username="priya", password=PASSWORD)
    consultant = User.objects.get(username="paul")
    patient = factories.patient(clinic.organization, given_name="Maria", family_name="Lopez")
    episode = factories.episode(
        clinic,
        care_manager,
        the_patient=patient,
        consent_on=date(2026, 9, 1),
        psychiatric_consultant=consultant,
    )
    episode.referring_pcp = pcp
    episode.save()

    def page_for(username):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in(page, live_server, username, PASSWORD)
        return context, page

    context, page = page_for("carla")
    page.get_by_role("link", name="Lopez, Maria").click()
    page.get_by_role("link", name="Log contact").click()
    page.get_by_role("button", name="Start timer").click()
    page.wait_for_timeout(1200)
    page.get_by_role("button", name="Stop timer").click()
    expect(page.get_by_label("Minutes")).to_have_value("1")
    page.get_by_label("Minutes").fill("25")
    page.get_by_label("Activity").select_option("behavioral_activation")
    page.get_by_role("button", name="Save contact").click()
    expect(page.get_by_text("Contact logged: 25 minutes.")).to_be_visible()
    page.get_by_label("What should the consultant discuss?").fill("Sleep worse, PHQ-9 flat")
    page.get_by_role("button", name="Add to review agenda").click()
    expect(page.get_by_text("Added to the psychiatric consultant's review agenda.")).to_be_visible()
    context.close()
    contact = Contact.objects.get()
    assert contact.started_at is not None
    assert contact.minutes == 25

    context, page = page_for("paul")
    page.get_by_role("link", name="Caseload review").click()
    expect(page.get_by_role("row", name="Lopez, Maria")).to_contain_text("Sleep worse")
    page.get_by_role("row", name="Lopez, Maria").get_by_role("link", name="Review").click()
    page.get_by_label("Summary").fill("Partial response at week 12; start an SSRI.")
    page.locator("select[name=rec-0-kind]").select_option("start_medication")
    page.locator("input[name=rec-0-medication]").fill("sertraline")
    page.locator("input[name=rec-0-dose]").fill("50 mg daily")
    page.get_by_role("button", name="Save review").click()
    saved = "Review of Lopez, Maria recorded with 1 recommendation."
    expect(page.get_by_text(saved)).to_be_visible()
    context.close()

    context, page = page_for("priya")
    page.get_by_role("link", name="Recommendations", exact=True).click()
    card = page.locator("section.waiting-review", has_text="Lopez, Maria")
    expect(card).to_contain_text("Start a medication: sertraline 50 mg daily")
    card.get_by_role("link", name="Answer it on one screen").click()
    page.get_by_label("Accepted", exact=True).check()
    page.get_by_role("button", name="Send answers").click()
    expect(page.get_by_text("1 answer sent for Lopez, Maria.")).to_be_visible()
    context.close()

    context, page = page_for("carla")
    page.get_by_role("link", name="Tasks").click()
    expect(page.get_by_text("Start a medication: sertraline 50 mg daily")).to_be_visible()
    expect(page.get_by_text("Accepted", exact=True)).to_be_visible()
    context.close()
    assert Recommendation.objects.get().status == "accepted"
