"""Stored per-episode-month minutes (`EpisodeMonth`), kept current by every write.

The month close decides each patient-month with the engine (`cocm.domain.coding`) in two
steps: `count_minutes` reduces the month's time entries to the counted minutes (consent,
revocations, the payer's rule on consultant and inpatient time, overlapping time), then
`decide_month` decides the codes from them and the episode's facts. The first step's result
is stored here, one row per episode and month with any time entry, so that closing a month
reads one small row per episode instead of every time entry. The engine still decides:
these rows are its inputs, counted by its own `count_minutes`.

A row is recounted, in the writer's own transaction, by every write of what it is counted
from (the receivers below):
- a contact saved or deleted: that episode's month (and the month it moved from);
- the episode's consent date, a revocation or renewal of consent: the episode's months;
- a coverage: the months of the patient's episodes; a payer rule: the months billed to it.
A write that sends no signal (`QuerySet.update()`, `bulk_create()`, the demo seed) must call
`refresh` (or `backfill`) itself; tests/billing/test_aggregates.py fails when a writer
does not. The program, clinic, consultant, initiating visit and discharge are not in a row:
the month close reads them from the episode when it decides.

Each row also keeps the consent date, revocations and payer rule it was counted under; a
row whose stamps differ from the episode's at the close is recounted from the contacts
then (`stale`), so a missed refresh of those can never bill on stale consent.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Model, Q, QuerySet
from django.db.models.signals import post_delete, post_save, pre_save

from cocm.accounts.models import Organization
from cocm.billing.models import EpisodeMonth, PayerRule
from cocm.billing.rules import OrganizationRules, organization_rules
from cocm.care.models import Contact
from cocm.domain import coding
from cocm.domain.consent import RevokedPeriod
from cocm.registry.models import ConsentRevocation, Coverage, Episode
from cocm.registry.services import revoked_periods

# Episodes recounted per batch (SQLite allows 32,766 parameters per query).
BATCH = 2000

CONTACT_COLUMNS = (
    "episode_id",
    "occurred_on",
    "minutes",
    "role",
    "staff_id",
    "separately_billed",
    "started_at",
    "no_show",
)
_ROLES = {role.value: role for role in coding.Role}  # a dict lookup, not an enum call


def time_entry(row: Sequence[Any]) -> coding.TimeEntry:
    """A contact read with CONTACT_COLUMNS as the engine's time entry."""
    _, on, minutes, role, staff_id, separately_billed, started_at, no_show = row
    return coding.TimeEntry(
        on, minutes, _ROLES[role], staff_id, separately_billed, started_at, no_show=no_show
    )


def month_of(day: date) -> date:
    return day.replace(day=1)


def month_end(first: date) -> date:
    return coding.Month.of(first).last_day


# ----------------------------------------------------------------------- stamps and rows


def revoked_stamp(periods: Sequence[RevokedPeriod]) -> str:
    return " ".join(f"{p.revoked_on.isoformat()}/{p.renewed_on or ''}" for p in periods)


class MonthRow(NamedTuple):
    """A stored row's columns (`EpisodeMonth`), as counted and as read back."""

    episode_id: int
    month: date
    entries: int
    minutes: int
    excluded: str
    daily: str
    latest_before_consent: date | None
    any_on_or_after_consent: bool
    consent_on: date | None
    revoked: str
    payer_kind: str
    count_consultant_minutes: bool
    count_inpatient_minutes: bool


def _row(
    episode_id: int,
    month: date,
    entries: int,
    counted: coding.CountedMinutes,
    consent_on: date | None,
    revoked: str,
    payer: str,
    rules: coding.BillingRules,
) -> MonthRow:
    return MonthRow(
        episode_id,
        month,
        entries,
        counted.minutes,
        json.dumps([list(e) for e in counted.excluded]) if counted.excluded else "",
        " ".join(f"{day.day}:{m}" for day, m in counted.daily),
        counted.latest_before_consent,
        counted.any_on_or_after_consent,
        consent_on,
        revoked,
        payer,
        rules.count_consultant_minutes,
        rules.count_inpatient_minutes,
    )


