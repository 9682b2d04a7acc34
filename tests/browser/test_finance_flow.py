import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from cocm.accounts.models import Role
from tests import factories
from tests.browser.conftest import sign_in_with_new_authenticator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough pass phrase"
# COCM_SCREENSHOTS=docs/screenshots refreshes the documentation's pictures; by default the
# screenshots go to the test's temporary directory, so a test run leaves the tree clean.
SCREENSHOTS_DIR = os.environ.get("COCM_SCREENSHOTS")


def test_a_practice_administrator_edits_an_input_and_sees_the_outputs_and_chart_change(
    page, live_server, tmp_path
):
    screenshots = Path(SCREENSHOTS_DIR) if SCREENSHOTS_DIR else tmp_path
    clinic = factories.clinic()
    factories.user(Role.ORG_ADMIN, clinic, username="olga", password=PASSWORD)
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )

    sign_in_with_new_authenticator(page, live_server, "olga", PASSWORD)
    page.get_by_role("link", name="Financial model").click()
    expect(page.get_by_role("heading", name="Financial model", exact=True)).to_be_visible()
    margin = page.locator('[data-output="margin_per_year"]')
    chart = page.locator("#projection-chart desc")
    before_margin, before_chart = margin.inner_text(), chart.text_content()
    expect(page.locator(".figure-caseload_capacity .value")).to_have_text("80 patients")
    page.screenshot(path=str(screenshots / "finance.png"), full_page=False)

    page.get_by_role("textbox", name="Caseload per 1.0 FTE care manager").fill("110")
    page.get_by_role("button", name="Recalculate").first.click()

    expect(page.locator(".figure-caseload_capacity .value")).to_have_text("110 patients")
    expect(margin).not_to_have_text(before_margin)
    assert chart.text_content() != before_chart
    expect(page.locator(".figure-caseload_capacity .how")).to_contain_text(
        "the smaller of 110 (caseload per FTE) and 162.01 (care-manager time) = 110"
    )
    expect(page.locator("#id_caseload_per_fte + .source")).to_have_text("entered")
    page.get_by_label("Scenario name").fill("Caseload 110")
    page.get_by_role("button", name="Save scenario").click()
    expect(page.get_by_role("heading", name="Financial model: Caseload 110")).to_be_visible()

    page.get_by_role("link", name="Start again from the defaults").click()
    page.get_by_label("Scenario name").fill("Caseload 80")
    page.get_by_role("button", name="Save scenario").click()
    page.get_by_role("link", name="Saved scenarios").click()
    page.get_by_label("Compare Caseload 110").check()
    page.get_by_label("Compare Caseload 80").check()
    page.get_by_role("button", name="Compare").click()

    expect(page.get_by_role("heading", name="Compare scenarios")).to_be_visible()
    capacity = page.get_by_role("row", name="Caseload capacity")
    expect(capacity).to_contain_text("110 patients")
    expect(capacity).to_contain_text("80 patients")
    expect(
        page.get_by_role("img", name="Monthly net revenue and cost over 24 months")
    ).to_be_visible()
    page.screenshot(path=str(screenshots / "finance-compare.png"), full_page=True)
    page.wait_for_load_state("networkidle")
    assert violations == []
