"""Sensible bounds for the dates a clinician or an import types: birth dates and record dates.

A typo such as 1800-01-01 ("226 years old") or 2099 ("−73 years old") must be refused with
the field named, by every door alike (pages, the API, imports): the services call these
checks. Each bound is a keyword argument with a default; the services pass the
organization's or the deployment's setting (`COCM_OLDEST_AGE_YEARS`,
`COCM_RECORD_YEARS_BACK`).

Nothing here imports Django, reads settings or the clock: `as_of` is today.
"""

from datetime import date

__all__ = [
    "OLDEST_AGE_YEARS",
    "RECORD_YEARS_BACK",
    "DateOutOfBounds",
    "check_birth_date",
    "check_record_date",
]

# The longest documented human life is 122 years (Jeanne Calment, 1875-1997; Robine & Allard,
# Science 1998;279:1834). A few years more keeps every living patient in.
OLDEST_AGE_YEARS = 125
# [I] Program setting: CoCM records (referrals, visits, coverage) older than this are typos;
# the AIMS trial that founded CoCM enrolled from 1999 (Unützer et al., JAMA 2002;288:2836-45).
RECORD_YEARS_BACK = 30


class DateOutOfBounds(ValueError):
    """A date outside its bounds; the message says which bound and the limit."""


def _years_before(as_of: date, years: int) -> date:
    try:
        return as_of.replace(year=as_of.year - years)
    except ValueError:  # 29 February in a year that has none
        return as_of.replace(year=as_of.year - years, day=28)


def check_birth_date(
    birth_date: date, *, as_of: date, oldest_age_years: int = OLDEST_AGE_YEARS
) -> None:
    """Not after `as_of`, not more than `oldest_age_years` before it (oldest life: 122 years)."""
    if birth_date > as_of:
        raise DateOutOfBounds(f"The birth date {birth_date} is in the future.")
    earliest = _years_before(as_of, oldest_age_years)
    if birth_date < earliest:
        raise DateOutOfBounds(
            f"The birth date {birth_date} would make the patient older than "
            f"{oldest_age_years} years; the earliest accepted is {earliest}."
        )


def check_record_date(
    on: date,
    *,
    as_of: date,
    what: str,
    birth_date: date | None = None,
    years_back: int = RECORD_YEARS_BACK,
    future_allowed: bool = False,
) -> None:
    """[I] A record date is not in the future, not before birth, not `years_back` years ago."""
    if on > as_of and not future_allowed:
        raise DateOutOfBounds(f"The {what} {on} is in the future.")
    if birth_date is not None and on < birth_date:
        raise DateOutOfBounds(f"The {what} {on} is before the patient's birth ({birth_date}).")
    earliest = _years_before(as_of, years_back)
    if on < earliest:
        raise DateOutOfBounds(
            f"The {what} {on} is more than {years_back} years ago; "
            f"the earliest accepted is {earliest}."
        )