def _insert(rows: Sequence[MonthRow]) -> None:
    """One executemany: the ORM's bulk_create spent most of a backfill preparing values."""
    if not rows:
        return
    meta, ops = EpisodeMonth._meta, connection.ops
    columns = ", ".join(ops.quote_name(meta.get_field(name).column) for name in MonthRow._fields)
    # Names from the model's own metadata; every value is a parameter.
    table = ops.quote_name(meta.db_table)
    values = ", ".join(["%s"] * len(MonthRow._fields))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608
    day = ops.adapt_datefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                row._replace(
                    month=day(row.month),
                    latest_before_consent=day(row.latest_before_consent),
                    consent_on=day(row.consent_on),
                )
                for row in rows
            ],
        )


def stamp_matches(
    row: Sequence[Any],
    consent_on: date | None,
    revoked: Sequence[RevokedPeriod],
    rules: coding.BillingRules,
) -> bool:
    """Whether a stored row (its STAMP_COLUMNS, in order) was counted under this consent
    date, these revocations and this payer rule; if not, the month is counted afresh."""
    stored_consent_on, stored_revoked, consultant, inpatient = row
    return (
        stored_consent_on == consent_on
        and consultant == rules.count_consultant_minutes
        and inpatient == rules.count_inpatient_minutes
        and stored_revoked == (revoked_stamp(revoked) if revoked else "")
    )


# ------------------------------------------------------------------------------- reading

# What the month close reads of a stored row: the counted minutes (COUNTED_COLUMNS), then
# what they were counted under (STAMP_COLUMNS).
COUNTED_COLUMNS = (
    "minutes",
    "excluded",
    "daily",
    "latest_before_consent",
    "any_on_or_after_consent",
)
STAMP_COLUMNS = ("consent_on", "revoked", "count_consultant_minutes", "count_inpatient_minutes")


def in_month(month: coding.Month, episodes: QuerySet[Episode]) -> QuerySet[EpisodeMonth]:
    """The stored rows of these episodes in a month: one per episode with activity."""
    return EpisodeMonth.objects.filter(month=month.first_day, episode__in=episodes)


class MonthDecoder:
    """A month's stored rows back into the engine's `CountedMinutes`. Their texts repeat
    from row to row (one contact of 30 minutes on the 3rd, the same reasons left out), so
    each distinct text is decoded once per month read, not once per row."""

    def __init__(self, month: coding.Month) -> None:
        first = month.first_day
        self._days = {day: first.replace(day=day) for day in range(1, month.last_day.day + 1)}
        self._daily: dict[str, tuple[tuple[date, int], ...]] = {"": ()}
        self._day_minutes: dict[str, tuple[date, int]] = {}  # "3:20": (the 3rd, 20)
        self._excluded: dict[str, tuple[coding.Excluded, ...]] = {"": ()}

    def _day(self, pair: str) -> tuple[date, int]:
        day, _, minutes = pair.partition(":")
        parsed = self._day_minutes[pair] = (self._days[int(day)], int(minutes))
        return parsed

    def counted(
        self,
        minutes: int,
        excluded: str,
        daily: str,
        latest_before_consent: date | None,
        any_on_or_after_consent: bool,
    ) -> coding.CountedMinutes:
        """A row's COUNTED_COLUMNS as the engine's counted minutes."""
        days = self._daily.get(daily)
        if days is None:
            days = self._daily[daily] = tuple(
                self._day_minutes.get(pair) or self._day(pair) for pair in daily.split()
            )
        left_out = self._excluded.get(excluded)
        if left_out is None:
            left_out = self._excluded[excluded] = tuple(
                coding.Excluded(m, reason) for m, reason in json.loads(excluded)
            )
        return coding.CountedMinutes(
            minutes, left_out, days, latest_before_consent, any_on_or_after_consent
        )


def count_afresh(
    month: coding.Month,
    episodes: Sequence[tuple[int, date | None, Sequence[RevokedPeriod], coding.BillingRules]],
) -> dict[int, coding.CountedMinutes]:
    """The counted minutes of (episode id, consent date, revocations, payer rules) from the
    month's contacts: for stored rows counted under other stamps than the episode's now."""
    entries: dict[int, list[coding.TimeEntry]] = defaultdict(list)
    ids = [episode_id for episode_id, _, _, _ in episodes]
    for index in range(0, len(ids), BATCH):
        for row in (
            Contact.objects.filter(
                episode_id__in=ids[index : index + BATCH],
                occurred_on__gte=month.first_day,
                occurred_on__lte=month.last_day,
            )
            .order_by("episode_id", "occurred_on", "id")
            .values_list(*CONTACT_COLUMNS)
        ):
            entries[row[0]].append(time_entry(row))
    return {
        episode_id: coding.count_minutes(
            month, entries[episode_id], consent_on=consent_on, consent_revoked=revoked, rules=rules
        )
        for episode_id, consent_on, revoked, rules in episodes
    }


