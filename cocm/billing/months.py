"""Feeding the pure billing engine from the database, for many episodes at once.

One query loads the contacts of every patient concerned over the look-back window; the
engine (`cocm.domain.billing`) then decides each patient-month in memory.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from cocm.care.models import Contact
from cocm.domain import billing as engine
from cocm.registry.models import Episode


def month_start(month: engine.Month) -> date:
    return date(month.year, month.month, 1)


def shift(month: engine.Month, months: int) -> engine.Month:
    year, index = divmod(month.year * 12 + month.month - 1 + months, 12)
    return engine.Month(year, index + 1)


def time_entry(contact: Contact) -> engine.TimeEntry:
    return engine.TimeEntry(
        on=contact.occurred_on,
        minutes=contact.minutes,
        role=engine.Role(contact.role),
        staff_id=contact.staff_id,
        separately_billed=contact.separately_billed,
        start=contact.started_at,
    )


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


def month_results(
    episodes: Iterable[Episode],
    month: engine.Month,
    *,
    rules: engine.BillingRules = engine.DEFAULT_RULES,
) -> dict[int, engine.MonthResult]:
    """The engine's decision for each episode in `month` (episodes need `clinic` loaded)."""
    episodes = list(episodes)
    if not episodes:
        return {}
    window_start = month_start(shift(month, -(rules.gap_months_for_new_episode + 1)))
    window_end = month_start(shift(month, 1))
    contacts = (
        Contact.objects.filter(
            episode__patient_id__in={e.patient_id for e in episodes},
            occurred_on__gte=window_start,
            occurred_on__lt=window_end,
        )
        .only(
            "episode_id",
            "occurred_on",
            "minutes",
            "role",
            "staff_id",
            "separately_billed",
            "started_at",
            "episode__patient_id",
        )
        .select_related("episode")
    )
    service_months: dict[int, set[tuple[engine.Month, int]]] = defaultdict(set)
    entries: dict[int, list[engine.TimeEntry]] = defaultdict(list)
    for contact in contacts:
        contact_month = engine.Month.of(contact.occurred_on)
        if contact_month < month:
            service_months[contact.episode.patient_id].add((contact_month, contact.episode_id))
        elif contact_month == month:
            entries[contact.episode_id].append(time_entry(contact))
    return {
        episode.id: engine.bill_month(
            month,
            entries[episode.id],
            episode_facts(episode),
            [
                engine.ServiceMonth(m, registry_episode=episode_id)
                for m, episode_id in sorted(service_months[episode.patient_id])
            ],
            rules=rules,
        )
        for episode in episodes
    }
