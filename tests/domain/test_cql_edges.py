"""The CQL interval and timing operators at their open ends and with unknown (null) inputs."""

from datetime import UTC, date, datetime

import pytest

from cocm.domain import cql
from cocm.domain.clinical import Period

T = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
D = date(2025, 6, 1)


@pytest.mark.parametrize(
    ("low", "high", "low_closed", "high_closed", "expected"),
    [
        (None, T, False, True, cql.Interval(None, T)),  # open null start: unknown
        (None, T, True, True, cql.Interval(cql.MIN_DATETIME, T)),
        (T, None, True, False, cql.Interval(T, None)),
        (
            T,
            datetime(2025, 6, 2, tzinfo=UTC),
            False,
            True,
            cql.Interval(
                datetime(2025, 6, 1, 10, 0, 0, 1000, tzinfo=UTC), datetime(2025, 6, 2, tzinfo=UTC)
            ),
        ),
        (D, date(2025, 6, 30), False, False, cql.Interval(date(2025, 6, 2), date(2025, 6, 29))),
    ],
)
def test_an_open_boundary_is_closed_by_its_successor_or_predecessor_and_an_open_null_is_unknown(
    low, high, low_closed, high_closed, expected
):
    assert cql.interval(low, high, low_closed, high_closed) == expected


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (None, None),
        (Period(T, None), cql.Interval(T, cql.MAX_DATETIME)),
        (Period(None, T), cql.Interval(None, T)),
    ],
)
def test_a_fhir_period_becomes_an_interval_open_at_a_missing_start(period, expected):
    assert cql.period_interval(period) == expected


@pytest.mark.parametrize(
    ("a", "b", "precision", "expected"),
    [
        (None, T, None, None),
        (T, None, cql.DAY, None),
        (T, datetime(2025, 6, 1, 9, 0, tzinfo=UTC), None, 1),
        (T, datetime(2025, 6, 1, 9, 0, tzinfo=UTC), cql.DAY, 0),
        (T, D, None, None),  # equal on the date, the Date has no time
        (D, date(2025, 6, 1), None, 0),
        (D, datetime(2025, 6, 2, tzinfo=UTC), None, -1),
    ],
)
def test_a_comparison_with_an_unknown_or_coarser_value(a, b, precision, expected):
    assert cql.compare(a, b, precision) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (None, cql.Interval(D, D)),
        (cql.Interval(D, D), None),
    ],
)
def test_an_interval_during_an_unknown_interval_is_unknown(a, b):
    assert cql.included_in(a, b, cql.DAY) is None


@pytest.mark.parametrize(
    ("p", "anchor", "expected"),
    [
        (None, T, None),
        (T, None, None),
        (datetime(2025, 5, 18, 0, 0, tzinfo=UTC), T, True),
        (datetime(2025, 5, 17, 23, 59, tzinfo=UTC), T, False),
    ],
)
def test_within_14_days_on_or_before_an_unknown_point_is_unknown(p, anchor, expected):
    assert cql.within_days_on_or_before(p, anchor, 14) is expected


def test_an_interval_starting_after_another_ends_does_not_overlap_it_even_with_unknowns():
    later = cql.Interval(date(2025, 6, 2), None)  # open-ended: its end is unknown
    earlier = cql.Interval(date(2025, 5, 1), date(2025, 6, 1))

    assert cql.overlaps(later, earlier) is False
    assert cql.overlaps(earlier, later) is False  # "later starts after earlier ends" decides
    assert cql.included_in(later, earlier) is None  # starts inside; its end is unknown
    assert cql.in_interval(date(2025, 6, 2), earlier) is False
