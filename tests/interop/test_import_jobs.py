"""Large imports as background tasks: `Prefer: respond-async` on POST /fhir and
`cocm import fhir --background` queue a django-tasks task that `cocm worker` runs; the job's
status is polled at /fhir/$import-status/<key> or shown by `cocm import status`."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from cocm.accounts.models import ApiToken, Role
from cocm.interop.models import ImportedResource, ImportJob
from cocm.registry.models import Patient
from tests import factories
from tests.interop.conftest import fhir_patient, phq9_observation, transaction

pytestmark = pytest.mark.django_db
ASYNC = {"HTTP_PREFER": "respond-async"}


def post_async(client, bundle):
    return client.post("/fhir", json.dumps(bundle), content_type="application/fhir+json", **ASYNC)


def run_worker():
    call_command("worker", "--once", stdout=StringIO())


def test_an_async_post_is_queued_run_by_the_worker_and_polled(fhir):
    bundle = transaction(fhir_patient(), phq9_observation())

    response = post_async(fhir, bundle)

    assert response.status_code == 202
    status_url = response["Content-Location"].removeprefix("http://testserver")
    assert status_url.startswith("/fhir/$import-status/")
    assert Patient.objects.count() == 0
    waiting = fhir.get(status_url)
    assert (waiting.status_code, waiting["X-Progress"], waiting["Retry-After"]) == (
        202,
        "Queued",
        "2",
    )

    run_worker()

    done = fhir.get(status_url)
    assert done.status_code == 200
    assert done.json()["type"] == "transaction-response"
    assert [e["response"]["status"] for e in done.json()["entry"]] == ["201 Created"] * 2
    assert (Patient.objects.count(), ImportedResource.objects.count()) == (1, 2)
    job = ImportJob.objects.get()
    assert (job.status, job.stored, job.bundle) == ("done", 2, None)


def test_a_refused_async_transaction_answers_its_outcome_and_stores_nothing(fhir):
    bundle = transaction(fhir_patient(), phq9_observation(value=12, on="2099-01-01"))
    status_url = post_async(fhir, bundle)["Content-Location"].removeprefix("http://testserver")

    run_worker()

    answer = fhir.get(status_url)
    assert answer.status_code == 422
    assert answer.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource.effectiveDateTime"]
    assert not Patient.objects.exists() and not ImportedResource.objects.exists()


def test_malformed_json_is_refused_at_once_and_only_the_requester_sees_the_job(
    fhir, client, clinic
):
    bad = fhir.post("/fhir", "{not json", content_type="application/fhir+json", **ASYNC)
    assert bad.status_code == 400 and not ImportJob.objects.exists()

    status_url = post_async(fhir, transaction(fhir_patient()))["Content-Location"]
    other = factories.user(Role.CARE_MANAGER, clinic)
    _, raw = ApiToken.issue(other)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    assert client.get(status_url.removeprefix("http://testserver")).status_code == 404


def test_the_command_queues_a_directory_and_shows_its_status(tmp_path, clinic, capsys):
    for number in range(3):
        bundle = transaction(fhir_patient(f"p{number}", mrn=f"M{number}"))
        (tmp_path / f"b{number}.json").write_text(json.dumps(bundle))
    (tmp_path / "bad.json").write_text("{")

    call_command("import", "fhir", str(tmp_path), "--background")
    job = ImportJob.objects.get()
    queued = capsys.readouterr().out
    assert f"Queued import {job.key} of 4 files" in queued
    assert Patient.objects.count() == 0

    run_worker()
    call_command("import", "status", job.key)

    assert Patient.objects.count() == 3
    shown = capsys.readouterr().out
    assert f"{job.key} done 4 of 4 files — 3 stored — {tmp_path}" in shown
    assert "bad.json: not valid JSON" in shown
