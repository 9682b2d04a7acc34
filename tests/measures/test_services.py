from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail

from cocm.accounts.models import Role
from cocm.errors import InvalidRequest
from cocm.measures import services
from cocm.measures.models import Assessment, Invitation, Notification, SafetyAlert, Schedule
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
PHQ9_ITEM9_POSITIVE = [2, 2, 1, 1, 1, 1, 1, 1, 1]


@pytest.fixture
def care_manager(clinic):
    user = factories.user(Role.CARE_MANAGER, clinic)
    user.email = "cm@clinic.example"
    user.save()
    return user


@pytest.fixture
def episode(clinic, care_manager):
    patient = factories.patient(
        clinic.organization, email="ana@example.org", phone="555-0100", given_name="Ana"
    )
    return factories.episode(clinic, care_manager, the_patient=patient, consent_on=date(2026, 9, 1))


def record(episode, answers, instrument="PHQ-9", taken_on=date(2026, 10, 1), by=None):
    return services.record_assessment(
        episode, instrument, taken_on, answers, method="in_clinic", by=by, as_of=TODAY
    )


def test_it_scores_on_the_server(episode, care_manager):
    assessment = record(episode, [3, 3, 2, 2, 2, 1, 1, 1, 0], by=care_manager)

    assessment.refresh_from_db()
    assert (assessment.total, assessment.severity) == (15, "moderately_severe")
    assert assessment.answers == [3, 3, 2, 2, 2, 1, 1, 1, 0]
    assert not SafetyAlert.objects.exists()


def test_it_prorates_two_missing_phq9_items(episode):
    assessment = record(episode, [2, 2, 2, 2, 2, 2, 2, None, None])

    assert (assessment.total, assessment.prorated) == (18, True)


