"""What the patient chart shows about care management for one episode."""

from datetime import date

from cocm.care.billing_figures import month_figures
from cocm.care.forms import FollowUpForm, ReviewRequestForm
from cocm.domain import coding
from cocm.registry.coverages import payer_on
from cocm.registry.models import Episode


def chart_context(episode: Episode, as_of: date) -> dict[str, object]:
    follow_up = episode.follow_ups.filter(done_at__isnull=True).first()
    billing = month_figures(episode.clinic.organization).decide(
        [episode], as_of, payer_on([episode.patient_id], as_of)
    )
    return {
        "month": coding.Month.of(as_of),
        "billing": billing[episode.id],
        "contacts": list(
            episode.contacts.select_related("staff").order_by("-occurred_on", "-id")[:20]
        ),
        "contact_count": episode.contacts.count(),
        "reviews": list(episode.reviews.select_related("consultant")[:10]),
        "recommendations": list(episode.recommendations.select_related("responded_by")[:20]),
        "plan": getattr(episode, "relapse_prevention_plan", None),
        "follow_up": follow_up,
        "pending_requests": list(episode.review_requests.filter(review__isnull=True)),
        "review_request_form": ReviewRequestForm(),
        "follow_up_form": FollowUpForm.showing(follow_up),
    }