# ------------------------------------------------------------------------------ recount


def payer_on(coverages: Sequence[tuple[str, date, date | None]], day: date) -> str:
    """The payer kind on a day, as `billing.rules.coverages_on` picks it (the latest
    starting coverage in force; `coverages` ordered by start)."""
    payer = ""
    for kind, starts_on, ends_on in coverages:
        if starts_on <= day and (ends_on is None or ends_on >= day):
            payer = kind
    return payer


def refresh(episode_ids: Iterable[int], months: Iterable[date] | None = None) -> int:
    """Recount these episodes' months (every month of theirs when `months` is None) from
    their contacts, in the caller's transaction. Returns the number of rows stored."""
    ids = sorted(set(episode_ids))
    chosen = None if months is None else sorted({month_of(m) for m in months})
    stored = 0
    with transaction.atomic():
        for index in range(0, len(ids), BATCH):
            stored += _refresh_batch(ids[index : index + BATCH], chosen)
    return stored


def backfill(organization_id: int | None = None) -> int:
    """Recount every month of every episode (of one organization): the demo seed's last
    step, and `cocm billing aggregates --rebuild`. One transaction per batch of episodes."""
    episodes = Episode.objects.order_by("id")
    if organization_id is not None:
        episodes = episodes.filter(clinic__organization_id=organization_id)
    ids = list(episodes.values_list("id", flat=True))
    stored = 0
    for index in range(0, len(ids), BATCH):
        stored += refresh(ids[index : index + BATCH])
    return stored


def backfill_if_missing(using: str = "default", **kwargs: Any) -> None:
    """After `migrate`: count the episode-months if there are time entries but no rows."""
    if Contact.objects.using(using).exists() and not EpisodeMonth.objects.using(using).exists():
        backfill()


def _refresh_batch(ids: list[int], months: list[date] | None) -> int:
    # Lock the episodes first: two writers recounting the same episode take turns, and the
    # second reads the first one's committed contacts (PostgreSQL; SQLite writes one at a time).
    list(Episode.objects.filter(id__in=ids).select_for_update(of=("self",)).values_list("id"))
    rows = recount(ids, months)
    old = EpisodeMonth.objects.filter(episode_id__in=ids)
    if months is not None:
        old = old.filter(month__in=months)
    old.delete()
    _insert(rows)
    return len(rows)


def recount(ids: Sequence[int], months: Sequence[date] | None) -> list[MonthRow]:
    """The rows of these episodes' months (all their months when None) counted afresh from
    the contacts, unsaved: at most BATCH episodes."""
    episodes = {
        episode_id: (patient_id, consent_on, organization_id)
        for episode_id, patient_id, consent_on, organization_id in Episode.objects.filter(
            id__in=ids
        ).values_list("id", "patient_id", "consent_on", "clinic__organization_id")
    }
    contacts = Contact.objects.filter(episode_id__in=ids)
    if months is not None:
        in_months = Q()
        for first in months:
            in_months |= Q(occurred_on__gte=first, occurred_on__lte=month_end(first))
        contacts = contacts.filter(in_months)
    entries: dict[tuple[int, date], list[coding.TimeEntry]] = defaultdict(list)
    for row in contacts.order_by("episode_id", "occurred_on", "id").values_list(*CONTACT_COLUMNS):
        entries[(row[0], month_of(row[1]))].append(time_entry(row))
    coverages: dict[int, list[tuple[str, date, date | None]]] = defaultdict(list)
    for patient_id, kind, starts_on, ends_on in (
        Coverage.objects.filter(patient_id__in={p for p, _, _ in episodes.values()})
        .order_by("starts_on", "id")
        .values_list("patient_id", "payer_kind", "starts_on", "ends_on")
    ):
        coverages[patient_id].append((kind, starts_on, ends_on))
    revoked = revoked_periods(ids)
    rules: dict[int, OrganizationRules] = {}
    rows = []
    for (episode_id, first), month_entries in entries.items():
        patient_id, consent_on, organization_id = episodes[episode_id]
        if organization_id not in rules:
            rules[organization_id] = organization_rules(
                Organization.objects.get(id=organization_id)
            )
        payer = payer_on(coverages.get(patient_id, ()), month_end(first))
        payer_rules = rules[organization_id].for_payer(payer)
        periods = revoked.get(episode_id, ())
        counted = coding.count_minutes(
            coding.Month.of(first),
            month_entries,
            consent_on=consent_on,
            consent_revoked=periods,
            rules=payer_rules,
        )
        rows.append(
            _row(
                episode_id,
                first,
                len(month_entries),
                counted,
                consent_on,
                revoked_stamp(periods),
                payer,
                payer_rules,
            )
        )
    return rows


