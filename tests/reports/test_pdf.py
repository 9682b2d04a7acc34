"""The monthly program report: a PDF that renders, with its indicators and its charts."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from PIL import Image

from cocm.accounts.models import AuditEvent
from cocm.reports import program
from cocm.reports.pdf import program_pdf
from tests.factories import TODAY

# The bar colours of the charts (cocm/reports/charts.py COLOURS[0] and [1]).
BLUE, ORANGE = (0, 114, 178), (213, 94, 0)


def pdf_pages(pdf: bytes, folder: Path) -> list[Path]:
    """The PDF rendered to PNG by poppler, a file per page (make pdf-libraries installs it)."""
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "run `make pdf-libraries`"
    source = folder / "report.pdf"
    source.write_bytes(pdf)
    subprocess.run([pdftoppm, "-r", "40", "-png", source, folder / "page"], check=True)
    return sorted(folder.glob("page-*.png"))


def pdf_text(pdf: bytes, folder: Path) -> str:
    source = folder / "text.pdf"
    source.write_bytes(pdf)
    return subprocess.run(
        [shutil.which("pdftotext") or "/usr/bin/pdftotext", "-layout", source, "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def colour_pixels(image: Path, colour: tuple[int, int, int]) -> int:
    pixels = Image.open(image).convert("RGB").get_flattened_data()
    return sum(
        1 for pixel in pixels if all(abs(a - b) <= 8 for a, b in zip(pixel, colour, strict=True))
    )


def test_the_monthly_report_renders_its_indicators_and_charts(registry, tmp_path):
    filters = program.month_filters(registry.admin, "2026-11", today=TODAY)

    pdf = program_pdf(registry.admin, filters, today=TODAY)

    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    assert "Collaborative care program report — November 2026" in text
    assert "Active caseload contacted in the last 30 days" in text
    assert "2 of 4" in text
    for title in (
        "Caseload and enrollments by month",
        "Response and remission by enrollment month",
        "Weeks to first response",
        "Care managers compared",
        "Billing capture by month",
    ):
        assert title in text
    pages = pdf_pages(pdf, tmp_path)
    assert len(pages) >= 2
    # The charts are drawn, not only named: their bars' colours are on the chart pages.
    assert sum(colour_pixels(page, BLUE) for page in pages[1:]) > 200
    assert sum(colour_pixels(page, ORANGE) for page in pages[1:]) > 50


def test_the_pdf_downloads_from_the_dashboard(registry):
    client = Client()
    client.force_login(registry.admin)

    response = client.get("/reports/program.pdf?month=2026-11")

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="program-report-2026-11.pdf"'
    assert response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(what="program report 2026-11 pdf").exists()


def test_a_month_not_started_is_refused_on_the_page(registry):
    client = Client()
    client.force_login(registry.admin)

    response = client.get("/reports/program.pdf?month=2027-01", follow=True)

    assert "month: 2027-01 has not started yet." in response.content.decode()


def test_the_command_writes_the_monthly_report(registry, tmp_path, capsys):
    output = tmp_path / "report.pdf"

    call_command("report", "program", "--month", "2026-10", "--output", str(output))

    assert output.read_bytes().startswith(b"%PDF")
    assert "for organization" in capsys.readouterr().out
    event = AuditEvent.objects.get(what="program report 2026-10 pdf")
    assert (event.user, event.channel) == (registry.admin, "cli")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--month", "2026-13"], "--month: '2026-13' is not a month (YYYY-MM)."),
        (["--month", "2026-11", "--user", "carla"], "--user: carla may not see program"),
        (["--month", "2026-11", "--user", "ghost"], "--user: no active user 'ghost'."),
    ],
)
def test_the_command_refuses_bad_arguments(registry, tmp_path, arguments, message):
    with pytest.raises(CommandError) as refused:
        call_command("report", "program", *arguments, "--output", str(tmp_path / "r.pdf"))

    assert message in str(refused.value)
    assert not (tmp_path / "r.pdf").exists()


def test_the_command_refuses_an_output_folder_that_does_not_exist(registry, tmp_path):
    with pytest.raises(CommandError, match="--output: the folder"):
        call_command(
            "report", "program", "--month", "2026-11", "--output", str(tmp_path / "no" / "r.pdf")
        )
