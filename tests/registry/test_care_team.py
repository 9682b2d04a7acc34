"""Issue 12, item 5: the care team and the coverage are editable after registration,
versioned and audited, with choices limited to the episode's clinic; an episode without a
psychiatric consultant is flagged and listed for the clinic lead."""

from datetime import date

import pytest
from django.urls import reverse

from cocm.accounts.models import AuditEvent, Role
from cocm.care.caseload import organization_caseload_rows
from cocm.registry import services
from cocm.registry.models import CareTeamChange, Coverage, Episode
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_clinic(clinic):
    return factories.clinic(clinic.organization, name="Lakeside")


@pytest.fixture
def care_manager(clinic, other_clinic):
    return factories.user(Role.CARE_MANAGER, clinic, other_clinic, username="carla")


@pytest.fixture
def consultant(clinic):
    return factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic, username="paul")


@pytest.fixture
def lakeside_consultant(other_clinic):
    return factories.user(Role.PSYCHIATRIC_CONSULTANT, other_clinic, username="lena")


@pytest.fixture
def episode(clinic, care_manager):
    patient = factories.patient(clinic.organization, given_name="Rosa", family_name="Wright")
    return factories.episode(clinic, care_manager, the_patient=patient, consent_on=date(2026, 9, 1))


def test_the_referral_refuses_a_consultant_of_another_clinic(
    client, clinic, care_manager, lakeside_consultant
):
    patient = factories.patient(clinic.organization)
    client.force_login(care_manager)

    response = client.post(
        reverse("refer_patient", args=[patient.id]),
        {
            "clinic": clinic.id,
            "referred_on": "2026-11-20",
            "care_manager": care_manager.id,
            "psychiatric_consultant": lakeside_consultant.id,
            "billing_program": "cocm",
        },
    )

    assert response.status_code == 200
    assert (
        "is not a psychiatric consultant at Riverside"
        in (response.context["form"].errors["psychiatric_consultant"][0])
    )
    assert not Episode.objects.filter(patient=patient).exists()


def test_the_care_team_page_offers_only_the_episodes_clinic(
    client, episode, care_manager, consultant, lakeside_consultant
):
    client.force_login(care_manager)

    response = client.get(reverse("edit_care_team", args=[episode.id]))

    offered = list(response.context["form"].fields["psychiatric_consultant"].queryset)
    assert offered == [consultant]
    assert "Lakeside" not in response.content.decode()
    assert "Save care team" in response.content.decode()


def test_changing_the_care_team_is_versioned_kept_and_audited(
    client, episode, care_manager, consultant
):
    client.force_login(care_manager)

    response = client.post(
        reverse("edit_care_team", args=[episode.id]),
        {
            "version": episode.version,
            "care_manager": care_manager.id,
            "psychiatric_consultant": consultant.id,
        },
        follow=True,
    )

    episode.refresh_from_db()
    assert episode.psychiatric_consultant == consultant
    assert "Care team saved (1 changed)." in response.content.decode()
    change = CareTeamChange.objects.get()
    assert (change.role, change.from_user, change.to_user, change.changed_by) == (
        "psychiatric_consultant",
        None,
        consultant,
        care_manager,
    )
    assert AuditEvent.objects.filter(what="care team", patient_id=episode.patient_id).exists()


def test_a_stale_care_team_form_conflicts(client, episode, care_manager, consultant):
    stale = episode.version
    services.change_care_team(
        episode, services.CareTeam(care_manager, consultant, None), version=stale, by=care_manager
    )
    client.force_login(care_manager)

    response = client.post(
        reverse("edit_care_team", args=[episode.id]),
        {"version": stale, "care_manager": care_manager.id},
    )

    assert "changed by someone else" in response.content.decode()
    episode.refresh_from_db()
    assert episode.psychiatric_consultant == consultant


def test_the_service_refuses_a_member_of_another_clinic(episode, care_manager, lakeside_consultant):
    with pytest.raises(services.InvalidRequest) as error:
        services.change_care_team(
            episode,
            services.CareTeam(care_manager, lakeside_consultant, None),
            version=episode.version,
            by=care_manager,
        )

    assert error.value.field == "psychiatric_consultant"


def test_no_consultant_is_flagged_until_one_is_assigned(clinic, episode, care_manager, consultant):
    (row,) = organization_caseload_rows(clinic.organization, Episode.objects.all())
    assert "no_consultant" in [flag.code for flag in row.flags]

    services.change_care_team(
        episode,
        services.CareTeam(care_manager, consultant, None),
        version=episode.version,
        by=care_manager,
    )

    (row,) = organization_caseload_rows(clinic.organization, Episode.objects.all())
    assert "no_consultant" not in [flag.code for flag in row.flags]


def test_the_clinic_lead_lists_episodes_without_a_consultant(
    client, clinic, episode, care_manager, consultant
):
    factories.episode(
        clinic,
        care_manager,
        psychiatric_consultant=consultant,
        the_patient=factories.patient(clinic.organization, family_name="Lopez"),
    )
    client.force_login(care_manager)

    response = client.get(reverse("without_consultant"))

    html = response.content.decode()
    assert [row["episode"] for row in response.context["rows"]] == [episode]
    assert "Wright, Rosa" in html
    assert "Lopez" not in html
    assert reverse("edit_care_team", args=[episode.id]) in html


def test_coverage_can_be_added_and_ended_after_registration(client, episode, care_manager):
    patient = episode.patient
    client.force_login(care_manager)

    client.post(
        reverse("add_coverage", args=[patient.id]),
        {
            "version": patient.version,
            "payer_kind": "medicare",
            "payer_name": "Medicare Part B",
            "member_id": "1EG4",
            "starts_on": "2026-01-01",
        },
    )
    coverage = Coverage.objects.get(patient=patient)
    patient.refresh_from_db()
    response = client.post(
        reverse("edit_coverage", args=[patient.id, coverage.id]),
        {
            "version": patient.version,
            "payer_kind": "medicare",
            "payer_name": "Medicare Part B",
            "member_id": "1EG4",
            "starts_on": "2026-01-01",
            "ends_on": "2026-10-31",
        },
        follow=True,
    )

    coverage.refresh_from_db()
    assert coverage.ends_on == date(2026, 10, 31)
    assert "Medicare — Medicare Part B" in response.content.decode()
    assert AuditEvent.objects.filter(what="coverage", patient_id=patient.id).count() == 2


def test_a_coverage_ending_before_it_starts_is_refused(client, episode, care_manager):
    patient = episode.patient
    client.force_login(care_manager)

    response = client.post(
        reverse("add_coverage", args=[patient.id]),
        {
            "version": patient.version,
            "payer_kind": "medicaid",
            "starts_on": "2026-05-01",
            "ends_on": "2026-04-01",
        },
    )

    assert "ends (2026-04-01) before it starts" in response.context["form"].errors["ends_on"][0]
    assert not Coverage.objects.exists()
