"""Issue 12, item 3: Tasks is the care manager's to-do list: open alerts first, then the
patients overdue for a contact or a measure (the caseload's thresholds), recommendations
waiting for the PCP, review requests, next contacts and due questionnaires."""

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from cocm.care import services
from cocm.care.models import CareSettings, Recommendation
from cocm.measures import services as measures
from cocm.measures.models import Invitation, Notification
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY


def named(clinic, care_manager, family, **fields):
    patient = factories.patient(
        clinic.organization, given_name="Ana", family_name=family, email=f"{family}@example.org"
    )
    return factories.episode(
        clinic, care_manager, the_patient=patient, consent_on=date(2026, 9, 1), **fields
    )


def contact(episode, care_manager, on):
    services.record_contact(
        episode,
        occurred_on=on,
        minutes=20,
        mode="phone",
        activity="follow_up",
        staff=care_manager,
        by=care_manager,
        as_of=TODAY,
    )


def phq9(episode, care_manager, on, answers=(1, 1, 1, 1, 1, 1, 1, 1, 0)):
    return measures.record_assessment(
        episode, "PHQ-9", on, list(answers), method="phone", by=care_manager, as_of=TODAY
    )


@pytest.fixture
def day(clinic, care_manager, consultant, pcp):
    alerted = named(clinic, care_manager, "Alvarez", psychiatric_consultant=consultant)
    phq9(alerted, care_manager, date(2026, 11, 21), answers=(2, 2, 2, 2, 2, 2, 2, 2, 1))
    contact(alerted, care_manager, date(2026, 11, 21))
    silent = named(clinic, care_manager, "Baker", psychiatric_consultant=consultant)
    contact(silent, care_manager, date(2026, 10, 14))  # 40 days ago
    phq9(silent, care_manager, date(2026, 11, 16))
    unmeasured = named(clinic, care_manager, "Chen", psychiatric_consultant=consultant)
    contact(unmeasured, care_manager, date(2026, 11, 16))
    phq9(unmeasured, care_manager, date(2026, 10, 14))  # 40 days ago
    reviewed = named(clinic, care_manager, "Diaz", psychiatric_consultant=consultant)
    reviewed.referring_pcp = pcp
    reviewed.save()
    contact(reviewed, care_manager, date(2026, 11, 16))
    phq9(reviewed, care_manager, date(2026, 11, 16))
    services.record_review(
        reviewed,
        consultant=consultant,
        reviewed_on=date(2026, 11, 10),
        minutes=10,
        summary="Start an SSRI",
        recommendations=[services.RecommendationInput("start_medication", "sertraline")],
        as_of=TODAY,
    )
    Recommendation.objects.update(created_at=datetime(2026, 11, 10, 17, tzinfo=UTC))
    services.request_review(reviewed, reason="Sleep worse", by=care_manager)
    measures.start_schedule(
        reviewed, ["PHQ-9"], channel="email", every_days=28, first_on=TODAY, by=care_manager
    )
    return {"alerted": alerted, "silent": silent, "unmeasured": unmeasured, "reviewed": reviewed}


def test_tasks_list_every_kind_of_to_do_with_its_button(client, care_manager, day):
    client.force_login(care_manager)

    response = client.get(reverse("tasks"))

    tasks = response.context["tasks"]
    html = response.content.decode()
    assert [a.episode for a in tasks.alerts] == [day["alerted"]]
    assert [item.row.patient_name for item in tasks.overdue_contact] == [str(day["silent"].patient)]
    assert [item.row.patient_name for item in tasks.overdue_measure] == [
        str(day["unmeasured"].patient)
    ]
    assert [w.recommendation.episode for w in tasks.waiting_recommendations] == [day["reviewed"]]
    assert tasks.waiting_recommendations[0].days == 13
    assert [q.reason for q in tasks.review_requests] == ["Sleep worse"]
    assert [s.episode for s in tasks.due_schedules] == [day["reviewed"]]
    assert tasks.today_count == 4  # the alert, a contact, a measure, a questionnaire
    # What the user sees, in order, with the button that does it.
    assert html.index("Open safety alerts") < html.index("Overdue for contact")
    assert "Nothing overdue" not in html
    assert "No contact for 40 days (limit 30)" in html
    assert "No PHQ-9 or GAD-7 for 40 days (limit 30)" in html
    assert reverse("new_contact", args=[day["silent"].id]) in html
    assert reverse("new_assessment", args=[day["unmeasured"].id]) + "?instrument=PHQ-9" in html
    assert "Document follow-up" in html
    assert "Remind the PCP" in html
    assert '<span class="warn">waiting 13 days</span>' in html  # over the 7-day limit
    assert "Send link now" in html


def test_tasks_use_the_organizations_thresholds(client, clinic, care_manager, day):
    CareSettings.objects.create(
        organization=clinic.organization, no_contact_days=45, no_measure_days=45
    )
    client.force_login(care_manager)

    tasks = client.get(reverse("tasks")).context["tasks"]

    assert (tasks.overdue_contact, tasks.overdue_measure) == ([], [])


def test_an_alert_of_a_discharged_patient_stays_on_the_task_list(client, care_manager, day):
    alerted = day["alerted"]
    alerted.status, alerted.discharged_on, alerted.discharge_reason = (
        "discharged",
        TODAY,
        "moved",
    )
    alerted.save()
    client.force_login(care_manager)

    tasks = client.get(reverse("tasks")).context["tasks"]

    assert [a.episode for a in tasks.alerts] == [alerted]


def test_remind_the_pcp_in_one_click(client, care_manager, pcp, day):
    client.force_login(care_manager)
    recommendation = Recommendation.objects.get()

    response = client.post(reverse("remind_pcp", args=[recommendation.id]), follow=True)

    assert f"Reminder sent to {pcp}." in response.content.decode()
    notice = Notification.objects.get(user=pcp, text__startswith="Reminder")
    assert notice.patient_id == day["reviewed"].patient_id


def test_send_a_due_questionnaire_in_one_click(client, care_manager, day):
    client.force_login(care_manager)

    response = client.post(
        reverse("send_invitation", args=[day["reviewed"].id]),
        {"instruments": ["PHQ-9"], "channel": "email", "return_to": "tasks"},
    )

    assert response.url == reverse("tasks")
    assert Invitation.objects.get().episode == day["reviewed"]
