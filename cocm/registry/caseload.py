"""The caseload: one row per open episode, computed in a constant number of queries."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from cocm.accounts.models import User
from cocm.domain.episodes import EpisodeStatus, weeks_in_treatment
from cocm.domain.instruments import percent_change
from cocm.measures.models import Assessment
from cocm.measures.services import open_alerts_for
from cocm.registry.models import Episode
from cocm.registry.services import visible_episodes


@dataclass(frozen=True)
class CaseloadRow:
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
    open_alert: bool = False
    phq9_first: int | None = None
    phq9_last: int | None = None
    phq9_change: float | None = None
    gad7_first: int | None = None
    gad7_last: int | None = None
    gad7_change: float | None = None
    last_measure_on: date | None = None


def caseload_episodes(
    user: User,
    *,
    care_manager: User | None = None,
    clinic_id: int | None = None,
    status: str | None = None,
) -> QuerySet[Episode]:
    episodes = visible_episodes(user).open()
    if care_manager is not None:
        episodes = episodes.filter(care_manager=care_manager)
    if clinic_id is not None:
        episodes = episodes.filter(clinic_id=clinic_id)
    if status:
        episodes = episodes.filter(status=status)
    return episodes.select_related("patient", "clinic", "care_manager").order_by(
        "patient__family_name", "patient__given_name", "id"
    )


def caseload_rows(episodes: QuerySet[Episode], as_of: date) -> list[CaseloadRow]:
    """Rows of the AIMS patient tracking spreadsheet; open safety alerts first."""
    episodes = list(episodes)
    ids = [episode.id for episode in episodes]
    alerts = open_alerts_for(ids)
    scores = first_and_last_scores(ids)
    rows = [
        CaseloadRow(
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
            open_alert=episode.id in alerts,
            **scores.get(episode.id, {}),
        )
        for episode in episodes
    ]
    return sorted(rows, key=lambda row: not row.open_alert)


def first_and_last_scores(episode_ids: list[int]) -> dict[int, dict[str, object]]:
    """First and latest PHQ-9 and GAD-7 per episode, in one query."""
    found: dict[int, dict[str, object]] = defaultdict(dict)
    current = (
        Assessment.objects.filter(
            episode_id__in=episode_ids, is_current=True, instrument__in=("PHQ-9", "GAD-7")
        )
        .order_by("taken_on", "id")
        .values_list("episode_id", "instrument", "taken_on", "total")
    )
    for episode_id, instrument, taken_on, total in current:
        key = "phq9" if instrument == "PHQ-9" else "gad7"
        row = found[episode_id]
        row.setdefault(f"{key}_first", total)
        row[f"{key}_last"] = total
        row["last_measure_on"] = taken_on
    for row in found.values():
        for key in ("phq9", "gad7"):
            if f"{key}_first" in row:
                row[f"{key}_change"] = percent_change(row[f"{key}_first"], row[f"{key}_last"])
    return found
