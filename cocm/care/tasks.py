"""The care manager's to-do list: what needs doing today, most urgent first.

Open safety alerts, then the patients overdue for a contact or a measure (the caseload's
own flags, under the organization's thresholds, from the stored caseload rows), the
recommendations still waiting for the PCP, the discussions asked of the consultant, the
next contacts set, and the self-report questionnaires due.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from cocm.accounts.models import User
from cocm.accounts.scoping import visible_episodes
from cocm.care.caseload import on_caseload, organization_caseload_rows
from cocm.care.models import FollowUp, Recommendation, ReviewRequest
from cocm.care.tracker import TrackerRow, flag_rules
from cocm.domain.episodes import EpisodeStatus
from cocm.domain.flags import Flag, FlagCode
from cocm.measures.models import Invitation, SafetyAlert, Schedule
from cocm.registry.models import Episode

# A missed early follow-up records the past (it stays raised); a contact is due on no contact.
OVERDUE_CONTACT = frozenset({FlagCode.NO_CONTACT})
OVERDUE_MEASURE = frozenset({FlagCode.NO_MEASURE, FlagCode.NO_BASELINE})


@dataclass(frozen=True)
class Overdue:
    row: TrackerRow
    flags: tuple[Flag, ...]


@dataclass(frozen=True)
class Waiting:
    recommendation: Recommendation
    days: int
    late: bool  # longer than the organization's limit: the caseload flags it too


@dataclass
class TaskList:
    alerts: list[SafetyAlert] = field(default_factory=list)
    overdue_contact: list[Overdue] = field(default_factory=list)
    overdue_measure: list[Overdue] = field(default_factory=list)
    waiting_recommendations: list[Waiting] = field(default_factory=list)
    review_requests: list[ReviewRequest] = field(default_factory=list)
    overdue_follow_ups: list[FollowUp] = field(default_factory=list)
    due_follow_ups: list[FollowUp] = field(default_factory=list)
    upcoming_follow_ups: list[FollowUp] = field(default_factory=list)
    due_schedules: list[Schedule] = field(default_factory=list)
    unanswered_links: list[Invitation] = field(default_factory=list)
    answered_recommendations: list[Recommendation] = field(default_factory=list)

    @property
    def today_count(self) -> int:
        """What needs action today (upcoming contacts and PCP answers are not counted)."""
        return (
            len(self.alerts)
            + len(self.overdue_contact)
            + len(self.overdue_measure)
            + len(self.overdue_follow_ups)
            + len(self.due_follow_ups)
            + len(self.due_schedules)
        )


def my_episodes(user: User) -> QuerySet[Episode]:
    """The user's caseload: their episodes, open or with an open alert."""
    return on_caseload(visible_episodes(user, Episode.objects).filter(care_manager=user))


def alerts_for(user: User) -> QuerySet[SafetyAlert]:
    """Open alerts of the user's patients, and of patients without a care manager at the
    user's clinics (they reach every care manager there, as the notification does)."""
    episodes = visible_episodes(user, Episode.objects).filter(
        Q(care_manager=user) | Q(care_manager__isnull=True, clinic_id__in=user.clinic_ids)
    )
    return (
        SafetyAlert.objects.filter(resolved_at__isnull=True, episode__in=episodes)
        .select_related("episode__patient", "assessment")
        .order_by("opened_at")
    )


def task_list(user: User, today: date, now: datetime | None = None) -> TaskList:
    """Everything on the user's to-do list as of today."""
    now = now or timezone.now()
    organization = user.organization
    episodes = my_episodes(user)
    wait_days = flag_rules(organization).recommendation_wait_days
    tasks = TaskList()
    tasks.alerts = list(alerts_for(user))
    for row in organization_caseload_rows(organization, episodes):
        if row.status == EpisodeStatus.DISCHARGED:
            continue
        contact = tuple(flag for flag in row.flags if flag.code in OVERDUE_CONTACT)
        measure = tuple(flag for flag in row.flags if flag.code in OVERDUE_MEASURE)
        if contact:
            tasks.overdue_contact.append(Overdue(row, contact))
        if measure:
            tasks.overdue_measure.append(Overdue(row, measure))
    tasks.overdue_contact.sort(key=lambda item: item.row.last_contact_on or date.min)
    tasks.overdue_measure.sort(key=lambda item: item.row.last_measure_on or date.min)
    open_episodes = episodes.open()
    tz = organization.tz
    for recommendation in (
        Recommendation.objects.filter(
            episode__in=open_episodes, status=Recommendation.Status.PENDING
        )
        .select_related("episode__patient", "pcp")
        .order_by("created_at")
    ):
        days = (today - timezone.localdate(recommendation.created_at, tz)).days
        tasks.waiting_recommendations.append(Waiting(recommendation, days, days > wait_days))
    tasks.review_requests = list(
        ReviewRequest.objects.filter(episode__in=open_episodes, review__isnull=True)
        .select_related("episode__patient", "episode__psychiatric_consultant")
        .order_by("requested_at")
    )
    follow_ups = list(
        FollowUp.objects.filter(
            done_at__isnull=True,
            assigned_to=user,
            episode__in=visible_episodes(user, Episode.objects).open(),
        )
        .select_related("episode__patient")
        .order_by("due_on")
    )
    tasks.overdue_follow_ups = [f for f in follow_ups if f.due_on < today]
    tasks.due_follow_ups = [f for f in follow_ups if f.due_on == today]
    tasks.upcoming_follow_ups = [f for f in follow_ups if f.due_on > today][:50]
    tasks.due_schedules = list(
        Schedule.objects.filter(episode__in=open_episodes, active=True, next_on__lte=today)
        .select_related("episode__patient")
        .order_by("next_on")
    )
    tasks.unanswered_links = list(
        Invitation.objects.filter(
            episode__in=open_episodes, completed_at__isnull=True, expires_at__gt=now
        )
        .select_related("episode__patient")
        .order_by("expires_at")
    )
    tasks.answered_recommendations = list(
        Recommendation.objects.filter(
            episode__care_manager=user,
            responded_at__isnull=False,
            responded_at__gte=now - timedelta(days=14),
        )
        .select_related("episode__patient")
        .order_by("-responded_at")
    )
    return tasks
