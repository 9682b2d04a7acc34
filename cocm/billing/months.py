"""Feeding the pure billing engine from the database, for many episodes at once.

Two queries whatever the number of episodes: the distinct service months of the patients
over the look-back window, and the month's time entries. The engine
(`cocm.domain.billing`) then decides each patient-month in memory.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Func, IntegerField, Max, QuerySet

from cocm.care.models import Contact
from cocm.domain import billing as engine
from cocm.registry.models import Episode


class MonthIndex(Func):
    """year × 12 + month − 1 of a date, computed by the database (SQLite's TruncMonth calls
    back into Python for every row)."""

    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra):  # type: ignore[no-untyped-def]
        return self.as_sql(
            compiler,
            connection,
            template="(CAST(strftime('%%%%Y', %(expressions)s) AS INTEGER) * 12"
            " + CAST(strftime('%%%%m', %(expressions)s) AS INTEGER) - 1)",
            **extra,
        )

    def as_postgresql(self, compiler, connection, **extra):  # type: ignore[no-untyped-def]
        return self.as_sql(
            compiler,
            connection,
            template="(EXTRACT(YEAR FROM %(expressions)s)::integer * 12"
            " + EXTRACT(MONTH FROM %(expressions)s)::integer - 1)",
            **extra,
        )


def month_start(month: engine.Month) -> date:
    return date(month.year, month.month, 1)


def shift(month: engine.Month, months: int) -> engine.Month:
    year, index = divmod(month.year * 12 + month.month - 1 + months, 12)
    return engine.Month(year, index + 1)


def episode_facts(episode: Episode) -> engine.EpisodeFacts:
    return engine.EpisodeFacts(
        program=engine.Program(episode.billing_program),
        clinic_setting=engine.ClinicSetting(episode.clinic.setting),
        consent_on=episode.consent_on,
        initiating_visit_on=episode.initiating_visit_on,
        psychiatric_consultant_assigned=episode.psychiatric_consultant_id is not None,
        started_on=episode.referred_on,
        registry_episode=episode.id,
    )


@dataclass
class MonthTime:
    """The time data the engine needs for one month: entries and earlier service months."""

    entries: dict[int, list[engine.TimeEntry]]  # by episode
    service_months: dict[int, list[engine.ServiceMonth]]  # by patient


def load_month_time(
    month: engine.Month,
    contacts: QuerySet[Contact],
    *,
    gap_months: int = engine.DEFAULT_RULES.gap_months_for_new_episode,
) -> MonthTime:
    """Two queries: the latest earlier service month per registry episode, and the month's
    entries."""
    start, end = month_start(month), month_start(shift(month, 1))
    window_start = month_start(shift(month, -(gap_months + 1)))
    # Whether a month is initial depends on the latest earlier service month of each
    # registry episode (a gap of six empty months or more starts a new CoCM episode), so one
    # row per patient and registry episode is enough.
    service_months: dict[int, list[engine.ServiceMonth]] = defaultdict(list)
    history = (
        contacts.filter(occurred_on__gte=window_start, occurred_on__lt=start)
        .values("episode__patient_id", "episode_id")
        .annotate(last=Max(MonthIndex("occurred_on")))
        .values_list("episode__patient_id", "episode_id", "last")
    )
    months: dict[int, engine.Month] = {}
    for patient_id, episode_id, index in history:
        if index not in months:
            months[index] = engine.Month(index // 12, index % 12 + 1)
        service_months[patient_id].append(engine.ServiceMonth(months[index], episode_id))
    entries: dict[int, list[engine.TimeEntry]] = defaultdict(list)
    month_contacts = contacts.filter(occurred_on__gte=start, occurred_on__lt=end).values_list(
        "episode_id",
        "occurred_on",
        "minutes",
        "role",
        "staff_id",
        "separately_billed",
        "started_at",
    )
    roles = {role.value: role for role in engine.Role}  # a dict lookup, not an enum call
    for episode_id, on, minutes, role, staff_id, separately_billed, started_at in month_contacts:
        entries[episode_id].append(
            engine.TimeEntry(on, minutes, roles[role], staff_id, separately_billed, started_at)
        )
    return MonthTime(entries, service_months)


def decide(
    episodes: Sequence[tuple[int, int, engine.EpisodeFacts]],
    month: engine.Month,
    time: MonthTime,
    *,
    rules: engine.BillingRules = engine.DEFAULT_RULES,
) -> dict[int, engine.MonthResult]:
    """The engine's decision for each (episode id, patient id, facts)."""
    return {
        episode_id: engine.bill_month(
            month,
            time.entries.get(episode_id, []),
            facts,
            time.service_months.get(patient_id, []),
            rules=rules,
        )
        for episode_id, patient_id, facts in episodes
    }


def month_results(
    episodes: Sequence[Episode],
    month: engine.Month,
    *,
    rules: engine.BillingRules = engine.DEFAULT_RULES,
) -> dict[int, engine.MonthResult]:
    """Decisions for a few episodes (a caseload, a chart)."""
    if not episodes:
        return {}
    contacts = Contact.objects.filter(
        episode__patient_id__in={episode.patient_id for episode in episodes}
    )
    time = load_month_time(month, contacts, gap_months=rules.gap_months_for_new_episode)
    return decide(
        [(e.id, e.patient_id, episode_facts(e)) for e in episodes], month, time, rules=rules
    )
