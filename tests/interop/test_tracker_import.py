import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from cocm.care.models import CaseloadRow
from cocm.domain.episodes import EpisodeStatus
from cocm.measures.models import Assessment
from cocm.registry.models import Diagnosis, Episode, Patient, StatusChange

pytestmark = pytest.mark.django_db

HEADER = (
    "MRN,First name,Last name,Date of birth,Sex,Enrollment date,Care manager,PHQ-9 baseline,"
    "PHQ-9 baseline date,PHQ-9 latest,PHQ-9 latest date,Diagnosis"
)
GOOD = [
    "A-1,Ana,Lopez,1968-02-29,F,2026-09-01,cm,18,2026-08-28,7,2026-11-02,F32.1",
    "A-2,Ben,Okafor,03/15/1990,M,09/10/2026,,,,,,",
]


def tracker(tmp_path, *rows, header=HEADER, name="tracker.csv"):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n")
    return str(path)


def test_it_imports_patients_episodes_and_scores(tmp_path, clinic, care_manager, capsys):
    call_command("import", "caseload", tracker(tmp_path, *GOOD), "--clinic", str(clinic.pk))

    ana = Patient.objects.get(mrn="A-1")
    episode = Episode.objects.get(patient=ana)
    assert (ana.birth_date, ana.sex, ana.home_clinic) == (date(1968, 2, 29), "female", clinic)
    assert (episode.status, episode.enrolled_on, episode.care_manager) == (
        EpisodeStatus.ENROLLED,
        date(2026, 9, 1),
        care_manager,
    )
    assert episode.referred_on == date(2026, 8, 28)
    scores = list(
        Assessment.objects.filter(episode=episode).values_list("taken_on", "total", "severity")
    )
    assert scores == [(date(2026, 8, 28), 18, "moderately_severe"), (date(2026, 11, 2), 7, "mild")]
    ben = Episode.objects.get(patient__mrn="A-2")
    assert (ben.status, ben.referred_on) == (EpisodeStatus.REFERRED, date(2026, 9, 10))
    out = capsys.readouterr()
    assert "2 patients created, 1 episodes enrolled, 1 opened as referred" in out.out
    assert "import caseload" in out.err


def test_importing_the_same_file_again_creates_nothing(tmp_path, clinic, care_manager, capsys):
    path = tracker(tmp_path, *GOOD)
    call_command("import", "caseload", path, "--clinic", str(clinic.pk))

    call_command("import", "caseload", path, "--clinic", str(clinic.pk))

    assert (Patient.objects.count(), Episode.objects.count(), Assessment.objects.count()) == (
        2,
        2,
        2,
    )
    assert "0 patients created" in capsys.readouterr().out.splitlines()[-1]


def test_bad_rows_are_named_by_row_and_column_and_nothing_is_stored(tmp_path, clinic, care_manager):
    path = tracker(
        tmp_path,
        GOOD[0],
        "A-3,Cy,Doe,1970-01-01,F,2026-09-01,nobody,40,2026-09-01,,,",
        "A-4,,Doe,1970-13-01,Q,2099-01-01,,,,,,",
        "A-1,Dup,Doe,1970-01-01,F,2026-09-01,,,,,,",
    )

    with pytest.raises(CommandError) as raised:
        call_command("import", "caseload", path, "--clinic", str(clinic.pk))

    lines = str(raised.value).splitlines()
    assert lines == [
        "row 3, PHQ-9 baseline: a PHQ-9 total is a whole number from 0 to 27; 40 is not",
        "row 3, Care manager: 'nobody' is not a care manager at Riverside Family Medicine",
        "row 4, First name: empty",
        "row 4, Date of birth: not a date (use YYYY-MM-DD or MM/DD/YYYY)",
        "row 4, Enrollment date: 2099-01-01 is in the future",
        "row 4, Sex: 'Q' is not female, male, other or unknown",
        "row 5, MRN: MRN A-1 is also on row 2",
    ]
    assert Patient.objects.count() == 0


