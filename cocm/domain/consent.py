"""Consent to collaborative care: what must be documented, and its revocation.

Source: the CoCM rules reference (cocm-rules.md) section 1.5, from the CY2017 Medicare
Physician Fee Schedule final rule (CMS-1654-F, display copy p.278): consent is obtained
before services start, may be verbal but must be documented, and the patient is told of
cost sharing and permits consultation with specialists, the psychiatric consultant among
them. Pure: no clock (dates come in), no framework.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


class ConsentError(ValueError):
    """Consent input that must be corrected; `field` names the input at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# The two things Medicare requires the patient to be told, by the field that records each.
REQUIRED_DISCLOSURES: tuple[tuple[str, str], ...] = (
    (
        "cost_sharing_explained",
        "The patient was told that cost sharing (copay, coinsurance) may apply each month.",
    ),
    (
        "psychiatric_consultation_explained",
        "The patient agreed that the care team consults a psychiatric consultant "
        "(who may not see the patient) about their care.",
    ),
)


def check_disclosures(
    *, cost_sharing_explained: bool, psychiatric_consultation_explained: bool
) -> None:
    """Both Medicare disclosures are documented with the consent (CMS-1654-F p.278, §1.5)."""
    given = {
        "cost_sharing_explained": cost_sharing_explained,
        "psychiatric_consultation_explained": psychiatric_consultation_explained,
    }
    for field, text in REQUIRED_DISCLOSURES:
        if not given[field]:
            raise ConsentError(f"Consent needs this disclosure documented: {text}", field)


def check_revocation(
    *, consent_on: date | None, revoked_on: date, as_of: date, open_revocation_on: date | None
) -> None:
    """A revocation follows documented consent and is not in the future (§1.5: consent
    is the basis for billing; withdrawing it ends that basis from its date)."""
    if consent_on is None:
        raise ConsentError("There is no documented consent to revoke.", "on")
    if open_revocation_on is not None:
        raise ConsentError(
            f"Consent was already revoked on {open_revocation_on.isoformat()}; "
            "record a new consent first.",
            "on",
        )
    if revoked_on > as_of:
        raise ConsentError(f"The revocation date {revoked_on.isoformat()} is in the future.", "on")
    if revoked_on < consent_on:
        raise ConsentError(
            f"The revocation date {revoked_on.isoformat()} is before the consent "
            f"({consent_on.isoformat()}).",
            "on",
        )


def check_renewal(*, revoked_on: date | None, renewed_on: date, as_of: date) -> None:
    """A new consent after a revocation is dated on or after it and not in the future (§1.5)."""
    if revoked_on is None:
        raise ConsentError("Consent has not been revoked; there is nothing to renew.", "consent_on")
    if renewed_on > as_of:
        raise ConsentError(
            f"The consent date {renewed_on.isoformat()} is in the future.", "consent_on"
        )
    if renewed_on < revoked_on:
        raise ConsentError(
            f"The new consent ({renewed_on.isoformat()}) is before the revocation "
            f"({revoked_on.isoformat()}).",
            "consent_on",
        )


@dataclass(frozen=True, slots=True)
class RevokedPeriod:
    """From the revocation day up to (not including) the day consent was given again."""

    revoked_on: date
    renewed_on: date | None = None

    def covers(self, day: date) -> bool:
        return self.revoked_on <= day and (self.renewed_on is None or day < self.renewed_on)


def revoked_period_on(periods: Iterable[RevokedPeriod], day: date) -> RevokedPeriod | None:
    """The revocation in force on a day, if any: no minute of such a day counts (§1.5)."""
    return next((period for period in periods if period.covers(day)), None)
