"""Issue 12, item 6: the chart's timeline holds every event, newest first, filterable by
kind; billing staff see only the non-clinical ones."""

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from cocm.accounts.models import Role
from cocm.care import services
from cocm.measures import services as measures
from cocm.measures.models import Invitation, SafetyAlert
from cocm.registry import services as registry
from cocm.registry.models import CareTeamChange
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY


@pytest.fixture
def history(episode, care_manager, consultant, pcp):
    episode.patient.email = "ana@example.org"
    episode.patient.save()
    measures.record_assessment(
        episode,
        "PHQ-9",
        date(2026, 9, 2),
        [2] * 8 + [1],
        method="phone",
        by=care_manager,
        as_of=TODAY,
    )
    alert = SafetyAlert.objects.get()
    measures.resolve_alert(alert, action="risk_assessment", note="Low risk", by=care_manager)
    services.record_contact(
        episode,
        occurred_on=date(2026, 9, 10),
        minutes=25,
        mode="phone",
        activity="behavioral_activation",
        staff=care_manager,
        by=care_manager,
        as_of=TODAY,
        note="Activity schedule",
    )
    services.request_review(episode, reason="Sleep worse", by=care_manager)
    services.record_review(
        episode,
        consultant=consultant,
        reviewed_on=date(2026, 10, 1),
        minutes=10,
        summary="Partial response",
        as_of=TODAY,
        recommendations=[services.RecommendationInput("start_medication", "sertraline", "50 mg")],
    )
    (recommendation,) = episode.recommendations.all()
    services.respond(recommendation, status="accepted", note="", by=pcp, as_of=TODAY)
    invitation = measures.send_invitation(
        episode, ["GAD-7"], channel="email", by=care_manager, now=datetime.now(UTC)
    )
    Invitation.objects.filter(id=invitation.id).update(completed_at=datetime.now(UTC))
    registry.change_care_team(
        episode,
        registry.CareTeam(care_manager, None, pcp),
        version=episode.version,
        by=care_manager,
    )
    return episode


def test_the_timeline_holds_every_kind_of_event_newest_first(client, care_manager, history):
    client.force_login(care_manager)

    response = client.get(reverse("patient_chart", args=[history.patient_id]))

    timeline = response.context["timeline"]
    kinds = {event.kind for event in timeline}
    assert kinds == {
        "assessment",
        "contact",
        "alert",
        "review",
        "recommendation",
        "treatment",
        "link",
        "status",
        "diagnosis",
        "consent",
        "care_team",
    }
    assert [event.on for event in timeline] == sorted((e.on for e in timeline), reverse=True)
    html = response.content.decode()
    for text in (
        "PHQ-9 17 (moderately severe), by phone",
        "Safety alert opened: PHQ-9 item 9 answered 1",
        "Safety follow-up documented by",
        "Brief intervention: behavioral activation (phone), 25 min by",
        "Review requested by",
        "Psychiatric review by",
        "Recommended: Start a medication: sertraline 50 mg",
        "PCP answer by",
        "Medication started: Start a medication: sertraline 50 mg",
        "Self-report link sent (GAD-7) by email",
        "Self-report answered (GAD-7)",
        "Psychiatric consultant:",
        "Consent documented (verbal)",
    ):
        assert text in html, text


def test_the_timeline_filters_by_kind(client, care_manager, history):
    client.force_login(care_manager)

    response = client.get(reverse("patient_chart", args=[history.patient_id]), {"kind": "alert"})

    texts = [event.text for event in response.context["timeline"]]
    assert len(texts) == 2
    assert texts[0].startswith("Safety follow-up documented")  # newest first
    assert texts[1].startswith("Safety alert opened")
    assert 'href="?kind=contact#timeline"' in response.content.decode()


def test_an_unknown_kind_shows_everything(client, care_manager, history):
    client.force_login(care_manager)

    response = client.get(reverse("patient_chart", args=[history.patient_id]), {"kind": "x" * 500})

    assert len(response.context["timeline"]) > 10


def test_billing_staff_see_no_clinical_event(client, clinic, history):
    client.force_login(factories.user(Role.BILLING, clinic))

    response = client.get(reverse("patient_chart", args=[history.patient_id]))

    kinds = {event.kind for event in response.context["timeline"]}
    assert kinds <= {"status", "diagnosis", "consent", "care_team"}
    assert "Safety alert opened" not in response.content.decode()
    assert CareTeamChange.objects.exists()
