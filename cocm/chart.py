"""The patient chart: one page composed of the registry (demographics, episodes, guardians),
measures (scores, invitations, alerts) and care (contacts, reviews, the timeline).

It sits above the apps so that none of them imports another's pages or forms for it
(pyproject's import contracts)."""

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cocm.accounts.audit import record_access
from cocm.accounts.models import User
from cocm.accounts.permissions import can, requires
from cocm.care import chart as care_chart
from cocm.care import timeline as care_timeline
from cocm.domain.instruments import INSTRUMENTS
from cocm.interop import chart as imported_chart
from cocm.measures import services as measures_services
from cocm.measures.forms import AlertFollowUpForm, InvitationForm, ScheduleForm, TreatmentChangeForm
from cocm.pages import visible_patient
from cocm.registry import services as registry
from cocm.registry.forms import DiagnosisForm, StatusForm
from cocm.registry.models import Episode, Patient

# The template's switches, each the capability it stands for.
CAPABILITIES = {
    "can_edit_patient": "edit_patient",
    "can_refer": "refer_patient",
    "can_enroll": "enroll_patient",
    "can_revoke_consent": "revoke_consent",
    "can_manage_guardians": "manage_guardians",
    "can_print_handout": "print_handout",
    "can_view_consent_document": "view_consent_document",
    "can_change_status": "change_episode_status",
    "can_edit_care_team": "edit_care_team",
    "can_edit_diagnoses": "edit_diagnoses",
    "can_log_contact": "record_contact",
    "can_request_review": "request_review",
    "can_review": "run_caseload_review",
    "can_plan": "edit_relapse_plan",
    "can_manage_tasks": "manage_tasks",
    "can_assess": "record_assessment",
    "can_send": "send_self_report",
    "can_follow_up": "follow_up_safety_alert",
    "can_change_treatment": "record_treatment_change",
}


@requires("view_patient")
def patient_chart(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = visible_patient(request, patient_id)
    context = chart_context(request.user, patient, request.GET.get("kind", ""))
    record_access(request, "view", "chart", patient_id=patient.id)
    measures_services.mark_read_for_patient(request.user, patient.id)
    return render(request, "registry/chart.html", context)


def chart_episodes(patient: Patient) -> list[Episode]:
    """The patient's episodes, newest first, with what the chart shows of each."""
    return list(
        patient.episodes.select_related(
            "clinic",
            "care_manager",
            "psychiatric_consultant",
            "referring_pcp",
            "consent_obtained_by",
        )
        .prefetch_related("diagnoses", "status_changes", "revocations")
        .order_by("-referred_on", "-id")
    )


def chart_context(user: User, patient: Patient, timeline_kind: str) -> dict[str, Any]:
    """Everything the chart template reads, for what the user may see."""
    today = user.organization.today()
    episodes = chart_episodes(patient)
    open_episode = next((e for e in episodes if e.is_open), None)
    shown_episode = open_episode or next(iter(episodes), None)
    clinical = can(user, "view_clinical")
    clinical_parts = shown_episode is not None and clinical
    guardians = [(g, registry.guardian_access(g, today)) for g in patient.guardians.all()]
    return {
        "patient": patient,
        "age": patient.age_on(today),
        "is_minor": patient.age_on(today) < 18,
        "coverages": patient.coverages.all(),
        "episodes": episodes,
        "open_episode": open_episode,
        "shown_episode": shown_episode,
        "guardians": guardians,
        "measures": measures_services.chart_context(shown_episode) if clinical_parts else {},
        "care": care_chart.chart_context(shown_episode, today) if clinical_parts else {},
        "instruments": INSTRUMENTS,
        **timeline_context(patient, episodes, timeline_kind, clinical=clinical),
        **{switch: can(user, capability) for switch, capability in CAPABILITIES.items()},
        **chart_forms(today, [g for g, access in guardians if access and g.may_receive_links]),
    }


def timeline_context(
    patient: Patient, episodes: list[Any], kind: str, *, clinical: bool
) -> dict[str, Any]:
    """The timeline (registry and imported events, of one kind if a known one is chosen), its
    kind switches, and the hospice and palliative care notes; clinical parts only for a
    user who may see them."""
    kind = kind if kind in {known for known, _ in care_timeline.KINDS} else ""
    imported = imported_chart.imported_events(patient.id) if clinical else ()
    return {
        "timeline": care_timeline.patient_timeline(
            episodes, clinical=clinical, kind=kind, imported=imported
        ),
        "care_notes": imported_chart.hospice_and_palliative_care(patient.id) if clinical else [],
        "timeline_kinds": [
            (known, label)
            for known, label in care_timeline.KINDS
            if clinical or known in care_timeline.NON_CLINICAL_KINDS
        ],
        "timeline_kind": kind,
    }


def chart_forms(today: date, link_guardians: list[Any]) -> dict[str, Any]:
    """The chart's inline forms, with their defaults."""
    return {
        "status_form": StatusForm(initial={"on": today}),
        "diagnosis_form": DiagnosisForm(),
        "invitation_form": InvitationForm(
            initial={"instruments": ["PHQ-9"], "channel": "email"}, guardians=link_guardians
        ),
        "schedule_form": ScheduleForm(
            initial={
                "instruments": ["PHQ-9"],
                "channel": "email",
                "first_on": today,
                "every_days": 28,
            }
        ),
        "alert_form": AlertFollowUpForm(),
        "treatment_form": TreatmentChangeForm(initial={"on": today}),
    }
