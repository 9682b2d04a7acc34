"""Consent endpoints of the REST API (../shared/API_CONTRACT.md), over the registry services."""

from django.db import transaction
from django.http import HttpRequest
from ninja import Router

from cocm.api.schemas import ConsentIn, EpisodeOut, ErrorOut, RevocationIn
from cocm.registry import services

router = Router(tags=["episodes"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@router.post("/episodes/{episode_id}/consent/revocation", response={200: EpisodeOut, **ERRORS})
def revoke_consent(request: HttpRequest, episode_id: int, payload: RevocationIn) -> dict:
    """The patient withdrew consent: from `on`, no minute counts for billing."""
    from cocm.api.routes import audit, episode_out, load_episode, require

    user = require(request, "revoke_consent")
    episode = load_episode(user, episode_id)
    with transaction.atomic():
        services.revoke_consent(
            episode, on=payload.on, reason=payload.reason, by=user, as_of=user.organization.today()
        )
        audit(request, "update", "consent revocation", episode.patient_id, episode.id)
    return episode_out(load_episode(user, episode_id))


@router.post("/episodes/{episode_id}/consent/renewal", response={200: EpisodeOut, **ERRORS})
def renew_consent(request: HttpRequest, episode_id: int, payload: ConsentIn) -> dict:
    """Consent given again after a revocation: minutes count again from its date."""
    from cocm.api.routes import audit, episode_out, load_episode, require

    user = require(request, "enroll_patient")
    episode = load_episode(user, episode_id)
    consent = services.Consent(
        payload.obtained_on,
        payload.method,
        user,
        cost_sharing_explained=payload.cost_sharing_explained,
        psychiatric_consultation_explained=payload.psychiatric_consultation_explained,
    )
    with transaction.atomic():
        services.renew_consent(episode, consent, as_of=user.organization.today())
        audit(request, "update", "consent renewal", episode.patient_id, episode.id)
    return episode_out(load_episode(user, episode_id))
