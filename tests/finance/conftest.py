from datetime import date

import pytest

from cocm.accounts.models import Role
from cocm.billing.models import FeeSchedule
from cocm.care import services as care
from cocm.domain.episodes import DischargeReason, EpisodeStatus
from cocm.registry import services as registry
from cocm.registry.models import Coverage
from tests import factories

TODAY = factories.TODAY  # 2026-11-23: the last three complete months are Aug-Oct 2026


@pytest.fixture
def billing_user(clinic):
    return factories.user(Role.BILLING, clinic, username="biller")


@pytest.fixture
def admin_user(clinic):
    return factories.user(Role.ORG_ADMIN, clinic, username="orgadmin")


@pytest.fixture
def care_manager(clinic):
    return factories.user(Role.CARE_MANAGER, clinic, username="carla")


def enrolled(clinic, care_manager, consultant, payer, *, referred_on=date(2026, 9, 1)):
    episode = factories.episode(
        clinic,
        care_manager,
        referred_on=referred_on,
        consent_on=referred_on,
        psychiatric_consultant=consultant,
    )
    episode.initiating_visit_on = date(2026, 7, 1)
    episode.save()
    Coverage.objects.create(patient=episode.patient, payer_kind=payer, starts_on=date(2020, 1, 1))
    return episode


def contact(episode, care_manager, on, minutes, *, no_show=False):
    care.record_contact(
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


@pytest.fixture
def seeded(clinic, care_manager, consultant):
    """A small registry whose calibration is known by hand (months Aug-Oct 2026):

    - A (Medicare): September 50 min (initial), October 45 min (subsequent) and a no-show;
    - B (Medicare): October 100 min (initial);
    - C (Medicaid): September 20 min (initial), October 40 min (subsequent);
    - D (Medicare): enrolled 2026-08-01, discharged 2026-10-31 (91 days: 3.0 months);
    - the shipped 2025 Medicare fees on file, 99492 changed to $150.00.
    """
    a = enrolled(clinic, care_manager, consultant, "medicare")
    contact(a, care_manager, date(2026, 9, 10), 50)
    contact(a, care_manager, date(2026, 10, 8), 45)
    contact(a, care_manager, date(2026, 10, 22), 0, no_show=True)
    b = enrolled(clinic, care_manager, consultant, "medicare")
    contact(b, care_manager, date(2026, 10, 5), 100)
    c = enrolled(clinic, care_manager, consultant, "medicaid")
    contact(c, care_manager, date(2026, 9, 15), 20)
    contact(c, care_manager, date(2026, 10, 15), 40)
    d = enrolled(clinic, care_manager, consultant, "medicare", referred_on=date(2026, 8, 1))
    registry.change_status(
        d,
        EpisodeStatus.DISCHARGED,
        on=date(2026, 10, 31),
        by=care_manager,
        as_of=TODAY,
        reason=DischargeReason.GOALS_MET,
    )
    FeeSchedule.objects.update_or_create(
        year=2025, payer_kind="medicare", code="99492", defaults={"amount": "150.00", "source": ""}
    )
    return {"a": a, "b": b, "c": c, "d": d}
