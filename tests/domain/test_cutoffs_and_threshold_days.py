from datetime import date

import pytest

from cocm.domain.coding import Role, TimeEntry, _reached_on, count_minutes
from cocm.domain.instruments import ScoringError, severity


@pytest.mark.parametrize(
    ("code", "total", "cutoff", "expected"),
    [
        ("PCL-5", 32, 33, "negative"),
        ("PCL-5", 33, 33, "positive"),
        ("EPDS", 10, 10, "positive"),
        ("EPDS", 12, 13, "negative"),
    ],
)
def test_a_programs_own_cutoff_decides_the_screen_result(code, total, cutoff, expected):
    assert severity(code, total, cutoff=cutoff) == expected


def test_a_cutoff_outside_the_instruments_range_is_refused():
    with pytest.raises(ScoringError):
        severity("PCL-5", 30, cutoff=81)


def entry(day: int, minutes: int) -> TimeEntry:
    return TimeEntry(on=date(2026, 3, day), minutes=minutes, role=Role.CARE_MANAGER, staff_id=1)


@pytest.mark.parametrize(
    ("entries", "threshold", "expected"),
    [
        ([entry(20, 20), entry(3, 20)], 36, date(2026, 3, 20)),
        ([entry(3, 36)], 36, date(2026, 3, 3)),
        ([entry(3, 20), entry(4, 15)], 36, None),
        ([entry(3, 50)], None, None),
    ],
)
def test_the_threshold_day_is_the_first_day_the_running_total_reaches_it(
    entries, threshold, expected
):
    # The day's counted minutes, by day, as the engine stores them for the month close.
    daily = count_minutes((2026, 3), entries, consent_on=date(2026, 3, 1)).daily
    assert _reached_on(daily, threshold) == expected
