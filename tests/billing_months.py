"""The check tests/conftest.py runs after every database test: the stored episode-months
(billing.aggregates) equal a recount from the time entries.

It compares what `aggregates.verify()` compares, narrowed to the episodes that can have a
row at all: those with a time entry (a recount gives them rows) or a stored row (a row
without entries is one too many). An episode with neither has no row on either side, so
leaving it out weakens nothing; a test database with no contact and no stored row costs
two small queries."""

from cocm.billing import aggregates
from cocm.billing.models import EpisodeMonth
from cocm.care.models import Contact


def month_differences() -> tuple[int, list[aggregates.Difference]]:
    """(rows compared, the (stored, recounted) pairs that differ), as `aggregates.verify`."""
    kept = {
        (row[0], row[1]): aggregates.MonthRow(*row)
        for row in EpisodeMonth.objects.values_list(*aggregates.MonthRow._fields)
    }
    ids = {episode_id for episode_id, _ in kept} | set(
        Contact.objects.order_by().values_list("episode_id", flat=True).distinct()
    )
    fresh = {}
    ordered = sorted(ids)
    for index in range(0, len(ordered), aggregates.BATCH):
        batch = ordered[index : index + aggregates.BATCH]
        fresh.update({(row.episode_id, row.month): row for row in aggregates.recount(batch, None)})
    keys = sorted(set(fresh) | set(kept))
    return len(keys), [(kept.get(k), fresh.get(k)) for k in keys if kept.get(k) != fresh.get(k)]


def check_billing_months() -> None:
    compared, differences = month_differences()
    assert not differences, (
        f"{len(differences)} of {compared} stored episode-months differ from a recount "
        f"(stored, recounted): {differences[:3]}; a write did not call billing.aggregates.refresh"
    )
