"""The server driven as an EHR-side app would: with fhirpy, an independent FHIR client,
over HTTP (pytest-django's live server)."""

from datetime import date

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome, ResourceNotFound

from cocm.accounts.models import ApiToken, Role
from cocm.measures import services as measures
from cocm.measures.models import Method
from tests import factories
from tests.interop.conftest import fhir_patient, phq9_observation, transaction


@pytest.fixture
def ehr(live_server):
    clinic = factories.clinic(name="Live Clinic")
    manager = factories.user(Role.CARE_MANAGER, clinic)
    _, raw = ApiToken.issue(manager)
    client = SyncFHIRClient(f"{live_server.url}/fhir", authorization=f"Bearer {raw}")
    return client, clinic, manager


def test_an_ehr_app_imports_a_bundle_and_reads_it_back(ehr):
    client, _, _ = ehr
    bundle = transaction(
        fhir_patient(), phq9_observation(value=9), phq9_observation("o2", value=4, on="2026-11-01")
    )

    answer = client.execute("", method="post", data=bundle)
    patients = client.resources("Patient").search(identifier="urn:ehr:mrn|MRN-1").fetch_all()
    observations = (
        client.resources("Observation")
        .search(patient="Patient/p1", date="ge2026-10-15")
        .fetch_all()
    )

    assert [e["response"]["status"] for e in answer["entry"]] == ["201 Created"] * 3
    assert [p.id for p in patients] == ["p1"]
    assert [o["valueInteger"] for o in observations] == [4]
    get_fhir_model_class("Observation").model_validate(observations[0].serialize())


def test_an_ehr_app_pages_through_registry_observations(ehr):
    client, clinic, manager = ehr
    episode = factories.episode(clinic, manager, referred_on=date(2026, 9, 1))
    for day in (2, 9, 16):
        measures.record_assessment(
            episode,
            "GAD-7",
            date(2026, 9, day),
            [1] * 7,
            method=Method.PHONE,
            by=manager,
            as_of=factories.TODAY,
        )

    found = (
        client.resources("Observation").search(code="http://loinc.org|70274-6").limit(2).fetch_all()
    )
    patient = client.reference("Patient", str(episode.patient_id)).to_resource()

    assert [o["effectiveDateTime"] for o in found] == ["2026-09-02", "2026-09-09", "2026-09-16"]
    assert patient["identifier"][0]["value"] == episode.patient.mrn


def test_an_ehr_app_gets_operation_outcomes(ehr):
    client, _, _ = ehr

    with pytest.raises(ResourceNotFound):
        client.reference("Patient", "nobody").to_resource()
    with pytest.raises(OperationOutcome):
        client.resources("Observation").search(date="soon").fetch()
