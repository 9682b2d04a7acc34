"""Who may use /fhir: the permission table (cocm/accounts/permissions.py) for every role,
clinic scoping, and the audit log."""

import pytest

from cocm.accounts.models import ApiToken, AuditEvent, Role, TokenScope
from cocm.accounts.permissions import PERMISSIONS
from cocm.interop.importer import import_bundle
from cocm.registry.models import Patient
from tests import factories
from tests.interop.conftest import fhir_patient, phq9_observation, post_bundle, transaction

pytestmark = pytest.mark.django_db

ROLES = list(Role)


def bearer(client, user, scope=TokenScope.READ_WRITE):
    _, raw = ApiToken.issue(user, scope=scope)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


@pytest.fixture
def imported(clinic):
    import_bundle(
        clinic.organization,
        transaction(fhir_patient(), phq9_observation()),
        as_of=factories.TODAY,
        clinic=clinic,
    )
    return Patient.objects.get()


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_each_role_reaches_exactly_what_its_permissions_allow(client, clinic, imported, role):
    bearer(client, factories.user(role, clinic))

    read = client.get("/fhir/Observation/o1")
    search = client.get("/fhir/Patient")
    posted = post_bundle(client, transaction(fhir_patient("p9", mrn="M9")))

    clinical = role in PERMISSIONS["view_clinical"]
    assert (read.status_code, search.status_code) == ((200, 200) if clinical else (403, 403))
    assert posted.status_code == (200 if role in PERMISSIONS["import_records"] else 403)
    assert read.json()["resourceType"] == ("Observation" if clinical else "OperationOutcome")


def test_other_clinics_and_organizations_see_nothing(client, clinic, imported):
    neighbour = factories.user(Role.CARE_MANAGER, factories.clinic(clinic.organization))
    stranger = factories.user(Role.CARE_MANAGER, factories.clinic(factories.organization("Far")))

    for outsider in (neighbour, stranger):
        bearer(client, outsider)
        assert client.get("/fhir/Patient/p1").status_code == 404
        assert client.get("/fhir/Observation/o1").status_code == 404
        assert client.get("/fhir/Observation", {"patient": "Patient/p1"}).json()["total"] == 0


def test_a_read_is_audited_with_the_patient(client, clinic, imported):
    user = factories.user(Role.PCP, clinic)
    bearer(client, user)

    client.get("/fhir/Observation/o1")
    client.get("/fhir/Observation", {"patient": "p1"})

    events = AuditEvent.objects.filter(user=user, channel="api")
    assert list(events.values_list("what", "patient_id")) == [
        ("FHIR Observation", imported.pk),
        ("FHIR Observation search", imported.pk),
    ]


def test_a_read_only_token_cannot_import(client, clinic):
    bearer(client, factories.user(Role.CARE_MANAGER, clinic), scope=TokenScope.READ)

    response = post_bundle(client, transaction(fhir_patient()))

    assert response.status_code == 403
    assert Patient.objects.count() == 0


def test_an_import_is_audited_with_each_patient(client, clinic):
    user = factories.user(Role.CARE_MANAGER, clinic)
    bearer(client, user)

    post_bundle(client, transaction(fhir_patient(), fhir_patient("p2", mrn="M2")))

    events = AuditEvent.objects.filter(user=user, action="update")
    assert sorted(events.values_list("patient_id", flat=True)) == sorted(
        Patient.objects.values_list("pk", flat=True)
    )
