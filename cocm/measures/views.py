from typing import Any

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from cocm.accounts.audit import record_access
from cocm.accounts.models import User
from cocm.accounts.permissions import requires
from cocm.accounts.scoping import visible_episodes
from cocm.domain.instruments import INSTRUMENTS, InstrumentCode, ScoreFlag, get_instrument
from cocm.measures import services, texts
from cocm.measures.forms import (
    AlertFollowUpForm,
    AmendForm,
    AssessmentForm,
    InvitationForm,
    ScheduleForm,
    SelfReportForm,
    TreatmentChangeForm,
)
from cocm.measures.models import Assessment, Invitation, Method, Notification, SafetyAlert, Schedule
from cocm.pages import Audit, post_action, post_form, visible_episode
from cocm.registry.models import Episode


def back_to_chart(episode_patient_id: int) -> HttpResponse:
    return redirect("patient_chart", patient_id=episode_patient_id)


@requires("record_assessment")
def new_assessment(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    code = request.GET.get("instrument", InstrumentCode.PHQ9)
    if code not in INSTRUMENTS:
        raise Http404("Unknown instrument")
    form = assessment_form(request, episode, code)
    done = post_form(
        request,
        form,
        lambda data: record_from_form(request, episode, code, form),
        audit=Audit("create", "assessment", patient_id=episode.patient_id, object_id=_id),
        message=lambda a: f"{code} recorded: {a.total} ({a.severity.replace('_', ' ')}).",
        then=lambda assessment: assessment_recorded(request, assessment),
    )
    context = {"form": form, "episode": episode, "instrument": get_instrument(code)}
    return done or render(
        request, "measures/assessment_form.html", context | {"instruments": INSTRUMENTS}
    )


def assessment_form(request: HttpRequest, episode: Episode, code: str) -> AssessmentForm:
    """The instrument's items, the patient's guardians as respondents, taken today in clinic."""
    today = request.user.organization.today()
    return AssessmentForm(
        request.POST or None,
        instrument=get_instrument(code),
        guardians=episode.patient.guardians.all(),
        initial={"taken_on": today, "method": Method.IN_CLINIC},
    )


def record_from_form(
    request: HttpRequest, episode: Episode, code: str, form: AssessmentForm
) -> Assessment:
    data = form.cleaned_data
    return services.record_assessment(
        episode,
        code,
        data["taken_on"],
        form.answers(),
        method=data["method"],
        by=request.user,
        as_of=request.user.organization.today(),
        **form.respondent_fields(),
    )


def _id(row: Any) -> int:
    return int(row.id)


def assessment_recorded(request: HttpRequest, assessment: Assessment) -> HttpResponse:
    """Back to the chart; a positive suicide-risk answer says so at once."""
    if ScoreFlag.SAFETY in assessment.flags:
        messages.error(
            request,
            "Positive suicide-risk answer: a safety alert is open. Follow the safety protocol now.",
        )
    return back_to_chart(assessment.episode.patient_id)


def visible_assessment(request: HttpRequest, assessment_id: int) -> Assessment:
    return get_object_or_404(
        Assessment.objects.filter(
            episode__in=visible_episodes(request.user, Episode.objects)
        ).select_related("episode__patient"),
        id=assessment_id,
    )


@requires("record_assessment")
def amend_assessment(request: HttpRequest, assessment_id: int) -> HttpResponse:
    original = visible_assessment(request, assessment_id)
    instrument = get_instrument(original.instrument)
    initial = {"taken_on": original.taken_on, "method": original.method}
    initial["version"] = original.version
    initial |= {f"item_{n + 1}": a for n, a in enumerate(original.answers) if a is not None}
    form = AmendForm(request.POST or None, instrument=instrument, initial=initial)
    done = post_form(
        request,
        form,
        lambda data: services.amend_assessment(
            original,
            form.answers(),
            taken_on=data["taken_on"],
            reason=data["reason"],
            by=request.user,
            as_of=request.user.organization.today(),
            version=data["version"],
        ),
        audit=Audit("update", "assessment", patient_id=original.episode.patient_id, object_id=_id),
        message=lambda amended: f"{original.instrument} corrected: {amended.total}.",
        then=lambda _: back_to_chart(original.episode.patient_id),
    )
    context = {"episode": original.episode, "instrument": instrument, "original": original}
    return done or render(request, "measures/assessment_form.html", context | {"form": form})


@requires("view_clinical")
def assessment_detail(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = visible_assessment(request, assessment_id)
    record_access(
        request,
        "view",
        "assessment",
        patient_id=assessment.episode.patient_id,
        object_id=assessment.id,
    )
    context = services.assessment_details(assessment)
    return render(request, "measures/assessment_detail.html", context)


@require_POST
@requires("follow_up_safety_alert")
def follow_up_alert(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(
        SafetyAlert.objects.filter(episode__in=visible_episodes(request.user, Episode.objects)),
        id=alert_id,
    )
    return post_action(
        request,
        AlertFollowUpForm(request.POST),
        lambda data: services.resolve_alert(
            alert, action=data["action"], note=data["note"], by=request.user
        ),
        audit=Audit(
            "update", "safety alert", patient_id=alert.episode.patient_id, object_id=alert.id
        ),
        message=lambda _: (
            "Outreach attempt logged; the alert stays open."
            if alert.is_open
            else "Safety follow-up documented."
        ),
        back=back_to_chart(alert.episode.patient_id),
    )


@require_POST
@requires("send_self_report")
def send_invitation(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    guardians = list(episode.patient.guardians.all())
    form = InvitationForm(request.POST, guardians=guardians)
    return post_action(
        request,
        form,
        lambda data: services.send_invitation(
            episode,
            data["instruments"],
            channel=data["channel"],
            by=request.user,
            now=timezone.now(),
            guardian=form.guardian(guardians),
        ),
        audit=Audit("create", "self-report link", patient_id=episode.patient_id, object_id=_id),
        message=invitation_sent,
        # Sent from the task list: back to it.
        back=redirect("tasks")
        if request.POST.get("return_to") == "tasks"
        else back_to_chart(episode.patient_id),
        invalid=lambda _: "Choose at least one questionnaire and how to send it.",
    )


def invitation_sent(invitation: Invitation) -> str:
    to = f" to {invitation.guardian}" if invitation.guardian else ""
    channel = invitation.get_channel_display().lower()
    return f"Sent {', '.join(invitation.instruments)}{to} by {channel}."


def first_errors(form: forms.BaseForm) -> str:
    """Each bad field by its name, with its first error."""
    return "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items())


@require_POST
@requires("send_self_report")
def start_schedule(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    return post_action(
        request,
        ScheduleForm(request.POST),
        lambda data: services.start_schedule(
            episode,
            data["instruments"],
            channel=data["channel"],
            every_days=data["every_days"],
            first_on=data["first_on"],
            by=request.user,
        ),
        audit=Audit(
            "create", "self-report schedule", patient_id=episode.patient_id, object_id=episode.id
        ),
        message="Schedule started.",
        back=back_to_chart(episode.patient_id),
        invalid=first_errors,
    )


@require_POST
@requires("send_self_report")
def stop_schedule(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = get_object_or_404(
        Schedule.objects.filter(episode__in=visible_episodes(request.user, Episode.objects)),
        id=schedule_id,
    )
    with transaction.atomic():
        services.stop_schedule(schedule)
        record_access(
            request,
            "update",
            "self-report schedule",
            patient_id=schedule.episode.patient_id,
            object_id=schedule.id,
        )
    messages.success(request, "Schedule stopped.")
    return back_to_chart(schedule.episode.patient_id)


@require_POST
@requires("record_treatment_change")
def new_treatment_change(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    return post_action(
        request,
        TreatmentChangeForm(request.POST),
        lambda data: services.record_treatment_change(
            episode,
            on=data["on"],
            kind=data["kind"],
            description=data["description"],
            by=request.user,
            as_of=request.user.organization.today(),
        ),
        audit=Audit("create", "treatment change", patient_id=episode.patient_id, object_id=_id),
        message="Treatment change recorded.",
        back=back_to_chart(episode.patient_id),
        invalid=first_errors,
    )


def unread_notifications(user: User):  # type: ignore[no-untyped-def]
    return Notification.objects.filter(user=user, read_at__isnull=True)


@requires("view_clinical")
def notifications(request: HttpRequest) -> HttpResponse:
    # Shown once as unread, then marked read.
    items = services.named_notifications(
        request.user, Notification.objects.filter(user=request.user)[:100]
    )
    unread_notifications(request.user).update(read_at=timezone.now())
    for patient_id in sorted({item.patient_id for item in items if item.patient_id}):
        record_access(request, "view", "notification", patient_id=patient_id)
    if not items or not any(item.patient_id for item in items):
        record_access(request, "view", "notifications", patient_id=None)
    return render(request, "measures/notifications.html", {"items": items})


def notification_badge(request: HttpRequest) -> HttpResponse:
    """Polled by every page (htmx, every 15 s) so an alert shows without a page load; an
    urgent one names the patient (to a user allowed to see them) and links to the chart."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    unread = unread_notifications(request.user)
    urgent = unread.filter(urgent=True).first()
    named = None
    if urgent is not None:
        (named,) = services.named_notifications(request.user, [urgent])
        # The badge is polled: one audit event per notification and user names the patient.
        if named.patient_id and cache.add(f"notification-named:{urgent.id}", 1, 24 * 3600):
            record_access(request, "view", "safety notification", patient_id=named.patient_id)
    return render(request, "measures/_badge.html", {"unread": unread.count(), "urgent": named})


# --------------------------------------------------------------------------- patients


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    lang = texts.language(request.GET.get("lang", "en"))
    return render(
        request,
        "measures/self_report_message.html",
        {"t": texts.PAGE[lang], "message": texts.PAGE[lang]["too_many"], "lang": lang},
        status=429,
    )


@ratelimit(key="ip", rate=lambda group, request: _rate(), block=True)
def self_report(request: HttpRequest, token: str) -> HttpResponse:
    """The patient's page: no account, no health information, first name only."""
    invitation = services.find_invitation(token)
    now = timezone.now()
    lang = texts.language(invitation.language if invitation else "en")
    t = texts.PAGE[lang]
    if invitation is None or not invitation.is_usable(now):
        context = {"t": t, "message": t["expired"], "lang": lang}
        return render(request, "measures/self_report_message.html", context, status=410)
    instruments = [get_instrument(code) for code in invitation.instruments]
    form = SelfReportForm(
        request.POST or None, instruments=instruments, language=lang, missing=t["missing"]
    )
    if request.method == "POST" and form.is_valid():
        return self_report_done(request, invitation, form.answers(), now, lang)
    context = {"t": t, "lang": lang, "form": form, "groups": list(form.groups(lang))}
    return render(
        request, "measures/self_report.html", context | {"first_name": invitation.addressee}
    )


def self_report_done(
    request: HttpRequest, invitation: Invitation, answers: Any, now: Any, lang: str
) -> HttpResponse:
    """Store the answers (each assessment audited as the patient's own), then thank them."""
    with transaction.atomic():
        submission = services.submit_self_report(invitation, answers, now=now)
        for assessment in submission.assessments:
            Audit(
                "create", "self-report assessment", invitation.episode.patient_id, assessment.id
            ).record(request, assessment, channel="patient")
    clinic = invitation.episode.clinic
    context = {"t": texts.PAGE[lang], "lang": lang, "safety": submission.safety}
    context |= {"clinic": clinic.name, "phone": clinic.phone}
    return render(request, "measures/self_report_done.html", context)


def _rate() -> str:
    from django.conf import settings

    return settings.COCM_SELF_REPORT_RATE
