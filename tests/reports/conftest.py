"""A small registry with literal dates, for the program indicators of November 2026.

Clinic A (care manager Carla) and clinic B (care manager Bea); the admin and the consultant
belong to both, a third clinic C of the same organization is theirs to none of them.
As of 2026-11-23 (the tests' clock), for 2026-11-01 .. 2026-11-23:

1 Adams, Ann   A  enrolled 2026-01-05, PHQ-9 20 -> 9 -> 4, GAD-7 on 11-10, contact 11-10
                  (65 min: 99493), consultant 30 min on 11-12
2 Baker, Ben   A  enrolled 2026-08-10, PHQ-9 15 -> 14 (week 8) -> 12, reviewed in week 9
3 Cruz, Cara   A  enrolled 2026-11-02, PHQ-9 12, contact 11-09 (75 min, initial month: 99492)
4 Diaz, Dan    A  enrolled 2026-11-20, nothing yet
5 Evans, Eve   B  enrolled 2026-08-17, PHQ-9 18, discharged disengaged 2026-11-20
6 Ford, Fay    A  referred only (never enrolled)
7 Gray, Gus    C  enrolled 2026-10-01, contact 11-10 (a clinic the users do not belong to)
"""

from dataclasses import dataclass
from datetime import date

import pytest

from cocm.accounts.models import Role, User
from cocm.care.models import CaseReview, Contact, TimeRole
from cocm.measures.models import Assessment
from cocm.registry.models import Episode
from tests import factories

D = date
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-23"}


@dataclass
class Registry:
    admin: User
    consultant: User
    pcp: User
    carla: User
    bea: User
    clinic_a: object
    clinic_b: object
    episodes: dict[str, Episode]


def enrolled(clinic, care_manager, family, given, enrolled_on, consultant=None, visit_on=None):
    patient = factories.patient(clinic.organization, family_name=family, given_name=given)
    episode = factories.episode(
        clinic,
        care_manager,
        the_patient=patient,
        referred_on=enrolled_on,
        consent_on=enrolled_on,
        psychiatric_consultant=consultant,
    )
    episode.status = Episode.Status.ACTIVE
    episode.enrolled_on = enrolled_on
    episode.initiating_visit_on = visit_on
    episode.save()
    return episode


def phq9(episode, taken_on, total):
    answers = [3] * (total // 3) + ([total % 3] if total % 3 else [])
    answers += [0] * (9 - len(answers))
    return Assessment.objects.create(
        episode=episode,
        instrument="PHQ-9",
        taken_on=taken_on,
        answers=answers,
        total=total,
        severity="moderate",
    )


def contact(episode, occurred_on, staff, minutes=20, role=TimeRole.CARE_MANAGER):
    return Contact.objects.create(
        episode=episode,
        occurred_on=occurred_on,
        minutes=minutes,
        mode="phone",
        activity="follow_up",
        staff=staff,
        role=role,
    )


@pytest.fixture
def registry(db) -> Registry:
    org = factories.organization()
    clinic_a = factories.clinic(org, "Alder Clinic")
    clinic_b = factories.clinic(org, "Birch Clinic")
    clinic_c = factories.clinic(org, "Cedar Clinic")
    carla = factories.user(Role.CARE_MANAGER, clinic_a, username="carla")
    carla.first_name, carla.last_name = "Carla", "Mendes"
    carla.save()
    bea = factories.user(Role.CARE_MANAGER, clinic_b, username="bea")
    bea.first_name, bea.last_name = "Bea", "Okafor"
    bea.save()
    other = factories.user(Role.CARE_MANAGER, clinic_c, username="cedar")
    consultant = factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic_a, clinic_b)
    admin = factories.user(Role.ORG_ADMIN, clinic_a, clinic_b, username="lead")
    pcp = factories.user(Role.PCP, clinic_a, clinic_b)

    ann = enrolled(clinic_a, carla, "Adams", "Ann", D(2026, 1, 5), consultant, D(2025, 12, 15))
    for day, total in ((D(2026, 1, 5), 20), (D(2026, 3, 16), 9), (D(2026, 7, 6), 4)):
        phq9(ann, day, total)
    Assessment.objects.create(
        episode=ann,
        instrument="GAD-7",
        taken_on=D(2026, 11, 10),
        answers=[0] * 7,
        total=0,
        severity="minimal",
    )
    contact(ann, D(2026, 10, 8), carla, minutes=40)  # so that November is a subsequent month
    contact(ann, D(2026, 11, 10), carla, minutes=65)
    contact(ann, D(2026, 11, 12), consultant, minutes=30, role=TimeRole.PSYCHIATRIC_CONSULTANT)

    ben = enrolled(clinic_a, carla, "Baker", "Ben", D(2026, 8, 10), consultant)
    for day, total in ((D(2026, 8, 10), 15), (D(2026, 10, 5), 14), (D(2026, 11, 2), 12)):
        phq9(ben, day, total)
    contact(ben, D(2026, 8, 17), carla)
    contact(ben, D(2026, 10, 5), carla)
    CaseReview.objects.create(
        episode=ben, consultant=consultant, reviewed_on=D(2026, 10, 13), minutes=10, summary="x"
    )

    cara = enrolled(clinic_a, carla, "Cruz", "Cara", D(2026, 11, 2), consultant, D(2026, 10, 20))
    phq9(cara, D(2026, 11, 2), 12)
    contact(cara, D(2026, 11, 9), carla, minutes=75)

    dan = enrolled(clinic_a, carla, "Diaz", "Dan", D(2026, 11, 20))

    eve = enrolled(clinic_b, bea, "Evans", "Eve", D(2026, 8, 17))
    phq9(eve, D(2026, 8, 17), 18)
    eve.status = Episode.Status.DISCHARGED
    eve.discharged_on = D(2026, 11, 20)
    eve.discharge_reason = "disengaged"
    eve.save()

    factories.episode(
        clinic_a,
        carla,
        the_patient=factories.patient(org, family_name="Ford", given_name="Fay"),
        referred_on=D(2026, 11, 3),
    )
    gus = enrolled(clinic_c, other, "Gray", "Gus", D(2026, 10, 1))
    contact(gus, D(2026, 11, 10), other)

    return Registry(
        admin=admin,
        consultant=consultant,
        pcp=pcp,
        carla=carla,
        bea=bea,
        clinic_a=clinic_a,
        clinic_b=clinic_b,
        episodes={"ann": ann, "ben": ben, "cara": cara, "dan": dan, "eve": eve, "gus": gus},
    )
