from collections.abc import Callable

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from cocm.accounts.audit import record_access
from cocm.accounts.permissions import can, requires
from cocm.accounts.scoping import visible_episodes, visible_patients
from cocm.pages import Audit, post_form, visible_episode, visible_patient
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
    care_team,
)
from cocm.registry.models import Episode, Guardian, Patient


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
    done = post_form(
        request,
        form,
        lambda _: services.register_patient(
            request.user.organization, coverage=form.coverage(), **form.patient_fields()
        ),
        audit=Audit("create", "patient", patient_id=lambda patient: patient.id),
        message="Patient registered.",
        then=lambda patient: redirect("patient_chart", patient_id=patient.id),
    )
    return done or render(request, "registry/patient_form.html", {"form": form})


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
        request.POST or None, user=request.user, clinic=episode.clinic, episode=episode
    )
    done = post_form(
        request,
        form,
        lambda data: services.change_care_team(
            episode, care_team(data), version=data["version"], by=request.user
        ),
        audit=Audit("update", "care team", patient_id=episode.patient_id, object_id=episode.id),
        message=lambda changed: f"Care team saved ({changed} changed).",
        then=to_chart(episode),
    )
    return done or render(
        request, "registry/care_team_form.html", {"form": form, "episode": episode}
    )


@requires("edit_patient")
def edit_coverage(request: HttpRequest, patient_id: int, coverage_id: int = 0) -> HttpResponse:
    """Add a payer coverage (coverage_id 0) or change one, e.g. end it."""
    patient = visible_patient(request, patient_id)
    coverage = get_object_or_404(patient.coverages, id=coverage_id) if coverage_id else None
    form = CoverageForm(
        request.POST or None, instance=coverage, initial={"version": patient.version}
    )
    done = post_form(
        request,
        form,
        lambda data: services.save_coverage(
            patient, coverage, version=data["version"], **form.coverage_fields()
        ),
        audit=Audit(
            "update" if coverage else "create",
            "coverage",
            patient_id=patient.id,
            object_id=lambda saved: saved.id,
        ),
        message="Coverage saved.",
        then=lambda _: redirect("patient_chart", patient_id=patient.id),
    )
    context = {"form": form, "patient": patient, "coverage": coverage}
    return done or render(request, "registry/coverage_form.html", context)


