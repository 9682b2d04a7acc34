"""The read-replica router's decisions (cocm/replica.py); tests/replica/ runs them against a
real streaming replica."""

import pytest
from django.db import transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory

from cocm.accounts.models import AuditEvent, Clinic
from cocm.registry.models import Patient
from cocm.replica import ReplicaRouter, reads_from_replica, replica_reads

router = ReplicaRouter()


@pytest.fixture
def with_replica(settings):
    settings.COCM_READ_REPLICA = "replica"


def test_without_a_replica_every_read_goes_to_the_primary():
    with replica_reads():
        assert router.db_for_read(Patient) == "default"


def test_lag_tolerant_reads_go_to_the_replica_and_others_to_the_primary(with_replica):
    assert router.db_for_read(Patient) == "default"
    with replica_reads():
        assert router.db_for_read(Patient) == "replica"
    assert router.db_for_read(Patient) == "default"


def test_after_a_write_the_rest_of_the_block_reads_from_the_primary(with_replica):
    with replica_reads():
        assert router.db_for_write(Clinic) == "default"
        assert router.db_for_read(Patient) == "default"


def test_an_audit_event_written_by_the_read_keeps_it_on_the_replica(with_replica):
    with replica_reads():
        assert router.db_for_write(AuditEvent) == "default"
        assert router.db_for_read(Patient) == "replica"


@pytest.mark.django_db
def test_a_read_inside_a_transaction_of_the_primary_stays_in_it(with_replica):
    with replica_reads(), transaction.atomic():
        assert router.db_for_read(Patient) == "default"


def test_only_the_replica_may_not_be_migrated():
    assert router.allow_migrate("default", "registry")
    assert not router.allow_migrate("replica", "registry")


def test_a_decorated_view_reads_from_the_replica_for_get_and_in_its_streamed_body(with_replica):
    seen = []

    def chunks():
        seen.append(("body", router.db_for_read(Patient)))
        yield b"x"

    @reads_from_replica
    def view(request):
        seen.append((request.method, router.db_for_read(Patient)))
        if request.method == "GET":
            return StreamingHttpResponse(chunks())
        return HttpResponse()

    response = view(RequestFactory().get("/"))
    b"".join(response.streaming_content)
    view(RequestFactory().post("/"))

    assert seen == [("GET", "replica"), ("body", "replica"), ("POST", "default")]
