"""Stored per-episode-month minutes (billing.aggregates): every writer keeps them current,
and the month close decided from them equals the engine run on every time entry."""

from datetime import date

import pytest
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.test.utils import CaptureQueriesContext

from cocm.accounts.models import Role
from cocm.billing import aggregates, services
from cocm.billing.models import EpisodeMonth, PayerRule
from cocm.care import services as care
from cocm.care.models import Contact
from cocm.domain.coding import Month
from cocm.domain.episodes import ConsentMethod
from cocm.registry import services as registry
from cocm.registry.models import ConsentRevocation, Coverage, Episode
from tests import factories
from tests.billing_months import check_billing_months, month_differences

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY
OCTOBER = Month(2026, 10)


@pytest.fixture
def care_manager(clinic):
    return factories.user(Role.CARE_MANAGER, clinic)


@pytest.fixture
def consultant(clinic):
    return factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic)


@pytest.fixture
def clinic():
    return factories.clinic()


@pytest.fixture
def episode(clinic, care_manager, consultant):
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
    for on, minutes, role, staff in (
        (date(2026, 10, 3), 20, "care_manager", care_manager),
        (date(2026, 10, 20), 25, "care_manager", care_manager),
        (date(2026, 10, 21), 10, "psychiatric_consultant", consultant),
    ):
        care.record_contact(
            episode,
            occurred_on=on,
            minutes=minutes,
            mode="phone",
            activity="follow_up",
            staff=staff,
            role=role,
            by=staff,
            as_of=TODAY,
        )
    return Episode.objects.get(id=episode.id)


def row(episode, month=date(2026, 10, 1)):
    return EpisodeMonth.objects.filter(episode=episode, month=month).first()


def current():
    """Every stored row equals a recount from the contacts."""
    compared, differences = aggregates.verify()
    assert differences == []
    return compared


def consent(on):
    return registry.Consent(
        on,
        ConsentMethod.VERBAL,
        None,
        cost_sharing_explained=True,
        psychiatric_consultation_explained=True,
    )


def test_a_recorded_contact_is_counted_in_its_month(episode):
    stored = row(episode)

    assert (stored.entries, stored.minutes, stored.daily) == (3, 45, "3:20 20:25")
    assert stored.excluded == '[[10, "psychiatric consultant time (included in the codes)"]]'
    assert current() == 1


# Each write the rows are counted from, through the service that makes it, and what the
# October row holds after it.
WRITES = {
    "contact added": (
        lambda e, cm: care.record_contact(
            e,
            occurred_on=date(2026, 10, 28),
            minutes=15,
            mode="phone",
            activity="follow_up",
            staff=cm,
            by=cm,
            as_of=TODAY,
        ),
        lambda r: r.minutes == 60 and r.entries == 4,
    ),
    "contact corrected": (
        lambda e, cm: _save(Contact.objects.get(episode=e, minutes=25), minutes=40),
        lambda r: r.minutes == 60,
    ),
    "contact deleted": (
        lambda e, cm: Contact.objects.get(episode=e, minutes=25).delete(),
        lambda r: r.minutes == 20 and r.entries == 2,
    ),
    "consent date": (
        lambda e, cm: _save(e, consent_on=date(2026, 10, 10)),
        lambda r: r.minutes == 25 and r.latest_before_consent == date(2026, 10, 3),
    ),
    "consent revoked": (
        lambda e, cm: registry.revoke_consent(
            e, on=date(2026, 10, 15), reason="Moved away", by=cm, as_of=TODAY
        ),
        lambda r: r.minutes == 20 and r.revoked == "2026-10-15/",
    ),
    "consent renewed": (
        lambda e, cm: (
            registry.revoke_consent(e, on=date(2026, 10, 5), reason="x", by=cm, as_of=TODAY),
            registry.renew_consent(
                Episode.objects.get(id=e.id), consent(date(2026, 10, 19)), as_of=TODAY
            ),
        ),
        lambda r: r.minutes == 45 and r.revoked == "2026-10-05/2026-10-19",
    ),
    "coverage changed": (
        lambda e, cm: registry.save_coverage(
            e.patient,
            None,
            version=e.patient.version,
            payer_kind="medicaid",
            starts_on=date(2026, 10, 1),
        ),
        lambda r: r.payer_kind == "medicaid",
    ),
    "payer rule": (
        lambda e, cm: PayerRule.objects.create(
            organization=e.clinic.organization,
            payer_kind="medicare",
            count_consultant_minutes=True,
        ),
        lambda r: r.minutes == 55 and r.count_consultant_minutes,
    ),
    "payer rule removed": (
        lambda e, cm: (
            PayerRule.objects.create(
                organization=e.clinic.organization,
                payer_kind="medicare",
                count_consultant_minutes=True,
            ),
            PayerRule.objects.get(payer_kind="medicare").delete(),
        ),
        lambda r: r.minutes == 45 and not r.count_consultant_minutes,
    ),
}


