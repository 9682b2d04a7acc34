"""The organization admin's toolkit pages: implementation readiness and survey results."""

from datetime import date

import pytest
from playwright.sync_api import expect

from cocm.accounts.models import Role
from cocm.toolkit import surveys
from tests import factories
from tests.browser.conftest import sign_in_with_new_authenticator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough pass phrase"
SCREENSHOTS = "var/screenshots"


def test_the_admin_starts_a_checklist_and_reads_survey_results(page, live_server):
    clinic = factories.clinic(name="Riverside Family Medicine")
    factories.user(Role.ORG_ADMIN, clinic, username="olga", password=PASSWORD)
    carla = factories.user(Role.CARE_MANAGER, clinic, username="carla")
    for number in range(5):
        pcp = factories.user(Role.PCP, clinic, username=f"pcp{number}")
        surveys.answer_in_product(
            "pcp-satisfaction", clinic, [4, 5, 4, 3, 5], user=pcp, as_of=date.today()
        )

    sign_in_with_new_authenticator(page, live_server, "olga", PASSWORD)
    page.get_by_role("link", name="Implementation", exact=True).click()
    expect(page.get_by_role("heading", name="Implementation readiness")).to_be_visible()
    page.get_by_role("link", name="Riverside Family Medicine").click()
    page.get_by_role("button", name="Start the checklist from the template").click()
    expect(page.get_by_text("Checklist started for Riverside Family Medicine.")).to_be_visible()
    first = page.locator("table.checklist tr", has_text="Name a clinical").first
    first.locator("select").first.select_option(label=str(carla))
    first.locator("select").nth(1).select_option("done")
    first.get_by_role("button", name="Save").click()
    expect(
        page.get_by_text("Saved: Name a clinical and an administrative champion.")
    ).to_be_visible()
    expect(
        page.get_by_role("heading", name="1. Lay the foundation — 33% ready (1 of 3)")
    ).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/implementation-checklist.png", full_page=True)

    page.get_by_role("link", name="Surveys", exact=True).first.click()
    page.get_by_label("Survey").select_option("pcp-satisfaction")
    page.get_by_role("button", name="Show").click()
    row = page.get_by_role("row", name="Riverside Family Medicine")
    expect(row).to_contain_text("100%")
    expect(row).to_contain_text("4.00")
    page.screenshot(path=f"{SCREENSHOTS}/survey-results.png", full_page=True)
