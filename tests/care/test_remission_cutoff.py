"""One remission rule (COCM_REMISSION_CUTOFF) on the chart, the caseload, its flags and its
export."""

import csv
import io
from datetime import date

import pytest

from cocm.accounts.models import Role
from cocm.care.caseload import organization_caseload_rows
from cocm.domain.flags import FlagCode
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
        factories.assessment(episode, taken_on, answers)
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


@pytest.fixture
def partly_better():
    """PHQ-9 12 → 9 by week 10: 25 % better, in remission only under a cut-off of 10."""
    clinic = factories.clinic()
    care_manager = factories.user(Role.CARE_MANAGER, clinic)
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 2))
    for taken_on, answers in (
        (date(2026, 9, 2), [2] * 6 + [0] * 3),
        (date(2026, 11, 16), [2] + [1] * 7 + [0]),
    ):
        factories.assessment(episode, taken_on, answers)
    return episode


def flags_and_remission(episode, client):
    """The chart's remission, the caseload row's marker and flags, and the export's."""
    remission, marker, _, exported = views_of_remission(episode, client)
    (row,) = organization_caseload_rows(
        episode.clinic.organization, Episode.objects.filter(pk=episode.pk)
    )
    flags = {flag.code for flag in row.flags}
    return remission, marker, flags, exported[0]["PHQ-9 response"], exported[0]["Flags"]


def test_the_flags_follow_the_cutoff_with_the_chart_the_caseload_and_the_export(
    partly_better, client, settings
):
    remission, marker, flags, exported_marker, exported_flags = flags_and_remission(
        partly_better, client
    )
    assert (remission, marker, exported_marker) == (False, "partial", "partial")
    assert FlagCode.NOT_IMPROVED in flags
    assert "not improved" in exported_flags.lower()

    settings.COCM_REMISSION_CUTOFF = 10
    remission, marker, flags, exported_marker, exported_flags = flags_and_remission(
        partly_better, client
    )

    assert (remission, marker, exported_marker) == (True, "remission", "remission")
    assert FlagCode.NOT_IMPROVED not in flags
    assert "not improved" not in exported_flags.lower()
