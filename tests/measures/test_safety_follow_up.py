"""Issue 12, items 1, 2 and 9: an open safety alert blocks discharge and relapse prevention,
stays on the caseload whatever the status, is closed only by a documented follow-up with a
note and the clinician's credentials, and the in-product notices name the patient."""

from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

from cocm.accounts.models import ApiToken, AuditEvent, Role
from cocm.domain.episodes import DischargeReason, EpisodeStatus
from cocm.measures import services
from cocm.measures.models import Notification, SafetyAlert
from cocm.registry import services as registry
from cocm.registry.models import Episode
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY
ITEM_9_POSITIVE = [2, 2, 2, 2, 2, 2, 2, 2, 1]  # PHQ-9 17, item 9 "several days"


@pytest.fixture
def care_manager(clinic):
    user = factories.user(Role.CARE_MANAGER, clinic, username="carla")
    user.first_name, user.last_name, user.credentials = "Carla", "Mendes", "LCSW"
    user.email = "carla@example.org"
    user.save()
    return user


@pytest.fixture
def episode(clinic, care_manager):
    patient = factories.patient(clinic.organization, given_name="Rosa", family_name="Wright")
    episode = factories.episode(
        clinic, care_manager, the_patient=patient, consent_on=date(2026, 9, 1)
    )
    registry.change_status(
        episode, EpisodeStatus.ACTIVE, on=date(2026, 9, 8), by=care_manager, as_of=TODAY
    )
    return episode


@pytest.fixture
def alert(episode, care_manager):
    services.record_assessment(
        episode, "PHQ-9", date(2026, 11, 20), ITEM_9_POSITIVE, method="phone",
        by=care_manager, as_of=TODAY,
    )  # fmt: skip
    return SafetyAlert.objects.get(episode=episode)


# --------------------------------------------------------------------------- item 1


@pytest.mark.parametrize(
    ("to", "reason"),
    [
        (EpisodeStatus.DISCHARGED, DischargeReason.GOALS_MET),
        (EpisodeStatus.RELAPSE_PREVENTION, None),
    ],
)
def test_an_open_alert_blocks_discharge_and_relapse_prevention(
    episode, care_manager, alert, to, reason
):
    with pytest.raises(registry.InvalidRequest, match="open safety alert") as error:
        registry.change_status(episode, to, on=TODAY, by=care_manager, as_of=TODAY, reason=reason)

    assert error.value.field == "status"
    assert Episode.objects.get(id=episode.id).status == "active"


def test_once_followed_up_the_episode_may_be_discharged(episode, care_manager, alert):
    services.resolve_alert(
        alert, action="risk_assessment", note="Low risk; plan reviewed", by=care_manager
    )

    registry.change_status(
        episode, EpisodeStatus.DISCHARGED, on=TODAY, by=care_manager, as_of=TODAY,
        reason=DischargeReason.GOALS_MET,
    )  # fmt: skip

    assert Episode.objects.get(id=episode.id).status == "discharged"


def test_the_status_page_refuses_the_discharge_naming_the_field(
    client, episode, care_manager, alert
):
    client.force_login(care_manager)

    response = client.post(
        reverse("change_status", args=[episode.id]),
        {
            "status": "discharged",
            "on": "2026-11-23",
            "reason": "goals_met",
            "version": episode.version,
        },
    )

    assert response.status_code == 200
    assert "open safety alert" in response.context["form"].errors["status"][0]
    assert Episode.objects.get(id=episode.id).status == "active"