@requires("view_caseload")
def without_consultant(request: HttpRequest) -> HttpResponse:
    """For the clinic lead: open episodes whose care team has no psychiatric consultant."""
    episodes = (
        visible_episodes(request.user, Episode.objects)
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


@requires("refer_patient")
def refer_patient(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = visible_patient(request, patient_id)
    user = request.user
    form = ReferralForm(request.POST or None, request.FILES or None, user=user, patient=patient)
    done = post_form(
        request,
        form,
        lambda data: services.open_episode(
            patient,
            data["clinic"],
            team=care_team(data),
            consent=form.consent(user),
            by=user,
            as_of=user.organization.today(),
            **form.episode_fields(),
        ),
        audit=Audit("create", "episode", patient_id=patient.id, object_id=lambda e: e.id),
        message=lambda episode: f"Episode opened: {episode.get_status_display()}.",
        then=lambda _: redirect("patient_chart", patient_id=patient.id),
    )
    context = {"form": form, "patient": patient, **consent_script_context(request, patient)}
    return done or render(request, "registry/referral_form.html", context)


@requires("enroll_patient")
def enroll_patient(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    user = request.user
    form = EnrollForm(request.POST or None, request.FILES or None, user=user, episode=episode)
    done = post_form(
        request,
        form,
        lambda data: services.enroll_with_team(
            episode,
            diagnoses=data["diagnoses"],
            care_manager=data["care_manager"],
            psychiatric_consultant=data["psychiatric_consultant"],
            consent=form.consent(user),
            on=data["enrolled_on"],
            by=user,
            as_of=user.organization.today(),
            version=data["version"],
        ),
        audit=Audit("update", "enrollment", patient_id=episode.patient_id, object_id=episode.id),
        message="Patient enrolled.",
        then=to_chart(episode),
    )
    context = {"form": form, "episode": episode, **consent_script_context(request, episode.patient)}
    return done or render(request, "registry/enroll_form.html", context)


@requires("change_episode_status")
def change_status(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    today = request.user.organization.today()
    form = StatusForm(request.POST or None, initial={"on": today, "version": episode.version})
    done = post_form(
        request,
        form,
        lambda data: services.change_status(
            episode, **form.transition(), by=request.user, as_of=today
        ),
        audit=Audit(
            "update", "episode status", patient_id=episode.patient_id, object_id=episode.id
        ),
        message=lambda _: f"Status changed to {episode.get_status_display()}.",
        then=to_chart(episode),
    )
    return done or render(request, "registry/status_form.html", {"form": form, "episode": episode})


@requires("edit_diagnoses")
def add_diagnosis(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    form = DiagnosisForm(request.POST or None)
    done = post_form(
        request,
        form,
        lambda data: services.add_diagnosis(
            episode, data["code"], onset_on=data["onset_on"], by=request.user
        ),
        audit=Audit("create", "diagnosis", patient_id=episode.patient_id, object_id=episode.id),
        message="Diagnosis added.",
        then=to_chart(episode),
    )
    return done or render(
        request, "registry/diagnosis_form.html", {"form": form, "episode": episode}
    )


def consent_script_context(request: HttpRequest, patient: Patient) -> dict[str, object]:
    """The introduction script in the patient's language (or the one asked for)."""
    language = request.GET.get("lang") or patient.preferred_language
    text = consent_text(language)
    return {"script": text, "script_languages": LANGUAGES}


@requires("revoke_consent")
def revoke_consent(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    today = request.user.organization.today()
    form = RevocationForm(request.POST or None, initial={"on": today, "version": episode.version})
    done = post_form(
        request,
        form,
        lambda data: services.revoke_consent(
            episode,
            on=data["on"],
            reason=data["reason"],
            by=request.user,
            as_of=today,
            version=data["version"],
        ),
        audit=Audit(
            "update", "consent revocation", patient_id=episode.patient_id, object_id=episode.id
        ),
        message="Consent revoked: no minute from that day counts for billing.",
        then=to_chart(episode),
    )
    context = {"form": form, "episode": episode}
    return done or render(request, "registry/revocation_form.html", context)


@requires("enroll_patient")
def renew_consent(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    today = request.user.organization.today()
    form = RenewalForm(
        request.POST or None,
        request.FILES or None,
        patient=episode.patient,
        initial={"consent_on": today, "version": episode.version},
    )
    done = post_form(
        request,
        form,
        lambda data: services.renew_consent(
            episode, form.consent(request.user), as_of=today, version=data["version"]
        ),
        audit=Audit(
            "update", "consent renewal", patient_id=episode.patient_id, object_id=episode.id
        ),
        message="Consent documented again: minutes count from its date.",
        then=to_chart(episode),
    )
    context = {"form": form, "episode": episode, **consent_script_context(request, episode.patient)}
    return done or render(request, "registry/renewal_form.html", context)


@requires("print_consent_form")
def consent_form(request: HttpRequest, episode_id: int) -> HttpResponse:
    """The printable consent form (`?lang=en|es`, else the patient's language), with the
    patient's name and care team filled in."""
    episode = get_object_or_404(
        visible_episodes(request.user, Episode.objects).select_related(
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


def to_chart(episode: Episode) -> Callable[[object], HttpResponse]:
    """After a POST about an episode: back to its patient's chart."""
    return lambda _: redirect("patient_chart", patient_id=episode.patient_id)


DOCUMENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}


@requires("manage_guardians")
def add_guardian(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = visible_patient(request, patient_id)
    form = GuardianForm(request.POST or None)
    done = post_form(
        request,
        form,
        lambda _: services.add_guardian(
            patient, form.guardian(), as_of=request.user.organization.today()
        ),
        audit=Audit("create", "guardian", patient_id=patient.id, object_id=lambda g: g.id),
        message=lambda guardian: f"Guardian added: {guardian}.",
        then=lambda _: redirect("patient_chart", patient_id=patient.id),
    )
    return done or render(
        request, "registry/guardian_form.html", {"form": form, "patient": patient}
    )


@requires("manage_guardians")
def edit_guardian(request: HttpRequest, guardian_id: int) -> HttpResponse:
    guardian = get_object_or_404(
        Guardian.objects.filter(patient__in=visible_patients(request.user, Patient.objects)),
        id=guardian_id,
    )
    form = GuardianForm(
        request.POST or None, instance=guardian, initial={"version": guardian.version}
    )
    done = post_form(
        request,
        form,
        lambda data: services.update_guardian(
            guardian,
            form.guardian(),
            as_of=request.user.organization.today(),
            version=data["version"],
        ),
        audit=Audit("update", "guardian", patient_id=guardian.patient_id, object_id=guardian.id),
        message=lambda _: f"Guardian saved: {guardian}.",
        then=lambda _: redirect("patient_chart", patient_id=guardian.patient_id),
    )
    context = {"form": form, "patient": guardian.patient}
    return done or render(request, "registry/guardian_form.html", context)


@requires("manage_organization")
def pediatric_settings(request: HttpRequest) -> HttpResponse:
    organization = request.user.organization
    current = services.assent_from_age(organization)
    form = PediatricSettingsForm(request.POST or None, initial={"assent_from_age": current})
    done = post_form(
        request,
        form,
        lambda data: services.set_assent_from_age(organization, data["assent_from_age"]),
        audit=Audit("update", "pediatric settings"),
        message="Pediatric settings saved.",
        then=lambda _: redirect("pediatric_settings"),
    )
    context = {"form": form, "assent_from_age": current}
    return done or render(request, "registry/pediatric_settings.html", context)
