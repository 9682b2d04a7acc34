"""Patient handouts: a PDF per patient with the care team's names and phone numbers (issue 17).

The PDF is turned into text (pdftotext) to check what it says, and into a PNG (pdftoppm) to
look at; both are poppler-utils (make weasyprint-libs)."""

import subprocess
from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse

from cocm.accounts.models import AuditEvent, Role
from cocm.toolkit.handouts import handout_pdf
from cocm.toolkit.models import StaffContact
from tests import factories

pytestmark = pytest.mark.django_db
SCREENSHOTS = Path("var/screenshots")


@pytest.fixture
def team():
    clinic = factories.clinic(name="Riverside Family Medicine")
    clinic.phone = "555-0142"
    clinic.save()
    care_manager = factories.user(Role.CARE_MANAGER, clinic, username="carla")
    care_manager.first_name, care_manager.last_name = "Carla", "Nguyen"
    care_manager.save()
    StaffContact.objects.create(user=care_manager, phone="555-0199")
    consultant = factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic)
    consultant.first_name, consultant.last_name = "Priya", "Shah"
    consultant.save()
    return clinic, care_manager, consultant


def episode_for(team, language):
    clinic, care_manager, consultant = team
    patient = factories.patient(
        clinic.organization, given_name="Rosa", family_name="Diaz", preferred_language=language
    )
    return factories.episode(
        clinic,
        care_manager,
        the_patient=patient,
        consent_on=date(2026, 9, 1),
        psychiatric_consultant=consultant,
    )


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "handout.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["/usr/bin/pdftotext", "-layout", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def as_png(pdf: bytes, tmp_path: Path, name: str) -> Path:
    path = tmp_path / "handout.pdf"
    path.write_bytes(pdf)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "/usr/bin/pdftoppm",
            "-png",
            "-r",
            "70",
            "-singlefile",
            str(path),
            str(SCREENSHOTS / name),
        ],
        check=True,
    )
    return SCREENSHOTS / f"{name}.png"


def test_the_english_handout_names_the_team_with_their_phone_numbers(team, tmp_path):
    episode = episode_for(team, "en")

    pdf = handout_pdf(episode, language="en", on=date(2026, 11, 23))

    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf, tmp_path)
    assert "Your collaborative care team" in text
    assert "For Rosa Diaz · Riverside Family Medicine" in text
    assert "Carla Nguyen" in text and "555-0199" in text
    assert "Priya Shah" in text
    assert "555-0142" in text  # the consultant has no direct number: the clinic's
    assert "Call Carla Nguyen at 555-0199 during clinic hours." in text
    assert "Call or text 988" in text and "call 911" in text
    png = as_png(pdf, tmp_path, "handout-en")
    assert png.stat().st_size > 10_000


def test_the_spanish_handout_follows_the_preferred_language(team, tmp_path):
    episode = episode_for(team, "es")

    pdf = handout_pdf(episode, language="es", on=date(2026, 11, 23))

    text = pdf_text(pdf, tmp_path)
    assert "Su equipo de atención colaborativa" in text
    assert "Llame a Carla Nguyen al 555-0199" in text
    assert "988" in text and "911" in text
    as_png(pdf, tmp_path, "handout-es")


def test_the_handout_page_serves_the_pdf_in_the_patients_language_and_audits(client, team):
    _, care_manager, _ = team
    episode = episode_for(team, "es")
    client.force_login(care_manager)

    response = client.get(reverse("patient_handout", args=[episode.id]))

    assert response["Content-Type"] == "application/pdf"
    assert 'filename="collaborative-care-es.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF-")
    assert AuditEvent.objects.filter(what="patient handout", patient_id=episode.patient_id).exists()
    chart = client.get(reverse("patient_chart", args=[episode.patient_id])).content.decode()
    assert "Patient handout (PDF)" in chart


def test_billing_staff_cannot_print_a_handout(client, team):
    clinic, _, _ = team
    episode = episode_for(team, "en")
    client.force_login(factories.user(Role.BILLING, clinic))

    assert client.get(reverse("patient_handout", args=[episode.id])).status_code == 403
