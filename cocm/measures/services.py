"""Use cases for measurement-based care: scoring, amendments, safety alerts, self-report."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Case, F, Q, TextField, Value, When
from django.db.models.functions import Concat
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils import timezone

from cocm.accounts.models import Role, User
from cocm.accounts.scoping import visible_patients
from cocm.domain.instruments import (
    INSTRUMENTS,
    InstrumentCode,
    ScoreFlag,
    ScoringError,
    Severity,
    TreatToTarget,
    get_instrument,
    score,
    severity,
    treat_to_target,
)
from cocm.domain.pediatric import PediatricError, Respondent
from cocm.domain.pediatric import check_respondent as pediatric_respondent
from cocm.errors import EditConflict, InvalidRequest
from cocm.measures import texts
from cocm.measures.models import (
    Assessment,
    Channel,
    Invitation,
    Method,
    Notification,
    SafetyAlert,
    Schedule,
    SingleUseLink,
    TreatmentChange,
)
from cocm.measures.sms import send_text
from cocm.registry.models import Episode, Guardian, Patient
from cocm.registry.services import guardian_access
from cocm.versions import claimed, seen

# Instruments whose trajectory the chart draws and the caseload summarizes.
TRACKED = ("PHQ-9", "GAD-7")


def check_taken_on(episode: Episode, taken_on: date, as_of: date) -> None:
    if taken_on > as_of:
        raise InvalidRequest(f"The date {taken_on} is in the future.", "taken_on")
    if taken_on < episode.referred_on:
        raise InvalidRequest(
            f"The date {taken_on} is before the referral ({episode.referred_on}).", "taken_on"
        )
    if episode.discharged_on and taken_on > episode.discharged_on:
        raise InvalidRequest(
            f"The date {taken_on} is after the discharge ({episode.discharged_on}).", "taken_on"
        )


def assessment_details(assessment: Assessment) -> dict[str, object]:
    """An assessment as its page shows it: each item with its answer's text, the chain of
    corrections back to the original, the newer version if any, and the subscales
    (SCARED) recomputed from the stored answers by the same rules."""
    instrument = get_instrument(assessment.instrument)
    versions = []
    current: Assessment | None = assessment
    while current is not None:
        versions.append(current)
        current = current.amends
    rows = [
        (item, answer, None if answer is None else item.options[answer])
        for item, answer in zip(instrument.items, assessment.answers, strict=True)
    ]
    subscales = scored(assessment.episode, assessment.instrument, assessment.answers).subscales
    newer = getattr(assessment, "amended_by", None)
    return {"assessment": assessment, "instrument": instrument, "rows": rows} | {
        "versions": versions,
        "newer": newer,
        "subscales": subscales,
    }


def scored(episode: Episode, instrument: str, answers: Sequence[int | None]):  # type: ignore[no-untyped-def]
    try:
        return score(instrument, answers, sex=episode.patient.sex)
    except ScoringError as error:
        raise InvalidRequest(error.message, error.field) from error


def check_respondent(
    episode: Episode, instrument: str, respondent: str, guardian: Guardian | None
) -> str:
    """The patient or one of the patient's guardians; a parent version needs a guardian."""
    try:
        definition = get_instrument(instrument)
    except ScoringError as error:
        raise InvalidRequest(error.message, error.field) from error
    try:
        who = pediatric_respondent(respondent, answered_by=definition.answered_by)
    except PediatricError as error:
        raise InvalidRequest(error.message, error.field) from error
    if guardian is not None:
        if guardian.patient_id != episode.patient_id:
            raise InvalidRequest("That guardian is not this patient's.", "respondent_guardian_id")
        if who is not Respondent.GUARDIAN:
            raise InvalidRequest(
                "A guardian is named, so the respondent is 'guardian'.", "respondent"
            )
    return who.value


