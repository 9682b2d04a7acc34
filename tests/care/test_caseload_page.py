"""Issue 12, item 8: the caseload is compact and scannable — short flag labels with the
reason on hover and expand, one flag per cause, response and remission markers, a sticky
header, and a top section for what needs action today."""

from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse

from cocm.care import services
from cocm.measures import services as measures
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY


def phq9(episode, by, on, total_items):
    measures.record_assessment(
        episode, "PHQ-9", on, total_items, method="phone", by=by, as_of=TODAY
    )


@pytest.fixture
def caseload(clinic, care_manager, consultant):
    remitted = factories.episode(
        clinic,
        care_manager,
        consent_on=date(2026, 9, 1),
        psychiatric_consultant=consultant,
        the_patient=factories.patient(clinic.organization, given_name="Rosa", family_name="Wright"),
    )
    phq9(remitted, care_manager, date(2026, 9, 2), [2, 2, 2, 2, 2, 2, 2, 2, 0])  # 16
    phq9(remitted, care_manager, date(2026, 11, 20), [1, 1, 1, 0, 0, 0, 0, 0, 0])  # 3
    services.record_contact(
        remitted,
        occurred_on=date(2026, 11, 20),
        minutes=20,
        mode="phone",
        activity="follow_up",
        staff=care_manager,
        by=care_manager,
        as_of=TODAY,
    )
    stuck = factories.episode(
        clinic,
        care_manager,
        referred_on=date(2026, 8, 3),
        consent_on=date(2026, 8, 3),
        psychiatric_consultant=consultant,
        the_patient=factories.patient(clinic.organization, given_name="Ana", family_name="Baker"),
    )
    phq9(stuck, care_manager, date(2026, 8, 4), [2, 2, 2, 2, 2, 2, 2, 2, 0])  # 16
    phq9(stuck, care_manager, date(2026, 11, 16), [2, 2, 2, 2, 2, 2, 1, 1, 0])  # 14
    return remitted, stuck


def test_flags_are_short_labels_with_the_reason_on_hover_and_expand(client, care_manager, caseload):
    client.force_login(care_manager)

    html = client.get(reverse("caseload")).content.decode()

    assert (
        '<summary title="PHQ-9 16 → 14 (−13%) at week 16: not responding and no psychiatric '
        'review since week 8 (due by week 12)">Non-responder at weeks 8–12 not reviewed</summary>'
    ) in html
    # One flag per cause: the non-responder flag stands for "not improved" and "not reviewed".
    assert ">Not improved by week 10</summary>" not in html
    assert ">New patient not reviewed</summary>" not in html.split("Baker, Ana")[1]


def test_response_and_remission_are_marked(client, care_manager, caseload):
    client.force_login(care_manager)

    response = client.get(reverse("caseload"))

    rows = {row.patient_name: row for row in response.context["rows"]}
    assert rows["Wright, Rosa"].phq9_target == "remission"
    assert rows["Baker, Ana"].phq9_target == ""
    html = response.content.decode()
    assert '16 → 3 <small>-81%</small> <span class="marker marker-remission"' in html
    assert ">remission</span>" in html


def test_the_top_section_lists_what_needs_action_today(client, care_manager, caseload):
    client.force_login(care_manager)

    response = client.get(reverse("caseload"))

    groups = {group["code"]: group for group in response.context["action_today"]}
    assert [row.patient_name for row in groups["no_contact"]["rows"]] == ["Baker, Ana"]
    html = response.content.decode()
    assert "Needs action today" in html
    assert "No contact in 30 days: <strong>1</strong>" in html
    assert 'href="?care_manager=me&amp;flag=no_contact"' in html or "flag=no_contact" in html


def test_the_header_is_sticky_and_rows_are_single_lines(client, care_manager, caseload):
    client.force_login(care_manager)

    html = client.get(reverse("caseload")).content.decode()
    css = (Path(__file__).parents[2] / "cocm/static/cocm/site.css").read_text()

    assert 'class="caseload tracker compact"' in html
    assert ".tracker.compact thead th { position: sticky; top: 0;" in css
    table = html.split('<table class="caseload tracker compact">')[1].split("</table>")[0]
    assert "<br>" not in table
