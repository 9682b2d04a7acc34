from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from cocm.accounts.audit import record_access
from cocm.accounts.models import Role
from cocm.accounts.permissions import can, requires
from cocm.care import chart as care_chart
from cocm.care import timeline as care_timeline
from cocm.domain.episodes import DischargeReason, EpisodeStatus
from cocm.domain.instruments import INSTRUMENTS
from cocm.measures import services as measures_services
from cocm.measures.forms import (
    AlertFollowUpForm,
    InvitationForm,
    ScheduleForm,
    TreatmentChangeForm,
)
from cocm.registry import services
from cocm.registry.forms import (
    CareTeamForm,
    CoverageForm,
    DiagnosisForm,
    EnrollForm,
    PatientEditForm,
    PatientForm,
    PatientSearchForm,
    ReferralForm,
    StatusForm,
)
from cocm.registry.models import Episode, Patient


def form_error(form, error: services.InvalidRequest) -> None:  # type: ignore[no-untyped-def]
    """Attach a service error to the form field it names, else to the whole form."""
    field = form.fields.get(error.field)
    form.add_error(error.field if field and not field.widget.is_hidden else None, error.message)


@requires("view_patient")
def patient_search(request: HttpRequest) -> HttpResponse:
    # POST keeps names and MRNs out of URLs and access logs.
    form = PatientSearchForm(request.POST or None)
    patients: list[Patient] = []
    if request.method == "POST" and form.is_valid():
        patients = list(services.search_patients(request.user, form.cleaned_data["query"]))
        record_access(request, "view", "patient search", patient_id=None)
    template = "registry/_search_results.html" if request.htmx else "registry/search.html"
    return render(
        request, template, {"form": form, "patients": patients, "searched": form.is_bound}
    )