def record_assessment(
    episode: Episode,
    instrument: str,
    taken_on: date,
    answers: Sequence[int | None],
    *,
    method: str,
    by: User | None,
    as_of: date,
    respondent: str = "patient",
    respondent_guardian: Guardian | None = None,
) -> Assessment:
    """Score on the server, store item-level answers, open a safety alert if needed."""
    check_taken_on(episode, taken_on, as_of)
    respondent = check_respondent(episode, instrument, respondent, respondent_guardian)
    result = scored(episode, instrument, answers)
    assessment = Assessment.objects.create(
        episode=episode,
        instrument=result.instrument,
        taken_on=taken_on,
        answers=list(answers),
        total=result.total,
        severity=result.severity,
        prorated=result.prorated,
        flags=list(result.flags),
        method=method,
        respondent=respondent,
        respondent_guardian=respondent_guardian,
        administered_by=by,
    )
    open_safety_alerts(assessment, result.safety_items)
    return assessment


def imported_total(
    episode_id: int, instrument: str, taken_on: date, total: int, *, sex: str | None
) -> dict[str, object]:
    """An assessment's fields for a total score imported without its answers (a tracker
    row, a FHIR Observation): the band the domain gives the total, the severe flag with it,
    the items unknown. Fields, not a saved row, so that an import stores many with one
    statement; a caller that bulk-inserts marks the episodes' caseload rows
    (`care.caseload.mark_changed`)."""
    band = severity(instrument, total, sex=sex)
    return {
        "episode_id": episode_id,
        "instrument": str(instrument),
        "taken_on": taken_on,
        "answers": [None] * len(INSTRUMENTS[instrument].items),
        "total": total,
        "severity": str(band),
        "flags": [str(ScoreFlag.SEVERE)] if band == Severity.SEVERE else [],
        "method": str(Method.IMPORTED),
    }


AMENDED_MEANWHILE = (
    "This assessment was corrected by someone else while you were editing it; reload and "
    "amend the newest version."
)


def amend_assessment(
    original: Assessment,
    answers: Sequence[int | None],
    *,
    taken_on: date,
    reason: str,
    by: User,
    as_of: date,
    version: int | None = None,
) -> Assessment:
    """Correct an assessment: a new version; the original stays readable.

    `version` is the original's version the user saw (default: the one loaded): of two
    corrections of one assessment at once, one is kept and the other gets EditConflict."""
    expected = seen(original, version, conflict=AMENDED_MEANWHILE)
    if not original.is_current:
        raise InvalidRequest(
            "This assessment was already amended; amend the newest version.", "assessment"
        )
    if not reason.strip():
        raise InvalidRequest("Say why the assessment is corrected.", "reason")
    episode = original.episode
    check_taken_on(episode, taken_on, as_of)
    result = scored(episode, original.instrument, answers)
    claimed(
        original,
        expected,
        conflict=AMENDED_MEANWHILE,
        is_current=False,
    )
    amended = Assessment.objects.create(
        episode=episode,
        instrument=original.instrument,
        taken_on=taken_on,
        answers=list(answers),
        total=result.total,
        severity=result.severity,
        prorated=result.prorated,
        flags=list(result.flags),
        method=original.method,
        respondent=original.respondent,
        respondent_guardian=original.respondent_guardian,
        administered_by=by,
        amends=original,
        amendment_reason=reason.strip(),
    )
    # Alerts of the original stay as they are (never silently dropped); a positive item in
    # the correction opens one unless the original already raised it.
    already = set(original.alerts.values_list("item", flat=True))
    open_safety_alerts(amended, tuple(i for i in result.safety_items if i not in already))
    return amended


def open_safety_alerts(assessment: Assessment, items: Iterable[int]) -> list[SafetyAlert]:
    """Open an alert per positive safety item and tell the care team at once."""
    alerts = [
        SafetyAlert.objects.create(
            episode=assessment.episode,
            assessment=assessment,
            item=item,
            item_answer=assessment.answers[item - 1],
        )
        for item in items
    ]
    if alerts:
        notify_safety(assessment)
    return alerts


def safety_recipients(episode: Episode) -> list[User]:
    """The care manager; without one, every care manager and consultant of the clinic."""
    if episode.care_manager_id and episode.care_manager.is_active:
        return [episode.care_manager]
    return list(
        User.objects.filter(
            is_active=True,
            memberships__clinic_id=episode.clinic_id,
            memberships__role__in=[Role.CARE_MANAGER, Role.PSYCHIATRIC_CONSULTANT],
        ).distinct()
    )


