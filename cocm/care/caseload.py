"""Stored caseload rows: the tracker's row of each episode, kept correct on every write.

`tracker_rows` computes a row from an episode's contacts, measures, reviews, billing time
and flags: about half a millisecond of CPU per episode, too much for a caseload of 150
opened by every care manager many times a day. So each episode keeps its last computed row
(`CaseloadRow`), and `caseload_rows` recomputes only the rows that are not current.

A stored row is current while
- no write changed its inputs since it was computed: every such write bumps the episode's
  `generation` in the writer's own transaction (the receivers below; a write through
  `QuerySet.update()` or `bulk_create()` sends no signal and must call `mark_changed`),
  and the reader reads the generation *before* the data it computes from, so a row
  computed from data older than a concurrent write keeps the older generation and is
  recomputed next time;
- it was computed for the same day (weeks in treatment, days since contact, the month's
  minutes, the payer and the time-driven flags change with the calendar);
- the organization's flag thresholds, its billing rules (minutes to the next threshold) and
  the row format are the same (`rules_key`).

Names (patient, MRN, clinic, care manager) are not stored: they are read with the episode
ids, so renaming a patient or a clinic needs no bump.
"""

from dataclasses import asdict, astuple
from datetime import date
from hashlib import sha256
from typing import Any, get_type_hints

from django.db.models import F, Model, Q, QuerySet
from django.db.models.signals import post_delete, post_save

from cocm.accounts.models import Organization, staff_name
from cocm.care.billing_figures import MonthFigures, month_figures
from cocm.care.models import (
    CaseloadRow,
    CaseReview,
    Contact,
    Recommendation,
    RelapsePreventionPlan,
    ReviewRequest,
)
from cocm.care.tracker import TrackerRow, flag_rules, tracker_rows
from cocm.domain.episodes import EpisodeStatus
from cocm.domain.flags import Flag, FlagCode, FlagRules
from cocm.measures.models import Assessment, SafetyAlert
from cocm.registry.models import (
    CareTeamChange,
    Clinic,
    ConsentRevocation,
    Coverage,
    Diagnosis,
    Episode,
    Patient,
    StatusChange,
    patient_name,
)

# Bump when `tracker_rows` or `TrackerRow` changes what a row holds: every stored row is
# then recomputed on its next read.
ROW_FORMAT = 2
# Episodes computed per batch (SQLite allows 32,766 parameters per query).
BATCH = 2000

_NAME_COLUMNS = (
    "id",
    "patient__family_name",
    "patient__given_name",
    "patient__mrn",
    "clinic__name",
    "care_manager__username",
    "care_manager__first_name",
    "care_manager__last_name",
    "care_manager__credentials",
)
_NAMES = ("patient_name", "mrn", "clinic", "care_manager")
_DATE_FIELDS = frozenset(
    name for name, kind in get_type_hints(TrackerRow).items() if kind in (date, date | None)
)


def rules_key(rules: FlagRules, billing_rules: MonthFigures) -> str:
    flags = ",".join(str(value) for value in astuple(rules))
    # Hashed: the billing rules' text runs to a few hundred characters per payer.
    billing = sha256(billing_rules.key.encode()).hexdigest()[:16]
    # The flag rules hold the remission cut-off, which decides the row's remission marker.
    return f"{ROW_FORMAT}:{flags}:{billing}"


def caseload_rows(
    episodes: QuerySet[Episode],
    as_of: date,
    rules: FlagRules,
    billing_rules: MonthFigures | None = None,
) -> list[TrackerRow]:
    """The tracker rows of these episodes as of a day, safety alerts first; stored rows where
    they are current, the rest computed and stored."""
    billing_rules = billing_rules or month_figures()
    key = rules_key(rules, billing_rules)
    names = {
        episode_id: {
            "patient_name": patient_name(family, given),
            "mrn": mrn,
            "clinic": clinic,
            "care_manager": staff_name(username, first, last, creds) if username else "",
        }
        for episode_id, family, given, mrn, clinic, username, first, last, creds in (
            episodes.order_by().values_list(*_NAME_COLUMNS)
        )
    }
    current = CaseloadRow.objects.filter(
        current_rows(as_of, key), episode_id__in=episodes.order_by().values("id")
    ).values_list("episode_id", "data")
    rows = [row_from_json(data | names[episode_id]) for episode_id, data in current]
    stale = set(names).difference(row.episode_id for row in rows)
    rows.extend(refresh(sorted(stale), as_of, rules, billing_rules))
    return sorted(rows, key=lambda row: (not row.open_alert, row.episode_id))


def on_caseload(episodes: QuerySet[Episode]) -> QuerySet[Episode]:
    """The episodes a caseload lists: the open ones, and any other whose safety alert is
    still open (an alert stays on the care team's list until its follow-up is documented)."""
    alerted = SafetyAlert.objects.filter(resolved_at__isnull=True).values("episode_id")
    return episodes.filter(~Q(status=EpisodeStatus.DISCHARGED) | Q(id__in=alerted))


def organization_caseload_rows(
    organization: Organization, episodes: QuerySet[Episode]
) -> list[TrackerRow]:
    """`caseload_rows` as of the organization's today, under its flag and billing rules."""
    return caseload_rows(
        episodes, organization.today(), flag_rules(organization), month_figures(organization)
    )