Difference = tuple[MonthRow | None, MonthRow | None]


def verify(organization_id: int | None = None) -> tuple[int, list[Difference]]:
    """Every stored row of every episode (of one organization) against a recount from the
    contacts: (rows compared, the (stored, recounted) pairs that differ: a row missing, one
    too many, or one counted differently)."""
    episodes = Episode.objects.order_by("id")
    if organization_id is not None:
        episodes = episodes.filter(clinic__organization_id=organization_id)
    ids = list(episodes.values_list("id", flat=True))
    compared, differences = 0, []
    for index in range(0, len(ids), BATCH):
        chunk = ids[index : index + BATCH]
        kept = {
            (row[0], row[1]): MonthRow(*row)
            for row in EpisodeMonth.objects.filter(episode_id__in=chunk).values_list(
                *MonthRow._fields
            )
        }
        fresh = {(row.episode_id, row.month): row for row in recount(chunk, None)}
        keys = sorted(set(fresh) | set(kept))
        compared += len(keys)
        differences.extend(
            (kept.get(key), fresh.get(key)) for key in keys if kept.get(key) != fresh.get(key)
        )
    return compared, differences


# ------------------------------------------------------------------------- the receivers


def _contact_before(sender: type[Model], instance: Contact, **kwargs: Any) -> None:
    """Remember the month (and episode) a contact leaves when it is edited."""
    if instance.pk is None:
        instance._billing_was = None  # type: ignore[attr-defined]
        return
    instance._billing_was = (  # type: ignore[attr-defined]
        Contact.objects.filter(pk=instance.pk).values_list("episode_id", "occurred_on").first()
    )


def _contact_written(sender: type[Model], instance: Contact, **kwargs: Any) -> None:
    was = getattr(instance, "_billing_was", None)
    if was is not None and was != (instance.episode_id, instance.occurred_on):
        refresh([was[0]], [was[1]])
    refresh([instance.episode_id], [instance.occurred_on])


def _episode_written(sender: type[Model], instance: Episode, **kwargs: Any) -> None:
    # Only the consent date of an episode is counted under; most saves change other fields.
    current = Episode.objects.filter(pk=instance.pk).values_list("consent_on", flat=True)
    stamps = EpisodeMonth.objects.filter(episode_id=instance.pk).values_list("consent_on")
    if {on for (on,) in stamps.distinct()} - set(current):
        refresh([instance.pk])


def _revocation_written(sender: type[Model], instance: ConsentRevocation, **kwargs: Any) -> None:
    refresh([instance.episode_id])


def _coverage_written(sender: type[Model], instance: Coverage, **kwargs: Any) -> None:
    refresh(Episode.objects.filter(patient_id=instance.patient_id).values_list("id", flat=True))


def _payer_rule_written(sender: type[Model], instance: PayerRule, **kwargs: Any) -> None:
    # The months billed to that payer, and any counted under the rule now replaced.
    refresh(
        EpisodeMonth.objects.filter(episode__clinic__organization_id=instance.organization_id)
        .filter(
            Q(payer_kind=instance.payer_kind)
            | ~Q(
                count_consultant_minutes=False,
                count_inpatient_minutes=True,
            )
        )
        .values_list("episode_id", flat=True)
        .distinct()
    )


# The models the rows are counted from, and who recounts on their writes.
RECEIVERS: dict[type[Model], Any] = {
    Contact: _contact_written,
    Episode: _episode_written,
    ConsentRevocation: _revocation_written,
    Coverage: _coverage_written,
    PayerRule: _payer_rule_written,
}


def connect() -> None:
    """Called once from the billing app's `ready()`."""
    pre_save.connect(_contact_before, sender=Contact, dispatch_uid="billing-month-contact-pre")
    for model, receiver in RECEIVERS.items():
        name = model.__name__
        post_save.connect(receiver, sender=model, dispatch_uid=f"billing-month-{name}")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"billing-month-{name}-d")
