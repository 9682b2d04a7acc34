from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from cocm.accounts.audit import record_access
from cocm.accounts.permissions import requires
from cocm.accounts.scoping import visible_episodes
from cocm.registry.models import Episode
from cocm.toolkit.handouts import handout_language, handout_pdf


@requires("print_handout")
def patient_handout(request: HttpRequest, episode_id: int) -> HttpResponse:
    """The patient's handout as a PDF, in the patient's language (or `?lang=en|es`)."""
    episode = get_object_or_404(
        visible_episodes(request.user, Episode.objects).select_related(
            "patient", "clinic", "care_manager", "psychiatric_consultant", "referring_pcp"
        ),
        id=episode_id,
    )
    language = handout_language(episode.patient.preferred_language, request.GET.get("lang"))
    pdf = handout_pdf(episode, language=language, on=request.user.organization.today())
    record_access(
        request, "view", "patient handout", patient_id=episode.patient_id, object_id=episode.id
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="collaborative-care-{language}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
