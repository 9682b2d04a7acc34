"""The billing lead's month on the demo population, in the browser (issue 11)."""

import io
import os
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from openpyxl import load_workbook
from playwright.sync_api import expect

from cocm.accounts.models import User
from cocm.accounts.scoping import visible_episodes
from cocm.billing import services
from cocm.billing.models import ClaimLine, ClosedMonth
from cocm.population import DEMO_PASSWORD
from cocm.registry.models import Coverage, Episode, Patient
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EVIL = '=HYPERLINK("http://evil.example")'


def previous_month(today):
    return f"{today.year - (today.month == 1):04d}-{(today.month - 2) % 12 + 1:02d}"


def test_the_billing_lead_works_last_month_on_the_demo_population(page, live_server, tmp_path):
    # The demo organization's own day (America/Chicago): the browser tests keep the clock.
    today = datetime.now(ZoneInfo("America/Chicago")).date()
    call_command("seed", "--patients", "300", "--as-of", today.isoformat(), verbosity=0)
    month = previous_month(today)

    sign_in(page, live_server, "billing", DEMO_PASSWORD)

    # Billing lands on last month, every group lists lines with the patients' names.
    expect(page.get_by_role("heading", name=f"Billing — {month}")).to_be_visible()
    for group in ("ready", "blocked", "not_billable"):
        rows = page.locator(f"#group-{group} tbody tr")
        expect(rows.first.locator("td").first.get_by_role("link")).to_have_text(
            re.compile(r"^[A-Z][\w'-]+, [A-Z]\w+$")
        )
    assert page.locator("#group-ready tbody tr").count() > 10
    expect(
        page.get_by_text(re.compile(r"Expected revenue of the ready lines: \$[1-9]"))
    ).to_be_visible()
    expect(page.get_by_text("from ILLUSTRATIVE demo fees", exact=False)).to_be_visible()
    screenshot = Path(os.environ.get("COCM_SCREENSHOTS", tmp_path)) / "billing-worklist.png"
    page.screenshot(path=str(screenshot), full_page=False)

    # A blocked line says what to fix and links to the place in the chart.
    blocked = page.locator("#group-blocked tbody tr").first
    blocked.get_by_text(re.compile(r"What to fix")).click()
    fix = blocked.get_by_role("link", name="Fix in the chart").first
    expect(fix).to_be_visible()
    page.locator("#group-blocked").screenshot(path=str(screenshot.with_name("billing-blocked.png")))
    assert re.search(
        r"/patients/\d+/#(consent|initiating-visit|consultant|program)$", fix.get_attribute("href")
    )

    # Reviewed, then submitted: one click each, the row changes in place (htmx).
    ready = page.locator("#group-ready tbody tr").first
    row_id = ready.get_attribute("id")
    page.evaluate("window.notReloaded = true")
    ready.get_by_role("button", name="Reviewed").click()
    row = page.locator(f"#{row_id}")
    expect(row.get_by_text("Reviewed", exact=False).first).to_be_visible()
    expect(row.get_by_role("button", name="Reviewed")).to_have_count(0)
    row.get_by_role("button", name="Submitted").click()
    expect(row.get_by_text(re.compile(r"Submitted \d{4}-\d\d-\d\d"))).to_be_visible()
    expect(row.get_by_role("button", name="Submitted")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
    episode_id = int(row_id.removeprefix("line-"))
    claim = ClaimLine.objects.get(episode_id=episode_id, month=month)
    assert claim.reviewed_at and claim.submitted_at

    # A patient whose name is a formula: the claims file has it as text.
    evil_line = page.locator("#group-ready tbody tr").filter(has_not_text="not a claim").nth(1)
    evil_mrn = evil_line.locator("td").nth(1).inner_text()
    Patient.objects.filter(mrn=evil_mrn).update(family_name=EVIL)
    with page.expect_download() as download:
        page.get_by_role("link", name="Claims XLSX").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == f"claims-{month}.xlsx"
    sheet = load_workbook(io.BytesIO(path.read_bytes())).active
    headings = [cell.value for cell in sheet[1]]
    rows = [
        dict(zip(headings, values, strict=True))
        for values in sheet.iter_rows(min_row=2, values_only=True)
    ]
    assert rows
    assert all(re.fullmatch(r"99492|99493|99494|G2214|99484|G0512", row["Code"]) for row in rows)
    assert all(isinstance(row["Units"], int) and row["Units"] >= 1 for row in rows)
    billing_user = User.objects.get(username="billing")
    lines = services.month_lines(
        billing_user.organization,
        visible_episodes(billing_user, Episode.objects),
        services.parse_month(month),
    )
    expected = sorted(
        (line.episode.mrn, str(code.code), code.units)
        for line in lines
        if line.status == "ready" and line.payer not in ("self_pay", "")
        for code in line.result.codes
    )
    assert sorted((row["MRN"], row["Code"], row["Units"]) for row in rows) == expected
    self_pay = set(
        Coverage.objects.filter(payer_kind="self_pay").values_list("patient__mrn", flat=True)
    )
    assert self_pay and not self_pay & {row["MRN"] for row in rows}
    assert {row["Payer"] for row in rows} <= {"Medicare", "Medicaid", "Commercial"}
    cells = [cell for line in sheet.iter_rows(min_row=1) for cell in line]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [c.coordinate for c in cells if isinstance(c.value, str) and c.value.startswith("=")]
    assert next(row["Patient"] for row in rows if row["MRN"] == evil_mrn).startswith(f"'{EVIL}, ")

    # Close the month: every line frozen.
    page.get_by_role("button", name=f"Close {month}").click()
    expect(page.get_by_text(re.compile(rf"{month} closed: \d+ lines frozen\."))).to_be_visible()
    expect(page.get_by_text("Lines are frozen.", exact=False)).to_be_visible()
    assert ClosedMonth.objects.filter(month=month).exists()
    assert not ClaimLine.objects.filter(month=month, frozen=False).exists()
