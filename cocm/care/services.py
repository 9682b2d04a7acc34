"""Use cases of the care manager's and the psychiatric consultant's daily work."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from cocm.accounts.models import Role, User
from cocm.care.caseload import mark_changed
from cocm.care.models import (
    Activity,
    CaseReview,
    Contact,
    FollowUp,
    Recommendation,
    RelapsePreventionPlan,
    ReviewRequest,
    TimeRole,
)
from cocm.errors import EditConflict, InvalidRequest
from cocm.measures.models import Notification, TreatmentChange
from cocm.registry.models import Episode
from cocm.versions import claimed, seen

MAX_MINUTES = 24 * 60


def check_day(episode: Episode, on: date, as_of: date, field: str) -> None:
    if on > as_of:
        raise InvalidRequest(f"The date {on} is in the future.", field)
    if on < episode.referred_on:
        raise InvalidRequest(
            f"The date {on} is before the referral ({episode.referred_on}).", field
        )
    if episode.discharged_on and on > episode.discharged_on:
        raise InvalidRequest(
            f"The date {on} is after the discharge ({episode.discharged_on}).", field
        )


def check_minutes(minutes: int, field: str = "minutes") -> None:
    if minutes < 0:
        raise InvalidRequest("Minutes cannot be negative.", field)
    if minutes > MAX_MINUTES:
        raise InvalidRequest(f"{minutes} minutes is more than a day ({MAX_MINUTES}).", field)


def suggested_time_role(user: User) -> TimeRole:
    """Whose time a new contact is, unless the user says otherwise: a consultant's or a PCP's
    own, a care manager's (or anyone else's) the care manager's."""
    if not user.has_role(Role.CARE_MANAGER):
        if user.has_role(Role.PSYCHIATRIC_CONSULTANT):
            return TimeRole.PSYCHIATRIC_CONSULTANT
        if user.has_role(Role.PCP):
            return TimeRole.BILLING_PRACTITIONER
    return TimeRole.CARE_MANAGER


def record_contact(
    episode: Episode,
    *,
    occurred_on: date,
    minutes: int,
    mode: str,
    activity: str,
    staff: User,
    by: User,
    as_of: date,
    role: str = TimeRole.CARE_MANAGER,
    separately_billed: bool = False,
    no_show: bool = False,
    note: str = "",
    started_at: datetime | None = None,
    next_contact_on: date | None = None,
) -> Contact:
    """Log a contact and its minutes; optionally set the next contact due."""
    check_day(episode, occurred_on, as_of, "occurred_on")
    check_minutes(minutes)
    if minutes == 0 and not no_show:
        raise InvalidRequest("A contact needs its minutes (0 only for a no-show).", "minutes")
    contact = Contact.objects.create(
        episode=episode,
        occurred_on=occurred_on,
        minutes=minutes,
        mode=mode,
        activity=activity,
        staff=staff,
        role=role,
        separately_billed=separately_billed,
        no_show=no_show,
        note=note.strip(),
        started_at=started_at,
        recorded_by=by,
    )
    if not no_show:
        # A contact made is the follow-up that was due (its version bumped: a page that
        # still shows it open conflicts instead of marking it done again).
        FollowUp.objects.filter(episode=episode, done_at__isnull=True).update(
            done_at=timezone.now(), version=F("version") + 1
        )
    if next_contact_on is not None:
        set_follow_up(episode, due_on=next_contact_on, what="", by=by, as_of=as_of)
    return contact


CONTACT_CHANGED_MEANWHILE = (
    "This contact was changed by someone else while you were editing it; reload and try again."
)


@dataclass(frozen=True)
class ContactChange:
    """The fields of a logged contact that can be corrected."""

    occurred_on: date
    minutes: int
    mode: str
    activity: str
    role: str = TimeRole.CARE_MANAGER
    separately_billed: bool = False
    no_show: bool = False
    note: str = ""


def _changeable(contact: Contact) -> None:
    if CaseReview.objects.filter(contact=contact).exists():
        raise InvalidRequest(
            "This time was logged by a caseload review; it cannot be changed here.", "contact"
        )


def edit_contact(contact: Contact, change: ContactChange, *, version: int, as_of: date) -> None:
    """Correct a logged contact if nobody changed it since `version` was read; of two
    corrections at once one is kept and the other gets EditConflict. (Nothing clinical is
    deleted through the pages or the API: a contact logged in error is corrected, e.g. to
    0 minutes as a no-show.)"""
    seen(contact, version, conflict=CONTACT_CHANGED_MEANWHILE)
    _changeable(contact)
    check_day(contact.episode, change.occurred_on, as_of, "occurred_on")
    check_minutes(change.minutes)
    if change.minutes == 0 and not change.no_show:
        raise InvalidRequest("A contact needs its minutes (0 only for a no-show).", "minutes")
    fields = {**change.__dict__, "note": change.note.strip()}
    with transaction.atomic():
        claimed(contact, version, conflict=CONTACT_CHANGED_MEANWHILE, **fields)


