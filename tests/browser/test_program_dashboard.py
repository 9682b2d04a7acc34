"""The program lead opens the dashboard, reads a rate and drills down to its patients."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in_with_new_authenticator
from tests.reports.conftest import registry  # noqa: F401  (the small registry fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_program_lead_drills_down_from_a_rate_to_its_patients(
    page,
    live_server,
    registry,  # noqa: F811
    tmp_path,
):
    sign_in_with_new_authenticator(page, live_server, "lead", "correct horse battery staple")

    page.get_by_role("link", name="Program").click()
    page.get_by_label("From", exact=True).fill("2026-11-01")
    page.get_by_label("To", exact=True).fill("2026-11-23")
    page.get_by_role("button", name="Show").click()
    row = page.locator("#indicator-contacted_last_30_days_pct")
    expect(row).to_contain_text("Active caseload contacted in the last 30 days")
    expect(row).to_contain_text("2 of 4")
    expect(page.get_by_role("img", name="Caseload and enrollments by month")).to_be_visible()
    page.screenshot(path=str(tmp_path / "program-dashboard.png"), full_page=True)

    row.get_by_role("link", name="Active caseload contacted in the last 30 days: patients").click()

    expect(
        page.get_by_role("heading", name="Active caseload contacted in the last 30 days")
    ).to_be_visible()
    table = page.locator("table.patients")
    expect(table.get_by_role("row", name="Adams, Ann")).to_contain_text("Yes")
    expect(table.get_by_role("row", name="Baker, Ben")).to_contain_text("No")
    expect(table.get_by_role("row")).to_have_count(5)  # heading + 4 patients
    page.screenshot(path=str(tmp_path / "program-patients.png"), full_page=True)

    page.get_by_role("link", name="Counted (2)", exact=True).click()
    expect(table.get_by_role("row")).to_have_count(3)
    table.get_by_role("link", name="Adams, Ann").click()
    expect(page.get_by_role("heading", name="Adams, Ann")).to_be_visible()


def test_the_program_lead_drills_down_from_a_chart_bar_to_its_patients(
    page,
    live_server,
    registry,  # noqa: F811
):
    sign_in_with_new_authenticator(page, live_server, "lead", "correct horse battery staple")
    page.get_by_role("link", name="Program").click()
    page.get_by_label("From", exact=True).fill("2026-11-01")
    page.get_by_label("To", exact=True).fill("2026-11-23")
    page.get_by_role("button", name="Show").click()

    # November's "New enrollments" bar of the caseload chart.
    chart = page.get_by_role("img", name="Caseload and enrollments by month")
    chart.locator('a.bar-link[href*="indicator=enrollments%3A2026-11"] rect').click()

    expect(page.get_by_role("heading", name="Enrolled in Nov 2026")).to_be_visible()
    table = page.locator("table.patients")
    expect(table.get_by_role("row")).to_have_count(3)  # heading + Cara and Dan
    expect(table.get_by_role("row", name="Cruz, Cara")).to_be_visible()
    expect(table.get_by_role("row", name="Diaz, Dan")).to_be_visible()
    expect(page).to_have_url(re.compile(r"from=2026-11-01&to=2026-11-23"))
