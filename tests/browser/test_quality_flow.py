from pathlib import Path

import pytest
from playwright.sync_api import expect

from cocm.accounts.models import Role
from tests import factories
from tests.browser.conftest import sign_in
from tests.reports.test_quality import depressed_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough pass phrase"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_a_consultant_opens_the_quality_measures_and_their_patients(page, live_server):
    clinic = factories.clinic(name="Riverside Family Medicine")
    care_manager = factories.user(Role.CARE_MANAGER, clinic, username="carla")
    factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic, username="paul", password=PASSWORD)
    depressed_patient(clinic, care_manager, 3, family_name="Remitted")
    depressed_patient(clinic, care_manager, 12, family_name="Still")

    sign_in(page, live_server, "paul", PASSWORD)
    page.get_by_role("link", name="Quality").click()
    page.get_by_role("link", name="2025").click()

    expect(page.get_by_role("heading", name="Quality measures — 2025")).to_be_visible()
    expect(page.get_by_text("Rate: 50%")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Remitted")
    expect(row).to_contain_text("2024-03-01")
    expect(row).to_contain_text("3 (assessment-")
    page.screenshot(path=str(SCREENSHOTS / "quality.png"), full_page=True)

    page.get_by_role("link", name="HEDIS DRR-E Depression Remission or Response").click()
    expect(page.get_by_text("endpoints_inclusive")).to_be_visible()