def notify_safety(assessment: Assessment) -> None:
    episode = assessment.episode
    chart = reverse("patient_chart", args=[episode.patient_id])
    # The text names no patient (the email carries it): the page names the patient to a
    # user allowed to see them (`Notification.patient`).
    text = (
        f"Safety alert: a positive suicide-risk answer on a {assessment.instrument} "
        f"({assessment.taken_on:%Y-%m-%d}). Follow up now."
    )
    recipients = safety_recipients(episode)
    Notification.objects.bulk_create(
        [
            Notification(
                user=user, patient_id=episode.patient_id, text=text, url=chart, urgent=True
            )
            for user in recipients
        ]
    )
    emails = [user.email for user in recipients if user.email]
    if emails:
        link = f"{settings.COCM_BASE_URL}{chart}"
        transaction.on_commit(
            lambda: send_mail(
                "CoCM Registry: safety alert",
                f"{text}\n\nOpen the chart: {link}\n",
                None,
                emails,
            )
        )


@dataclass(frozen=True)
class NamedNotification:
    """A notification as a page shows it: the patient's name only when the user may see
    the patient (`patient_id` is None otherwise)."""

    id: int
    text: str
    url: str
    urgent: bool
    created_at: datetime
    read_at: datetime | None
    patient_id: int | None
    patient_name: str


def named_notifications(user: User, items: Iterable[Notification]) -> list[NamedNotification]:
    items = list(items)
    wanted = {item.patient_id for item in items if item.patient_id}
    names = {
        patient.id: str(patient)
        for patient in visible_patients(user, Patient.objects)
        .filter(id__in=wanted)
        .only("id", "family_name", "given_name")
    }
    return [
        NamedNotification(
            id=item.id,
            text=item.text,
            url=item.url,
            urgent=item.urgent,
            created_at=item.created_at,
            read_at=item.read_at,
            patient_id=item.patient_id if item.patient_id in names else None,
            patient_name=names.get(item.patient_id or 0, ""),
        )
        for item in items
    ]


def mark_read_for_patient(user: User, patient_id: int) -> None:
    """Opening the chart reads the user's notifications about that patient."""
    Notification.objects.filter(user=user, patient_id=patient_id, read_at__isnull=True).update(
        read_at=timezone.now()
    )


ALERT_FOLLOWED_UP_MEANWHILE = (
    "This alert was followed up by someone else while you were writing; reload to see "
    "what they did."
)


def resolve_alert(alert: SafetyAlert, *, action: str, note: str, by: User) -> None:
    """Document the safety follow-up: who, when, what was done.

    Notes are appended in the UPDATE itself, so two follow-ups written at once both stay;
    of two resolutions at once one is kept and the other gets EditConflict."""
    if not alert.is_open:
        raise InvalidRequest("This alert was already followed up.", "alert")
    if action not in SafetyAlert.Action.values:
        raise InvalidRequest("Choose what was done.", "action")
    if not note.strip():
        # A suicide-risk follow-up is documented in words, whatever the action.
        raise InvalidRequest("Describe what was done (a note is required).", "note")
    now = timezone.now()
    resolved: dict[str, object] = {}
    if action == SafetyAlert.Action.NOT_REACHED:
        # Not reaching the patient is logged but the alert stays open.
        entry = f"{now:%Y-%m-%d %H:%M} {by}: not reached — {note.strip()}"
    else:
        entry = note.strip()
        resolved = {
            "resolved_at": now,
            "resolved_by": by,
            "resolved_by_credentials": by.credentials,
            "action": action,
        }
    appended = Case(
        When(note="", then=Value(entry)),
        default=Concat(F("note"), Value("\n" + entry)),
        output_field=TextField(),
    )
    still_open = SafetyAlert.objects.filter(pk=alert.pk, resolved_at__isnull=True)
    if not still_open.update(note=appended, **resolved):
        raise EditConflict(ALERT_FOLLOWED_UP_MEANWHILE)
    alert.refresh_from_db()
    post_save.send(sender=SafetyAlert, instance=alert, created=False)  # as a save() would