@requires("register_patient")
def register_patient(request: HttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {name: data[name] for name in PatientForm.Meta.fields}
        try:
            with transaction.atomic():
                patient = services.register_patient(request.user.organization, **fields)
                if data.get("payer_kind"):
                    try:
                        services.add_coverage(
                            patient,
                            payer_kind=data["payer_kind"],
                            payer_name=data["payer_name"],
                            member_id=data["member_id"],
                            starts_on=data["coverage_starts_on"],
                        )
                    except services.InvalidRequest as error:
                        # The form names the coverage's start date differently.
                        error.field = "coverage_starts_on"
                        raise
                record_access(request, "create", "patient", patient_id=patient.id)
        except services.InvalidRequest as error:
            form_error(form, error)
        else:
            messages.success(request, "Patient registered.")
            return redirect("patient_chart", patient_id=patient.id)
    return render(request, "registry/patient_form.html", {"form": form})


@requires("edit_patient")
def edit_patient(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = visible_patient(request, patient_id)
    form = PatientEditForm(
        request.POST or None, instance=patient, initial={"version": patient.version}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {name: data[name] for name in PatientEditForm.Meta.fields}
        try:
            with transaction.atomic():
                services.update_patient(patient, data["version"], **fields)
                record_access(request, "update", "patient", patient_id=patient.id)
        except services.InvalidRequest as error:
            form_error(form, error)
        else:
            messages.success(request, "Patient details saved.")
            return redirect("patient_chart", patient_id=patient.id)
    return render(request, "registry/patient_edit_form.html", {"form": form, "patient": patient})


@requires("edit_care_team")
def edit_care_team(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    form = CareTeamForm(
        request.POST or None,
        user=request.user,
        clinic=episode.clinic,
        initial={
            "version": episode.version,
            "care_manager": episode.care_manager_id,
            "psychiatric_consultant": episode.psychiatric_consultant_id,
            "referring_pcp": episode.referring_pcp_id,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                changed = services.change_care_team(
                    episode,
                    services.CareTeam(
                        care_manager=data["care_manager"],
                        psychiatric_consultant=data["psychiatric_consultant"],
                        referring_pcp=data["referring_pcp"],
                    ),
                    version=data["version"],
                    by=request.user,
                )
                record_access(
                    request,
                    "update",
                    "care team",
                    patient_id=episode.patient_id,
                    object_id=episode.id,
                )
        except services.InvalidRequest as error:
            form_error(form, error)
        else:
            messages.success(request, f"Care team saved ({changed} changed).")
            return redirect("patient_chart", patient_id=episode.patient_id)
    return render(request, "registry/care_team_form.html", {"form": form, "episode": episode})


@requires("edit_patient")
def edit_coverage(request: HttpRequest, patient_id: int, coverage_id: int = 0) -> HttpResponse:
    """Add a payer coverage (coverage_id 0) or change one, e.g. end it."""
    patient = visible_patient(request, patient_id)
    coverage = get_object_or_404(patient.coverages, id=coverage_id) if coverage_id else None
    form = CoverageForm(
        request.POST or None, instance=coverage, initial={"version": patient.version}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {name: data[name] for name in CoverageForm.Meta.fields}
        try:
            with transaction.atomic():
                saved = services.save_coverage(patient, coverage, version=data["version"], **fields)
                record_access(
                    request,
                    "update" if coverage else "create",
                    "coverage",
                    patient_id=patient.id,
                    object_id=saved.id,
                )
        except services.InvalidRequest as error:
            form_error(form, error)
        else:
            messages.success(request, "Coverage saved.")
            return redirect("patient_chart", patient_id=patient.id)
    return render(
        request,
        "registry/coverage_form.html",
        {"form": form, "patient": patient, "coverage": coverage},
    )


@requires("view_caseload")
def without_consultant(request: HttpRequest) -> HttpResponse:
    """For the clinic lead: open episodes whose care team has no psychiatric consultant."""
    episodes = (
        services.visible_episodes(request.user)
        .open()
        .filter(psychiatric_consultant__isnull=True, billing_program="cocm")
        .select_related("patient", "clinic", "care_manager")
        .order_by("referred_on", "id")
    )
    today = request.user.organization.today()
    rows = [
        {
            "episode": episode,
            "weeks": (today - (episode.enrolled_on or episode.referred_on)).days // 7,
        }
        for episode in episodes
    ]
    record_access(request, "view", "episodes without a psychiatric consultant", patient_id=None)
    return render(
        request,
        "registry/without_consultant.html",
        {"rows": rows, "can_edit_team": can(request.user, "edit_care_team")},
    )


def visible_patient(request: HttpRequest, patient_id: int) -> Patient:
    return get_object_or_404(services.visible_patients(request.user), id=patient_id)


def visible_episode(request: HttpRequest, episode_id: int) -> Episode:
    return get_object_or_404(
        services.visible_episodes(request.user).select_related("patient"), id=episode_id
    )


@requires("view_patient")
def patient_chart(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = visible_patient(request, patient_id)
    episodes = (
        patient.episodes.select_related(
            "clinic",
            "care_manager",
            "psychiatric_consultant",
            "referring_pcp",
            "consent_obtained_by",
        )
        .prefetch_related("diagnoses", "status_changes")
        .order_by("-referred_on", "-id")
    )
    today = request.user.organization.today()
    open_episode = next((e for e in episodes if e.is_open), None)
    shown_episode = open_episode or next(iter(episodes), None)
    measures, care = {}, {}
    clinical = can(request.user, "view_clinical")
    timeline_kind = request.GET.get("kind", "")
    if timeline_kind not in {kind for kind, _ in care_timeline.KINDS}:
        timeline_kind = ""
    if shown_episode is not None and clinical:
        measures = measures_services.chart_context(shown_episode)
        care = care_chart.chart_context(shown_episode, today)
    record_access(request, "view", "chart", patient_id=patient.id)
    measures_services.mark_read_for_patient(request.user, patient.id)
    return render(
        request,
        "registry/chart.html",
        {
            "patient": patient,
            "age": patient.age_on(today),
            "coverages": patient.coverages.all(),
            "episodes": episodes,
            "open_episode": open_episode,
            "timeline": care_timeline.patient_timeline(
                episodes, clinical=clinical, kind=timeline_kind
            ),
            "timeline_kinds": [
                (kind, label)
                for kind, label in care_timeline.KINDS
                if clinical or kind in care_timeline.NON_CLINICAL_KINDS
            ],
            "timeline_kind": timeline_kind,
            "status_form": StatusForm(initial={"on": today}),
            "diagnosis_form": DiagnosisForm(),
            "can_edit_patient": can(request.user, "edit_patient"),
            "can_refer": can(request.user, "refer_patient"),
            "can_enroll": can(request.user, "enroll_patient"),
            "can_change_status": can(request.user, "change_episode_status"),
            "can_edit_care_team": can(request.user, "edit_care_team"),
            "can_edit_diagnoses": can(request.user, "edit_diagnoses"),
            "shown_episode": shown_episode,
            "measures": measures,
            "care": care,
            "can_log_contact": can(request.user, "record_contact"),
            "can_request_review": can(request.user, "request_review"),
            "can_review": can(request.user, "run_caseload_review"),
            "can_plan": can(request.user, "edit_relapse_plan"),
            "can_manage_tasks": can(request.user, "manage_tasks"),
            "can_assess": can(request.user, "record_assessment"),
            "can_send": can(request.user, "send_self_report"),
            "can_follow_up": can(request.user, "follow_up_safety_alert"),
            "can_change_treatment": can(request.user, "record_treatment_change"),
            "instruments": INSTRUMENTS,
            "invitation_form": InvitationForm(
                initial={"instruments": ["PHQ-9"], "channel": "email"}
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
        },
    )


@requires("refer_patient")
def refer_patient(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = visible_patient(request, patient_id)
    user = request.user
    today = user.organization.today()
    initial = {"referred_on": today, "billing_program": "cocm"}
    if user.has_role(Role.CARE_MANAGER):
        initial["care_manager"] = user.id
    if user.has_role(Role.PCP):
        initial["referring_pcp"] = user.id
    if len(user.clinic_ids) == 1:
        initial["clinic"] = next(iter(user.clinic_ids))
    form = ReferralForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        consent = None
        if data["consent_on"]:
            consent = services.Consent(data["consent_on"], data["consent_method"], user)
        try:
            with transaction.atomic():
                episode = services.open_episode(
                    patient,
                    data["clinic"],
                    referred_on=data["referred_on"],
                    team=services.CareTeam(
                        care_manager=data["care_manager"],
                        psychiatric_consultant=data["psychiatric_consultant"],
                        referring_pcp=data["referring_pcp"],
                    ),
                    diagnoses=data["diagnoses"],
                    consent=consent,
                    by=user,
                    as_of=today,
                    initiating_visit_on=data["initiating_visit_on"],
                    billing_program=data["billing_program"],
                )
                record_access(
                    request, "create", "episode", patient_id=patient.id, object_id=episode.id
                )
        except services.InvalidRequest as error:
            form_error(form, error)
        else:
            messages.success(request, f"Episode opened: {episode.get_status_display()}.")
            return redirect("patient_chart", patient_id=patient.id)
    return render(request, "registry/referral_form.html", {"form": form, "patient": patient})


@requires("enroll_patient")
def enroll_patient(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    user = request.user
    today = user.organization.today()
    form = EnrollForm(
        request.POST or None,
        user=user,
        clinic=episode.clinic,
        initial={
            "enrolled_on": today,
            "consent_on": episode.consent_on or today,
            "consent_method": episode.consent_method,
            "care_manager": episode.care_manager_id or user.id,
            "psychiatric_consultant": episode.psychiatric_consultant_id,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                for code in data["diagnoses"]:
                    if not episode.diagnoses.filter(code=code).exists():
                        services.add_diagnosis(episode, code, onset_on=None, by=user)
                episode.care_manager = data["care_manager"] or episode.care_manager
                episode.psychiatric_consultant = (
                    data["psychiatric_consultant"] or episode.psychiatric_consultant
                )
                episode.save(update_fields=["care_manager", "psychiatric_consultant"])
                services.enroll(
                    episode,
                    consent=services.Consent(data["consent_on"], data["consent_method"], user),
                    on=data["enrolled_on"],
                    by=user,
                    as_of=today,
                )
                record_access(
                    request,
                    "update",
                    "enrollment",
                    patient_id=episode.patient_id,
                    object_id=episode.id,
                )
        except services.InvalidRequest as error:
            form_error(form, error)
        else:
            messages.success(request, "Patient enrolled.")
            return redirect("patient_chart", patient_id=episode.patient_id)
    return render(request, "registry/enroll_form.html", {"form": form, "episode": episode})


@requires("change_episode_status")
def change_status(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    today = request.user.organization.today()
    form = StatusForm(request.POST or None, initial={"on": today, "version": episode.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                services.change_status(
                    episode,
                    EpisodeStatus(data["status"]),
                    on=data["on"],
                    by=request.user,
                    as_of=today,
                    reason=DischargeReason(data["reason"]) if data["reason"] else None,
                    version=data["version"],
                )
                record_access(
                    request,
                    "update",
                    "episode status",
                    patient_id=episode.patient_id,
                    object_id=episode.id,
                )
        except services.InvalidRequest as error:
            form_error(form, error)
        else:
            messages.success(request, f"Status changed to {episode.get_status_display()}.")
            return redirect("patient_chart", patient_id=episode.patient_id)
    return render(request, "registry/status_form.html", {"form": form, "episode": episode})


@requires("edit_diagnoses")
def add_diagnosis(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    form = DiagnosisForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.add_diagnosis(
                    episode,
                    form.cleaned_data["code"],
                    onset_on=form.cleaned_data["onset_on"],
                    by=request.user,
                )
                record_access(
                    request,
                    "create",
                    "diagnosis",
                    patient_id=episode.patient_id,
                    object_id=episode.id,
                )
        except services.InvalidRequest as error:
            form_error(form, error)
        else:
            messages.success(request, "Diagnosis added.")
            return redirect("patient_chart", patient_id=episode.patient_id)
    return render(request, "registry/diagnosis_form.html", {"form": form, "episode": episode})
