"""One remission rule (COCM_REMISSION_CUTOFF) on the chart, the caseload and its export."""

import csv
import io
from datetime import date

import pytest

from cocm.accounts.models import Role
from cocm.care.caseload import organization_caseload_rows
from cocm.measures import services as measures
from cocm.registry.models import Episode
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def episode():
    clinic = factories.clinic()
    care_manager = factories.user(Role.CARE_MANAGER, clinic)
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 2))
    for taken_on, answers in ((date(2026, 9, 2), [2] * 9), (date(2026, 10, 14), [1] * 8 + [0])):
        measures.record_assessment(
            episode, "PHQ-9", taken_on, answers, method="in_clinic", by=care_manager,
            as_of=date(2026, 11, 23),
        )  # fmt: skip
    return episode


def views_of_remission(episode, client):
    """What the chart, the caseload row and the caseload export say of PHQ-9 18 → 8."""
    chart = measures.trajectories(episode)["PHQ-9"].target
    organization = episode.clinic.organization
    (row,) = organization_caseload_rows(organization, Episode.objects.filter(pk=episode.pk))
    client.force_login(episode.care_manager)
    response = client.get("/caseload/", {"export": "csv", "scope": "organization"})
    exported = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    return chart.remission, row.phq9_target, row.weeks_to_remission, exported


def test_at_the_default_cutoff_a_phq9_of_8_is_a_response_not_a_remission(episode, client):
    remission, marker, weeks, exported = views_of_remission(episode, client)

    assert (remission, marker, weeks) == (False, "response", None)
    assert exported[0]["Weeks to remission"] == ""


def test_a_cutoff_of_10_makes_it_a_remission_everywhere_at_once(episode, client, settings):
    views_of_remission(episode, client)  # stored caseload rows computed under the default
    settings.COCM_REMISSION_CUTOFF = 10

    remission, marker, weeks, exported = views_of_remission(episode, client)

    assert (remission, marker, weeks) == (True, "remission", 6)
    assert exported[0]["Weeks to remission"] == "6"