# --------------------------------------------------------------------------- summaries


@dataclass(frozen=True)
class Trajectory:
    instrument: str
    assessments: list[Assessment]
    target: TreatToTarget | None


def trajectories(episode: Episode) -> dict[str, Trajectory]:
    """PHQ-9 and GAD-7 series of the episode with their treat-to-target summary."""
    current = list(
        episode.assessments.filter(is_current=True, instrument__in=TRACKED).order_by(
            "taken_on", "id"
        )
    )
    by_instrument: dict[str, list[Assessment]] = defaultdict(list)
    for assessment in current:
        by_instrument[assessment.instrument].append(assessment)
    return {
        code: Trajectory(
            code,
            by_instrument[code],
            summary(code, by_instrument[code], episode.enrolled_on),
        )
        for code in TRACKED
    }


def summary(
    code: str, assessments: Sequence[Assessment], enrolled_on: date | None
) -> TreatToTarget | None:
    if not assessments:
        return None
    return treat_to_target(
        code,
        [(a.taken_on, a.total) for a in assessments],
        enrolled_on=enrolled_on,
        remission_cutoff=settings.COCM_REMISSION_CUTOFF,
    )


def open_alerts_for(episode_ids: Iterable[int]) -> set[int]:
    return set(
        SafetyAlert.objects.filter(
            episode_id__in=episode_ids, resolved_at__isnull=True
        ).values_list("episode_id", flat=True)
    )


# --------------------------------------------------------------------------- self-report


def invitation_link(token: str) -> str:
    return f"{settings.COCM_BASE_URL}{reverse('self_report', args=[token])}"


def send_invitation(
    episode: Episode,
    instruments: Sequence[str],
    *,
    channel: str,
    by: User | None,
    now: datetime,
    schedule: Schedule | None = None,
    guardian: Guardian | None = None,
) -> Invitation:
    """Send a single-use, expiring link to the patient (or to a guardian of a patient under
    18, who then answers as the respondent) by email or text message."""
    if not instruments:
        raise InvalidRequest("Choose at least one questionnaire.", "instruments")
    for code in instruments:
        try:
            get_instrument(code)
        except ScoringError as error:
            raise InvalidRequest(error.message, "instruments") from error
    if not episode.is_open:
        raise InvalidRequest("The episode is discharged.", "episode")
    patient = episode.patient
    recipient: Patient | Guardian = patient
    if guardian is not None:
        check_guardian_recipient(guardian, patient, now=now)
        recipient = guardian
    for code in instruments:
        if guardian is None and get_instrument(code).answered_by == Respondent.GUARDIAN:
            raise InvalidRequest(
                f"{code} is the parent version: send it to a parent or guardian.", "instruments"
            )
    address = recipient.email if channel == Channel.EMAIL else recipient.phone
    if not address:
        what = "email address" if channel == Channel.EMAIL else "phone number"
        who = "The guardian" if guardian is not None else "The patient"
        raise InvalidRequest(f"{who} has no {what} on file.", "channel")
    token, token_digest = Invitation.new_token()
    language = patient.preferred_language if patient.preferred_language in ("en", "es") else "en"
    invitation = Invitation.objects.create(
        episode=episode,
        instruments=list(dict.fromkeys(instruments)),
        channel=channel,
        language=language,
        token_digest=token_digest,
        created_by=by,
        created_at=now,
        expires_at=now + timedelta(days=settings.COCM_SELF_REPORT_DAYS),
        schedule=schedule,
        guardian=guardian,
    )
    deliver(invitation, token, reminder=False)
    return invitation


