from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cocm.care import services
from cocm.care.tracker import tracker_rows
from cocm.domain.flags import FlagRules
from cocm.measures import services as measures
from cocm.registry.models import Coverage, Episode
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY


def enrolled(clinic, care_manager, **kwargs):
    episode = factories.episode(
        clinic, care_manager, referred_on=date(2026, 8, 1), consent_on=date(2026, 8, 3), **kwargs
    )
    Coverage.objects.create(
        patient=episode.patient, payer_kind="medicare", starts_on=date(2020, 1, 1)
    )
    return episode


def rows_for(*episodes):
    return tracker_rows(Episode.objects.filter(id__in=[e.id for e in episodes]), TODAY, FlagRules())


def test_row_has_the_spreadsheet_columns(clinic, care_manager):
    episode = enrolled(clinic, care_manager)
    for on, minutes, no_show in [
        (date(2026, 8, 20), 30, False),
        (date(2026, 11, 3), 25, False),
        (date(2026, 11, 10), 0, True),
        (date(2026, 11, 12), 20, False),
    ]:
        services.record_contact(
            episode,
            occurred_on=on,
            minutes=minutes,
            mode="phone",
            activity="follow_up",
            staff=care_manager,
            by=care_manager,
            as_of=TODAY,
            no_show=no_show,
        )
    measures.record_assessment(
        episode, "PHQ-9", date(2026, 8, 3), [2] * 9, method="phone", by=care_manager, as_of=TODAY
    )
    measures.record_assessment(
        episode, "PHQ-9", date(2026, 11, 12), [1] * 9, method="phone", by=care_manager, as_of=TODAY
    )

    (row,) = rows_for(episode)

    assert (row.contacts, row.no_shows, row.last_contact_on) == (3, 1, date(2026, 11, 12))
    assert row.days_since_contact == 11
    assert (row.phq9_first, row.phq9_last, round(row.phq9_change)) == (18, 9, -50)
    assert row.weeks_in_treatment == 16
    assert row.twelve_weeks_on == date(2026, 10, 26)
    assert row.payer == "Medicare"
    assert row.first_billable_month == "2026-08"
    assert row.minutes_this_month == 45
    assert row.minutes_to_next_threshold == 31  # a subsequent month: 99493 + 99494 at 76
    assert row.relapse_plan is False


def test_flags_carry_reasons(clinic, care_manager):
    episode = enrolled(clinic, care_manager)

    (row,) = rows_for(episode)

    # One flag per cause: "no contact" stands for the missed early follow-up, "no
    # psychiatric consultant" for "not reviewed".
    assert [flag.code for flag in row.flags] == ["no_baseline", "no_contact", "no_consultant"]
    assert row.flags[1].reason.startswith("No contact since enrollment on 2026-08-03, 112 days")
    assert row.flags[2].reason.startswith("No psychiatric consultant assigned")


def test_tracker_runs_a_constant_number_of_queries(clinic, care_manager):
    few = [enrolled(clinic, care_manager) for _ in range(2)]
    many = few + [enrolled(clinic, care_manager) for _ in range(20)]
    for episode in many:
        services.record_contact(
            episode,
            occurred_on=date(2026, 11, 2),
            minutes=20,
            mode="phone",
            activity="follow_up",
            staff=care_manager,
            by=care_manager,
            as_of=TODAY,
        )

    with CaptureQueriesContext(connection) as small:
        rows_for(*few)
    with CaptureQueriesContext(connection) as large:
        rows_for(*many)

    assert len(small) == len(large)
