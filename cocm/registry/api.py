"""Consent endpoints of the REST API (../shared/API_CONTRACT.md), over the registry services."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Status

from cocm.accounts.scoping import visible_patients
from cocm.api.schemas import ConsentIn, EpisodeOut, ErrorOut, GuardianIn, GuardianOut, RevocationIn
from cocm.pages import Audit
from cocm.registry import services
from cocm.registry.models import Guardian, Patient

router = Router(tags=["episodes"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@router.post(
    "/episodes/{episode_id}/consent/revocation",
    response={200: EpisodeOut, 409: ErrorOut, **ERRORS},
)
def revoke_consent(request: HttpRequest, episode_id: int, payload: RevocationIn) -> dict:
    """The patient withdrew consent: from `on`, no minute counts for billing."""
    from cocm.api.routes import audited, episode_out, load_episode, require

    user = require(request, "revoke_consent")
    episode = load_episode(user, episode_id)
    audited(
        request,
        Audit("update", "consent revocation", episode.patient_id, episode.id),
        lambda: services.revoke_consent(
            episode,
            on=payload.on,
            reason=payload.reason,
            by=user,
            as_of=user.organization.today(),
            version=payload.version,
        ),
    )
    return episode_out(load_episode(user, episode_id))


@router.post("/episodes/{episode_id}/consent/renewal", response={200: EpisodeOut, **ERRORS})
def renew_consent(request: HttpRequest, episode_id: int, payload: ConsentIn) -> dict:
    """Consent given again after a revocation: minutes count again from its date."""
    from cocm.api.routes import audited, episode_out, load_episode, require

    user = require(request, "enroll_patient")
    episode = load_episode(user, episode_id)
    consent = services.Consent(
        payload.obtained_on,
        payload.method,
        user,
        cost_sharing_explained=payload.cost_sharing_explained,
        psychiatric_consultation_explained=payload.psychiatric_consultation_explained,
        guardian=services.consenting_guardian(episode.patient, payload.guardian_id),
        patient_assent=payload.patient_assent,
    )
    audited(
        request,
        Audit("update", "consent renewal", episode.patient_id, episode.id),
        lambda: services.renew_consent(episode, consent, as_of=user.organization.today()),
    )
    return episode_out(load_episode(user, episode_id))


def guardian_out(guardian: Guardian) -> dict:
    return {
        **{name: getattr(guardian, name) for name in GuardianIn.model_fields},
        "id": guardian.id,
        "patient_id": guardian.patient_id,
        "version": guardian.version,
    }


@router.post(
    "/patients/{patient_id}/guardians", response={201: GuardianOut, **ERRORS}, tags=["patients"]
)
def add_guardian(request: HttpRequest, patient_id: int, payload: GuardianIn) -> Status:
    """A parent or guardian of a patient under 18; a phone number or an email is required."""
    from cocm.api.routes import audited, require

    user = require(request, "manage_guardians")
    patient = get_object_or_404(visible_patients(user, Patient.objects), id=patient_id)
    guardian = audited(
        request,
        Audit("create", "guardian", patient.id, lambda guardian: guardian.id),
        lambda: services.add_guardian(
            patient, services.GuardianData(**payload.dict()), as_of=user.organization.today()
        ),
    )
    return Status(201, guardian_out(guardian))
