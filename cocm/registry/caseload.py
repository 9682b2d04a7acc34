"""The caseload: one row per open episode, computed in a constant number of queries."""

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from cocm.accounts.models import User
from cocm.domain.episodes import EpisodeStatus, weeks_in_treatment
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
    """Rows of the AIMS patient tracking spreadsheet for the given episodes."""
    return [
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
        )
        for episode in episodes
    ]