FOLLOW_UP_CHANGED_MEANWHILE = (
    "The next contact was set or marked done by someone else while you were editing it; "
    "reload to see it and try again."
)
NO_FOLLOW_UP = 0  # `replaces` of a page that showed no open follow-up


def open_follow_up(episode: Episode) -> FollowUp | None:
    return FollowUp.objects.filter(episode=episode, done_at__isnull=True).first()


def set_follow_up(
    episode: Episode,
    *,
    due_on: date,
    what: str,
    by: User,
    as_of: date,
    replaces: int | None = None,
    version: int | None = None,
) -> FollowUp:
    """Replace the episode's open follow-up with one due on `due_on`.

    `replaces` is the id of the open follow-up the user saw (NO_FOLLOW_UP: none) and
    `version` its version; when given, a follow-up set, replaced or done by someone else
    since then is EditConflict, so of two users setting the next contact at once one is
    kept. Left out (a contact's "next contact due"), whatever is open is replaced."""
    if due_on < as_of:
        raise InvalidRequest("The next contact cannot be due in the past.", "next_contact_on")
    current = open_follow_up(episode)
    if replaces is not None and replaces != (current.id if current else NO_FOLLOW_UP):
        raise EditConflict(FOLLOW_UP_CHANGED_MEANWHILE)
    with transaction.atomic():
        if current is not None:
            expected = seen(current, version, conflict=FOLLOW_UP_CHANGED_MEANWHILE)
            claimed(current, expected, conflict=FOLLOW_UP_CHANGED_MEANWHILE, done_at=timezone.now())
        try:
            with transaction.atomic():
                return FollowUp.objects.create(
                    episode=episode,
                    due_on=due_on,
                    what=what.strip(),
                    assigned_to=episode.care_manager or by,
                )
        except IntegrityError as error:  # one open per episode: another user's came first
            raise EditConflict(FOLLOW_UP_CHANGED_MEANWHILE) from error


def complete_follow_up(follow_up: FollowUp, *, version: int | None = None) -> None:
    """Mark a follow-up done; `version` is the one the user saw (default: the one loaded).
    One done to a follow-up already done or replaced is EditConflict."""
    expected = seen(follow_up, version, conflict=FOLLOW_UP_CHANGED_MEANWHILE)
    if follow_up.done_at is not None:
        raise EditConflict(FOLLOW_UP_CHANGED_MEANWHILE)
    claimed(follow_up, expected, conflict=FOLLOW_UP_CHANGED_MEANWHILE, done_at=timezone.now())


def request_review(episode: Episode, *, reason: str, by: User) -> ReviewRequest:
    """Ask the psychiatric consultant to discuss the patient at the next review."""
    if not reason.strip():
        raise InvalidRequest("Say what you want to discuss.", "reason")
    if not episode.is_open:
        raise InvalidRequest("The episode is discharged.", "episode")
    request = ReviewRequest.objects.create(episode=episode, reason=reason.strip(), requested_by=by)
    if episode.psychiatric_consultant_id:
        notify(
            episode.psychiatric_consultant,
            "A care manager asked to discuss a patient at the caseload review.",
            reverse("review_agenda"),
            patient_id=episode.patient_id,
        )
    return request


REVIEWED_MEANWHILE = (
    "This patient's record changed while you were reviewing (another review, a care team or "
    "status change); reload, check what changed and submit again."
)


@dataclass(frozen=True)
class RecommendationInput:
    kind: str
    medication: str = ""
    dose: str = ""
    text: str = ""

    @property
    def is_blank(self) -> bool:
        return not any(v.strip() for v in (self.kind, self.medication, self.dose, self.text))


