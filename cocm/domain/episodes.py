"""Episode-of-care statuses and the rules for moving between them.

The care loop (AIMS Center; CPT episode definition as quoted by NC Medicaid 2025): a PCP
refers the patient, the patient is enrolled once consent is documented and a provisional
diagnosis is recorded, treatment becomes active, then relapse prevention, then discharge
with a reason.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class EpisodeStatus(StrEnum):
    REFERRED = "referred"
    ENROLLED = "enrolled"
    ACTIVE = "active"
    RELAPSE_PREVENTION = "relapse_prevention"
    DISCHARGED = "discharged"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class DischargeReason(StrEnum):
    GOALS_MET = "goals_met"
    REFERRED_TO_SPECIALTY = "referred_to_specialty"
    DISENGAGED = "disengaged"
    DECLINED = "declined"
    MOVED = "moved"
    DECEASED = "deceased"
    OTHER = "other"

    @property
    def label(self) -> str:
        return DISCHARGE_REASON_LABELS[self]


DISCHARGE_REASON_LABELS = {
    DischargeReason.GOALS_MET: "Treatment goals met",
    DischargeReason.REFERRED_TO_SPECIALTY: "Referred to specialty care",
    DischargeReason.DISENGAGED: "Disengaged",
    DischargeReason.DECLINED: "Declined",
    DischargeReason.MOVED: "Moved",
    DischargeReason.DECEASED: "Deceased",
    DischargeReason.OTHER: "Other",
}


class ConsentMethod(StrEnum):
    VERBAL = "verbal"
    WRITTEN = "written"


OPEN_STATUSES = frozenset(
    {
        EpisodeStatus.REFERRED,
        EpisodeStatus.ENROLLED,
        EpisodeStatus.ACTIVE,
        EpisodeStatus.RELAPSE_PREVENTION,
    }
)

# Relapse prevention may fall back to active treatment when symptoms return; a discharged
# episode is closed for good (a later referral opens a new episode).
ALLOWED_TRANSITIONS: dict[EpisodeStatus, frozenset[EpisodeStatus]] = {
    EpisodeStatus.REFERRED: frozenset({EpisodeStatus.ENROLLED, EpisodeStatus.DISCHARGED}),
    EpisodeStatus.ENROLLED: frozenset({EpisodeStatus.ACTIVE, EpisodeStatus.DISCHARGED}),
    EpisodeStatus.ACTIVE: frozenset({EpisodeStatus.RELAPSE_PREVENTION, EpisodeStatus.DISCHARGED}),
    EpisodeStatus.RELAPSE_PREVENTION: frozenset({EpisodeStatus.ACTIVE, EpisodeStatus.DISCHARGED}),
    EpisodeStatus.DISCHARGED: frozenset(),
}


class TransitionError(ValueError):
    """A status change the care loop does not allow; `field` names the input at fault."""

    def __init__(self, message: str, field: str = "status") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class EpisodeFacts:
    """What the transition rules need to know about an episode."""

    status: EpisodeStatus
    consent_on: date | None
    has_diagnosis: bool
    last_change_on: date
    referred_on: date
    open_safety_alert: bool = False


# Statuses that take a patient off active follow-up: not while a suicide-risk answer waits
# for its documented follow-up.
LEAVES_ACTIVE_FOLLOW_UP = frozenset({EpisodeStatus.RELAPSE_PREVENTION, EpisodeStatus.DISCHARGED})


def check_transition(
    episode: EpisodeFacts,
    to: EpisodeStatus,
    on: date,
    *,
    as_of: date,
    reason: DischargeReason | None = None,
) -> None:
    """Raise TransitionError unless the care loop allows it (AIMS care loop; CMS-1654-F consent)."""
    if to not in ALLOWED_TRANSITIONS[episode.status]:
        if episode.status is EpisodeStatus.DISCHARGED:
            raise TransitionError(
                "This episode is discharged; refer the patient again to open a new episode."
            )
        raise TransitionError(
            f"An episode cannot go from {episode.status.label.lower()} to {to.label.lower()}."
        )
    if on > as_of:
        raise TransitionError(f"The date {on.isoformat()} is in the future.", field="on")
    if on < episode.last_change_on:
        raise TransitionError(
            f"The date {on.isoformat()} is before the last status change "
            f"({episode.last_change_on.isoformat()}).",
            field="on",
        )
    check_safety_follow_up(episode.open_safety_alert, to)
    if to is EpisodeStatus.ENROLLED:
        check_enrollment(episode.consent_on, episode.has_diagnosis, on)
    if to is EpisodeStatus.DISCHARGED and reason is None:
        raise TransitionError("A discharge needs a reason.", field="reason")
    if to is not EpisodeStatus.DISCHARGED and reason is not None:
        raise TransitionError("Only a discharge takes a reason.", field="reason")


def check_safety_follow_up(open_safety_alert: bool, to: EpisodeStatus) -> None:
    """No discharge or relapse prevention over an open safety alert (AIMS Center suicide
    prevention protocol: every positive item 9 is followed up and documented)."""
    if open_safety_alert and to in LEAVES_ACTIVE_FOLLOW_UP:
        raise TransitionError(
            f"This patient has an open safety alert: document its follow-up before moving "
            f"the episode to {to.label.lower()}."
        )


def check_enrollment(consent_on: date | None, has_diagnosis: bool, enrolled_on: date) -> None:
    """Enrollment needs documented consent on or before it and a diagnosis (CMS-1654-F p.278)."""
    if consent_on is None:
        raise TransitionError(
            "A patient cannot be enrolled without documented consent.", field="consent"
        )
    if consent_on > enrolled_on:
        raise TransitionError(
            f"Consent ({consent_on.isoformat()}) is after the enrollment date "
            f"({enrolled_on.isoformat()}).",
            field="consent",
        )
    if not has_diagnosis:
        raise TransitionError(
            "A patient cannot be enrolled without a provisional diagnosis.", field="diagnoses"
        )


def weeks_in_treatment(enrolled_on: date | None, as_of: date) -> int | None:
    """Whole weeks since enrollment, the AIMS tracker's 'weeks in treatment' column."""
    if enrolled_on is None or enrolled_on > as_of:
        return None
    return (as_of - enrolled_on).days // 7