def _with(contact, **fields):
    for name, value in fields.items():
        setattr(contact, name, value)
    return contact


def _save(episode, **fields):
    _with(episode, **fields).save()


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_every_write_the_rows_are_counted_from_recounts_them(write, episode, care_manager):
    change, expected = WRITES[write]

    change(Episode.objects.get(id=episode.id), care_manager)

    assert expected(row(episode))
    current()


def test_a_contact_moved_to_another_month_leaves_the_first(episode):
    contact = Contact.objects.get(episode=episode, minutes=20)

    contact.occurred_on = date(2026, 11, 2)
    contact.save()

    assert row(episode).minutes == 25
    assert row(episode, date(2026, 11, 1)).minutes == 20
    current()


def test_the_last_contact_of_a_month_removes_its_row(episode):
    Contact.objects.filter(episode=episode).delete()  # a queryset delete sends post_delete

    assert row(episode) is None
    current()


def test_a_change_of_other_episode_fields_does_not_recount(episode):
    # The program (like the clinic, consultant or discharge) is read when the month is
    # decided: only the consent date of an episode is counted under.
    episode.billing_program = "general_bhi"
    with CaptureQueriesContext(connection) as queries:
        episode.save()

    assert not [query for query in queries if "care_contact" in query["sql"]]


def test_the_receivers_cover_every_model_the_rows_are_counted_from():
    # recount reads contacts, the episode's consent date, revocations, coverages and the
    # organization's payer rules: each must recount on save and on delete.
    for model in (Contact, Episode, Coverage, PayerRule, ConsentRevocation):
        assert model in aggregates.RECEIVERS
        for signal in (post_save, post_delete):
            assert signal.has_listeners(model), (model, signal)


@pytest.mark.stale_billing_months
def test_a_write_that_bypasses_the_receivers_is_caught(episode):
    # What tests/conftest.py checks after every test: an update() sends no signal.
    Contact.objects.filter(episode=episode, minutes=25).update(minutes=50)

    compared, differences = aggregates.verify()

    assert compared == 1
    [(stored, recounted)] = differences
    assert (stored.minutes, recounted.minutes) == (45, 70)
    aggregates.refresh([episode.id])
    assert aggregates.verify()[1] == []


@pytest.mark.stale_billing_months
def test_a_row_counted_under_another_consent_is_counted_afresh_at_the_close(episode):
    # Consent moved by an update() (no signal): the row's stamp no longer matches.
    Episode.objects.filter(id=episode.id).update(consent_on=date(2026, 10, 10))

    [line] = services.month_lines(episode.clinic.organization, Episode.objects.all(), OCTOBER)

    assert line.result.minutes_counted == 25
    assert (
        line.result
        == services.recomputed_decisions(
            episode.clinic.organization, Episode.objects.all(), OCTOBER
        )[episode.id]
    )


def test_the_month_close_decides_as_the_engine_on_every_time_entry(episode):
    organization = episode.clinic.organization

    [line] = services.month_lines(organization, Episode.objects.all(), OCTOBER)

    assert line.result.minutes_counted == 45
    assert [str(code.code) for code in line.result.codes] == ["99492"]
    assert line.result.threshold_reached_on == date(2026, 10, 20)
    assert {episode.id: line.result} == services.recomputed_decisions(
        organization, Episode.objects.all(), OCTOBER
    )


def test_stored_and_recomputed_decisions_agree_on_a_seeded_population():
    from cocm.accounts.models import User
    from cocm.accounts.scoping import visible_episodes
    from cocm.population import build_population
    from cocm.registry.models import Episode

    build_population(60, seed=7, as_of=TODAY)
    biller = User.objects.get(username="billing")
    episodes = visible_episodes(biller, Episode.objects)
    months = sorted(set(EpisodeMonth.objects.values_list("month", flat=True)))
    assert len(months) > 12

    decided = 0
    for first in months:
        month = Month.of(first)
        _, _, stored = services.month_decisions(biller.organization, episodes.all(), month)
        assert stored == services.recomputed_decisions(biller.organization, episodes.all(), month)
        decided += len(stored)
    assert decided == EpisodeMonth.objects.count() > 100


