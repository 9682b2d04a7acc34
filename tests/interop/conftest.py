import json
from pathlib import Path

import pytest

from cocm.accounts.models import ApiToken, Role
from tests import factories

DECK = Path(__file__).resolve().parent.parent / "fixtures" / "ecqm" / "mp2025" / "tests"


@pytest.fixture
def care_manager(clinic):
    return factories.user(Role.CARE_MANAGER, clinic, username="cm")


@pytest.fixture
def fhir(client, care_manager):
    """The test client with the care manager's bearer token."""
    _, raw = ApiToken.issue(care_manager)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def post_bundle(client, bundle):
    return client.post("/fhir", json.dumps(bundle), content_type="application/fhir+json")


def transaction(*resources, method="PUT", kind="transaction"):
    entries = []
    for resource in resources:
        url = (
            f"{resource['resourceType']}/{resource['id']}"
            if method == "PUT"
            else resource["resourceType"]
        )
        entries.append({"resource": resource, "request": {"method": method, "url": url}})
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def fhir_patient(fhir_id="p1", mrn="MRN-1", **extra):
    return {
        "resourceType": "Patient",
        "id": fhir_id,
        "identifier": [
            {"system": "urn:other", "value": f"X-{mrn}"},
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                    ]
                },
                "system": "urn:ehr:mrn",
                "value": mrn,
            },
        ],
        "name": [{"family": "Lopez", "given": ["Ana", "Maria"]}],
        "gender": "female",
        "birthDate": "1968-02-29",
        **extra,
    }


def phq9_observation(obs_id="o1", patient="Patient/p1", value=12, on="2026-10-01", **extra):
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": "44261-6"}]},
        "subject": {"reference": patient},
        "effectiveDateTime": on,
        "valueInteger": value,
        **extra,
    }
