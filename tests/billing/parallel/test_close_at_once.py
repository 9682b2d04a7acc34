"""Two billers close the same month at the same moment, in two threads with their own
PostgreSQL connections: one close wins, the other is told who closed it, and no claim line
is written twice."""

import threading
import time
from datetime import date

import pytest
from django.db import connection

from cocm.accounts.models import Role
from cocm.billing import services
from cocm.billing.models import ClaimLine, ClosedMonth
from cocm.care import services as care
from cocm.domain.coding import Month
from cocm.errors import InvalidRequest
from cocm.registry.models import Coverage, Episode
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)
TODAY = factories.TODAY
OCTOBER = Month(2026, 10)


@pytest.fixture
def month_with_activity():
    clinic = factories.clinic()
    care_manager = factories.user(Role.CARE_MANAGER, clinic)
    consultant = factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic)
    for n in range(6):
        episode = factories.episode(
            clinic,
            care_manager,
            referred_on=date(2026, 9, 1),
            consent_on=date(2026, 9, 1),
            psychiatric_consultant=consultant,
        )
        episode.initiating_visit_on = date(2026, 8, 15)
        episode.save()
        Coverage.objects.create(
            patient=episode.patient, payer_kind="medicare", starts_on=date(2020, 1, 1)
        )
        care.record_contact(
            episode,
            occurred_on=date(2026, 10, 5 + n),
            minutes=30 + 10 * n,
            mode="phone",
            activity="follow_up",
            staff=care_manager,
            by=care_manager,
            as_of=TODAY,
        )
    first = factories.user(Role.BILLING, clinic, username="biller1")
    second = factories.user(Role.BILLING, clinic, username="biller2")
    return clinic.organization, first, second


def at_once(*calls):
    """Run the calls in parallel threads released together; each result or exception."""
    start = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index, call):
        try:
            start.wait()
            results[index] = call()
        except Exception as error:  # the caller inspects it
            results[index] = error
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def slow_month_lines(monkeypatch, seconds=0.5):
    """Each close holds its transaction a little longer, so that the two overlap."""
    original = services.month_lines

    def slow(*args, **kwargs):
        lines = original(*args, **kwargs)
        time.sleep(seconds)
        return lines

    monkeypatch.setattr(services, "month_lines", slow)


def close_as(organization, user):
    return lambda: services.close_month(
        organization, Episode.objects.all(), OCTOBER, by=user, today=TODAY
    )


def test_two_billers_closing_a_month_at_once_write_each_claim_line_once(
    month_with_activity, monkeypatch
):
    assert connection.vendor == "postgresql"
    organization, first, second = month_with_activity
    slow_month_lines(monkeypatch)

    results = at_once(close_as(organization, first), close_as(organization, second))

    closed = [result for result in results if isinstance(result, list)]
    refused = [result for result in results if isinstance(result, InvalidRequest)]
    assert (len(closed), len(refused)) == (1, 1), results
    assert len(closed[0]) == 6
    [closed_month] = ClosedMonth.objects.filter(organization=organization, month="2026-10")
    winner = closed_month.closed_by.get_full_name()
    assert refused[0].field == "month"
    assert refused[0].message.startswith(f"2026-10 is already closed (by {winner} at ")
    lines = ClaimLine.objects.filter(month="2026-10")
    assert lines.count() == 6
    assert lines.filter(frozen=True).count() == 6
    assert len(set(lines.values_list("episode_id", flat=True))) == 6


def test_a_line_marked_while_the_month_closes_waits_and_is_refused(
    month_with_activity, monkeypatch
):
    organization, first, second = month_with_activity
    episode = Episode.objects.order_by("id").first()
    [line] = services.month_lines(organization, Episode.objects.filter(id=episode.id), OCTOBER)
    slow_month_lines(monkeypatch)

    def mark_a_little_later():
        time.sleep(0.2)  # the close holds the month by then
        return services.mark(line, OCTOBER, action="reviewed", by=second)

    results = at_once(close_as(organization, first), mark_a_little_later)

    assert isinstance(results[0], list)
    assert isinstance(results[1], InvalidRequest), results
    assert results[1].message == "The month is closed; its lines cannot change."
    saved = ClaimLine.objects.get(episode=episode, month="2026-10")
    assert saved.frozen and saved.reviewed_at is None
