from datetime import UTC, date, datetime

import pytest

from cocm.billing.months import month_results
from cocm.care import services
from cocm.care.models import Contact, FollowUp, Recommendation, ReviewRequest
from cocm.domain.coding import Month
from cocm.errors import InvalidRequest
from cocm.measures.models import Notification, TreatmentChange
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY


def contact(episode, by, **overrides):
    fields = {
        "occurred_on": date(2026, 11, 2),
        "minutes": 20,
        "mode": "phone",
        "activity": "follow_up",
        "staff": by,
        "by": by,
        "as_of": TODAY,
    }
    return services.record_contact(episode, **{**fields, **overrides})


def test_it_logs_a_contact_with_its_minutes(episode, care_manager):
    logged = contact(episode, care_manager, note=" Called; BA plan reviewed. ")

    logged.refresh_from_db()
    assert (logged.minutes, logged.role, logged.note) == (
        20,
        "care_manager",
        "Called; BA plan reviewed.",
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"minutes": -5}, "minutes", "cannot be negative"),
        ({"minutes": 1441}, "minutes", "more than a day"),
        ({"minutes": 0}, "minutes", "0 only for a no-show"),
        ({"occurred_on": date(2026, 8, 31)}, "occurred_on", "before the referral"),
        ({"occurred_on": date(2026, 11, 24)}, "occurred_on", "in the future"),
    ],
)
def test_bad_contacts_are_refused_naming_the_field(
    episode, care_manager, overrides, field, message
):
    with pytest.raises(InvalidRequest, match=message) as error:
        contact(episode, care_manager, **overrides)

    assert error.value.field == field
    assert not Contact.objects.exists()


def test_a_no_show_may_have_zero_minutes(episode, care_manager):
    logged = contact(episode, care_manager, minutes=0, no_show=True)

    assert logged.no_show


def test_a_contact_completes_the_follow_up_and_sets_the_next(episode, care_manager):
    services.set_follow_up(episode, due_on=TODAY, what="check in", by=care_manager, as_of=TODAY)

    contact(episode, care_manager, next_contact_on=date(2026, 12, 7))

    open_follow_ups = FollowUp.objects.filter(done_at__isnull=True)
    assert list(open_follow_ups.values_list("due_on", flat=True)) == [date(2026, 12, 7)]
    assert FollowUp.objects.count() == 2


def test_review_with_a_medication_recommendation_tasks_the_pcp(
    episode, consultant, pcp, care_manager
):
    services.request_review(episode, reason="no better at week 10", by=care_manager)

    review = services.record_review(
        episode,
        consultant=consultant,
        reviewed_on=date(2026, 11, 20),
        minutes=12,
        summary="Partial response; increase SSRI.",
        recommendations=[
            services.RecommendationInput("change_medication", "sertraline", "100 mg daily")
        ],
        as_of=TODAY,
    )

    recommendation = Recommendation.objects.get()
    assert (recommendation.pcp, recommendation.status) == (pcp, "pending")
    assert recommendation.summary == "Change a medication: sertraline 100 mg daily"
    assert ReviewRequest.objects.get().review == review
    consultant_time = Contact.objects.get(role="psychiatric_consultant")
    assert (consultant_time.minutes, consultant_time.activity) == (12, "caseload_review")
    assert Notification.objects.filter(user=pcp).exists()


def test_a_medication_recommendation_needs_the_medication(episode, consultant):
    with pytest.raises(InvalidRequest, match="Name the medication") as error:
        services.record_review(
            episode,
            consultant=consultant,
            reviewed_on=TODAY,
            minutes=10,
            summary="x",
            recommendations=[services.RecommendationInput("start_medication")],
            as_of=TODAY,
        )

    assert error.value.field == "recommendations[0].medication"


def test_an_accepted_recommendation_enters_the_treatment_log(
    episode, consultant, pcp, care_manager
):
    services.record_review(
        episode,
        consultant=consultant,
        reviewed_on=TODAY,
        minutes=10,
        summary="Start SSRI",
        recommendations=[services.RecommendationInput("start_medication", "sertraline", "50 mg")],
        as_of=TODAY,
    )
    recommendation = Recommendation.objects.get()

    services.respond(recommendation, status="accepted", note="", by=pcp, as_of=TODAY)

    recommendation.refresh_from_db()
    assert recommendation.status == "accepted"
    change = TreatmentChange.objects.get()
    assert (change.kind, change.on) == ("medication_start", TODAY)
    assert "sertraline 50 mg" in change.description
    assert Notification.objects.filter(user=care_manager, text__contains="Accepted").exists()


def test_a_declined_recommendation_needs_a_note_and_changes_no_treatment(episode, consultant, pcp):
    services.record_review(
        episode,
        consultant=consultant,
        reviewed_on=TODAY,
        minutes=10,
        summary="Refer",
        recommendations=[services.RecommendationInput("refer_specialty", text="psychiatry")],
        as_of=TODAY,
    )
    recommendation = Recommendation.objects.get()

    with pytest.raises(InvalidRequest, match="why you declined"):
        services.respond(recommendation, status="declined", note="", by=pcp, as_of=TODAY)
    services.respond(recommendation, status="declined", note="patient refuses", by=pcp, as_of=TODAY)

    assert not TreatmentChange.objects.exists()
    with pytest.raises(InvalidRequest, match="already answered"):
        services.respond(recommendation, status="accepted", note="", by=pcp, as_of=TODAY)


def test_relapse_plan_needs_every_part(episode, care_manager):
    with pytest.raises(InvalidRequest) as error:
        services.save_relapse_plan(
            episode, warning_signs="sleep", coping_steps=" ", whom_to_call="Carla", by=care_manager
        )

    assert error.value.field == "coping_steps"


def test_overlapping_timed_contacts_by_one_person_count_once(episode, care_manager):
    for hour, minutes in ((10, 30), (10, 20)):
        contact(
            episode,
            care_manager,
            occurred_on=date(2026, 11, 2),
            minutes=minutes,
            started_at=datetime(2026, 11, 2, hour, 0, tzinfo=UTC),
        )

    result = month_results([episode], Month(2026, 11))[episode.id]

    assert result.minutes_counted == 30
    assert result.excluded[0].minutes == 20


def test_minutes_before_consent_are_marked_not_billable(clinic, care_manager, consultant):
    episode = factories.episode(
        clinic,
        care_manager,
        referred_on=date(2026, 11, 1),
        consent_on=date(2026, 11, 10),
        psychiatric_consultant=consultant,
    )
    contact(episode, care_manager, occurred_on=date(2026, 11, 3), minutes=15)
    contact(episode, care_manager, occurred_on=date(2026, 11, 12), minutes=25)

    result = month_results([episode], Month(2026, 11))[episode.id]

    assert result.minutes_counted == 25
    assert [(e.minutes, e.reason) for e in result.excluded] == [
        (15, "before consent on 2026-11-10")
    ]