def refresh_stale(organization: Organization) -> int:
    """Compute the rows of the organization's open episodes that are not current (the
    worker's pass, so that the first caseload of the day finds its rows ready); returns how
    many."""
    as_of, rules = organization.today(), flag_rules(organization)
    billing_rules = month_figures(organization)
    episodes = on_caseload(Episode.objects.filter(clinic__organization=organization)).order_by()
    current = CaseloadRow.objects.filter(
        current_rows(as_of, rules_key(rules, billing_rules)),
        episode_id__in=episodes.values("id"),
    ).values_list("episode_id", flat=True)
    stale = sorted(set(episodes.values_list("id", flat=True)).difference(current))
    refresh(stale, as_of, rules, billing_rules)
    return len(stale)


def current_rows(as_of: date, key: str) -> Q:
    """Stored rows computed since the last write, for this day, under these rules."""
    return Q(computed_generation=F("generation"), as_of=as_of, rules_key=key)


def refresh(
    episode_ids: list[int],
    as_of: date,
    rules: FlagRules,
    billing_rules: MonthFigures | None = None,
) -> list[TrackerRow]:
    """Compute and store the rows of these episodes, in batches."""
    billing_rules = billing_rules or month_figures()
    key = rules_key(rules, billing_rules)
    computed: list[TrackerRow] = []
    for start in range(0, len(episode_ids), BATCH):
        batch = episode_ids[start : start + BATCH]
        # The generation is read before the data: see the module docstring.
        generations = current_generations(batch)
        rows = tracker_rows(Episode.objects.filter(id__in=batch), as_of, rules, billing_rules)
        CaseloadRow.objects.bulk_update(
            [
                CaseloadRow(
                    episode_id=row.episode_id,
                    computed_generation=generations[row.episode_id],
                    as_of=as_of,
                    rules_key=key,
                    data=row_to_json(row),
                )
                for row in rows
            ],
            ["computed_generation", "as_of", "rules_key", "data"],
            batch_size=500,
        )
        computed.extend(rows)
    return computed


def current_generations(episode_ids: list[int]) -> dict[int, int]:
    """The generation of each episode (at most BATCH of them), creating the rows that are
    missing. Read it before the data a stored result is computed from."""
    _ensure_rows(episode_ids)
    return dict(
        CaseloadRow.objects.filter(episode_id__in=episode_ids).values_list(
            "episode_id", "generation"
        )
    )


def mark_changed(episodes: QuerySet[Episode]) -> None:
    """Bump the generation of these episodes' rows (creating them if need be), in the
    caller's transaction, so that no row computed before this write is used after it."""
    ids = list(episodes.order_by().values_list("id", flat=True))
    if not ids:
        return
    # The row must exist before the bump: otherwise a reader inserting it concurrently
    # would store a row computed before this write under generation 0, as if current.
    _ensure_rows(ids)
    CaseloadRow.objects.filter(episode_id__in=ids).update(generation=F("generation") + 1)


def _ensure_rows(episode_ids: list[int]) -> None:
    CaseloadRow.objects.bulk_create(
        [CaseloadRow(episode_id=episode_id) for episode_id in episode_ids], ignore_conflicts=True
    )


def row_to_json(row: TrackerRow) -> dict[str, Any]:
    data = asdict(row)
    for name in _NAMES:
        del data[name]
    for name in _DATE_FIELDS:
        if data[name] is not None:
            data[name] = data[name].isoformat()
    data["flags"] = [[flag.code.value, flag.reason, flag.source] for flag in row.flags]
    return data


def row_from_json(data: dict[str, Any]) -> TrackerRow:
    values = dict(data)
    for name in _DATE_FIELDS:
        if values[name] is not None:
            values[name] = date.fromisoformat(values[name])
    values["flags"] = tuple(
        Flag(FlagCode(code), reason, source) for code, reason, source in values["flags"]
    )
    return TrackerRow(**values)


# What each write changes. A contact changes the billing history of every episode of the
# patient (service months count across registry episodes), so it marks them all.
def _episode_of(instance: Any) -> QuerySet[Episode]:
    return Episode.objects.filter(id=instance.episode_id)


def _episodes_of_patient_of_episode(instance: Any) -> QuerySet[Episode]:
    return Episode.objects.filter(patient__episodes__id=instance.episode_id)


def _episodes_of_patient(instance: Any) -> QuerySet[Episode]:
    return Episode.objects.filter(patient_id=instance.patient_id)


_WRITES: dict[type[Model], Any] = {
    Contact: _episodes_of_patient_of_episode,
    Assessment: _episode_of,
    SafetyAlert: _episode_of,
    CaseReview: _episode_of,
    ReviewRequest: _episode_of,
    Recommendation: _episode_of,
    RelapsePreventionPlan: _episode_of,
    StatusChange: _episode_of,
    # The psychiatric consultant decides a flag (and the caseload a row is on).
    CareTeamChange: _episode_of,
    # A revocation stops the episode's minutes counting, which changes the billing history
    # of the patient's other episodes too (as a contact does).
    ConsentRevocation: _episodes_of_patient_of_episode,
    Episode: lambda episode: Episode.objects.filter(id=episode.id),
    Coverage: _episodes_of_patient,
    # The quality measures read an episode's diagnoses and the patient's birth date.
    Diagnosis: _episode_of,
    Patient: lambda patient: Episode.objects.filter(patient_id=patient.id),
    # The clinic's setting (FQHC/RHC) decides the billing codes.
    Clinic: lambda clinic: Episode.objects.filter(clinic_id=clinic.id),
}


def _on_write(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    mark_changed(_WRITES[sender](instance))


def connect() -> None:
    """Called once from the app's `ready()`."""
    for model in _WRITES:
        post_save.connect(_on_write, sender=model, dispatch_uid=f"caseload-{model.__name__}")
        post_delete.connect(_on_write, sender=model, dispatch_uid=f"caseload-{model.__name__}-d")
