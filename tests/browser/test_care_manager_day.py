"""Issue 12: the care manager's day on the seeded demo population, in Chromium.

A self-report comes back with item 9 positive; the care manager sees the patient named in
the banner and first on Tasks, cannot discharge her before the follow-up, documents it (no
preselected action, a note, her credentials on the record), logs a no-show that counts no
minute, gives a patient without one a psychiatric consultant, finds a patient by "Last,
First" and filters the timeline. Screenshots of the caseload, tasks and chart pages are
written to $COCM_SCREENSHOTS (else the test's temporary directory)."""

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from cocm.accounts.models import User
from cocm.care.models import Contact
from cocm.measures import services as measures
from cocm.measures.models import SafetyAlert
from cocm.population import DEMO_PASSWORD, build_population
from cocm.registry.models import Episode
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ITEM_9_POSITIVE = [2, 2, 2, 1, 1, 2, 2, 1, 1]  # PHQ-9 14, item 9 "several days"


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("COCM_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_care_managers_day_on_the_demo_population(browser, live_server, shots):
    today = datetime.now(ZoneInfo("America/Chicago")).date()
    build_population(200, seed=7, as_of=today)
    carla = User.objects.get(username="caremanager")
    mine = Episode.objects.filter(care_manager=carla).open().exclude(status="referred")
    episode = mine.filter(safety_alerts__isnull=True).order_by("id").first()
    measures.record_assessment(
        episode, "PHQ-9", today, ITEM_9_POSITIVE, method="self_report", by=None, as_of=today
    )
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        walk_the_day(context.new_page(), live_server, shots, episode)
    finally:
        context.close()  # else the page keeps polling the notification badge


def walk_the_day(page, live_server, shots, episode):
    patient = episode.patient
    page.set_default_timeout(15_000)

    sign_in(page, live_server, "caremanager", DEMO_PASSWORD)

    # The caseload: the safety alert on top, a section for today, compact rows.
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    expect(page.get_by_role("heading", name="Needs action today")).to_be_visible()
    first_row = page.locator("table.caseload tbody tr").first
    expect(first_row).to_contain_text(str(patient))
    expect(first_row.locator("summary", has_text="Safety alert")).to_be_visible()
    page.screenshot(path=shots / "caseload.png")

    # The banner names the patient and opens her chart.
    banner = page.locator("#notification-badge a.urgent")
    expect(banner).to_contain_text(str(patient))
    expect(banner).to_contain_text("Safety alert")

    # Tasks: open alerts first, each one click from done.
    page.get_by_role("link", name="Tasks").click()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    alerts = page.locator("section", has=page.get_by_role("heading", name="Open safety alerts"))
    expect(alerts).to_contain_text(str(patient))
    expect(page.get_by_role("heading", name="Overdue for contact")).to_be_visible()
    page.screenshot(path=shots / "tasks.png", full_page=True)
    alerts.get_by_role("row", name=str(patient)).get_by_role(
        "link", name="Document follow-up"
    ).click()
    expect(
        page.get_by_role("heading", name=f"{patient.family_name}, {patient.given_name}")
    ).to_be_visible()

    # No discharge over an open alert.
    page.get_by_role("link", name="Change status or discharge").click()
    page.get_by_label("Status").select_option("discharged")
    page.get_by_label("Discharge reason").select_option("goals_met")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_text("open safety alert: document its follow-up")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()

    # The follow-up: nothing preselected, a note required, credentials on the record.
    expect(page.get_by_label("What was done")).to_have_value("")
    expect(page.get_by_text("Signed as Carla Mendes, LCSW")).to_be_visible()
    page.get_by_label("What was done").select_option("risk_assessment")
    page.get_by_role("button", name="Document follow-up").click()
    expect(page.get_by_role("heading", name="Open safety alert")).to_be_visible()
    page.get_by_label("What was done").select_option("risk_assessment")
    page.get_by_label("Note").fill("Called; low risk; safety plan reviewed with her")
    page.get_by_role("button", name="Document follow-up").click()
    expect(page.get_by_text("Safety follow-up documented.")).to_be_visible()
    expect(page.get_by_role("heading", name="Open safety alert")).to_have_count(0)
    expect(page.get_by_text("safety follow-up by Carla Mendes, LCSW")).to_be_visible()
    assert SafetyAlert.objects.get(episode=episode, resolved_at__isnull=False).note

    # A no-show with minutes counts no minute.
    page.get_by_role("link", name="Log contact").click()
    page.get_by_label("Minutes").fill("30")
    page.get_by_label("No-show / not reached").check()
    page.get_by_role("button", name="Save contact").click()
    expect(page.get_by_text("No-show logged (30 minutes, not counted).")).to_be_visible()
    expect(page.get_by_text("min no-show (the patient did not attend)")).to_be_visible()
    assert Contact.objects.filter(episode=episode, no_show=True, minutes=30).exists()

    # The timeline, filtered to safety alerts, newest first.
    page.locator(".timeline-filter").get_by_role("link", name="Safety alerts").click()
    events = page.locator("ol.timeline li")
    expect(events.first).to_contain_text("Safety follow-up documented by Carla Mendes, LCSW")
    page.screenshot(path=shots / "chart.png", full_page=True)

    # A patient without a psychiatric consultant gets one.
    page.goto(f"{live_server.url}/episodes/without-consultant/")
    expect(
        page.get_by_role("heading", name="Episodes without a psychiatric consultant")
    ).to_be_visible()
    row = page.locator("table tbody tr").first
    lone = row.locator("td").first.inner_text()
    row.get_by_role("link", name="Assign").click()
    consultant = page.get_by_label("Psychiatric consultant")
    consultant.select_option(index=1)
    page.get_by_role("button", name="Save care team").click()
    expect(page.get_by_text("Care team saved (1 changed).")).to_be_visible()
    expect(page.get_by_role("heading", name=lone)).to_be_visible()

    # Find a patient by "Last, First".
    page.get_by_role("link", name="Find patient").click()
    page.get_by_label("Name, MRN or birth date").fill(
        f"{patient.family_name}, {patient.given_name}"
    )
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results").get_by_role("link", name=str(patient))).to_be_visible()
    assert f"{patient.family_name}" not in page.url
