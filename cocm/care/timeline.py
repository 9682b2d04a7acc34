"""The chart's timeline: every dated event of a patient's episodes, newest first.

Status, diagnosis, consent and care-team changes are shown to every role that opens the
chart; the clinical events (assessments, contacts, safety alerts and their follow-up,
reviews, recommendations and the PCP's answers, treatment changes, self-report links) only
to roles with `view_clinical` (minimum necessary, docs/security.md).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.urls import reverse
from django.utils import timezone

from cocm.care.models import CaseReview, Contact, Recommendation, ReviewRequest
from cocm.measures.models import Assessment, Invitation, SafetyAlert, TreatmentChange
from cocm.registry.models import CareTeamChange, CareTeamRole, Episode
from cocm.registry.services import timeline as episode_history

# (kind, label) in the order the filter offers them.
KINDS = (
    ("assessment", "Assessments"),
    ("contact", "Contacts"),
    ("alert", "Safety alerts"),
    ("review", "Reviews"),
    ("recommendation", "Recommendations"),
    ("treatment", "Treatment changes"),
    ("encounter", "Encounters"),
    ("procedure", "Procedures and orders"),
    ("link", "Self-report links"),
    ("status", "Status"),
    ("diagnosis", "Diagnoses"),
    ("consent", "Consent"),
    ("care_team", "Care team"),
)
NON_CLINICAL_KINDS = frozenset({"status", "diagnosis", "consent", "care_team"})


@dataclass(frozen=True)
class Event:
    on: date
    kind: str
    text: str
    url: str = ""
    at: datetime | None = None  # orders the events of one day
    urgent: bool = False

    @property
    def kind_label(self) -> str:
        return self.kind.replace("_", " ")


def _day(moment: datetime) -> date:
    return timezone.localdate(moment)


def patient_timeline(
    episodes: Sequence[Episode],
    *,
    clinical: bool,
    kind: str = "",
    imported: Sequence[Event] = (),
) -> list[Event]:
    """Every event of these episodes (with status changes and diagnoses prefetched) and the
    patient's imported clinical records, newest first; `kind` keeps one kind of event."""
    events = [Event(e.on, e.kind, e.text) for e in episode_history(episodes)]
    ids = [episode.id for episode in episodes]
    for change in CareTeamChange.objects.filter(episode_id__in=ids).select_related(
        "from_user", "to_user"
    ):
        role = CareTeamRole(change.role).label
        events.append(
            Event(
                _day(change.changed_at),
                "care_team",
                f"{role}: {change.from_user or 'none'} → {change.to_user or 'none'}",
                at=change.changed_at,
            )
        )
    if clinical:
        events.extend(_clinical_events(ids))
        events.extend(imported)
    if kind:
        events = [event for event in events if event.kind == kind]
    return sorted(
        events,
        key=lambda event: (event.on, event.at.timestamp() if event.at else 0.0),
        reverse=True,
    )


def _clinical_events(ids: list[int]) -> list[Event]:
    events: list[Event] = []
    for a in Assessment.objects.filter(episode_id__in=ids).select_related("administered_by"):
        text = f"{a.instrument} {a.total} ({a.severity_label}), {a.get_method_display().lower()}"
        if a.amends_id:
            text += f" — correction: {a.amendment_reason}"
        if not a.is_current:
            text += " — superseded"
        url = reverse("assessment_detail", args=[a.id])
        events.append(Event(a.taken_on, "assessment", text, url, a.recorded_at))
    for c in Contact.objects.filter(episode_id__in=ids).select_related("staff"):
        text = f"{c.get_activity_display()} ({c.get_mode_display().lower()}), {c.minutes} min"
        text += f" by {c.staff}"
        if c.no_show:
            text += " — no-show, not counted"
        if c.separately_billed:
            text += " — separately billed"
        if c.note:
            text += f": {c.note}"
        events.append(Event(c.occurred_on, "contact", text, at=c.recorded_at))
    for alert in SafetyAlert.objects.filter(episode_id__in=ids).select_related(
        "assessment", "resolved_by"
    ):
        events.append(
            Event(
                _day(alert.opened_at),
                "alert",
                f"Safety alert opened: {alert.assessment.instrument} item {alert.item} "
                f"answered {alert.item_answer}",
                at=alert.opened_at,
                urgent=alert.is_open,
            )
        )
        if alert.resolved_at is not None:
            events.append(
                Event(
                    _day(alert.resolved_at),
                    "alert",
                    f"Safety follow-up documented by {alert.documented_by}: "
                    f"{alert.get_action_display()} — {alert.note}",
                    at=alert.resolved_at,
                )
            )
    for review in CaseReview.objects.filter(episode_id__in=ids).select_related("consultant"):
        events.append(
            Event(
                review.reviewed_on,
                "review",
                f"Psychiatric review by {review.consultant} ({review.minutes} min): "
                f"{review.summary}",
                at=review.created_at,
            )
        )
    for request in ReviewRequest.objects.filter(episode_id__in=ids).select_related("requested_by"):
        events.append(
            Event(
                _day(request.requested_at),
                "review",
                f"Review requested by {request.requested_by}: {request.reason}",
                at=request.requested_at,
            )
        )
    for r in Recommendation.objects.filter(episode_id__in=ids).select_related(
        "responded_by", "pcp"
    ):
        events.append(
            Event(
                _day(r.created_at), "recommendation", f"Recommended: {r.summary}", at=r.created_at
            )
        )
        if r.responded_at is not None:
            answer = f"PCP answer by {r.responded_by}: {r.get_status_display()} — {r.summary}"
            if r.response_note:
                answer += f" ({r.response_note})"
            events.append(Event(_day(r.responded_at), "recommendation", answer, at=r.responded_at))
    for t in TreatmentChange.objects.filter(episode_id__in=ids):
        text = f"{t.get_kind_display()}: {t.description}"
        events.append(Event(t.on, "treatment", text, at=t.recorded_at))
    for inv in Invitation.objects.filter(episode_id__in=ids):
        what = " + ".join(inv.instruments)
        events.append(
            Event(
                _day(inv.created_at),
                "link",
                f"Self-report link sent ({what}) by {inv.get_channel_display().lower()}",
                at=inv.created_at,
            )
        )
        if inv.completed_at is not None:
            events.append(
                Event(
                    _day(inv.completed_at),
                    "link",
                    f"Self-report answered ({what})",
                    at=inv.completed_at,
                )
            )
    return events