def test_the_decisions_of_many_months_at_once_equal_those_of_each_month():
    from cocm.accounts.models import User
    from cocm.accounts.scoping import visible_episodes
    from cocm.population import build_population

    build_population(60, seed=7, as_of=TODAY)
    biller = User.objects.get(username="billing")
    episodes = visible_episodes(biller, Episode.objects)
    months = [
        Month.of(first)
        for first in sorted(set(EpisodeMonth.objects.values_list("month", flat=True)))
    ]
    # Months without activity too: before the first and after the last.
    months = [Month(2023, 1), *months, Month(2027, 3)]

    stored = services.stored_decisions(biller.organization, episodes.all(), months)

    assert list(stored) == months
    for month in months:
        _, _, one = services.month_decisions(biller.organization, episodes.all(), month)
        assert stored[month] == one
        assert stored[month] == services.recomputed_decisions(
            biller.organization, episodes.all(), month
        )
    assert sum(len(decided) for decided in stored.values()) == EpisodeMonth.objects.count()
    assert services.stored_decisions(biller.organization, episodes.all(), []) == {}


def test_the_decisions_of_many_months_count_a_gap_of_empty_months_as_a_new_episode(
    episode, care_manager
):
    organization = episode.clinic.organization
    # Another patient's episode with time in December (outside October's look-back),
    # March, April (inside it) and October: initial months after gaps, or not.
    other = factories.episode(
        episode.clinic,
        care_manager,
        referred_on=date(2025, 11, 1),
        consent_on=date(2025, 11, 1),
    )
    for one, on in (
        (other, date(2025, 12, 3)),
        (other, date(2026, 3, 10)),
        (other, date(2026, 4, 2)),
        (other, date(2026, 10, 6)),
        (episode, date(2026, 11, 4)),
    ):
        care.record_contact(
            one,
            occurred_on=on,
            minutes=40,
            mode="phone",
            activity="follow_up",
            staff=care_manager,
            by=care_manager,
            as_of=TODAY,
        )
    months = [Month(2025, 12 + m) if m < 1 else Month(2026, m) for m in range(-1, 12)]

    stored = services.stored_decisions(organization, Episode.objects.all(), months)

    for month in months:
        assert stored[month] == services.recomputed_decisions(
            organization, Episode.objects.all(), month
        )


@pytest.mark.stale_billing_months
def test_the_decisions_of_many_months_count_stale_rows_afresh(episode):
    organization = episode.clinic.organization
    Episode.objects.filter(id=episode.id).update(consent_on=date(2026, 10, 10))

    stored = services.stored_decisions(organization, Episode.objects.all(), [OCTOBER])

    assert stored[OCTOBER][episode.id].minutes_counted == 25
    assert stored[OCTOBER] == services.recomputed_decisions(
        organization, Episode.objects.all(), OCTOBER
    )


def test_the_command_compares_stored_and_recomputed_on_the_whole_population(episode):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("billing", "months", "--verify", stdout=out)
    assert "1 episode-months: 0 differ from a recount; 1 patient-month decisions: 0 month(s)" in (
        out.getvalue()
    )

    EpisodeMonth.objects.filter(episode=episode).update(minutes=5)
    with pytest.raises(CommandError, match="not current"):
        call_command("billing", "months", "--verify", stdout=StringIO())
    call_command("billing", "months", "--rebuild", stdout=out)
    assert "Recounted 1 episode-months" in out.getvalue()
    current()


# What the guard after every test (tests/conftest.py, tests/billing_months.py) catches.


@pytest.mark.stale_billing_months
def test_the_guard_fails_on_a_month_counted_differently(episode):
    Contact.objects.filter(episode=episode, minutes=25).update(minutes=50)  # no signal

    with pytest.raises(AssertionError, match="1 of 1 stored episode-months differ"):
        check_billing_months()


@pytest.mark.stale_billing_months
def test_the_guard_fails_on_a_month_without_its_row_and_a_row_without_its_month(episode):
    # The October row moved to August by an update(): October's contacts have no row, and
    # August's row has no contact.
    EpisodeMonth.objects.filter(episode=episode).update(month=date(2026, 8, 1))

    with pytest.raises(AssertionError, match="2 of 2 stored episode-months differ"):
        check_billing_months()


@pytest.mark.stale_billing_months
def test_the_guard_fails_on_time_entries_bulk_created_without_a_row(clinic, care_manager):
    other = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))
    Contact.objects.bulk_create(
        [
            Contact(
                episode=other,
                occurred_on=date(2026, 10, 5),
                minutes=30,
                mode="phone",
                activity="follow_up",
                staff=care_manager,
            )
        ]
    )

    with pytest.raises(AssertionError, match="1 of 1 stored episode-months differ"):
        check_billing_months()


def test_the_guard_compares_what_verify_compares(episode, clinic, care_manager):
    factories.episode(clinic, care_manager)  # no contact, no row: nothing to compare

    assert month_differences() == aggregates.verify() == (1, [])
