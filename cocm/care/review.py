"""What the psychiatric consultant decides from, and what the PCP answers from.

The review page is one screen: trajectories with treatment changes, the last measures'
item answers, medications and treatment changes, earlier recommendations with the PCP's
answers, a summary of contacts, the care manager's question and the flags in plain words.
The PCP's pages show the same latest scores and trend (`score_trend`).
"""

import re
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.paginator import Page
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils.safestring import mark_safe

from cocm.accounts.models import User
from cocm.accounts.scoping import visible_episodes
from cocm.care.caseload import CaseloadRows, organization_caseload_rows
from cocm.care.models import CaseReview, Contact, Recommendation, ReviewRequest
from cocm.care.tracker import TrackerRow
from cocm.domain.episodes import EpisodeStatus
from cocm.domain.flags import Flag
from cocm.domain.instruments import (
    INSTRUMENTS,
    InstrumentCode,
    is_partial_response,
    is_remission,
    is_response,
)
from cocm.measures.models import Assessment, Method, TreatmentChange
from cocm.measures.services import trajectories
from cocm.measures.trajectory import Marker, Point, severity_bands, trajectory_svg
from cocm.registry.models import Episode

# Evidence labels and citations belong in docs and tooltips, not in the clinical sentence.
_EVIDENCE_LABEL = re.compile(r"\s*\[[VSI]\][^;]*")


@dataclass(frozen=True)
class PlainFlag:
    """A flag as a clinician reads it: the reason; the rule's source on hover."""

    code: str
    text: str
    source: str


def plain_flags(flags: tuple[Flag, ...]) -> list[PlainFlag]:
    return [
        PlainFlag(
            str(flag.code),
            _EVIDENCE_LABEL.sub("", flag.reason).strip(" ;"),
            _EVIDENCE_LABEL.sub("", flag.source).strip(" ;"),
        )
        for flag in flags
    ]


@dataclass(frozen=True)
class Trend:
    """Baseline → latest of one instrument, in words."""

    instrument: str
    first: int
    latest: int
    label: str
    percent: int | None

    @property
    def arrow(self) -> str:
        if self.latest < self.first:
            return "↓"
        return "↑" if self.latest > self.first else "→"


def score_trend(instrument: str, first: int | None, latest: int | None) -> Trend | None:
    """Remission, response, partial response, better, unchanged or worse (rules section 3)."""
    if first is None or latest is None:
        return None
    cutoff = settings.COCM_REMISSION_CUTOFF
    if is_remission(instrument, latest, cutoff=cutoff):
        label = "in remission"
    elif is_response(first, latest):
        label = "response (50% or more better)"
    elif is_partial_response(first, latest):
        label = "partly better"
    elif latest < first:
        label = "slightly better"
    elif latest > first:
        label = "worse"
    else:
        label = "no change"
    percent = round(100 * (latest - first) / first) if first else None
    return Trend(instrument, first, latest, label, percent)


def row_trends(row: TrackerRow) -> list[Trend]:
    pairs = (
        (InstrumentCode.PHQ9, row.phq9_first, row.phq9_last),
        (InstrumentCode.GAD7, row.gad7_first, row.gad7_last),
    )
    return [t for code, first, last in pairs if (t := score_trend(code, first, last))]


# ----------------------------------------------------------------------------- agenda


# Safety alerts first (`alerts_first`), then the most flags, then the longest without a
# review (never reviewed first), then the episode id.
AGENDA_ORDER = ("-flag_count", F("last_review_on").asc(nulls_first=True))


def agenda_rows(user: User, scope: str) -> tuple[CaseloadRows, int]:
    """The consultant's agenda: flagged or requested patients, safety alerts first, then the
    most flags, then the longest without a review; and the number of episodes looked at.
    Read lazily: a page of the agenda reads only its rows."""
    episodes = visible_episodes(user, Episode.objects).open().exclude(status=EpisodeStatus.REFERRED)
    if scope != "all":
        episodes = episodes.filter(psychiatric_consultant=user)
    rows = organization_caseload_rows(user.organization, episodes)
    agenda = rows.filter(Q(flag_count__gt=0) | ~Q(review_requested="")).order_by(*AGENDA_ORDER)
    return agenda, len(rows)