def test_the_api_refuses_the_discharge_naming_the_field(client, episode, care_manager, alert):
    _, raw = ApiToken.issue(care_manager)

    response = client.post(
        f"/api/v1/episodes/{episode.id}/status",
        {"status": "discharged", "on": "2026-11-23", "reason": "goals_met"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "status"]
    assert "open safety alert" in response.json()["detail"][0]["msg"]


def test_a_discharged_episode_with_an_open_alert_stays_on_the_caseload(
    client, episode, care_manager
):
    # An alert opened after the discharge (a corrected assessment, or data from before the rule).
    registry.change_status(
        episode, EpisodeStatus.DISCHARGED, on=date(2026, 11, 21), by=care_manager, as_of=TODAY,
        reason=DischargeReason.GOALS_MET,
    )  # fmt: skip
    assessment = services.record_assessment(
        episode, "PHQ-9", date(2026, 11, 20), [2, 2, 2, 2, 2, 2, 2, 2, 0], method="phone",
        by=care_manager, as_of=TODAY,
    )  # fmt: skip
    services.amend_assessment(
        assessment, ITEM_9_POSITIVE, taken_on=date(2026, 11, 20), reason="item 9 misread",
        by=care_manager, as_of=TODAY,
    )  # fmt: skip
    client.force_login(care_manager)

    response = client.get(reverse("caseload"))

    (row,) = response.context["rows"]
    assert (row.patient_name, row.status, row.open_alert) == ("Wright, Rosa", "discharged", True)
    assert [flag.code for flag in row.flags] == ["safety_alert"]
    assert "Wright, Rosa" in response.content.decode()


# --------------------------------------------------------------------------- item 2


def test_the_follow_up_form_preselects_no_action(client, episode, care_manager, alert):
    client.force_login(care_manager)

    response = client.get(reverse("patient_chart", args=[episode.patient_id]))

    html = response.content.decode()
    assert '<option value="" selected>— choose what was done —</option>' in html
    assert 'value="safety_plan" selected' not in html
    assert "Signed as Carla Mendes, LCSW" in html


def test_an_empty_note_does_not_close_the_alert(client, episode, care_manager, alert):
    client.force_login(care_manager)

    response = client.post(
        reverse("follow_up_alert", args=[alert.id]),
        {"action": "safety_plan", "note": ""},
        follow=True,
    )

    alert.refresh_from_db()
    assert alert.is_open
    assert "Note: Describe what was done (a note is required)." in response.content.decode()


def test_no_action_does_not_close_the_alert(client, episode, care_manager, alert):
    client.force_login(care_manager)

    response = client.post(
        reverse("follow_up_alert", args=[alert.id]), {"note": "Called her"}, follow=True
    )

    alert.refresh_from_db()
    assert alert.is_open
    assert "What was done: Choose what was done." in response.content.decode()


@pytest.mark.parametrize("action", ["safety_plan", "risk_assessment", "emergency"])
def test_the_service_requires_a_note_for_every_action(alert, care_manager, action):
    with pytest.raises(registry.InvalidRequest) as error:
        services.resolve_alert(alert, action=action, note="  ", by=care_manager)

    assert error.value.field == "note"


def test_the_record_shows_the_clinicians_credentials(client, episode, care_manager, alert):
    client.force_login(care_manager)
    client.post(
        reverse("follow_up_alert", args=[alert.id]),
        {"action": "risk_assessment", "note": "Low risk; safety plan reviewed"},
    )

    response = client.get(reverse("patient_chart", args=[episode.patient_id]))

    alert.refresh_from_db()
    assert alert.resolved_by_credentials == "LCSW"
    assert "safety follow-up by Carla Mendes, LCSW: Suicide risk assessment done" in (
        response.content.decode()
    )


# --------------------------------------------------------------------------- item 9


def test_the_badge_names_the_patient_and_links_to_the_chart(client, episode, care_manager, alert):
    client.force_login(care_manager)

    response = client.get(reverse("notification_badge"))

    html = response.content.decode()
    chart = reverse("patient_chart", args=[episode.patient_id])
    assert f'href="{chart}"' in html
    assert "<strong>Wright, Rosa</strong> — Safety alert" in html
    assert (
        AuditEvent.objects.filter(
            what="safety notification", patient_id=episode.patient_id, user=care_manager
        ).count()
        == 1
    )


def test_the_email_still_names_no_one(episode, care_manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.record_assessment(
            episode, "PHQ-9", date(2026, 11, 20), ITEM_9_POSITIVE, method="phone",
            by=care_manager, as_of=TODAY,
        )  # fmt: skip

    (email,) = mail.outbox
    assert "Safety alert" in email.body
    assert "Wright" not in email.body + email.subject
    assert "Rosa" not in email.body + email.subject


def test_notifications_page_names_the_patient(client, episode, care_manager, alert):
    client.force_login(care_manager)

    response = client.get(reverse("notifications"))

    assert "<strong>Wright, Rosa</strong> — " in response.content.decode()
    assert AuditEvent.objects.filter(what="notification", patient_id=episode.patient_id).exists()


def test_a_user_who_cannot_see_the_patient_is_not_told_the_name(client, episode, alert):
    outsider = factories.user(Role.CARE_MANAGER, factories.clinic(episode.clinic.organization))
    Notification.objects.create(
        user=outsider, patient=episode.patient, text="Safety alert", url="/", urgent=True
    )
    client.force_login(outsider)

    response = client.get(reverse("notification_badge"))

    assert "Wright" not in response.content.decode()


def test_opening_the_chart_reads_the_notices_about_that_patient(
    client, episode, care_manager, alert
):
    client.force_login(care_manager)

    client.get(reverse("patient_chart", args=[episode.patient_id]))

    assert not Notification.objects.filter(user=care_manager, read_at__isnull=True).exists()
