"""Issue 12, item 4: a no-show with minutes counts toward nothing, and the chart, the
caseload and the billing worklist say so with the same numbers (one engine decides)."""

from datetime import date

import pytest
from django.urls import reverse

from cocm.billing import services as billing
from cocm.care import services
from cocm.care.caseload import organization_caseload_rows
from cocm.domain.coding import Month
from cocm.registry.models import Episode
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY
NO_SHOW = "no-show (the patient did not attend)"


@pytest.fixture
def no_show_month(episode, care_manager):
    # First billable month: 99492 from 36 minutes. 10 attended + a 30-minute no-show.
    episode.consent_on = date(2026, 11, 2)
    episode.save()
    for day, minutes, no_show in ((3, 10, False), (10, 30, True)):
        services.record_contact(
            episode, occurred_on=date(2026, 11, day), minutes=minutes, mode="phone",
            activity="follow_up", staff=care_manager, by=care_manager, as_of=TODAY,
            no_show=no_show,
        )  # fmt: skip
    return episode


def test_a_no_show_keeps_its_minutes_as_documented(no_show_month):
    assert sorted(no_show_month.contacts.values_list("minutes", "no_show")) == [
        (10, False),
        (30, True),
    ]


def test_billing_counts_no_no_show_minute(no_show_month, clinic):
    (line,) = billing.month_lines(clinic.organization, Episode.objects.all(), Month(2026, 11))

    assert line.result.minutes_counted == 10
    assert line.result.codes == ()
    assert [(e.minutes, e.reason) for e in line.result.excluded] == [(30, NO_SHOW)]


def test_the_caseload_counts_no_no_show_minute(no_show_month, clinic):
    (row,) = organization_caseload_rows(clinic.organization, Episode.objects.all())

    assert (row.minutes_this_month, row.no_shows, row.contacts) == (10, 1, 1)


def test_the_chart_shows_the_no_show_minutes_as_not_counted(client, no_show_month, care_manager):
    client.force_login(care_manager)

    response = client.get(reverse("patient_chart", args=[no_show_month.patient_id]))

    html = response.content.decode()
    assert response.context["care"]["billing"].minutes_counted == 10
    assert "<strong>10 min</strong> counted" in html
    assert f"Not counted: 30 min {NO_SHOW}." in html
    assert '30 <small class="hint">not counted</small>' in html
