"""`cocm backup` and `cocm restore`: a verified round trip on the database the suite runs
on (SQLite locally, PostgreSQL in CI)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cocm.accounts.audit import record_event, verify_chain
from cocm.accounts.models import AuditEvent, Role
from cocm.registry.models import Episode, Patient
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def snapshot() -> dict[str, list]:
    return {
        "patients": list(Patient.objects.order_by("mrn").values_list("mrn", "family_name")),
        "episodes": list(Episode.objects.order_by("id").values_list("id", "status", "version")),
        "audit": list(AuditEvent.objects.order_by("id").values_list("entry_hash")),
    }


def test_a_backup_restores_exactly_what_it_saved(tmp_path):
    clinic = factories.clinic()
    care_manager = factories.user(Role.CARE_MANAGER, clinic)
    episode = factories.episode(clinic, care_manager)
    record_event("view", "chart", user=care_manager, patient_id=episode.patient_id)
    path = tmp_path / "registry.backup"
    call_command("backup", str(path), stdout=StringIO())
    saved = snapshot()
    Patient.objects.filter(id=episode.patient_id).update(family_name="Overwritten")
    factories.patient(clinic.organization, mrn="AFTER-BACKUP")

    call_command("restore", str(path), "--noinput", stdout=StringIO())

    assert snapshot()["patients"] == saved["patients"]
    assert snapshot()["episodes"] == saved["episodes"]
    assert snapshot()["audit"][: len(saved["audit"])] == saved["audit"]
    assert verify_chain().first_break is None


def test_the_backup_records_itself_in_the_audit_log(tmp_path):
    call_command("backup", str(tmp_path / "registry.backup"), stdout=StringIO())

    assert AuditEvent.objects.filter(action="export", what="database backup").exists()


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    factories.patient(mrn="KEEP-1")
    bogus = tmp_path / "bogus.backup"
    bogus.write_bytes(b"this is not a database backup\n" * 100)

    with pytest.raises(CommandError):
        call_command("restore", str(bogus), "--noinput", stdout=StringIO())

    assert Patient.objects.filter(mrn="KEEP-1").exists()


def test_restore_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "missing.backup"), "--noinput")