def check_guardian_recipient(guardian: Guardian, patient: Patient, *, now: datetime) -> None:
    """A link goes to a guardian of this patient who may receive links and still has access
    (it ends on the patient's 18th birthday unless renewed: docs/pediatric.md)."""
    if guardian.patient_id != patient.id:
        raise InvalidRequest("That guardian is not this patient's.", "guardian")
    if not guardian.may_receive_links:
        raise InvalidRequest(f"{guardian} may not receive questionnaire links.", "guardian")
    today = timezone.localdate(now, patient.organization.tz)
    if not guardian_access(guardian, today):
        raise InvalidRequest(
            f"{guardian}'s access ended when the patient turned 18; renew it first.", "guardian"
        )


def deliver(invitation: Invitation, token: str, *, reminder: bool) -> None:
    """Email or text the link; the message names only the recipient's first name."""
    patient = invitation.episode.patient
    guardian = invitation.guardian
    first_name = guardian.first_name if guardian else patient.given_name
    email = guardian.email if guardian else patient.email
    phone = guardian.phone if guardian else patient.phone
    tz = invitation.episode.clinic.organization.tz
    message = texts.invitation_message(
        invitation.language,
        first_name=first_name,
        clinic=invitation.episode.clinic.name,
        link=invitation_link(token),
        expires=timezone.localtime(invitation.expires_at, tz).date(),
        reminder=reminder,
    )
    address = email if invitation.channel == Channel.EMAIL else phone
    send_link_message(
        invitation.channel, address, texts.invitation_subject(invitation.language), message
    )


def send_link_message(channel: str, address: str, subject: str, message: str) -> None:
    """Email or text a link's message once the transaction commits (nothing is sent for
    a request that fails); used for self-report and survey links alike."""
    if channel == Channel.EMAIL:
        transaction.on_commit(lambda: send_mail(subject, message, None, [address]))
    else:
        transaction.on_commit(lambda: send_text(address, message))


def check_usable(link: SingleUseLink, now: datetime) -> None:
    """A single-use link answers once, before it expires."""
    if not link.is_usable(now):
        raise InvalidRequest("This link has expired or was already used.", "token")


def find_invitation(token: str) -> Invitation | None:
    from cocm.measures.models import digest

    return (
        Invitation.objects.select_related(
            "episode__patient", "episode__clinic__organization", "guardian"
        )
        .filter(token_digest=digest(token))
        .first()
    )


@dataclass(frozen=True)
class Submission:
    assessments: list[Assessment]
    safety: bool


def submit_self_report(
    invitation: Invitation, answers: dict[str, list[int | None]], *, now: datetime
) -> Submission:
    """Score every questionnaire of the link at once; the link is then used up."""
    check_usable(invitation, now)
    episode = invitation.episode
    today = timezone.localdate(now, episode.clinic.organization.tz)
    assessments = [
        record_assessment(
            episode,
            code,
            today,
            answers[code],
            method=Method.SELF_REPORT,
            by=None,
            as_of=today,
            respondent=Respondent.GUARDIAN if invitation.guardian else Respondent.PATIENT,
            respondent_guardian=invitation.guardian,
        )
        for code in invitation.instruments
    ]
    invitation.completed_at = now
    invitation.save(update_fields=["completed_at"])
    safety = any(ScoreFlag.SAFETY in a.flags for a in assessments)
    return Submission(assessments, safety)


def send_reminders(now: datetime) -> int:
    """One reminder for links unanswered after COCM_SELF_REPORT_REMINDER_HOURS."""
    due = Invitation.objects.filter(
        completed_at__isnull=True,
        reminded_at__isnull=True,
        expires_at__gt=now,
        created_at__lte=now - timedelta(hours=settings.COCM_SELF_REPORT_REMINDER_HOURS),
    ).select_related("episode__patient", "episode__clinic__organization")
    count = 0
    for invitation in due:
        with transaction.atomic():
            # Only the digest is stored, so the reminder carries a fresh link; the first
            # stops working, which keeps every link single-use.
            token, token_digest = Invitation.new_token()
            invitation.token_digest = token_digest
            invitation.reminded_at = now
            invitation.save(update_fields=["token_digest", "reminded_at"])
            deliver(invitation, token, reminder=True)
        count += 1
    return count


