"""FHIR Bulk Data export: kick-off, polling, manifest, NDJSON files, _type/_since, Group,
DELETE, expiry; the export runs as a django-tasks task that `cocm worker` runs."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from cocm.accounts.models import ApiToken, Role
from cocm.interop.importer import import_bundle
from cocm.interop.models import ExportJob
from tests import factories
from tests.interop.conftest import fhir_patient, phq9_observation, transaction
from tests.interop.test_fhir_server import chart  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db
ASYNC = {"HTTP_PREFER": "respond-async"}


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.COCM_EXPORT_DIR = tmp_path / "exports"
    return settings.COCM_EXPORT_DIR


def kick_off(client, url="/fhir/$export", **params):
    response = client.get(url, params, **ASYNC)
    assert response.status_code == 202, response.content
    return response["Content-Location"].removeprefix("http://testserver")


def run_worker():
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    return out.getvalue()


def ndjson(client, url):
    response = client.get(url.removeprefix("http://testserver"))
    assert response["Content-Type"] == "application/fhir+ndjson"
    return [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]


def test_a_system_export_runs_in_the_worker_and_serves_valid_ndjson(fhir, chart):  # noqa: F811
    status_url = kick_off(fhir)

    waiting = fhir.get(status_url)
    worker_output = run_worker()
    manifest = fhir.get(status_url).json()

    assert waiting.status_code == 202
    assert waiting["X-Progress"] == "Queued"
    assert waiting["Retry-After"] == "2"
    assert "sent 0 scheduled link(s)" in worker_output
    counts = {item["type"]: item["count"] for item in manifest["output"]}
    assert counts == {
        "Patient": 1,
        "EpisodeOfCare": 1,
        "Condition": 1,
        "Observation": 2,
        "QuestionnaireResponse": 2,
        "Encounter": 2,  # the contact and the review's minutes
        "CarePlan": 1,
        "Procedure": 1,
    }
    assert manifest["requiresAccessToken"] is True
    for item in manifest["output"]:
        resources = ndjson(fhir, item["url"])
        assert len(resources) == item["count"]
        for resource in resources:
            get_fhir_model_class(item["type"]).model_validate(resource)


def test_type_and_since_narrow_the_export(fhir, chart):  # noqa: F811
    later = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    only_observations = kick_off(fhir, _type="Observation,Patient")
    nothing_new = kick_off(fhir, "/fhir/Patient/$export", _since=later)
    run_worker()

    first = fhir.get(only_observations).json()
    second = fhir.get(nothing_new).json()

    assert [item["type"] for item in first["output"]] == ["Observation", "Patient"]
    assert second["output"] == []


def test_a_group_is_a_clinic_or_a_care_managers_caseload(fhir, chart, clinic, care_manager):  # noqa: F811
    elsewhere = factories.clinic(clinic.organization, name="Elsewhere")
    factories.add_role(care_manager, Role.CARE_MANAGER, elsewhere)
    import_bundle(
        clinic.organization,
        transaction(fhir_patient("far", mrn="F-1"), phq9_observation(patient="Patient/far")),
        as_of=factories.TODAY,
        clinic=elsewhere,
    )

    by_clinic = kick_off(
        fhir, f"/fhir/Group/clinic-{elsewhere.pk}/$export", _type="Patient,Observation"
    )
    by_caseload = kick_off(
        fhir, f"/fhir/Group/caremanager-{care_manager.pk}/$export", _type="Patient"
    )
    run_worker()

    clinic_manifest = fhir.get(by_clinic).json()
    caseload_manifest = fhir.get(by_caseload).json()
    assert {i["type"]: i["count"] for i in clinic_manifest["output"]} == {
        "Patient": 1,
        "Observation": 1,
    }
    assert [p["id"] for p in ndjson(fhir, clinic_manifest["output"][0]["url"])] == ["far"]
    assert [p["id"] for p in ndjson(fhir, caseload_manifest["output"][0]["url"])] == [str(chart.pk)]


def test_delete_cancels_and_removes_the_files(fhir, chart, export_dir):  # noqa: F811
    status_url = kick_off(fhir)
    run_worker()

    deleted = fhir.delete(status_url)

    assert deleted.status_code == 202
    assert fhir.get(status_url).status_code == 404
    assert not any(export_dir.iterdir())


def test_expired_exports_are_gone_and_the_worker_removes_their_files(fhir, chart, export_dir):  # noqa: F811
    status_url = kick_off(fhir)
    run_worker()
    ExportJob.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    gone = fhir.get(status_url)
    output = run_worker()

    assert gone.status_code == 404
    assert "removed 1 expired export(s)" in output
    assert not any(export_dir.iterdir())


@pytest.mark.parametrize(
    ("url", "params", "headers", "status", "words"),
    [
        ("/fhir/$export", {}, {}, 400, "Prefer: respond-async"),
        ("/fhir/$export", {"_type": "Medication"}, ASYNC, 400, "_type Medication"),
        ("/fhir/$export", {"_since": "last week"}, ASYNC, 400, "_since must be an instant"),
        ("/fhir/$export", {"_outputFormat": "text/csv"}, ASYNC, 400, "not supported"),
        ("/fhir/Group/clinic-999999/$export", {}, ASYNC, 404, "not known"),
        ("/fhir/Group/nonsense/$export", {}, ASYNC, 404, "not known"),
        ("/fhir/$export-status/nope", {}, {}, 404, "No such export"),
    ],
)
def test_bad_kick_offs_get_operation_outcomes(fhir, url, params, headers, status, words):
    response = fhir.get(url, params, **headers)

    assert response.status_code == status
    assert words in response.json()["issue"][0]["diagnostics"]
    assert not ExportJob.objects.exists()


def test_only_the_requester_sees_the_export_and_billing_cannot_export(fhir, client, chart, clinic):  # noqa: F811
    status_url = kick_off(fhir)
    _, other = ApiToken.issue(factories.user(Role.CARE_MANAGER, clinic))
    _, biller = ApiToken.issue(factories.user(Role.BILLING, clinic))

    peek = client.get(status_url, HTTP_AUTHORIZATION=f"Bearer {other}")
    billing = client.get("/fhir/$export", HTTP_AUTHORIZATION=f"Bearer {biller}", **ASYNC)

    assert peek.status_code == 404
    assert billing.status_code == 403


def test_a_failed_export_is_retried_and_then_reported(fhir, chart, settings, monkeypatch):  # noqa: F811
    from cocm.interop import export

    settings.COCM_TASK_RETRY_SECONDS = 0
    real = export._resources
    failures = iter([True])

    def flaky(job, resource_type):
        if next(failures, False):
            raise OSError("disk full")
        return real(job, resource_type)

    monkeypatch.setattr(export, "_resources", flaky)
    recovered = kick_off(fhir, _type="Patient")
    run_worker()
    monkeypatch.setattr(
        export, "_resources", lambda job, kind: (_ for _ in ()).throw(OSError("gone"))
    )
    doomed = kick_off(fhir, _type="Patient")
    for _ in range(export.MAX_ATTEMPTS):
        run_worker()

    assert fhir.get(recovered).json()["output"][0]["count"] == 1
    failed = fhir.get(doomed)
    assert failed.status_code == 500
    assert "The export failed: gone" in failed.json()["issue"][0]["diagnostics"]