@dataclass(frozen=True)
class AgendaPlace:
    """Where an episode is on the agenda: "patient n of N", and the patient after it."""

    position: int | None  # None when the episode is not on the agenda
    length: int
    following: TrackerRow | None  # the first of the agenda when the episode is not on it


def agenda_place(agenda: CaseloadRows, episode_id: int) -> AgendaPlace:
    """The episode's place on the agenda, counted in the database."""
    length = len(agenda)
    this = (
        agenda.rows.filter(episode_id=episode_id)
        .values_list("open_alert", "flag_count", "last_review_on")
        .first()
    )
    if this is None:
        return AgendaPlace(None, length, agenda[0] if length else None)
    position = agenda.rows.filter(_ahead_of(episode_id, *this)).count() + 1
    return AgendaPlace(position, length, agenda[position] if position < length else None)


def _ahead_of(episode_id: int, alert: bool, flags: int, reviewed: date | None) -> Q:
    """The rows before this one in the agenda's order (`alerts_first(*AGENDA_ORDER)`)."""
    same = Q(open_alert=alert, flag_count=flags)
    if reviewed is None:  # never reviewed: only other never-reviewed rows can be ahead
        same_review = Q(last_review_on__isnull=True)
        reviewed_earlier = Q(pk__in=[])
    else:
        same_review = Q(last_review_on=reviewed)
        reviewed_earlier = Q(last_review_on__isnull=True) | Q(last_review_on__lt=reviewed)
    return (
        Q(open_alert__gt=alert)
        | Q(open_alert=alert, flag_count__gt=flags)
        | (same & reviewed_earlier)
        | (same & same_review & Q(episode_id__lt=episode_id))
    )


# ----------------------------------------------------------------------------- review page


@dataclass(frozen=True)
class ItemAnswer:
    number: int
    text: str
    points: list[int | None]  # one per assessment shown, oldest first
    safety: bool

    @property
    def positive_safety(self) -> bool:
        return self.safety and any(p for p in self.points if p)


@dataclass(frozen=True)
class ItemTable:
    instrument: str
    assessments: list[Assessment]
    items: list[ItemAnswer]


def points(options: tuple, answers: list, index: int) -> int | None:  # type: ignore[type-arg]
    """The points of the option chosen for item `index` (answers hold option indexes)."""
    chosen = answers[index] if index < len(answers) else None
    if chosen is None or not 0 <= chosen < len(options):
        return None
    return int(options[chosen].value)


def item_tables(episode: Episode) -> list[ItemTable]:
    """The last two current PHQ-9 and GAD-7 of the episode, item by item."""
    tables = []
    for code in (InstrumentCode.PHQ9, InstrumentCode.GAD7):
        latest = list(
            episode.assessments.filter(instrument=code, is_current=True).order_by(
                "-taken_on", "-id"
            )[:2]
        )[::-1]
        if not latest:
            continue
        instrument = INSTRUMENTS[code]
        items = [
            ItemAnswer(
                item.number,
                item.en,
                [points(item.options, a.answers, item.number - 1) for a in latest],
                item.safety,
            )
            for item in instrument.items
        ]
        tables.append(ItemTable(code, latest, items))
    return tables


def review_charts(episode: Episode, changes: list[TreatmentChange]) -> list[dict[str, object]]:
    """Full-width PHQ-9 and GAD-7 trajectories, treatment changes marked."""
    series = trajectories(episode)
    markers = [Marker(change.on, change.description) for change in changes]
    charts = []
    for code in (InstrumentCode.PHQ9, InstrumentCode.GAD7):
        points = [
            Point(a.taken_on, a.total, "self-report" if a.method == Method.SELF_REPORT else "")
            for a in series[code].assessments
        ]
        if not points:
            continue
        svg = trajectory_svg(
            code,
            points,
            max_total=INSTRUMENTS[code].max_total,
            bands=severity_bands(code),
            markers=markers,
            width=960,
            height=320,
            target=settings.COCM_REMISSION_CUTOFF,
        )
        charts.append(
            {
                "code": code,
                "svg": mark_safe(svg),  # noqa: S308 - trajectory_svg escapes all text
                "count": len(points),
                "trend": score_trend(code, points[0].total, points[-1].total),
            }
        )
    return charts


MEDICATION_KINDS = ("start_medication", "change_medication", "stop_medication")
ANSWERED = (Recommendation.Status.ACCEPTED, Recommendation.Status.MODIFIED)


