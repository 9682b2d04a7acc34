from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from cocm.accounts.audit import record_access
from cocm.accounts.models import Role
from cocm.accounts.permissions import can, requires
from cocm.care import chart as care_chart
from cocm.care import timeline as care_timeline
from cocm.domain.episodes import DischargeReason, EpisodeStatus
from cocm.domain.instruments import INSTRUMENTS
from cocm.interop import chart as imported_chart
from cocm.measures import services as measures_services
from cocm.measures.forms import (
    AlertFollowUpForm,
    InvitationForm,
    ScheduleForm,
    TreatmentChangeForm,
)
from cocm.pages import Audit, form_error, post_form, visible_episode, visible_patient
from cocm.registry import services
from cocm.registry.consent_texts import LANGUAGES, consent_text
from cocm.registry.forms import (
    CareTeamForm,
    CoverageForm,
    DiagnosisForm,
    EnrollForm,
    GuardianForm,
    PatientEditForm,
    PatientForm,
    PatientSearchForm,
    PediatricSettingsForm,
    ReferralForm,
    RenewalForm,
    RevocationForm,
    StatusForm,
)
from cocm.registry.models import Guardian, Patient, PediatricSettings


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
    done = post_form(
        request,
        form,
        lambda data: services.update_patient(
            patient, data["version"], **{name: data[name] for name in PatientEditForm.Meta.fields}
        ),
        audit=Audit("update", "patient", patient_id=patient.id),
        message="Patient details saved.",
        then=lambda _: redirect("patient_chart", patient_id=patient.id),
    )
    return done or render(
        request, "registry/patient_edit_form.html", {"form": form, "patient": patient}
    )


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
        .prefetch_related("diagnoses", "status_changes", "revocations")
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
                episodes,
                clinical=clinical,
                kind=timeline_kind,
                imported=imported_chart.imported_events(patient.id) if clinical else (),
            ),
            "care_notes": (
                imported_chart.hospice_and_palliative_care(patient.id) if clinical else []
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
            "can_revoke_consent": can(request.user, "revoke_consent"),
            "can_manage_guardians": can(request.user, "manage_guardians"),
            "can_print_handout": can(request.user, "print_handout"),
            "guardians": [
                (guardian, services.guardian_access(guardian, today))
                for guardian in patient.guardians.all()
            ],
            "is_minor": patient.age_on(today) < 18,
            "can_view_consent_document": can(request.user, "view_consent_document"),
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
                initial={"instruments": ["PHQ-9"], "channel": "email"},
                guardians=[
                    guardian
                    for guardian in patient.guardians.all()
                    if guardian.may_receive_links and services.guardian_access(guardian, today)
                ],
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
    form = ReferralForm(
        request.POST or None, request.FILES or None, user=user, patient=patient, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        consent = form.consent(user)
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
    return render(
        request,
        "registry/referral_form.html",
        {"form": form, "patient": patient, **consent_script_context(request, patient)},
    )


@requires("enroll_patient")
def enroll_patient(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    user = request.user
    today = user.organization.today()
    form = EnrollForm(
        request.POST or None,
        request.FILES or None,
        user=user,
        clinic=episode.clinic,
        patient=episode.patient,
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
                    consent=form.consent(user),
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
    return render(
        request,
        "registry/enroll_form.html",
        {"form": form, "episode": episode, **consent_script_context(request, episode.patient)},
    )


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


def consent_script_context(request: HttpRequest, patient: Patient) -> dict[str, object]:
    """The introduction script in the patient's language (or the one asked for)."""
    language = request.GET.get("lang") or patient.preferred_language
    text = consent_text(language)
    return {"script": text, "script_languages": LANGUAGES}


@requires("revoke_consent")
def revoke_consent(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    today = request.user.organization.today()
    form = RevocationForm(request.POST or None, initial={"on": today})
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.revoke_consent(
                    episode,
                    on=form.cleaned_data["on"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                    as_of=today,
                )
                record_access(
                    request,
                    "update",
                    "consent revocation",
                    patient_id=episode.patient_id,
                    object_id=episode.id,
                )
        except services.InvalidRequest as error:
            form_error(form, error)
        else:
            messages.success(
                request, "Consent revoked: no minute from that day counts for billing."
            )
            return redirect("patient_chart", patient_id=episode.patient_id)
    return render(request, "registry/revocation_form.html", {"form": form, "episode": episode})


@requires("enroll_patient")
def renew_consent(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    today = request.user.organization.today()
    form = RenewalForm(
        request.POST or None,
        request.FILES or None,
        patient=episode.patient,
        initial={"consent_on": today},
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.renew_consent(episode, form.consent(request.user), as_of=today)
                record_access(
                    request,
                    "update",
                    "consent renewal",
                    patient_id=episode.patient_id,
                    object_id=episode.id,
                )
        except services.InvalidRequest as error:
            form_error(form, error)
        else:
            messages.success(request, "Consent documented again: minutes count from its date.")
            return redirect("patient_chart", patient_id=episode.patient_id)
    return render(
        request,
        "registry/renewal_form.html",
        {"form": form, "episode": episode, **consent_script_context(request, episode.patient)},
    )


@requires("print_consent_form")
def consent_form(request: HttpRequest, episode_id: int) -> HttpResponse:
    """The printable consent form (`?lang=en|es`, else the patient's language), with the
    patient's name and care team filled in."""
    episode = get_object_or_404(
        services.visible_episodes(request.user).select_related(
            "patient", "clinic", "care_manager", "psychiatric_consultant"
        ),
        id=episode_id,
    )
    language = request.GET.get("lang") or episode.patient.preferred_language
    if language not in LANGUAGES:
        language = "en"
    record_access(
        request, "view", "consent form", patient_id=episode.patient_id, object_id=episode.id
    )
    return render(
        request,
        "registry/consent_form.html",
        {
            "episode": episode,
            "text": consent_text(language),
            "is_minor": episode.patient.age_on(request.user.organization.today()) < 18,
        },
    )


@requires("view_consent_document")
def consent_document(request: HttpRequest, episode_id: int) -> HttpResponse:
    """The signed consent scan, to signed-in staff of the patient's clinic only (audited)."""
    episode = visible_episode(request, episode_id)
    if not episode.consent_document:
        return render(request, "registry/no_consent_document.html", {"episode": episode})
    record_access(
        request, "view", "consent document", patient_id=episode.patient_id, object_id=episode.id
    )
    extension = episode.consent_document.name.rsplit(".", 1)[-1]
    response = FileResponse(
        episode.consent_document.open("rb"),
        content_type=DOCUMENT_TYPES.get(extension, "application/octet-stream"),
    )
    response["Content-Disposition"] = f'inline; filename="consent.{extension}"'
    response["Cache-Control"] = "no-store"
    return response


DOCUMENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}


def guardian_data(form: GuardianForm) -> services.GuardianData:
    return services.GuardianData(
        **{name: form.cleaned_data[name] for name in GuardianForm.Meta.fields}
    )


@requires("manage_guardians")
def add_guardian(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = visible_patient(request, patient_id)
    form = GuardianForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                guardian = services.add_guardian(
                    patient, guardian_data(form), as_of=request.user.organization.today()
                )
                record_access(
                    request, "create", "guardian", patient_id=patient.id, object_id=guardian.id
                )
        except services.InvalidRequest as error:
            form_error(form, error)
        else:
            messages.success(request, f"Guardian added: {guardian}.")
            return redirect("patient_chart", patient_id=patient.id)
    return render(request, "registry/guardian_form.html", {"form": form, "patient": patient})


@requires("manage_guardians")
def edit_guardian(request: HttpRequest, guardian_id: int) -> HttpResponse:
    guardian = get_object_or_404(
        Guardian.objects.filter(patient__in=services.visible_patients(request.user)),
        id=guardian_id,
    )
    form = GuardianForm(request.POST or None, instance=guardian)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.update_guardian(
                    guardian, guardian_data(form), as_of=request.user.organization.today()
                )
                record_access(
                    request,
                    "update",
                    "guardian",
                    patient_id=guardian.patient_id,
                    object_id=guardian.id,
                )
        except services.InvalidRequest as error:
            form_error(form, error)
        else:
            messages.success(request, f"Guardian saved: {guardian}.")
            return redirect("patient_chart", patient_id=guardian.patient_id)
    return render(
        request,
        "registry/guardian_form.html",
        {"form": form, "patient": guardian.patient},
    )


@requires("manage_organization")
def pediatric_settings(request: HttpRequest) -> HttpResponse:
    organization = request.user.organization
    current = services.assent_from_age(organization)
    form = PediatricSettingsForm(request.POST or None, initial={"assent_from_age": current})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            PediatricSettings.objects.update_or_create(
                organization=organization,
                defaults={"assent_from_age": form.cleaned_data["assent_from_age"]},
            )
            record_access(request, "update", "pediatric settings", patient_id=None)
        messages.success(request, "Pediatric settings saved.")
        return redirect("pediatric_settings")
    return render(
        request, "registry/pediatric_settings.html", {"form": form, "assent_from_age": current}
    )
