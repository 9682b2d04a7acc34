"""The live caseload tracker: one row per open episode, built in a constant number of queries.

Its columns are the AIMS patient tracking spreadsheet's, plus what a spreadsheet cannot
keep: payer, referral date, first billable month, no-shows, the day the patient reaches
12 weeks, weeks to remission, minutes this month and to the next billable threshold, and
the flags with their reasons.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, F, Max, Min, Q, QuerySet

from cocm.care.billing_figures import MonthFigures, month_figures
from cocm.care.models import (
    CareSettings,
    CaseReview,
    Contact,
    Recommendation,
    RelapsePreventionPlan,
    ReviewRequest,
    TimeRole,
)
from cocm.domain.episodes import EpisodeStatus, weeks_in_treatment
from cocm.domain.flags import EpisodeSnapshot, Flag, FlagRules, episode_flags, one_per_cause
from cocm.domain.instruments import InstrumentCode, TreatToTarget, treat_to_target
from cocm.measures.models import Assessment, SafetyAlert
from cocm.registry.coverages import payer_on
from cocm.registry.models import BillingProgram, Episode, Organization, PayerKind


@dataclass
class TrackerRow:
    episode_id: int
    patient_id: int
    patient_name: str
    mrn: str
    clinic: str
    care_manager: str
    status: str
    status_label: str
    referred_on: date
    enrolled_on: date | None
    weeks_in_treatment: int | None
    twelve_weeks_on: date | None
    payer: str
    contacts: int = 0
    no_shows: int = 0
    last_contact_on: date | None = None
    days_since_contact: int | None = None
    first_billable_month: str = ""
    phq9_first: int | None = None
    phq9_last: int | None = None
    phq9_change: float | None = None
    gad7_first: int | None = None
    gad7_last: int | None = None
    gad7_change: float | None = None
    # "remission", "response", "partial" or "" (not improved ≥25%, or not rated), per
    # instrument, from the treat-to-target summary (docs/measures.md).
    phq9_target: str = ""
    gad7_target: str = ""
    last_measure_on: date | None = None
    weeks_to_remission: int | None = None
    last_review_on: date | None = None
    review_requested: str = ""
    relapse_plan: bool = False
    minutes_this_month: int = 0
    minutes_to_next_threshold: int | None = None
    next_code: str = ""
    open_alert: bool = False
    flags: tuple[Flag, ...] = field(default_factory=tuple)


COLUMNS = (
    # (key, heading) — the export and the sortable table use the same columns.
    ("patient_name", "Patient"),
    ("mrn", "MRN"),
    ("status_label", "Status"),
    ("clinic", "Clinic"),
    ("care_manager", "Care manager"),
    ("payer", "Payer"),
    ("referred_on", "Referred"),
    ("enrolled_on", "Enrolled"),
    ("weeks_in_treatment", "Weeks in treatment"),
    ("twelve_weeks_on", "Reaches 12 weeks"),
    ("contacts", "Contacts"),
    ("no_shows", "No-shows"),
    ("last_contact_on", "Last contact"),
    ("days_since_contact", "Days since contact"),
    ("first_billable_month", "First billable month"),
    ("phq9_first", "PHQ-9 first"),
    ("phq9_last", "PHQ-9 last"),
    ("phq9_change", "PHQ-9 % change"),
    ("phq9_target", "PHQ-9 response"),
    ("gad7_first", "GAD-7 first"),
    ("gad7_last", "GAD-7 last"),
    ("gad7_change", "GAD-7 % change"),
    ("gad7_target", "GAD-7 response"),
    ("last_measure_on", "Last measure"),
    ("weeks_to_remission", "Weeks to remission"),
    ("last_review_on", "Last psychiatric review"),
    ("relapse_plan", "Relapse-prevention plan"),
    ("minutes_this_month", "Minutes this month"),
    ("minutes_to_next_threshold", "Minutes to next billable threshold"),
    ("flags", "Flags"),
)


# The on-screen table groups some columns; each heading sorts by its first key.
TABLE_COLUMNS = (
    ("patient_name", "Patient"),
    ("status_label", "Status / payer"),
    ("enrolled_on", "Enrolled"),
    ("weeks_in_treatment", "Weeks"),
    ("contacts", "Contacts"),
    ("last_contact_on", "Last contact"),
    ("phq9_change", "PHQ-9 first → last"),
    ("gad7_change", "GAD-7 first → last"),
    ("last_measure_on", "Last measure"),
    ("last_review_on", "Last psych. review"),
    ("minutes_this_month", "Minutes this month"),
    ("flags", "Flags"),
)
NUMERIC_COLUMNS = frozenset(
    {"weeks_in_treatment", "contacts", "phq9_change", "gad7_change", "minutes_this_month"}
)


PAYER_LABELS = dict(PayerKind.choices)
PHQ9, GAD7 = InstrumentCode.PHQ9, InstrumentCode.GAD7


def table_context() -> dict[str, object]:
    return {"columns": TABLE_COLUMNS, "numeric": NUMERIC_COLUMNS}


def flag_rules(organization: Organization) -> FlagRules:
    """The organization's thresholds (or the defaults), under the remission cut-off
    (`COCM_REMISSION_CUTOFF`) the chart and the reports use."""
    cutoff = settings.COCM_REMISSION_CUTOFF
    care = CareSettings.objects.filter(organization=organization).first()
    if care is None:
        return FlagRules(remission_cutoff=cutoff)
    return FlagRules(
        not_improved_week=care.not_improved_week,
        no_contact_days=care.no_contact_days,
        no_measure_days=care.no_measure_days,
        recommendation_wait_days=care.recommendation_wait_days,
        early_follow_up_days=care.early_follow_up_days,
        remission_cutoff=cutoff,
    )


def tracker_rows(
    episodes: QuerySet[Episode],
    as_of: date,
    rules: FlagRules,
    billing_rules: MonthFigures | None = None,
) -> list[TrackerRow]:
    """Rows for the given episodes (open ones are expected), safety alerts first; minutes
    to the next threshold under the organization's billing rules for each patient's payer,
    as the month worklist decides them."""
    episodes = list(episodes.select_related("patient", "clinic", "care_manager"))
    ids = [episode.id for episode in episodes]
    contact_stats = {
        row["episode_id"]: row
        for row in Contact.objects.filter(episode_id__in=ids)
        .exclude(role=TimeRole.PSYCHIATRIC_CONSULTANT)
        .values("episode_id")
        .annotate(
            count=Count("id", filter=Q(no_show=False)),
            no_shows=Count("id", filter=Q(no_show=True)),
            last=Max("occurred_on", filter=Q(no_show=False)),
            first_follow_up=Min(
                "occurred_on", filter=Q(no_show=False, occurred_on__gt=F("episode__enrolled_on"))
            ),
            first_after_consent=Min(
                "occurred_on", filter=Q(occurred_on__gte=F("episode__consent_on"))
            ),
        )
    }
    scores: dict[tuple[int, str], list[tuple[date, int]]] = defaultdict(list)
    for episode_id, instrument, taken_on, total in (
        Assessment.objects.filter(episode_id__in=ids, is_current=True, instrument__in=(PHQ9, GAD7))
        .order_by("taken_on", "id")
        .values_list("episode_id", "instrument", "taken_on", "total")
    ):
        scores[episode_id, instrument].append((taken_on, total))
    alerts = set(
        SafetyAlert.objects.filter(episode_id__in=ids, resolved_at__isnull=True).values_list(
            "episode_id", flat=True
        )
    )
    last_review = dict(
        CaseReview.objects.filter(episode_id__in=ids)
        .values("episode_id")
        .annotate(last=Max("reviewed_on"))
        .values_list("episode_id", "last")
    )
    requests = dict(
        ReviewRequest.objects.filter(episode_id__in=ids, review__isnull=True).values_list(
            "episode_id", "reason"
        )
    )
    waiting = dict(
        Recommendation.objects.filter(episode_id__in=ids, status=Recommendation.Status.PENDING)
        .values("episode_id")
        .annotate(oldest=Min("created_at"))
        .values_list("episode_id", "oldest")
    )
    plans = set(
        RelapsePreventionPlan.objects.filter(episode_id__in=ids).values_list(
            "episode_id", flat=True
        )
    )
    payers = payer_on({e.patient_id for e in episodes}, as_of)
    billing = (billing_rules or month_figures()).decide(episodes, as_of, payers)

    rows = []
    for episode in episodes:
        stats = contact_stats.get(episode.id, {})
        phq9 = scores.get((episode.id, PHQ9), [])
        gad7 = scores.get((episode.id, GAD7), [])
        result = billing[episode.id]
        oldest = waiting.get(episode.id)
        snapshot = EpisodeSnapshot(
            status=episode.status,
            enrolled_on=episode.enrolled_on,
            open_safety_alert=episode.id in alerts,
            phq9=tuple(phq9),
            gad7=tuple(gad7),
            last_contact_on=stats.get("last"),
            first_follow_up_contact_on=stats.get("first_follow_up"),
            last_review_on=last_review.get(episode.id),
            oldest_unanswered_recommendation_on=oldest.date() if oldest else None,
            psychiatric_consultant_assigned=episode.psychiatric_consultant_id is not None,
            collaborative_care=episode.billing_program == BillingProgram.COCM,
        )
        row = TrackerRow(
            episode_id=episode.id,
            patient_id=episode.patient_id,
            patient_name=str(episode.patient),
            mrn=episode.patient.mrn,
            clinic=episode.clinic.name,
            care_manager=str(episode.care_manager) if episode.care_manager else "",
            status=episode.status,
            status_label=EpisodeStatus(episode.status).label,
            referred_on=episode.referred_on,
            enrolled_on=episode.enrolled_on,
            weeks_in_treatment=weeks_in_treatment(episode.enrolled_on, as_of),
            twelve_weeks_on=(
                episode.enrolled_on + timedelta(weeks=12) if episode.enrolled_on else None
            ),
            payer=PAYER_LABELS.get(payers.get(episode.patient_id, ""), ""),
            contacts=stats.get("count", 0),
            no_shows=stats.get("no_shows", 0),
            last_contact_on=stats.get("last"),
            days_since_contact=(as_of - stats["last"]).days if stats.get("last") else None,
            first_billable_month=(
                f"{stats['first_after_consent']:%Y-%m}" if stats.get("first_after_consent") else ""
            ),
            last_review_on=last_review.get(episode.id),
            review_requested=requests.get(episode.id, ""),
            relapse_plan=episode.id in plans,
            minutes_this_month=result.minutes_counted,
            minutes_to_next_threshold=result.minutes_to_next_threshold,
            open_alert=episode.id in alerts,
            flags=one_per_cause(episode_flags(snapshot, as_of, rules=rules)),
        )
        add_scores(row, phq9, gad7, episode.enrolled_on, rules.remission_cutoff)
        rows.append(row)
    return sorted(rows, key=lambda row: not row.open_alert)


def target_marker(summary: TreatToTarget) -> str:
    """The treat-to-target state a caseload row marks (response ≥50% drop, remission < 5)."""
    if summary.remission:
        return "remission"
    if summary.response:
        return "response"
    if summary.partial_response:
        return "partial"
    return ""


def add_scores(
    row: TrackerRow,
    phq9: list[tuple[date, int]],
    gad7: list[tuple[date, int]],
    enrolled_on: date | None,
    remission_cutoff: int,
) -> None:
    for key, series, code in (("phq9", phq9, PHQ9), ("gad7", gad7, GAD7)):
        if not series:
            continue
        summary = treat_to_target(
            code, series, enrolled_on=enrolled_on, remission_cutoff=remission_cutoff
        )
        setattr(row, f"{key}_first", summary.baseline)
        setattr(row, f"{key}_last", summary.latest)
        setattr(row, f"{key}_change", summary.percent_change)
        setattr(row, f"{key}_target", target_marker(summary))
        if key == "phq9":
            row.weeks_to_remission = summary.weeks_to_remission
    dates = [taken_on for taken_on, _ in phq9 + gad7]
    row.last_measure_on = max(dates) if dates else None