def record_review(
    episode: Episode,
    *,
    consultant: User,
    reviewed_on: date,
    minutes: int,
    summary: str,
    recommendations: list[RecommendationInput],
    as_of: date,
    confirm_same_day: bool = False,
    version: int | None = None,
) -> CaseReview:
    """Record a caseload review; each recommendation becomes a task for the PCP.

    A recommendation with details but no type is refused, never dropped; a second review of
    the episode on the same day needs `confirm_same_day` (a double submission is likelier
    than two reviews). `version` is the episode version the consultant saw (default: the
    one loaded): a review bumps it, so of two reviews of one patient at once one is
    recorded and the other gets EditConflict."""
    expected = seen(episode, version, conflict=REVIEWED_MEANWHILE)
    check_day(episode, reviewed_on, as_of, "reviewed_on")
    check_minutes(minutes)
    if not summary.strip():
        raise InvalidRequest("Write a summary of the review.", "summary")
    for index, item in enumerate(recommendations):
        if not item.kind:
            raise InvalidRequest(
                "Choose the type of this recommendation (its details would be lost).",
                f"recommendations[{index}].kind",
            )
        if item.kind not in Recommendation.Kind.values:
            raise InvalidRequest(
                f"Unknown recommendation kind '{item.kind}'.", f"recommendations[{index}].kind"
            )
        if item.kind.endswith("_medication") and not item.medication.strip():
            raise InvalidRequest("Name the medication.", f"recommendations[{index}].medication")
    # Claimed before the same-day check: a second review waits here for the first to commit.
    claimed(episode, expected, conflict=REVIEWED_MEANWHILE)
    if not confirm_same_day and episode.reviews.filter(reviewed_on=reviewed_on).exists():
        raise InvalidRequest(
            f"This patient was already reviewed on {reviewed_on}; confirm to record a second "
            "review that day.",
            "confirm_same_day",
        )
    # The consultant's time is logged like any other; the billing engine leaves it out of
    # the CoCM thresholds by default (rules section 1.2).
    contact = Contact.objects.create(
        episode=episode,
        occurred_on=reviewed_on,
        minutes=minutes,
        mode="video",
        activity=Activity.CASELOAD_REVIEW,
        staff=consultant,
        role=TimeRole.PSYCHIATRIC_CONSULTANT,
        note=summary.strip(),
        recorded_by=consultant,
    )
    review = CaseReview.objects.create(
        episode=episode,
        consultant=consultant,
        reviewed_on=reviewed_on,
        minutes=minutes,
        summary=summary.strip(),
        contact=contact,
    )
    for item in recommendations:
        Recommendation.objects.create(
            review=review,
            episode=episode,
            pcp=episode.referring_pcp,
            kind=item.kind,
            medication=item.medication.strip(),
            dose=item.dose.strip(),
            text=item.text.strip(),
        )
    ReviewRequest.objects.filter(episode=episode, review__isnull=True).update(review=review)
    mark_changed(Episode.objects.filter(pk=episode.pk))  # update() sends no signal
    if recommendations and episode.referring_pcp_id:
        notify(
            episode.referring_pcp,
            "New recommendation from the psychiatric consultant.",
            reverse("pcp_inbox"),
            patient_id=episode.patient_id,
        )
    if episode.care_manager_id and episode.care_manager_id != consultant.id:
        notify(
            episode.care_manager,
            "The psychiatric consultant reviewed a patient.",
            reverse("patient_chart", args=[episode.patient_id]),
            patient_id=episode.patient_id,
        )
    return review


RESPONSES = (
    Recommendation.Status.ACCEPTED,
    Recommendation.Status.MODIFIED,
    Recommendation.Status.DECLINED,
)
TREATMENT_KIND = {
    "start_medication": TreatmentChange.Kind.MEDICATION_START,
    "change_medication": TreatmentChange.Kind.MEDICATION_CHANGE,
    "stop_medication": TreatmentChange.Kind.MEDICATION_STOP,
    "psychotherapy": TreatmentChange.Kind.PSYCHOTHERAPY,
    "refer_specialty": TreatmentChange.Kind.REFERRAL,
    "other": TreatmentChange.Kind.OTHER,
}


ANSWERED_MEANWHILE = (
    "This recommendation was answered by someone else while you were deciding; "
    "reload to see their answer."
)


