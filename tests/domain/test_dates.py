from datetime import date

import pytest

from cocm.domain.dates import DateOutOfBounds, check_birth_date, check_record_date

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    "birth_date", [date(1926, 1, 1), date(1980, 5, 17), date(1901, 11, 23), TODAY]
)
def test_a_sensible_birth_date_is_accepted(birth_date):
    check_birth_date(birth_date, as_of=TODAY)


@pytest.mark.parametrize(
    ("birth_date", "says"),
    [
        (date(1800, 1, 1), "older than 125 years; the earliest accepted is 1901-11-23"),
        (date(1901, 11, 22), "older than 125 years"),
        (date(2099, 1, 1), "2099-01-01 is in the future"),
        (date(2026, 11, 24), "in the future"),
    ],
)
def test_a_birth_date_outside_the_bounds_is_refused(birth_date, says):
    with pytest.raises(DateOutOfBounds, match=says):
        check_birth_date(birth_date, as_of=TODAY)


def test_the_oldest_age_is_configurable():
    with pytest.raises(DateOutOfBounds, match="older than 100 years"):
        check_birth_date(date(1920, 1, 1), as_of=TODAY, oldest_age_years=100)


def test_a_29_february_as_of_counts_back_to_28_february():
    with pytest.raises(DateOutOfBounds, match="earliest accepted is 1899-02-28"):
        check_birth_date(date(1800, 1, 1), as_of=date(2024, 2, 29))


@pytest.mark.parametrize(
    ("on", "says"),
    [
        (date(1800, 1, 1), "referral date 1800-01-01 is more than 30 years ago"),
        (date(1996, 11, 22), "earliest accepted is 1996-11-23"),
        (date(2026, 11, 24), "referral date 2026-11-24 is in the future"),
    ],
)
def test_a_record_date_outside_the_bounds_is_refused(on, says):
    with pytest.raises(DateOutOfBounds, match=says):
        check_record_date(on, as_of=TODAY, what="referral date")


def test_a_record_date_before_the_patients_birth_is_refused():
    with pytest.raises(DateOutOfBounds, match=r"2010-01-01 is before the patient's birth \(2015"):
        check_record_date(
            date(2010, 1, 1), as_of=TODAY, what="referral date", birth_date=date(2015, 3, 1)
        )


def test_a_record_date_in_the_bounds_is_accepted():
    check_record_date(date(1996, 11, 23), as_of=TODAY, what="referral date")
    check_record_date(TODAY, as_of=TODAY, what="referral date", birth_date=TODAY)


def test_a_future_record_date_is_accepted_where_allowed():
    check_record_date(date(2027, 1, 1), as_of=TODAY, what="coverage date", future_allowed=True)
    with pytest.raises(DateOutOfBounds, match="more than 10 years ago"):
        check_record_date(date(2000, 1, 1), as_of=TODAY, what="coverage date", years_back=10)
