"""Feeding the pure billing engine from the database, for many episodes at once.

Two queries whatever the number of episodes: the distinct service months of the patients
over the look-back window, and the month's time entries. The engine
(`cocm.domain.coding`) then decides each patient-month in memory.
"""

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from cocm.accounts.models import Organization
from cocm.billing.aggregates import CONTACT_COLUMNS, time_entry
from cocm.billing.models import EpisodeMonth
from cocm.billing.rules import DEFAULT_ORGANIZATION_RULES, OrganizationRules, organization_rules
from cocm.care.models import Contact
from cocm.domain import coding
from cocm.domain.consent import RevokedPeriod
from cocm.registry.models import Episode
from cocm.registry.services import revoked_periods


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a month close builds hundreds of
    thousands of small acyclic objects (entries, results, lines): its repeated passes over
    them took a quarter of the time. Reference counting still frees them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def month_start(month: coding.Month) -> date:
    return date(month.year, month.month, 1)


def shift(month: coding.Month, months: int) -> coding.Month:
    year, index = divmod(month.year * 12 + month.month - 1 + months, 12)
    return coding.Month(year, index + 1)


def episode_facts(
    episode: Episode, consent_revoked: tuple[RevokedPeriod, ...] = ()
) -> coding.EpisodeFacts:
    return coding.EpisodeFacts(
        program=coding.Program(episode.billing_program),
        clinic_setting=coding.ClinicSetting(episode.clinic.setting),
        consent_on=episode.consent_on,
        initiating_visit_on=episode.initiating_visit_on,
        psychiatric_consultant_assigned=episode.psychiatric_consultant_id is not None,
        started_on=episode.referred_on,
        registry_episode=episode.id,
        consent_revoked=consent_revoked,
    )


@dataclass
class MonthTime:
    """The time data the engine needs for one month: entries and earlier service months."""

    entries: dict[int, list[coding.TimeEntry]]  # by episode
    service_months: dict[int, list[coding.ServiceMonth]]  # by patient


def load_month_time(
    month: coding.Month,
    patient_ids: Iterable[int] | QuerySet[Any],
    entries_of: QuerySet[Contact],
    *,
    gap_months: int = coding.DEFAULT_RULES.gap_months_for_new_episode,
) -> MonthTime:
    """Two queries: the latest earlier service month of each registry episode of these
    patients, and the month's entries of the contacts `entries_of`."""
    start, end = month_start(month), month_start(shift(month, 1))
    window_start = month_start(shift(month, -(gap_months + 1)))
    # Whether a month is initial depends on the latest earlier service month of each
    # registry episode (a gap of six empty months or more starts a new CoCM episode), so one
    # row per registry episode is enough: the latest contact day before the month, which
    # the (episode, occurred_on) index finds in one seek per episode.
    latest = (
        Contact.objects.filter(
            episode_id=OuterRef("pk"), occurred_on__gte=window_start, occurred_on__lt=start
        )
        .order_by("-occurred_on")
        .values("occurred_on")[:1]
    )
    service_months = earlier_service_months(patient_ids, latest)
    entries: dict[int, list[coding.TimeEntry]] = defaultdict(list)
    month_contacts = (
        entries_of.filter(occurred_on__gte=start, occurred_on__lt=end)
        # The (episode, occurred_on) index's own order: no sort, and each episode's entries
        # in the order they happened, as the explanation lists them.
        .order_by("episode_id", "occurred_on", "id")
        .values_list(*CONTACT_COLUMNS)
    )
    for row in month_contacts:
        entries[row[0]].append(time_entry(row))
    return MonthTime(entries, service_months)


def earlier_service_months(
    patient_ids: Iterable[int] | QuerySet[Any], latest: QuerySet[Any]
) -> dict[int, list[coding.ServiceMonth]]:
    """The latest earlier service month of each registry episode of these patients, by
    patient: `latest` is the subquery of an episode's (`OuterRef("pk")`) latest day or month
    with activity in the look-back window."""
    history = (
        Episode.objects.filter(patient_id__in=patient_ids)
        .annotate(last=Subquery(latest))
        .order_by()
        .values_list("patient_id", "id", "last")
    )
    service_months: dict[int, list[coding.ServiceMonth]] = defaultdict(list)
    months: dict[tuple[int, int], coding.Month] = {}
    for patient_id, episode_id, last in history:
        if last is None:  # no activity in the window (filtered here: in SQL it runs twice)
            continue
        key = (last.year, last.month)
        if key not in months:
            months[key] = coding.Month(*key)
        service_months[patient_id].append(coding.ServiceMonth(months[key], episode_id))
    return service_months