@pytest.mark.parametrize(
    ("instrument", "answers", "field"),
    [
        ("PHQ-9", [1] * 8, "answers"),
        ("PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, 4], "answers[8]"),
        ("PHQ-9", [None, None, None, 1, 1, 1, 1, 1, 1], "answers"),
        ("XYZ", [1], "instrument"),
    ],
)
def test_unscorable_input_names_the_field(episode, instrument, answers, field):
    with pytest.raises(InvalidRequest) as error:
        record(episode, answers, instrument=instrument)

    assert error.value.field == field
    assert not Assessment.objects.exists()


@pytest.mark.parametrize(
    ("taken_on", "message"),
    [(date(2026, 11, 24), "in the future"), (date(2026, 8, 31), "before the referral")],
)
def test_the_date_must_fall_within_the_episode(episode, taken_on, message):
    with pytest.raises(InvalidRequest, match=message):
        record(episode, [0] * 9, taken_on=taken_on)


def test_item9_opens_an_alert_and_notifies_the_care_manager_at_once(
    episode, care_manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assessment = record(episode, PHQ9_ITEM9_POSITIVE)

    alert = SafetyAlert.objects.get()
    assert (alert.assessment, alert.item, alert.item_answer, alert.is_open) == (
        assessment,
        9,
        1,
        True,
    )
    notification = Notification.objects.get()
    assert notification.user == care_manager
    assert notification.urgent
    assert episode.patient.family_name not in notification.text
    assert mail.outbox[0].to == ["cm@clinic.example"]
    assert f"/patients/{episode.patient_id}/" in mail.outbox[0].body


def test_epds_item10_opens_an_alert(episode):
    record(episode, [0, 0, 3, 0, 3, 3, 3, 3, 3, 2], instrument="EPDS")

    assert SafetyAlert.objects.get().item == 10


def test_without_a_care_manager_the_clinic_team_is_notified(clinic, care_manager):
    consultant = factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic)
    episode = factories.episode(clinic, care_manager)
    episode.care_manager = None
    episode.save()

    record(episode, PHQ9_ITEM9_POSITIVE)

    assert set(Notification.objects.values_list("user", flat=True)) == {
        care_manager.id,
        consultant.id,
    }


def test_an_alert_stays_open_until_the_follow_up_is_documented(episode, care_manager):
    record(episode, PHQ9_ITEM9_POSITIVE)
    alert = SafetyAlert.objects.get()

    services.resolve_alert(alert, action="not_reached", note="voicemail left", by=care_manager)
    assert alert.is_open
    services.resolve_alert(alert, action="safety_plan", note="safe, plan reviewed", by=care_manager)

    alert.refresh_from_db()
    assert not alert.is_open
    assert alert.resolved_by == care_manager
    assert "voicemail left" in alert.note
    assert "safe, plan reviewed" in alert.note


def test_other_follow_up_needs_a_note(episode, care_manager):
    record(episode, PHQ9_ITEM9_POSITIVE)

    with pytest.raises(InvalidRequest, match="Describe what was done"):
        services.resolve_alert(SafetyAlert.objects.get(), action="other", note=" ", by=care_manager)


def test_a_correction_keeps_the_original_readable(episode, care_manager):
    original = record(episode, [1] * 9)

    amended = services.amend_assessment(
        original,
        [2] * 9,
        taken_on=original.taken_on,
        reason="item order mix-up",
        by=care_manager,
        as_of=TODAY,
    )

    original.refresh_from_db()
    assert (original.total, original.is_current) == (9, False)
    assert (amended.total, amended.is_current, amended.amends) == (18, True, original)
    with pytest.raises(InvalidRequest, match="already amended"):
        services.amend_assessment(
            original,
            [0] * 9,
            taken_on=original.taken_on,
            reason="again",
            by=care_manager,
            as_of=TODAY,
        )


def test_a_correction_never_drops_an_alert(episode, care_manager):
    original = record(episode, PHQ9_ITEM9_POSITIVE)

    services.amend_assessment(
        original,
        [0] * 9,
        taken_on=original.taken_on,
        reason="wrong patient's form",
        by=care_manager,
        as_of=TODAY,
    )

    assert SafetyAlert.objects.get().is_open


def test_trajectory_summarizes_response_and_remission(episode):
    for taken_on, total_each in [
        (date(2026, 9, 2), 2),
        (date(2026, 10, 14), 1),
        (date(2026, 11, 18), 0),
    ]:
        record(episode, [total_each] * 9, taken_on=taken_on)

    phq9 = services.trajectories(episode)["PHQ-9"].target

    assert (phq9.baseline, phq9.latest, phq9.change) == (18, 0, -18)
    assert (phq9.response, phq9.remission) == (True, True)
    assert phq9.weeks_to_first_response == 6
    assert services.trajectories(episode)["GAD-7"].target is None


def test_send_invitation_by_email_names_only_the_first_name(
    episode, care_manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.send_invitation(
            episode, ["PHQ-9", "GAD-7"], channel="email", by=care_manager, now=NOW
        )

    body = mail.outbox[0].body
    assert "Hello Ana" in body
    assert episode.patient.family_name not in body
    assert "PHQ" not in body and "depress" not in body.lower()
    assert invitation.expires_at == NOW + timedelta(days=4)
    token = body.split("/r/")[1].split("/")[0]
    assert services.find_invitation(token) == invitation
    assert token not in invitation.token_digest


def test_send_invitation_by_text_in_spanish(
    episode, care_manager, sms_outbox, django_capture_on_commit_callbacks
):
    episode.patient.preferred_language = "es"
    episode.patient.save()

    with django_capture_on_commit_callbacks(execute=True):
        services.send_invitation(episode, ["PHQ-9"], channel="sms", by=care_manager, now=NOW)

    to, body = sms_outbox[0]
    assert to == "555-0100"
    assert body.startswith("Hola Ana")


def test_no_address_on_file_is_a_clear_error(episode, care_manager):
    episode.patient.email = ""
    episode.patient.save()

    with pytest.raises(InvalidRequest, match="no email address on file"):
        services.send_invitation(episode, ["PHQ-9"], channel="email", by=care_manager, now=NOW)


def test_a_link_is_single_use_and_expires(episode, care_manager):
    invitation = services.send_invitation(
        episode, ["PHQ-2"], channel="email", by=care_manager, now=NOW
    )

    services.submit_self_report(invitation, {"PHQ-2": [1, 1]}, now=NOW)

    assert not invitation.is_usable(NOW)
    with pytest.raises(InvalidRequest, match="expired or was already used"):
        services.submit_self_report(invitation, {"PHQ-2": [1, 1]}, now=NOW)
    later = services.send_invitation(episode, ["PHQ-2"], channel="email", by=care_manager, now=NOW)
    assert not later.is_usable(NOW + timedelta(days=4))
    assert later.is_usable(NOW + timedelta(days=3, hours=23))


def test_self_report_with_item9_raises_the_alert(episode, care_manager):
    invitation = services.send_invitation(
        episode, ["PHQ-9", "GAD-7"], channel="email", by=care_manager, now=NOW
    )

    submission = services.submit_self_report(
        invitation, {"PHQ-9": PHQ9_ITEM9_POSITIVE, "GAD-7": [1] * 7}, now=NOW
    )

    assert submission.safety
    assert [a.method for a in submission.assessments] == ["self_report", "self_report"]
    assert SafetyAlert.objects.get().assessment.instrument == "PHQ-9"


def test_one_reminder_with_a_fresh_link(episode, care_manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.send_invitation(
            episode, ["PHQ-9"], channel="email", by=care_manager, now=NOW
        )
    first_token = mail.outbox[0].body.split("/r/")[1].split("/")[0]
    with django_capture_on_commit_callbacks(execute=True):
        reminded = [services.send_reminders(NOW + timedelta(hours=h)) for h in (47, 48, 60)]

    assert reminded == [0, 1, 0]

    second_token = mail.outbox[1].body.split("/r/")[1].split("/")[0]
    assert mail.outbox[1].body.startswith("Reminder:")
    assert services.find_invitation(first_token) is None
    assert services.find_invitation(second_token) == invitation


def test_schedule_sends_when_due_and_moves_on(episode, care_manager):
    schedule = services.start_schedule(
        episode,
        ["PHQ-9"],
        channel="email",
        every_days=28,
        first_on=date(2026, 11, 23),
        by=care_manager,
    )

    sent_today = services.send_due_schedules(NOW)
    sent_again = services.send_due_schedules(NOW + timedelta(hours=1))

    schedule.refresh_from_db()
    assert (sent_today, sent_again) == (1, 0)
    assert schedule.next_on == date(2026, 12, 21)
    assert Invitation.objects.get().schedule == schedule


def test_schedule_stops_when_the_episode_is_discharged(episode, care_manager):
    from cocm.domain.episodes import DischargeReason, EpisodeStatus
    from cocm.registry.services import change_status

    schedule = services.start_schedule(
        episode,
        ["PHQ-9"],
        channel="email",
        every_days=28,
        first_on=date(2026, 11, 1),
        by=care_manager,
    )
    change_status(
        episode,
        EpisodeStatus.DISCHARGED,
        on=date(2026, 11, 2),
        by=care_manager,
        as_of=TODAY,
        reason=DischargeReason.MOVED,
    )

    services.send_due_schedules(NOW)

    assert not Schedule.objects.get(id=schedule.id).active
    assert not Invitation.objects.exists()


def test_worker_runs_one_pass(episode, care_manager):
    from io import StringIO

    from django.core.management import call_command

    services.start_schedule(
        episode,
        ["PHQ-9"],
        channel="email",
        every_days=28,
        first_on=date(2026, 1, 1),
        by=care_manager,
    )
    out = StringIO()

    call_command("worker", "--once", stdout=out)

    assert "sent 1 scheduled link(s), 0 reminder(s)" in out.getvalue()
    assert Invitation.objects.count() == 1
