import pytest

from cocm.accounts.models import ApiToken, AuditEvent, Role
from cocm.interop.importer import import_bundle
from tests import factories
from tests.interop.conftest import fhir_patient, transaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, care_manager):
    _, raw = ApiToken.issue(care_manager)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def test_it_finds_a_patient_by_mrn_or_kept_identifier(api, clinic):
    import_bundle(clinic.organization, transaction(fhir_patient()), as_of=factories.TODAY)

    by_mrn = api.get("/api/v1/patients", {"identifier": "MRN-1"})
    by_other = api.get("/api/v1/patients", {"identifier": "X-MRN-1"})

    assert by_mrn.status_code == 200
    assert [p["mrn"] for p in by_mrn.json()] == ["MRN-1"]
    assert by_other.json() == by_mrn.json()
    assert by_mrn["X-Total-Count"] == "1"


def test_it_finds_patients_by_name_prefix_page_by_page(api, clinic, care_manager):
    for given in ("Ana", "Andre", "Bea"):
        factories.patient(clinic.organization, given_name=given, family_name="Zed")
    factories.patient(clinic.organization, given_name="Carl", family_name="Anders")

    first = api.get("/api/v1/patients", {"name": "an", "limit": 2})
    second = api.get("/api/v1/patients", {"name": "an", "limit": 2, "offset": 2})

    names = [p["given_name"] for p in first.json() + second.json()]
    assert names == ["Carl", "Ana", "Andre"]
    assert first["X-Total-Count"] == "3"
    assert AuditEvent.objects.filter(what="patient search").count() == 3


def test_it_shows_only_patients_the_caller_may_see(api, clinic):
    elsewhere = factories.clinic(clinic.organization, name="Far Clinic")
    import_bundle(
        clinic.organization, transaction(fhir_patient()), as_of=factories.TODAY, clinic=elsewhere
    )
    factories.patient(factories.organization("Other"), mrn="MRN-1")

    response = api.get("/api/v1/patients", {"identifier": "MRN-1"})

    assert response.json() == []


@pytest.mark.parametrize(
    "params", [{}, {"name": "a", "limit": 0}, {"name": "a", "offset": 10**20}, {"name": "x" * 101}]
)
def test_bad_queries_are_422_not_500(api, params):
    response = api.get("/api/v1/patients", params)

    assert response.status_code == 422


def test_billing_staff_may_search_but_not_without_a_token(client, clinic):
    assert client.get("/api/v1/patients", {"name": "a"}).status_code == 401
    _, raw = ApiToken.issue(factories.user(Role.BILLING, clinic))

    response = client.get("/api/v1/patients", {"name": "a"}, HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 200