def send_due_schedules(now: datetime) -> int:
    """Send the scheduled questionnaires whose day has come."""
    count = 0
    schedules = Schedule.objects.filter(active=True).select_related(
        "episode__patient", "episode__clinic__organization"
    )
    for schedule in schedules:
        episode = schedule.episode
        today = timezone.localdate(now, episode.clinic.organization.tz)
        if not schedule.is_due(today):
            continue
        with transaction.atomic():
            if not episode.is_open:
                schedule.active = False
                schedule.save(update_fields=["active"])
                continue
            pending = schedule.invitations.filter(
                Q(completed_at__isnull=True) & Q(expires_at__gt=now)
            ).exists()
            if not pending:
                try:
                    send_invitation(
                        episode,
                        schedule.instruments,
                        channel=schedule.channel,
                        by=None,
                        now=now,
                        schedule=schedule,
                    )
                    count += 1
                except InvalidRequest:
                    pass  # no address on file: the chart shows the schedule as not sent
            while schedule.next_on <= today:
                schedule.next_on += timedelta(days=schedule.every_days)
            schedule.save(update_fields=["next_on"])
    return count


def stop_schedule(schedule: Schedule) -> None:
    """No more links from this schedule."""
    schedule.active = False
    schedule.save(update_fields=["active"])


def start_schedule(
    episode: Episode,
    instruments: Sequence[str],
    *,
    channel: str,
    every_days: int,
    first_on: date,
    by: User,
) -> Schedule:
    if not 7 <= every_days <= 90:
        raise InvalidRequest("Send every 7 to 90 days.", "every_days")
    if not instruments:
        raise InvalidRequest("Choose at least one questionnaire.", "instruments")
    return Schedule.objects.create(
        episode=episode,
        instruments=list(instruments),
        channel=channel,
        every_days=every_days,
        next_on=first_on,
        created_by=by,
    )


def record_treatment_change(
    episode: Episode, *, on: date, kind: str, description: str, by: User, as_of: date
) -> TreatmentChange:
    if on > as_of:
        raise InvalidRequest(f"The date {on} is in the future.", "on")
    if on < episode.referred_on:
        raise InvalidRequest(f"The date {on} is before the referral.", "on")
    return TreatmentChange.objects.create(
        episode=episode, on=on, kind=kind, description=description.strip(), recorded_by=by
    )


# --------------------------------------------------------------------------- chart


def chart_context(episode: Episode) -> dict[str, object]:
    """Everything the chart shows about measurement-based care for one episode."""
    from django.utils.safestring import mark_safe

    from cocm.measures.trajectory import Marker, Point, severity_bands, trajectory_svg

    series = trajectories(episode)
    changes = list(episode.treatment_changes.all())
    markers = [Marker(change.on, change.description) for change in changes]
    charts = []
    for code in (InstrumentCode.PHQ9, InstrumentCode.GAD7):
        trajectory = series[code]
        points = [
            Point(a.taken_on, a.total, "self-report" if a.method == Method.SELF_REPORT else "")
            for a in trajectory.assessments
        ]
        svg = trajectory_svg(
            code,
            points,
            max_total=INSTRUMENTS[code].max_total,
            bands=severity_bands(code),
            markers=markers,
            target=settings.COCM_REMISSION_CUTOFF,
        )
        charts.append(
            {
                "code": code,
                "svg": mark_safe(svg),  # noqa: S308 - trajectory_svg escapes all text
                "target": trajectory.target,
                "count": len(points),
            }
        )
    alerts = list(
        episode.safety_alerts.select_related("assessment", "resolved_by").order_by("-opened_at")
    )
    return {
        "charts": charts,
        "open_alerts": [a for a in alerts if a.is_open],
        "past_alerts": [a for a in alerts if not a.is_open][:5],
        "assessments": list(
            episode.assessments.select_related("administered_by", "respondent_guardian").order_by(
                "-taken_on", "-id"
            )
        ),
        "invitations": list(
            episode.invitations.select_related("guardian").order_by("-created_at")[:5]
        ),
        "schedules": list(episode.schedules.filter(active=True)),
        "treatment_changes": changes,
    }
