from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.urls import reverse

from cocm.accounts.models import AuditEvent, Role
from cocm.measures import services
from cocm.measures.models import Assessment, Invitation, Notification, SafetyAlert
from tests import factories

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def episode(clinic, care_manager):
    patient = factories.patient(clinic.organization, email="ana@example.org", given_name="Ana")
    return factories.episode(clinic, care_manager, the_patient=patient, consent_on=date(2026, 9, 1))


@pytest.fixture
def cm_client(client, care_manager):
    client.force_login(care_manager)
    return client


def phq9_post(answers, taken_on="2026-11-20"):
    data = {"taken_on": taken_on, "method": "phone"}
    data.update({f"item_{n}": str(a) for n, a in enumerate(answers, start=1) if a is not None})
    return data


def test_give_a_phq9_from_the_chart(cm_client, episode):
    url = reverse("new_assessment", args=[episode.id]) + "?instrument=PHQ-9"

    form_page = cm_client.get(url)
    response = cm_client.post(url, phq9_post([3, 3, 3, 3, 3, 3, 3, 3, 0]))

    assert "Little interest or pleasure in doing things" in form_page.content.decode()
    assert response.status_code == 302
    assessment = Assessment.objects.get()
    assert (assessment.total, assessment.severity, assessment.method) == (24, "severe", "phone")


def test_a_client_supplied_total_is_ignored(cm_client, episode):
    url = reverse("new_assessment", args=[episode.id]) + "?instrument=GAD-7"

    cm_client.post(url, {**phq9_post([1] * 7), "total": "21", "severity": "minimal"})

    assert Assessment.objects.get().total == 7


def test_too_many_missing_items_are_refused_on_the_page(cm_client, episode):
    url = reverse("new_assessment", args=[episode.id]) + "?instrument=PHQ-9"

    response = cm_client.post(url, phq9_post([1, 1, 1, 1, 1, 1, None, None, None]))

    assert response.status_code == 200
    assert "3 missing items; at most 2 can be missing" in response.content.decode()
    assert not Assessment.objects.exists()


def test_unknown_instrument_is_not_found(cm_client, episode):
    response = cm_client.get(reverse("new_assessment", args=[episode.id]) + "?instrument=BDI")

    assert response.status_code == 404


def test_chart_shows_alert_first_with_trajectory(cm_client, episode):
    services.record_assessment(
        episode,
        "PHQ-9",
        date(2026, 9, 2),
        [2] * 8 + [1],
        method="in_clinic",
        by=None,
        as_of=factories.TODAY,
    )

    page = cm_client.get(reverse("patient_chart", args=[episode.patient_id])).content.decode()

    assert page.index("Open safety alert") < page.index("Episode of care")
    assert "<svg" in page
    assert "PHQ-9</strong> baseline 17" in page


def test_follow_up_closes_the_alert(cm_client, episode, care_manager):
    services.record_assessment(
        episode,
        "PHQ-9",
        date(2026, 9, 2),
        [2] * 8 + [1],
        method="in_clinic",
        by=None,
        as_of=factories.TODAY,
    )
    alert = SafetyAlert.objects.get()

    cm_client.post(
        reverse("follow_up_alert", args=[alert.id]),
        {"action": "risk_assessment", "note": "low risk, plan in place"},
    )

    alert.refresh_from_db()
    assert alert.resolved_by == care_manager
    assert alert.action == "risk_assessment"


def test_caseload_lists_open_alerts_first(cm_client, clinic, care_manager, episode):
    other = factories.episode(
        clinic,
        care_manager,
        consent_on=date(2026, 9, 1),
        the_patient=factories.patient(clinic.organization, family_name="Aaron"),
    )
    services.record_assessment(
        episode,
        "PHQ-9",
        date(2026, 9, 2),
        [2] * 8 + [1],
        method="in_clinic",
        by=None,
        as_of=factories.TODAY,
    )

    rows = cm_client.get(reverse("caseload")).context["rows"]

    assert [row.episode_id for row in rows] == [episode.id, other.id]
    assert rows[0].open_alert
    assert (rows[0].phq9_first, rows[0].phq9_last) == (17, 17)


