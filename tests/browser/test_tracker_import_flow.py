import pytest
from playwright.sync_api import expect

from cocm.accounts.models import Role
from cocm.registry.models import Patient
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough pass phrase"
HEADER = (
    "Patient ID,First name,Last name,DOB,Sex,Enrollment date,Care manager,PHQ-9 baseline,"
    "PHQ-9 baseline date,Diagnosis"
)


def test_a_care_manager_uploads_maps_dry_runs_and_imports_a_tracker(page, live_server, tmp_path):
    clinic = factories.clinic(name="Riverside Family Medicine")
    factories.user(Role.CARE_MANAGER, clinic, username="carla", password=PASSWORD)
    tracker = tmp_path / "aims-tracker.csv"
    tracker.write_text(
        f"{HEADER}\n"
        "R-1,Maria,Lopez,1968-02-29,F,2026-09-01,carla,18,2026-08-28,F32.1\n"
        "R-2,James,Wright,1990-03-15,M,2026-09-10,carla,41,2026-09-10,F33.1\n"
    )
    sign_in(page, live_server, "carla", PASSWORD)

    page.get_by_role("link", name="Import tracker").click()
    page.get_by_label("Clinic").select_option(label="Riverside Family Medicine")
    page.get_by_label("File").set_input_files(str(tracker))
    page.get_by_role("button", name="Upload and map columns").click()

    expect(page.get_by_role("heading", name="Import aims-tracker.csv")).to_be_visible()
    expect(page.get_by_text("2 rows for Riverside Family Medicine")).to_be_visible()
    expect(page.get_by_label("MRN (required)")).to_have_value("Patient ID")
    page.get_by_role("button", name="Check rows (dry run)").click()

    expect(page.get_by_role("heading", name="1 problem — nothing was stored")).to_be_visible()
    expect(page.get_by_role("row", name="3 PHQ-9 baseline")).to_contain_text("41 is not")
    expect(page.get_by_role("button", name="Import 2 rows")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "tracker-dry-run.png"), full_page=True)
    assert Patient.objects.count() == 0

    page.get_by_label("PHQ-9 baseline", exact=True).select_option("")
    page.get_by_label("PHQ-9 baseline date").select_option("")
    page.get_by_role("button", name="Check rows (dry run)").click()
    expect(page.get_by_text("Dry run: all 2 rows are ready.")).to_be_visible()
    page.get_by_role("button", name="Import 2 rows").click()

    expect(page.get_by_text("Imported 2 rows: 2 new patients, 2 enrolled episodes")).to_be_visible()
    assert sorted(Patient.objects.values_list("mrn", flat=True)) == ["R-1", "R-2"]