def stored_service_months(
    month: coding.Month,
    patient_ids: Iterable[int] | QuerySet[Any],
    *,
    gap_months: int = coding.DEFAULT_RULES.gap_months_for_new_episode,
) -> dict[int, list[coding.ServiceMonth]]:
    """`earlier_service_months` from the stored episode-months (billing.aggregates): one
    seek per registry episode in the (episode, month) index."""
    start = month_start(month)
    window_start = month_start(shift(month, -(gap_months + 1)))
    latest = (
        EpisodeMonth.objects.filter(
            episode_id=OuterRef("pk"), month__gte=window_start, month__lt=start
        )
        .order_by("-month")
        .values("month")[:1]
    )
    return earlier_service_months(patient_ids, latest)


def stored_service_months_of(
    months: Sequence[coding.Month],
    patient_ids: Iterable[int] | QuerySet[Any],
    *,
    gap_months: int = coding.DEFAULT_RULES.gap_months_for_new_episode,
) -> dict[coding.Month, dict[int, list[coding.ServiceMonth]]]:
    """`stored_service_months` for each of several months, from one query of the stored
    episode-months of these patients' registry episodes in the look-back windows."""
    if not months:
        return {}
    window_start = month_start(shift(min(months, key=lambda m: m.index), -(gap_months + 1)))
    end = month_start(max(months, key=lambda m: m.index))
    active: dict[tuple[int, int], list[int]] = defaultdict(list)
    for patient_id, episode_id, first in (
        EpisodeMonth.objects.filter(
            episode__patient_id__in=patient_ids, month__gte=window_start, month__lt=end
        )
        .order_by()
        .values_list("episode__patient_id", "episode_id", "month")
    ):
        active[patient_id, episode_id].append(first.year * 12 + first.month - 1)
    wanted = {month.index: month for month in months}
    result: dict[coding.Month, dict[int, list[coding.ServiceMonth]]] = {
        month: defaultdict(list) for month in months
    }
    for (patient_id, episode_id), indexes in active.items():
        indexes.sort()
        for position, index in enumerate(indexes):
            # This month is the episode's latest earlier one for the months after it, up to
            # its next month with activity and within the look-back window.
            until = index + gap_months + 1
            if position + 1 < len(indexes):
                until = min(until, indexes[position + 1])
            service = None
            for target in range(index + 1, until + 1):
                if target in wanted:
                    if service is None:
                        service = coding.ServiceMonth(
                            coding.Month(index // 12, index % 12 + 1), episode_id
                        )
                    result[wanted[target]][patient_id].append(service)
    return result


def decide(
    episodes: Sequence[tuple[int, int, coding.EpisodeFacts]],
    month: coding.Month,
    time: MonthTime,
    *,
    rules: OrganizationRules = DEFAULT_ORGANIZATION_RULES,
    payers: Mapping[int, str] | None = None,
) -> dict[int, coding.MonthResult]:
    """The engine's decision for each (episode id, patient id, facts), under the rules of
    the patient's payer (`payers`: payer kind by patient)."""
    payers = payers or {}
    return {
        episode_id: coding.bill_month(
            month,
            time.entries.get(episode_id, []),
            facts,
            time.service_months.get(patient_id, []),
            rules=rules.for_payer(payers.get(patient_id, "")),
        )
        for episode_id, patient_id, facts in episodes
    }


def month_results(
    episodes: Sequence[Episode],
    month: coding.Month,
    *,
    rules: OrganizationRules = DEFAULT_ORGANIZATION_RULES,
    payers: Mapping[int, str] | None = None,
) -> dict[int, coding.MonthResult]:
    """Decisions for a few episodes (a caseload, a chart)."""
    if not episodes:
        return {}
    time = load_month_time(
        month,
        {episode.patient_id for episode in episodes},
        Contact.objects.filter(episode_id__in=[episode.id for episode in episodes]),
        gap_months=rules.base.gap_months_for_new_episode,
    )
    revoked = revoked_periods([episode.id for episode in episodes])
    return decide(
        [(e.id, e.patient_id, episode_facts(e, revoked.get(e.id, ()))) for e in episodes],
        month,
        time,
        rules=rules,
        payers=payers,
    )


@dataclass(frozen=True)
class CareFigures:
    """The billing figures the caseload and the chart show (cocm/care/billing_figures.py),
    under an organization's rules."""

    rules: OrganizationRules = DEFAULT_ORGANIZATION_RULES

    @property
    def key(self) -> str:
        return self.rules.key

    def decide(
        self, episodes: Sequence[Episode], as_of: date, payers: Mapping[int, str]
    ) -> dict[int, coding.MonthResult]:
        return month_results(episodes, coding.Month.of(as_of), rules=self.rules, payers=payers)


def care_figures(organization: Organization | None) -> CareFigures:
    """What `BillingConfig.ready` supplies to care: the organization's rules, or the defaults."""
    return CareFigures(
        organization_rules(organization) if organization else DEFAULT_ORGANIZATION_RULES
    )