def test_notification_badge_shows_an_urgent_alert_without_a_page_load(
    cm_client, episode, care_manager
):
    services.record_assessment(
        episode,
        "PHQ-9",
        date(2026, 9, 2),
        [2] * 8 + [1],
        method="in_clinic",
        by=None,
        as_of=factories.TODAY,
    )

    badge = cm_client.get(reverse("notification_badge"), HTTP_HX_REQUEST="true")

    assert "Safety alert" in badge.content.decode()
    cm_client.get(reverse("notifications"))
    assert not Notification.objects.filter(user=care_manager, read_at__isnull=True).exists()


def test_send_a_link_from_the_chart(cm_client, episode, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = cm_client.post(
            reverse("send_invitation", args=[episode.id]),
            {"instruments": ["PHQ-9", "GAD-7"], "channel": "email"},
        )

    assert response.status_code == 302
    assert Invitation.objects.get().instruments == ["PHQ-9", "GAD-7"]
    assert mail.outbox[0].to == ["ana@example.org"]


def patient_link(episode, instruments, language="en"):
    episode.patient.preferred_language = language
    episode.patient.save()
    invitation = services.send_invitation(
        episode, instruments, channel="email", by=None, now=datetime.now(UTC)
    )
    token, digest = Invitation.new_token()
    invitation.token_digest = digest
    invitation.save()
    return reverse("self_report", args=[token])


def test_patient_page_shows_first_name_only_and_no_health_information(client, episode):
    url = patient_link(episode, ["PHQ-9"])

    page = client.get(url).content.decode()

    assert "Hello Ana" in page
    assert episode.patient.family_name not in page
    assert episode.patient.mrn not in page
    assert "F32" not in page


def test_patient_answers_and_sees_crisis_resources_in_spanish(client, episode, clinic):
    clinic.phone = "555-0199"
    clinic.save()
    url = patient_link(episode, ["PHQ-9"], language="es")
    answers = {f"PHQ-9-item_{n}": "1" for n in range(1, 10)}

    response = client.post(url, answers)

    page = response.content.decode()
    assert "988" in page and "911" in page and "555-0199" in page
    assert "hay ayuda disponible ahora" in page
    assert SafetyAlert.objects.get().assessment.method == "self_report"
    audit = AuditEvent.objects.get(channel="patient")
    assert (audit.user, audit.patient_id) == (None, episode.patient_id)
    assert client.get(url).status_code == 410


def test_patient_must_answer_every_question(client, episode):
    url = patient_link(episode, ["GAD-7"])

    response = client.post(url, {"GAD-7-item_1": "1"})

    assert "Some questions are not answered yet." in response.content.decode()
    assert not Assessment.objects.exists()


def test_unknown_link_is_gone(client):
    response = client.get(reverse("self_report", args=["not-a-real-token"]))

    assert response.status_code == 410


def test_patient_links_are_rate_limited(client, settings):
    settings.COCM_SELF_REPORT_RATE = "3/m"
    url = reverse("self_report", args=["guessing"])

    codes = [client.get(url, REMOTE_ADDR="203.0.113.9").status_code for _ in range(5)]

    assert codes == [410, 410, 410, 429, 429]


def test_billing_staff_do_not_see_assessments(client, clinic, episode):
    services.record_assessment(
        episode,
        "PHQ-9",
        date(2026, 9, 2),
        [1] * 9,
        method="in_clinic",
        by=None,
        as_of=factories.TODAY,
    )
    client.force_login(factories.user(Role.BILLING, clinic))

    page = client.get(reverse("patient_chart", args=[episode.patient_id])).content.decode()
    detail = client.get(reverse("assessment_detail", args=[Assessment.objects.get().id]))

    assert "Symptoms and treat-to-target" not in page
    assert detail.status_code == 403
