"""Stored caseload rows are the rows `tracker_rows` computes, after every kind of write."""

from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cocm.accounts.models import Role
from cocm.billing.months import CareFigures
from cocm.billing.rules import OrganizationRules
from cocm.care import caseload, services
from cocm.care.caseload import caseload_rows
from cocm.care.models import CareSettings, CaseloadRow
from cocm.care.tracker import flag_rules, tracker_rows
from cocm.domain import coding
from cocm.domain.episodes import DischargeReason, EpisodeStatus
from cocm.domain.flags import FlagRules
from cocm.measures import services as measures
from cocm.registry import services as registry
from cocm.registry.models import Coverage, Episode
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY
PHQ9_SEVERE = [3, 3, 3, 2, 2, 2, 2, 2, 0]  # 19 + item 9 = 0
PHQ9_ITEM9 = [1, 1, 1, 1, 1, 1, 1, 1, 2]


def by_episode(rows):
    return sorted(rows, key=lambda row: row.episode_id)


def stored(*episodes, as_of=TODAY, rules=None):
    rules = rules or flag_rules(episodes[0].clinic.organization)
    return caseload_rows(Episode.objects.filter(id__in=[e.id for e in episodes]), as_of, rules)


def fresh(*episodes, as_of=TODAY, rules=None):
    rules = rules or flag_rules(episodes[0].clinic.organization)
    return tracker_rows(Episode.objects.filter(id__in=[e.id for e in episodes]), as_of, rules)


def contact(episode, by, on=date(2026, 11, 20), minutes=40):
    return services.record_contact(
        episode,
        occurred_on=on,
        minutes=minutes,
        mode="phone",
        activity="follow_up",
        staff=by,
        by=by,
        as_of=TODAY,
    )


WRITES = {
    "contact": lambda e, cm, cons: contact(e, cm),
    "assessment": lambda e, cm, cons: measures.record_assessment(
        e, "PHQ-9", date(2026, 11, 21), PHQ9_SEVERE, method="in_person", by=cm, as_of=TODAY
    ),
    "safety alert": lambda e, cm, cons: measures.record_assessment(
        e, "PHQ-9", date(2026, 11, 21), PHQ9_ITEM9, method="in_person", by=cm, as_of=TODAY
    ),
    "review request": lambda e, cm, cons: services.request_review(e, reason="Worse", by=cm),
    "review": lambda e, cm, cons: services.record_review(
        e,
        consultant=cons,
        reviewed_on=date(2026, 11, 22),
        minutes=10,
        summary="Increase sertraline.",
        recommendations=[services.RecommendationInput("change_medication", "sertraline")],
        as_of=TODAY,
    ),
    "relapse plan": lambda e, cm, cons: services.save_relapse_plan(
        e, warning_signs="Sleep", coping_steps="Walk", whom_to_call="Clinic", by=cm
    ),
    "status change": lambda e, cm, cons: registry.change_status(
        e, EpisodeStatus.ACTIVE, on=date(2026, 11, 2), by=cm, as_of=TODAY
    ),
    "coverage": lambda e, cm, cons: Coverage.objects.create(
        patient=e.patient, payer_kind="medicaid", starts_on=date(2026, 1, 1)
    ),
    # A queryset update plus a CareTeamChange: the consultant decides "no consultant".
    "care team": lambda e, cm, cons: registry.change_care_team(
        e, registry.CareTeam(cm, None, None), version=e.version, by=cm
    ),
}


@pytest.fixture
def billing_user(clinic):
    return factories.user(Role.BILLING, clinic, username="biller")


@pytest.fixture
def enrolled(clinic, care_manager, consultant):
    episode = factories.episode(
        clinic,
        care_manager,
        referred_on=date(2026, 9, 1),
        consent_on=date(2026, 9, 1),
        psychiatric_consultant=consultant,
    )
    return Episode.objects.get(id=episode.id)


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_a_stored_row_is_recomputed_after_each_kind_of_write(
    write, enrolled, care_manager, consultant
):
    before = stored(enrolled)

    WRITES[write](Episode.objects.get(id=enrolled.id), care_manager, consultant)

    after = stored(enrolled)
    assert after == fresh(enrolled)
    assert after != before


def test_a_saved_episode_field_reaches_the_row(enrolled):
    stored(enrolled)
    episode = Episode.objects.get(id=enrolled.id)

    episode.enrolled_on = date(2026, 10, 1)
    episode.save()

    assert stored(enrolled) == fresh(enrolled)
    assert stored(enrolled)[0].twelve_weeks_on == date(2026, 12, 24)


def test_a_contact_changes_the_rows_of_every_episode_of_the_patient(clinic, care_manager, enrolled):
    # The billing month type counts service months across registry episodes.
    registry.change_status(
        enrolled,
        EpisodeStatus.DISCHARGED,
        on=date(2026, 10, 1),
        by=care_manager,
        as_of=TODAY,
        reason=DischargeReason.GOALS_MET,
    )
    second = factories.episode(
        clinic,
        care_manager,
        the_patient=enrolled.patient,
        referred_on=date(2026, 11, 2),
        consent_on=date(2026, 11, 2),
    )
    stored(second)
    generation = CaseloadRow.objects.get(episode=second).generation

    contact(Episode.objects.get(id=enrolled.id), care_manager, on=date(2026, 9, 25))

    assert CaseloadRow.objects.get(episode=second).generation == generation + 1
    assert stored(second) == fresh(second)