def respond(
    recommendation: Recommendation,
    *,
    status: str,
    note: str,
    by: User,
    as_of: date,
    version: int | None = None,
) -> None:
    """The PCP accepts, modifies or declines; an accepted change enters the treatment log.

    `version` is the recommendation version the PCP saw (default: the one loaded): of two
    answers at once, one is kept and the other gets EditConflict."""
    expected = seen(recommendation, version, conflict=ANSWERED_MEANWHILE)
    if recommendation.status != Recommendation.Status.PENDING:
        raise InvalidRequest("This recommendation was already answered.", "status")
    if status not in RESPONSES:
        raise InvalidRequest("Accept, modify or decline.", "status")
    if status != Recommendation.Status.ACCEPTED and not note.strip():
        raise InvalidRequest("Say what you changed or why you declined.", "note")
    claimed(
        recommendation,
        expected,
        conflict=ANSWERED_MEANWHILE,
        status=status,
        response_note=note.strip(),
        responded_at=timezone.now(),
        responded_by=by,
    )
    episode = recommendation.episode
    if status != Recommendation.Status.DECLINED:
        description = recommendation.summary
        if note.strip():
            description = f"{description} (PCP: {note.strip()})"
        TreatmentChange.objects.create(
            episode=episode,
            on=as_of,
            kind=TREATMENT_KIND[recommendation.kind],
            description=description[:200],
            recorded_by=by,
        )
    if episode.care_manager_id:
        notify(
            episode.care_manager,
            f"The PCP answered a recommendation: {recommendation.get_status_display()}.",
            reverse("patient_chart", args=[episode.patient_id]),
            patient_id=episode.patient_id,
        )


@dataclass(frozen=True)
class Answer:
    """The PCP's answer to one recommendation."""

    recommendation: Recommendation
    status: str
    note: str = ""
    version: int | None = None  # the recommendation's version the PCP saw


def answer_review(answers: list[Answer], *, by: User, as_of: date) -> list[Answer]:
    """Answer several recommendations of a review at once, all or none (the caller's
    transaction); a refusal names the recommendation: `recommendations[<id>].<field>`."""
    if not answers:
        raise InvalidRequest("Choose an answer for at least one recommendation.", "answers")
    for answer in answers:
        try:
            respond(
                answer.recommendation,
                status=answer.status,
                note=answer.note,
                by=by,
                as_of=as_of,
                version=answer.version,
            )
        except InvalidRequest as error:
            field = f"recommendations[{answer.recommendation.id}].{error.field}"
            raise InvalidRequest(error.message, field) from error
    return answers


def remind_pcp(recommendation: Recommendation, *, by: User) -> None:
    """Nudge the PCP about a recommendation still waiting for an answer."""
    if recommendation.status != Recommendation.Status.PENDING:
        raise InvalidRequest("This recommendation was already answered.", "recommendation")
    if recommendation.pcp is None or not recommendation.pcp.is_active:
        raise InvalidRequest("The episode has no PCP to remind; set one on the care team.", "pcp")
    notify(
        recommendation.pcp,
        f"Reminder from {by}: a recommendation of the psychiatric consultant waits for "
        "your answer.",
        reverse("pcp_inbox"),
        patient_id=recommendation.episode.patient_id,
    )


PLAN_CHANGED_MEANWHILE = (
    "The relapse-prevention plan was changed by someone else while you were editing it; "
    "reload to see their plan and try again."
)


def save_relapse_plan(
    episode: Episode,
    *,
    warning_signs: str,
    coping_steps: str,
    whom_to_call: str,
    by: User,
    version: int | None = None,
) -> RelapsePreventionPlan:
    """Write or rewrite the episode's relapse-prevention plan. `version` is the version of
    the plan the user saw, None when they saw no plan: of two users saving at once (the
    first plan or an edit), one is kept and the other gets EditConflict."""
    fields = {
        "warning_signs": warning_signs,
        "coping_steps": coping_steps,
        "whom_to_call": whom_to_call,
    }
    plan = RelapsePreventionPlan.objects.filter(episode=episode).first()
    if plan is not None and version is None:  # written since this user saw none
        raise EditConflict(PLAN_CHANGED_MEANWHILE)
    if plan is not None:
        seen(plan, version, conflict=PLAN_CHANGED_MEANWHILE)
    for name, value in fields.items():
        if not value.strip():
            raise InvalidRequest("Fill in every part of the plan.", name)
    written = {
        **{k: v.strip() for k, v in fields.items()},
        "updated_at": timezone.now(),
        "updated_by": by,
    }
    if plan is not None:
        claimed(plan, plan.version, conflict=PLAN_CHANGED_MEANWHILE, **written)
        return plan
    try:
        with transaction.atomic():
            return RelapsePreventionPlan.objects.create(episode=episode, **written)
    except IntegrityError as error:  # two first plans at once: the other one was saved
        raise EditConflict(PLAN_CHANGED_MEANWHILE) from error


def notify(user: User | None, text: str, url: str, *, patient_id: int | None = None) -> None:
    """An in-product message; the page names the patient, the text does not."""
    if user is not None and user.is_active:
        Notification.objects.create(user=user, text=text, url=url, patient_id=patient_id)


def pending_for_pcp(user: User):  # type: ignore[no-untyped-def]
    return Recommendation.objects.filter(pcp=user, status=Recommendation.Status.PENDING)