def current_medications(recommendations: QuerySet[Recommendation]) -> list[Recommendation]:
    """Medications started or changed on an accepted recommendation and not stopped since,
    one per medication (the latest)."""
    latest: dict[str, Recommendation] = {}
    for rec in recommendations.filter(kind__in=MEDICATION_KINDS, status__in=ANSWERED).order_by(
        "created_at", "id"
    ):
        name = rec.medication.strip().lower()
        if not name:
            continue
        if rec.kind == "stop_medication":
            latest.pop(name, None)
        else:
            latest[name] = rec
    return sorted(latest.values(), key=lambda rec: rec.medication.lower())


@dataclass(frozen=True)
class ContactSummary:
    contacts: int
    no_shows: int
    minutes: int
    last_on: date | None
    recent: list[Contact]


def contact_summary(episode: Episode) -> ContactSummary:
    contacts = list(
        episode.contacts.exclude(activity="caseload_review")
        .select_related("staff")
        .order_by("-occurred_on", "-id")
    )
    return ContactSummary(
        contacts=sum(1 for c in contacts if not c.no_show),
        no_shows=sum(1 for c in contacts if c.no_show),
        minutes=sum(c.minutes for c in contacts if not c.no_show),
        last_on=next((c.occurred_on for c in contacts if not c.no_show), None),
        recent=contacts[:5],
    )


def review_context(episode: Episode, row: TrackerRow) -> dict[str, object]:
    """Everything the review page shows about one episode."""
    changes = list(episode.treatment_changes.select_related("recorded_by"))
    recommendations = episode.recommendations.select_related("responded_by", "review__consultant")
    return {
        "charts": review_charts(episode, changes),
        "item_tables": item_tables(episode),
        "treatment_changes": changes[::-1],
        "medications": current_medications(recommendations),
        "recommendations": list(recommendations[:12]),
        "reviews": list(episode.reviews.select_related("consultant")[:3]),
        "contact_summary": contact_summary(episode),
        "requests": list(
            ReviewRequest.objects.filter(episode=episode, review__isnull=True).select_related(
                "requested_by"
            )
        ),
        "flags": plain_flags(row.flags),
        "trends": row_trends(row),
    }


# ----------------------------------------------------------------------------- the PCP


@dataclass
class WaitingReview:
    """A review with recommendations waiting for this PCP."""

    review_id: int
    episode_id: int
    patient: str
    patient_id: int
    consultant: str
    reviewed_on: date
    summary: str
    recommendations: list[Recommendation]
    trends: list[Trend]
    flags: list[PlainFlag]


def pcp_context(user: User, episodes: QuerySet[Episode], page: Page) -> dict[str, object]:  # type: ignore[type-arg]
    """The PCP's landing page: per patient of the page the row, the trends, the flags in
    plain words and the first review whose recommendations wait; and how many wait in all."""
    rows = page.object_list
    waiting = pending_by_episode(user, episodes.filter(id__in=[row.episode_id for row in rows]))
    return {
        "rows": [
            (row, row_trends(row), plain_flags(row.flags), waiting.get(row.episode_id))
            for row in rows
        ],
        "page": page,
        "waiting_total": Recommendation.objects.filter(
            pcp=user, status=Recommendation.Status.PENDING, episode__in=episodes
        ).count(),
    }


def pending_by_episode(user: User, episodes: QuerySet[Episode]) -> dict[int, "WaitingReview"]:
    """Per episode, the first review whose recommendations wait for the PCP."""
    pending = list(
        Recommendation.objects.filter(
            pcp=user, status=Recommendation.Status.PENDING, episode__in=episodes
        )
        .select_related("episode__patient", "review__consultant")
        .order_by("created_at", "id")
    )
    groups = _group(pending, {})
    by_episode: dict[int, WaitingReview] = {}
    for group in groups:
        by_episode.setdefault(group.episode_id, group)
    return by_episode


def waiting_reviews(user: User, pending: list[Recommendation]) -> list[WaitingReview]:
    """The pending recommendations grouped by review, each with its patient's latest scores
    and trend, oldest review first."""
    episode_ids = {rec.episode_id for rec in pending}
    rows = {
        row.episode_id: row
        for row in organization_caseload_rows(
            user.organization, visible_episodes(user, Episode.objects).filter(id__in=episode_ids)
        )
    }
    return _group(pending, rows)


