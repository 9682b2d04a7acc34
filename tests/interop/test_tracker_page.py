import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cocm.accounts.models import Role
from cocm.interop.models import TrackerUpload
from cocm.registry.models import Patient
from tests import factories
from tests.interop.test_tracker_import import GOOD, HEADER

pytestmark = pytest.mark.django_db

MAPPING = {
    "map_mrn": "Patient ID",
    "map_given_name": "First name",
    "map_family_name": "Last name",
    "map_birth_date": "Date of birth",
    "map_sex": "Sex",
    "map_enrolled_on": "Enrollment date",
    "map_care_manager": "Care manager",
    "map_diagnosis": "Diagnosis",
    "map_phq9_baseline": "PHQ-9 baseline",
    "map_phq9_baseline_on": "PHQ-9 baseline date",
}


@pytest.fixture
def page(client, care_manager):
    client.force_login(care_manager)
    return client


def upload(page, clinic, text):
    file = SimpleUploadedFile("tracker.csv", text.encode(), content_type="text/csv")
    response = page.post("/interop/tracker/", {"clinic": clinic.pk, "file": file})
    assert response.status_code == 302, response.content.decode()
    return response.url


def test_a_care_manager_maps_checks_and_imports_a_tracker(page, clinic, care_manager):
    header = HEADER.replace("MRN", "Patient ID", 1)
    url = upload(page, clinic, "\n".join([header, *GOOD]))

    mapping = page.get(url).content.decode()
    checked = page.post(url, {**MAPPING, "action": "check"}).content.decode()
    imported = page.post(url, {**MAPPING, "action": "import"}, follow=True).content.decode()

    assert "2 rows for Riverside Family Medicine" in mapping
    assert '<option value="Patient ID" selected>' in mapping  # recognised as the MRN
    assert "Dry run: all 2 rows are ready." in checked
    assert "Import 2 rows" in checked
    assert "Imported 2 rows: 2 new patients, 1 enrolled episodes" in imported
    assert Patient.objects.count() == 2


def test_the_dry_run_lists_each_bad_row_and_stores_nothing(page, clinic, care_manager):
    url = upload(
        page,
        clinic,
        "\n".join([HEADER, GOOD[0], "A-9,Cy,Doe,1970-01-01,F,2026-09-01,,40,2026-09-01,,,"]),
    )

    checked = page.post(url, {**MAPPING, "map_mrn": "MRN", "action": "import"}).content.decode()

    assert "1 problem — nothing was stored" in checked
    assert (
        "<td>3</td><td>PHQ-9 baseline</td>"
        "<td>a PHQ-9 total is a whole number from 0 to 27; 40 is not</td>" in checked
    )
    assert "Import 1 rows" not in checked
    assert Patient.objects.count() == 0


def test_a_file_that_is_not_a_tracker_is_refused_on_upload(page, clinic):
    file = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")

    response = page.post("/interop/tracker/", {"clinic": clinic.pk, "file": file})

    assert "The file must be .csv or .xlsx." in response.content.decode()
    assert TrackerUpload.objects.count() == 0


def test_someone_elses_upload_is_not_found(page, clinic):
    other = factories.user(Role.CARE_MANAGER, clinic)
    upload_row = TrackerUpload.objects.create(
        organization=clinic.organization,
        clinic=clinic,
        uploaded_by=other,
        filename="t.csv",
        content=b"MRN\n",
    )

    assert page.get(f"/interop/tracker/{upload_row.pk}/").status_code == 404
