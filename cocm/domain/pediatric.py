"""Collaborative care for children and adolescents: guardians, consent, assent, respondents.

Sources: the AIMS Center Pediatric Collaborative Care Implementation Guide (a parent or
guardian with legal authority consents for a minor; measures are answered by the young
person, the parent, or both); the age of majority, 18 in most US states, after which a
guardian has no access without the adult patient's renewed permission or a court order;
AAP Committee on Bioethics, "Informed Consent in Decision-Making in Pediatric Practice",
Pediatrics 2016;138:e20161484 (the child's assent sought as development allows; the age
from which an organization requires it is its setting). Pure: dates come in.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

AGE_OF_MAJORITY = 18


class Respondent(StrEnum):
    """Who answered a questionnaire about the patient."""

    PATIENT = "patient"
    GUARDIAN = "guardian"


class PediatricError(ValueError):
    """Input that must be corrected; `field` names the input at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def age_on(birth_date: date, on: date) -> int:
    """Completed years on a day (a 29 February birthday falls on 1 March in other years)."""
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - before_birthday


def is_minor(birth_date: date, on: date, *, adult_at: int = AGE_OF_MAJORITY) -> bool:
    """Under the age of majority on the day (18 in most US states)."""
    return age_on(birth_date, on) < adult_at


def needs_assent(birth_date: date, on: date, *, assent_from_age: int | None) -> bool:
    """A minor at or above the organization's assent age gives assent (AAP 2016)."""
    if assent_from_age is None or not is_minor(birth_date, on):
        return False
    return age_on(birth_date, on) >= assent_from_age


def majority_on(birth_date: date, *, adult_at: int = AGE_OF_MAJORITY) -> date:
    """The day the patient comes of age (1 March for a 29 February birthday)."""
    year = birth_date.year + adult_at
    try:
        return birth_date.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 3, 1)


def guardian_has_access(
    birth_date: date, on: date, *, renewed_until: date | None, adult_at: int = AGE_OF_MAJORITY
) -> bool:
    """A guardian's access ends when the patient comes of age, unless renewed (AIMS guide)."""
    if on < majority_on(birth_date, adult_at=adult_at):
        return True
    return renewed_until is not None and on <= renewed_until


def check_guardian_contact(*, phone: str, email: str) -> None:
    """A guardian needs at least one way to be reached (a phone number or an email)."""
    if not phone.strip() and not email.strip():
        raise PediatricError("Give the guardian's phone number or email address.", "phone")


def check_respondent(respondent: str, *, answered_by: str) -> Respondent:
    """The respondent is the patient or a guardian, and a parent version is answered by a
    guardian (SCARED parent version: Birmaher et al. 1999)."""
    try:
        who = Respondent(respondent)
    except ValueError:
        choices = ", ".join(r.value for r in Respondent)
        raise PediatricError(
            f"The respondent '{respondent}' is not one of: {choices}.", "respondent"
        ) from None
    if answered_by == Respondent.GUARDIAN and who is not Respondent.GUARDIAN:
        raise PediatricError(
            "This parent version is answered by a parent or guardian.", "respondent"
        )
    return who


@dataclass(frozen=True)
class ConsentParty:
    """Who consented for the patient on a day, and whether the patient's assent is needed."""

    by_guardian: bool
    assent_required: bool


def consent_party(
    birth_date: date, on: date, *, assent_from_age: int | None, adult_at: int = AGE_OF_MAJORITY
) -> ConsentParty:
    """A minor's consent is given by a guardian with legal authority, with the minor's assent
    from the organization's age (AIMS pediatric guide; AAP 2016)."""
    minor = is_minor(birth_date, on, adult_at=adult_at)
    return ConsentParty(
        by_guardian=minor,
        assent_required=minor and needs_assent(birth_date, on, assent_from_age=assent_from_age),
    )