def _group(pending: list[Recommendation], rows: dict[int, TrackerRow]) -> list[WaitingReview]:
    groups: dict[int, WaitingReview] = {}
    for rec in pending:
        group = groups.get(rec.review_id)
        if group is None:
            row = rows.get(rec.episode_id)
            group = groups[rec.review_id] = WaitingReview(
                review_id=rec.review_id,
                episode_id=rec.episode_id,
                patient=str(rec.episode.patient),
                patient_id=rec.episode.patient_id,
                consultant=str(rec.review.consultant),
                reviewed_on=rec.review.reviewed_on,
                summary=rec.review.summary,
                recommendations=[],
                trends=row_trends(row) if row else [],
                flags=plain_flags(row.flags) if row else [],
            )
        group.recommendations.append(rec)
    return list(groups.values())


def visible_recommendations(user: User) -> QuerySet[Recommendation]:
    """The recommendations of the episodes the user may open."""
    return Recommendation.objects.filter(
        episode__in=visible_episodes(user, Episode.objects)
    ).select_related("episode", "pcp")


def pending_recommendations(user: User) -> QuerySet[Recommendation]:
    """The recommendations waiting for this PCP's answer, oldest first."""
    return (
        Recommendation.objects.filter(
            pcp=user,
            status=Recommendation.Status.PENDING,
            episode__in=visible_episodes(user, Episode.objects),
        )
        .select_related("episode__patient", "review__consultant")
        .order_by("created_at", "id")
    )


def answered_recommendations(user: User) -> QuerySet[Recommendation]:
    """This PCP's answered recommendations, the latest answer first."""
    return (
        Recommendation.objects.filter(pcp=user)
        .exclude(status=Recommendation.Status.PENDING)
        .select_related("episode__patient")
        .order_by("-responded_at")
    )


def visible_reviews(user: User) -> QuerySet[CaseReview]:
    """The caseload reviews of the episodes the user may open."""
    return CaseReview.objects.filter(
        episode__in=visible_episodes(user, Episode.objects)
    ).select_related("episode__patient", "consultant")


def waiting_for(case_review: CaseReview, pcp: User) -> list[Recommendation]:
    """The review's recommendations still waiting for this PCP's answer."""
    return list(
        case_review.recommendations.filter(pcp=pcp, status=Recommendation.Status.PENDING).order_by(
            "id"
        )
    )


def episode_row(user: User, episode: Episode) -> TrackerRow:
    """The caseload row of one episode the user may open."""
    return organization_caseload_rows(
        user.organization, visible_episodes(user, Episode.objects).filter(id=episode.id)
    )[0]


def answer_context(case_review: CaseReview, pcp: User) -> dict[str, object]:
    """What the PCP answers a review from: the patient's latest scores and flags, and the
    answers already given."""
    row = episode_row(pcp, case_review.episode)
    return {
        "answered": case_review.recommendations.exclude(status=Recommendation.Status.PENDING),
        "trends": row_trends(row),
        "flags": plain_flags(row.flags),
        "last_measure_on": row.last_measure_on,
    }


@dataclass(frozen=True)
class Agenda:
    """The consultant's agenda as the review page of one patient sees it: who comes next,
    and where this patient stands (counted in the database)."""

    user: User
    scope: str
    place: AgendaPlace
    today: date

    @classmethod
    def of(cls, user: User, scope: str, episode: Episode) -> "Agenda":
        rows, _ = agenda_rows(user, scope)
        return cls(user, scope, agenda_place(rows, episode.id), user.organization.today())

    @property
    def following(self) -> TrackerRow | None:
        return self.place.following

    def after_review_url(self) -> str:
        """The next patient's review page, or the agenda when this was the last."""
        query = "?scope=all" if self.scope == "all" else ""
        if self.following is not None:
            return reverse("review_patient", args=[self.following.episode_id]) + query
        return reverse("review_agenda") + query

    def context(self, episode: Episode) -> dict[str, object]:
        """The review page's facts of this patient and their place on the agenda."""
        row = episode_row(self.user, episode)
        return {
            "row": row,
            "following": self.following,
            "position": self.place.position,
            "agenda_length": self.place.length,
            **review_context(episode, row),
        }