def test_a_row_computed_before_a_concurrent_write_is_not_kept(monkeypatch, enrolled, care_manager):
    # The reader computes from the data as it was, and the write lands before it stores.
    real = caseload.tracker_rows

    def compute_then_write(*args):
        rows = real(*args)
        contact(Episode.objects.get(id=enrolled.id), care_manager, minutes=25)
        return rows

    monkeypatch.setattr(caseload, "tracker_rows", compute_then_write)
    (raced,) = stored(enrolled)
    monkeypatch.setattr(caseload, "tracker_rows", real)

    (row,) = stored(enrolled)

    assert raced.minutes_this_month == 0
    assert row.minutes_this_month == 25


def test_rows_are_recomputed_the_next_day(enrolled, care_manager):
    contact(enrolled, care_manager, on=date(2026, 11, 2))
    (today,) = stored(enrolled)

    (tomorrow,) = stored(enrolled, as_of=TODAY + timedelta(days=1))

    assert tomorrow.days_since_contact == today.days_since_contact + 1
    assert [tomorrow] == fresh(enrolled, as_of=TODAY + timedelta(days=1))


def test_rows_are_recomputed_when_the_flag_thresholds_change(enrolled, care_manager):
    contact(enrolled, care_manager, on=date(2026, 11, 2))
    assert "no_contact" not in {flag.code for flag in stored(enrolled)[0].flags}

    CareSettings.objects.create(organization=enrolled.clinic.organization, no_contact_days=14)

    (row,) = stored(enrolled)
    assert "no_contact" in {flag.code for flag in row.flags}


def test_a_renamed_patient_shows_at_once(enrolled):
    stored(enrolled)
    patient = enrolled.patient

    registry.update_patient(patient, patient.version, family_name="Okafor")

    assert stored(enrolled)[0].patient_name == "Okafor, Alex"


def test_current_rows_are_read_in_two_queries_whatever_their_number(clinic, care_manager, enrolled):
    episodes = [enrolled] + [factories.episode(clinic, care_manager) for _ in range(4)]

    rules = FlagRules()
    stored(*episodes, rules=rules)

    with CaptureQueriesContext(connection) as queries:
        rows = stored(*episodes, rules=rules)

    assert len(rows) == 5
    assert len(queries) == 2


def test_stored_rows_keep_safety_alerts_first(enrolled, clinic, care_manager):
    quiet = factories.episode(clinic, care_manager)
    WRITES["safety alert"](enrolled, care_manager, None)

    rows = stored(quiet, enrolled)

    assert [row.episode_id for row in rows] == [enrolled.id, quiet.id]


def test_a_row_survives_the_json_round_trip_with_flags_and_dates(enrolled, care_manager):
    WRITES["assessment"](enrolled, care_manager, None)
    (row,) = fresh(enrolled)
    names = {name: getattr(row, name) for name in ("patient_name", "mrn", "clinic", "care_manager")}

    assert caseload.row_from_json(caseload.row_to_json(row) | names) == row
    assert row.flags and row.enrolled_on == date(2026, 9, 1)


def test_rules_key_names_every_threshold_and_billing_rule():
    default = caseload.rules_key(FlagRules(), CareFigures())
    capped = CareFigures(
        OrganizationRules(by_payer={"medicaid": replace(coding.DEFAULT_RULES, max_99494_units=4)})
    )

    assert default != caseload.rules_key(FlagRules(no_contact_days=15), CareFigures())
    assert default != caseload.rules_key(FlagRules(), capped)
    assert default != caseload.rules_key(FlagRules(remission_cutoff=10), CareFigures())


def test_the_worker_computes_the_rows_that_are_not_current(enrolled, clinic, care_manager):
    from io import StringIO

    from django.core.management import call_command

    other = factories.episode(clinic, care_manager)
    stored(enrolled)
    out = StringIO()

    call_command("worker", "--once", stdout=out)

    assert "refreshed 1 caseload row(s)" in out.getvalue()
    row = CaseloadRow.objects.get(episode=other)
    assert (row.computed_generation, row.as_of) == (row.generation, TODAY)
    with CaptureQueriesContext(connection) as queries:
        rows = stored(enrolled, other, rules=FlagRules())
    assert len(queries) == 2  # nothing left to compute
    assert by_episode(rows) == by_episode(fresh(enrolled, other))


def test_the_caseload_counts_minutes_as_the_payer_rule_and_the_worklist_do(
    enrolled, consultant, billing_user
):
    from cocm.accounts.scoping import visible_episodes
    from cocm.billing.models import PayerRule
    from cocm.billing.services import month_lines

    Coverage.objects.create(
        patient=enrolled.patient, payer_kind="medicaid", starts_on=date(2026, 1, 1)
    )
    services.record_contact(
        enrolled,
        occurred_on=date(2026, 11, 20),
        minutes=20,
        mode="phone",
        activity="caseload_review",
        staff=consultant,
        by=consultant,
        as_of=TODAY,
        role="psychiatric_consultant",
    )
    organization = enrolled.clinic.organization
    episodes = Episode.objects.filter(id=enrolled.id)
    (before,) = caseload.organization_caseload_rows(organization, episodes)

    PayerRule.objects.create(
        organization=organization, payer_kind="medicaid", count_consultant_minutes=True
    )

    (after,) = caseload.organization_caseload_rows(organization, episodes)
    (line,) = month_lines(
        organization, visible_episodes(billing_user, Episode.objects), coding.Month(2026, 11)
    )
    assert (before.minutes_this_month, after.minutes_this_month) == (0, 20)
    assert line.result.minutes_counted == after.minutes_this_month
    assert line.result.minutes_to_next_threshold == after.minutes_to_next_threshold
