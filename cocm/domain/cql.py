"""The few CQL interval and timing operators the measures use, with CQL's null logic.

CQL 1.5 (https://cql.hl7.org/09-b-cqlreference.html) is the source of every rule here:
- a closed null boundary is the minimum/maximum of the point type, an open null boundary
  is unknown; an open boundary is closed by the successor/predecessor of its point
  (one millisecond for a DateTime, one day for a Date);
- a comparison with a precision ("day of") compares the values truncated to that
  precision; without one, a DateTime compared with a Date-precision value is unknown
  when they are equal on the date;
- unknown is None, and `and`/`or`/`not` follow three-valued logic.
Day precision is taken in UTC.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cocm.domain.clinical import Period

Point = datetime | date
Truth = bool | None

MIN_DATETIME = datetime(1, 1, 1, tzinfo=UTC)
MAX_DATETIME = datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)
DAY = "day"


@dataclass(frozen=True)
class Interval:
    """A CQL interval with both boundaries closed; None is an unknown boundary."""

    low: Point | None
    high: Point | None


def interval(
    low: Point | None, high: Point | None, low_closed: bool = True, high_closed: bool = True
) -> Interval:
    """Interval[low, high], Interval(low, high) etc., normalised to closed boundaries (CQL §19)."""
    if low is None:
        lo: Point | None = MIN_DATETIME if low_closed else None
    else:
        lo = low if low_closed else _successor(low)
    if high is None:
        hi: Point | None = MAX_DATETIME if high_closed else None
    else:
        hi = high if high_closed else _predecessor(high)
    return Interval(lo, hi)


def _successor(p: Point) -> Point:
    return p + MILLISECOND if isinstance(p, datetime) else p + timedelta(days=1)


def _predecessor(p: Point) -> Point:
    return p - MILLISECOND if isinstance(p, datetime) else p - timedelta(days=1)


def period_interval(period: Period | None) -> Interval | None:
    """FHIRHelpers ToInterval(Period): Interval[start, end], Interval(start, end] if no start."""
    if period is None:
        return None
    return interval(period.start, period.end, low_closed=period.start is not None)


def to_date(p: Point) -> date:
    """CQL ToDate / `date from`: the date of a DateTime (here in UTC)."""
    if isinstance(p, datetime):
        return (p if p.tzinfo is UTC else p.astimezone(UTC)).date()
    return p


def add_months(d: date, months: int) -> date:
    """CQL date + N months: the same day, clamped to the last day of the target month."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(d.day, last))


def compare(a: Point | None, b: Point | None, precision: str | None = None) -> int | None:
    """-1, 0 or 1 as a is before, same as, after b; None when unknown (CQL §18 comparison)."""
    if a is None or b is None:
        return None
    a_dt, b_dt = isinstance(a, datetime), isinstance(b, datetime)
    if a_dt and b_dt and precision != DAY:  # two DateTimes at full precision
        return (a > b) - (a < b)
    da, db = to_date(a), to_date(b)
    if da != db:
        return -1 if da < db else 1
    if precision == DAY or (not a_dt and not b_dt):
        return 0
    return None  # equal on the date, and one of them has no time: unknown


def before_or_same(a: Point | None, b: Point | None, precision: str | None = None) -> Truth:
    """CQL `a same or before b` (≤) at the given precision."""
    c = compare(a, b, precision)
    return None if c is None else c <= 0


def before(a: Point | None, b: Point | None, precision: str | None = None) -> Truth:
    """CQL `a before b` (<) at the given precision."""
    c = compare(a, b, precision)
    return None if c is None else c < 0


def and3(*values: Truth) -> Truth:
    """CQL three-valued `and`: false wins, then unknown."""
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def or3(*values: Truth) -> Truth:
    """CQL three-valued `or`: true wins, then unknown."""
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _both(first: Truth, second: Truth) -> Truth:
    """`first and second` in three-valued logic (and3 of two, without a generator)."""
    if first is False or second is False:
        return False
    return None if first is None or second is None else True


def in_interval(p: Point | None, i: Interval | None, precision: str | None = None) -> Truth:
    """CQL `point during interval` (In)."""
    if p is None or i is None:
        return None
    low = before_or_same(i.low, p, precision)
    if low is False:
        return False
    return _both(low, before_or_same(p, i.high, precision))


def included_in(a: Interval | None, b: Interval | None, precision: str | None = None) -> Truth:
    """CQL `interval during interval` (IncludedIn): b starts no later and ends no earlier."""
    if a is None or b is None:
        return None
    low = before_or_same(b.low, a.low, precision)
    if low is False:
        return False
    return _both(low, before_or_same(a.high, b.high, precision))


def overlaps(a: Interval | None, b: Interval | None, precision: str | None = None) -> Truth:
    """CQL `overlaps`: each starts no later than the other ends."""
    if a is None or b is None:
        return None
    first = before_or_same(a.low, b.high, precision)
    if first is False:
        return False
    return _both(first, before_or_same(b.low, a.high, precision))


def overlaps_after(a: Interval | None, b: Interval | None, precision: str | None = None) -> Truth:
    """CQL `overlaps after`: a overlaps b and a ends after b ends."""
    if a is None or b is None:
        return None
    return and3(overlaps(a, b, precision), before(b.high, a.high, precision))


def within_days_on_or_before(p: Point | None, anchor: Point | None, days: int) -> Truth:
    """CQL `p N days or less on or before day of anchor`: p in day of [anchor − N days, anchor]."""
    if p is None or anchor is None:
        return None
    return in_interval(p, Interval(anchor - timedelta(days=days), anchor), DAY)


def within_days_on_or_after(p: Point | None, anchor: Point | None, days: int) -> Truth:
    """CQL `p N days or less on or after day of anchor`: p in day of [anchor, anchor + N days]."""
    if p is None or anchor is None:
        return None
    return in_interval(p, Interval(anchor, anchor + timedelta(days=days)), DAY)
