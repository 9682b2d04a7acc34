"""Against a real PostgreSQL streaming replica (`make test-replica`, `.ci/with-replica`):
lag-tolerant reads reach the standby, writes and read-after-write stay on the primary."""

import time
from datetime import date

import dj_database_url
import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import CaptureQueriesContext

from cocm.accounts.models import Role
from cocm.registry.models import Patient
from cocm.replica import replica_reads
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def standby():
    """The `replica` alias pointed at the standby's copy of the test database (in tests it
    mirrors the primary's settings, which a physical replica shares but for host and port)."""
    assert settings.DATABASE_REPLICA_URL, "run with .ci/with-replica (make test-replica)"
    address = dj_database_url.parse(settings.DATABASE_REPLICA_URL)
    replica = connections["replica"]
    mirrored = replica.settings_dict
    replica.close()
    replica.settings_dict = {**mirrored, "HOST": address["HOST"], "PORT": address["PORT"]}
    yield replica
    replica.close()
    replica.settings_dict = mirrored


def replayed(replica, patient_id: int) -> bool:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with replica.cursor() as cursor:
            cursor.execute("SELECT 1 FROM registry_patient WHERE id = %s", [patient_id])
            if cursor.fetchone():
                return True
        time.sleep(0.1)
    return False


def test_lag_tolerant_reads_reach_the_standby(standby):
    clinic = factories.clinic()
    patient = factories.patient(clinic.organization, given_name="Rosa", family_name="Wright")
    assert replayed(standby, patient.id)

    with CaptureQueriesContext(standby) as on_standby, replica_reads():
        found = Patient.objects.get(pk=patient.id)
        with standby.cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery()")
            (in_recovery,) = cursor.fetchone()

    assert found.given_name == "Rosa"
    assert in_recovery is True
    assert any("registry_patient" in query["sql"] for query in on_standby.captured_queries)


def test_after_a_write_the_request_reads_its_own_write_from_the_primary(standby):
    clinic = factories.clinic()

    with CaptureQueriesContext(standby) as on_standby, replica_reads():
        patient = factories.patient(clinic.organization, given_name="Ana")
        found = Patient.objects.get(pk=patient.id)

    assert found.given_name == "Ana"
    assert not on_standby.captured_queries


def test_the_program_dashboard_reads_from_the_standby(standby, client):
    clinic = factories.clinic()
    admin = factories.user(Role.ORG_ADMIN, clinic)
    care_manager = factories.user(Role.CARE_MANAGER, clinic)
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 2))
    assert replayed(standby, episode.patient_id)
    client.force_login(admin)

    with CaptureQueriesContext(standby) as on_standby:
        response = client.get("/reports/")

    assert response.status_code == 200
    assert any("registry_episode" in query["sql"] for query in on_standby.captured_queries)


def test_the_open_months_worklist_reads_from_the_standby(standby, client):
    clinic = factories.clinic()
    biller = factories.user(Role.BILLING, clinic)
    care_manager = factories.user(Role.CARE_MANAGER, clinic)
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 2))
    assert replayed(standby, episode.patient_id)
    client.force_login(biller)

    with CaptureQueriesContext(standby) as on_standby:
        response = client.get("/billing/2026-11/")

    assert response.status_code == 200
    assert any("registry_episode" in query["sql"] for query in on_standby.captured_queries)
