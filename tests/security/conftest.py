"""A seeded demo organization, its five role users, an outsider and sample record ids."""

from dataclasses import dataclass, field
from datetime import date

import pytest
from django.core.management import call_command

from cocm.accounts.models import ApiToken, Clinic, Membership, Organization, Role, User
from cocm.measures import services as measures_services
from cocm.measures.models import Assessment, SafetyAlert
from cocm.registry.models import Episode

AS_OF = date(2026, 11, 23)
DEMO_USERNAMES = {
    Role.CARE_MANAGER: "caremanager",
    Role.PSYCHIATRIC_CONSULTANT: "consultant",
    Role.PCP: "pcp",
    Role.BILLING: "billing",
    Role.ORG_ADMIN: "orgadmin",
}


@dataclass
class Registry:
    users: dict[str, User]
    outsider: User  # every role, in another organization
    samples: dict[str, object] = field(default_factory=dict)

    def token(self, user: User) -> str:
        return ApiToken.issue(user)[1]


@pytest.fixture
def registry(db) -> Registry:
    call_command("seed", "--patients", "12", "--seed", "5", "--as-of", str(AS_OF), verbosity=0)
    users = {role: User.objects.get(username=name) for role, name in DEMO_USERNAMES.items()}
    alert = (
        SafetyAlert.objects.exclude(episode__status__in=["referred", "discharged"])
        .select_related("episode")
        .order_by("id")
        .first()
    )
    if alert is not None:
        episode = alert.episode
    else:
        episode = Episode.objects.exclude(status__in=["referred", "discharged"]).first()
    assert episode is not None, "the seeded population has no enrolled episode"
    assessment = Assessment.objects.filter(episode=episode).order_by("id").first()
    schedule = measures_services.start_schedule(
        episode,
        ["PHQ-9"],
        channel="email",
        every_days=28,
        first_on=AS_OF,
        by=users[Role.CARE_MANAGER],
    )
    other_org = Organization.objects.create(name="Elsewhere Health", time_zone="UTC")
    other_clinic = Clinic.objects.create(organization=other_org, name="Elsewhere Clinic")
    outsider = User.objects.create_user(
        username="outsider", password="an outsider pass phrase", organization=other_org
    )
    for role in Role.values:
        Membership.objects.create(user=outsider, clinic=other_clinic, role=role)
    samples = {
        "patient_id": episode.patient_id,
        "episode_id": episode.id,
        "assessment_id": assessment.id if assessment else None,
        "alert_id": alert.id if alert else None,
        "schedule_id": schedule.id,
        "token": "not-a-real-token",
        "month": AS_OF.strftime("%Y-%m"),
    }
    return Registry(users=users, outsider=outsider, samples=samples)
