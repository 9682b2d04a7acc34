from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cocm.accounts.models import AuditEvent, BreakGlassGrant, Role
from cocm.accounts.scoping import visible_episodes, visible_patients
from cocm.registry.models import Episode, Patient
from tests import factories

pytestmark = pytest.mark.django_db
REASON = "Patient in our ED tonight, chart needed for safety assessment"


@pytest.fixture
def home_clinic():
    return factories.clinic(name="Riverside")


@pytest.fixture
def other_clinic(home_clinic):
    return factories.clinic(home_clinic.organization, name="Eastside")


@pytest.fixture
def episode(other_clinic):
    care_manager = factories.user(Role.CARE_MANAGER, other_clinic)
    return factories.episode(other_clinic, care_manager, the_patient=factories.patient(mrn="E-77"))


@pytest.fixture
def pcp(home_clinic):
    return factories.user(Role.PCP, home_clinic)


def break_glass(client, mrn="E-77", reason=REASON):
    return client.post(reverse("break_glass"), {"mrn": mrn, "reason": reason})


def test_a_patient_of_another_clinic_is_hidden(client, pcp, episode):
    client.force_login(pcp)

    response = client.get(reverse("patient_chart", args=[episode.patient_id]))

    assert response.status_code == 404


def test_break_glass_opens_the_chart_for_a_stated_reason(client, pcp, episode):
    client.force_login(pcp)

    response = break_glass(client)

    assert response.status_code == 302
    assert response.url == reverse("patient_chart", args=[episode.patient_id])
    assert client.get(response.url).status_code == 200
    assert visible_episodes(pcp, Episode.objects).filter(id=episode.id).exists()


def test_a_grant_lasts_four_hours_and_keeps_the_reason(client, pcp, episode):
    client.force_login(pcp)

    break_glass(client)

    grant = BreakGlassGrant.objects.get()
    assert (grant.user, grant.patient_id, grant.reason) == (pcp, episode.patient_id, REASON)
    assert grant.expires_at - grant.granted_at == timedelta(hours=4)


def test_break_glass_is_audited_with_the_patient(client, pcp, episode):
    client.force_login(pcp)

    break_glass(client)

    event = AuditEvent.objects.get(action="emergency")
    assert (event.user, event.patient_id) == (pcp, episode.patient_id)
    assert event.object_id == BreakGlassGrant.objects.get().id


def test_an_expired_grant_hides_the_patient_again(client, pcp, episode):
    client.force_login(pcp)
    break_glass(client)
    BreakGlassGrant.objects.update(
        granted_at=timezone.now() - timedelta(hours=5), expires_at=timezone.now()
    )

    response = client.get(reverse("patient_chart", args=[episode.patient_id]))

    assert response.status_code == 404
    assert not visible_patients(pcp, Patient.objects).filter(id=episode.patient_id).exists()


def test_break_glass_needs_a_reason(client, pcp, episode):
    client.force_login(pcp)

    response = break_glass(client, reason="need it")

    assert response.status_code == 200
    assert "at least 10 characters" in response.content.decode()
    assert not BreakGlassGrant.objects.exists()


def test_an_unknown_mrn_is_reported_without_a_grant(client, pcp, episode):
    client.force_login(pcp)

    response = break_glass(client, mrn="NOPE-1")

    assert "No patient with this MRN in your organization." in response.content.decode()
    assert not BreakGlassGrant.objects.exists()


def test_a_patient_of_another_organization_cannot_be_opened(client, pcp):
    stranger = factories.patient(factories.organization("Elsewhere"), mrn="X-1")
    client.force_login(pcp)

    response = break_glass(client, mrn="X-1")

    assert "No patient with this MRN" in response.content.decode()
    assert not visible_patients(pcp, Patient.objects).filter(id=stranger.id).exists()


def test_billing_staff_have_no_break_glass(client, home_clinic, episode):
    client.force_login(factories.user(Role.BILLING, home_clinic))

    response = break_glass(client)

    assert response.status_code == 403


def test_the_organization_admin_report_lists_every_grant(client, pcp, home_clinic, episode):
    client.force_login(pcp)
    break_glass(client)
    client.force_login(factories.user(Role.ORG_ADMIN, home_clinic))

    response = client.get(reverse("break_glass_report"))

    html = response.content.decode()
    assert response.status_code == 200
    assert REASON in html
    assert pcp.username in html
    assert f"id {episode.patient_id}" in html