def test_a_dry_run_checks_but_stores_nothing(tmp_path, clinic, care_manager, capsys):
    call_command(
        "import", "caseload", tracker(tmp_path, *GOOD), "--clinic", str(clinic.pk), "--dry-run"
    )

    assert "Dry run: 2 rows are ready to import; nothing stored." in capsys.readouterr().out
    assert Patient.objects.count() == 0


def test_it_reads_xlsx_with_headers_in_any_case_and_spacing(tmp_path, clinic, care_manager):
    book = Workbook()
    sheet = book.active
    sheet.append(["mrn", "FIRST NAME", "last  name", "dob", "sex", "Enrollment Date"])
    sheet.append([12345, "Eve", "Park", date(1975, 4, 1), "female", date(2026, 10, 5)])
    path = tmp_path / "tracker.xlsx"
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())

    call_command("import", "caseload", str(path), "--clinic", str(clinic.pk))

    eve = Patient.objects.get()
    assert (eve.mrn, eve.given_name, eve.birth_date) == ("12345", "Eve", date(1975, 4, 1))


def test_a_missing_required_column_is_named(tmp_path, clinic):
    path = tracker(tmp_path, "A-1,Ana", header="MRN,First name")

    with pytest.raises(CommandError, match="row 1, Last name: no column is mapped to it"):
        call_command("import", "caseload", path, "--clinic", str(clinic.pk))


def large_tracker(tmp_path, rows):
    return tracker(
        tmp_path,
        *(
            f"B-{n},Ana,Lopez{n},1968-02-1{n % 10},F,2026-09-01,cm,18,2026-08-28,7,2026-11-02,"
            f"{'F32.1' if n % 2 else ''}"
            for n in range(rows)
        ),
    )


def test_a_large_tracker_is_stored_in_batches_not_a_query_per_row(
    tmp_path, clinic, care_manager, django_assert_max_num_queries
):
    path = large_tracker(tmp_path, 500)

    # A fixed number per batch of 2,000 rows (one statement per table, the lookups, the
    # caseload marking), where the row-by-row import took some 20 per row.
    with django_assert_max_num_queries(30):
        call_command("import", "caseload", path, "--clinic", str(clinic.pk))

    episodes = Episode.objects.filter(patient__mrn__startswith="B-")
    assert (episodes.count(), episodes.filter(status=EpisodeStatus.ENROLLED).count()) == (500, 250)
    assert Assessment.objects.filter(episode__in=episodes).count() == 1000
    assert StatusChange.objects.filter(episode__in=episodes).count() == 750
    assert Diagnosis.objects.filter(episode__in=episodes, code="F32.1").count() == 250
    # bulk_create sends no signal: the import marks each new episode's caseload row itself.
    assert CaseloadRow.objects.filter(episode__in=episodes, generation__gt=0).count() == 500


def test_importing_a_large_tracker_again_stores_nothing_new(
    tmp_path, clinic, care_manager, django_assert_max_num_queries, capsys
):
    path = large_tracker(tmp_path, 500)
    call_command("import", "caseload", path, "--clinic", str(clinic.pk))
    tables = (Patient, Episode, Assessment, StatusChange, Diagnosis)
    before = [table.objects.count() for table in tables]

    with django_assert_max_num_queries(20):
        call_command("import", "caseload", path, "--clinic", str(clinic.pk))

    assert [table.objects.count() for table in tables] == before
    last = capsys.readouterr().out.splitlines()[-1]
    assert "0 patients created" in last
    assert "500 rows already imported" in last


def test_a_row_the_registry_refuses_is_named_in_the_dry_run(tmp_path, clinic, care_manager):
    # Consent before the referral (the baseline score's date): refused as `enroll` refuses it.
    path = tracker(
        tmp_path,
        "C-1,Ana,Lopez,1968-02-29,F,2026-09-01,cm,18,2026-08-28,,,F32.1,2026-08-01",
        header=HEADER + ",Consent date",
    )

    with pytest.raises(CommandError) as raised:
        call_command("import", "caseload", path, "--clinic", str(clinic.pk), "--dry-run")

    assert str(raised.value) == (
        "row 2, Consent date: Consent (2026-08-01) cannot precede the referral (2026-08-28)."
    )
    assert Patient.objects.count() == 0
