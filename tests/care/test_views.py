import csv
import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cocm.accounts.models import AuditEvent, Role
from cocm.care import services
from cocm.care.models import CaseReview, Contact, Recommendation, RelapsePreventionPlan
from cocm.measures.models import TreatmentChange
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY


def signed_in(client, user):
    client.force_login(user)
    return client


def test_log_a_contact_from_the_page(client, care_manager, episode):
    response = signed_in(client, care_manager).post(
        reverse("new_contact", args=[episode.id]),
        {
            "occurred_on": "2026-11-20",
            "minutes": "25",
            "mode": "phone",
            "activity": "follow_up",
            "role": "care_manager",
            "note": "BA review",
            "next_contact_on": "2026-12-04",
        },
    )

    assert response.status_code == 302
    contact = Contact.objects.get()
    assert (contact.minutes, contact.staff) == (25, care_manager)
    assert episode.follow_ups.get(done_at__isnull=True).due_on == date(2026, 12, 4)


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        ("-3", "Ensure this value is greater than or equal to 0"),
        ("1500", "Ensure this value is less than or equal to 1440"),
    ],
)
def test_bad_minutes_are_refused_on_the_page(client, care_manager, episode, minutes, message):
    response = signed_in(client, care_manager).post(
        reverse("new_contact", args=[episode.id]),
        {
            "occurred_on": "2026-11-20",
            "minutes": minutes,
            "mode": "phone",
            "activity": "follow_up",
            "role": "care_manager",
        },
    )

    assert message in response.content.decode()
    assert not Contact.objects.exists()


def test_a_contact_before_the_episode_is_refused(client, care_manager, episode):
    response = signed_in(client, care_manager).post(
        reverse("new_contact", args=[episode.id]),
        {
            "occurred_on": "2026-08-01",
            "minutes": "20",
            "mode": "phone",
            "activity": "follow_up",
            "role": "care_manager",
        },
    )

    assert "before the referral" in response.content.decode()


def test_caseload_filters_by_flag_and_exports(client, care_manager, episode, clinic):
    quiet = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))
    services.record_contact(
        quiet,
        occurred_on=date(2026, 11, 20),
        minutes=20,
        mode="phone",
        activity="follow_up",
        staff=care_manager,
        by=care_manager,
        as_of=TODAY,
    )
    client = signed_in(client, care_manager)

    flagged = client.get(reverse("caseload"), {"flag": "no_contact"}).context["rows"]
    csv_export = client.get(reverse("caseload"), {"export": "csv"})
    xlsx_export = client.get(reverse("caseload"), {"export": "xlsx"})

    assert [row.episode_id for row in flagged] == [episode.id]
    table = list(csv.reader(io.StringIO(b"".join(csv_export.streaming_content).decode())))
    assert table[0][:3] == ["Patient", "MRN", "Status"]
    assert len(table) == 3
    sheet = load_workbook(io.BytesIO(xlsx_export.content)).active
    assert sheet["A1"].value == "Patient"
    assert sheet.max_row == 3
    assert AuditEvent.objects.filter(action="export").count() == 2


def test_a_formula_in_a_patient_name_is_exported_as_text(client, care_manager, clinic):
    evil = factories.patient(clinic.organization, family_name='=HYPERLINK("http://evil")')
    factories.episode(clinic, care_manager, the_patient=evil, consent_on=date(2026, 9, 1))
    client = signed_in(client, care_manager)

    csv_export = client.get(reverse("caseload"), {"export": "csv"})
    xlsx_export = client.get(reverse("caseload"), {"export": "xlsx"})

    table = list(csv.reader(io.StringIO(b"".join(csv_export.streaming_content).decode())))
    assert table[1][0] == '\'=HYPERLINK("http://evil"), Alex'
    cell = load_workbook(io.BytesIO(xlsx_export.content)).active["A2"]
    assert (cell.value, cell.data_type) == ('\'=HYPERLINK("http://evil"), Alex', "s")


@pytest.mark.parametrize("name", ["clinic", "care_manager"])
def test_an_id_filter_that_overflows_is_ignored_with_a_message(client, care_manager, episode, name):
    client = signed_in(client, care_manager)

    response = client.get(reverse("caseload"), {name: "99999999999999999999"})

    assert response.status_code == 200
    assert f"&#x27;{name}&#x27; must be a whole number" in response.content.decode()
    assert [row.episode_id for row in response.context["rows"]] == [episode.id]


@pytest.mark.parametrize("page", ["99999999999999999999", "0", "x"])
def test_a_page_number_out_of_range_is_not_found(client, care_manager, page):
    client = signed_in(client, care_manager)

    response = client.get(reverse("caseload"), {"page": page})

    assert response.status_code == 404
    assert "&#x27;page&#x27; must be" in response.content.decode()


def test_caseload_table_has_sortable_headings(client, care_manager, episode):
    page = signed_in(client, care_manager).get(reverse("caseload")).content.decode()

    assert "sort=minutes_this_month&amp;dir=asc" in page
    assert ">Minutes this month" in page


def test_caseload_sorts_by_a_column(client, care_manager, episode, clinic):
    other = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))
    services.record_contact(
        other,
        occurred_on=date(2026, 11, 20),
        minutes=40,
        mode="phone",
        activity="follow_up",
        staff=care_manager,
        by=care_manager,
        as_of=TODAY,
    )

    rows = (
        signed_in(client, care_manager)
        .get(reverse("caseload"), {"sort": "minutes_this_month", "dir": "desc"})
        .context["rows"]
    )

    assert [row.minutes_this_month for row in rows] == [40, 0]


def test_consultant_reviews_with_a_recommendation_and_pcp_accepts(
    client, care_manager, consultant, pcp, episode
):
    signed_in(client, care_manager).post(
        reverse("request_review", args=[episode.id]), {"reason": "Worse at week 6"}
    )
    agenda = signed_in(client, consultant).get(reverse("review_agenda")).context["agenda"]
    client.post(
        reverse("review_patient", args=[episode.id]),
        {
            "reviewed_on": "2026-11-23",
            "minutes": "10",
            "summary": "Start an SSRI.",
            "rec-TOTAL_FORMS": "3",
            "rec-INITIAL_FORMS": "0",
            "rec-0-kind": "start_medication",
            "rec-0-medication": "sertraline",
            "rec-0-dose": "50 mg daily",
            "rec-1-kind": "",
            "rec-2-kind": "",
        },
    )
    recommendation = Recommendation.objects.get()
    inbox = signed_in(client, pcp).get(reverse("pcp_inbox")).context["pending"]
    client.post(
        reverse("answer_recommendation", args=[recommendation.id]),
        {"status": "accepted", "note": ""},
    )

    assert agenda[0].review_requested == "Worse at week 6"
    assert CaseReview.objects.get().summary == "Start an SSRI."
    assert list(inbox) == [recommendation]
    recommendation.refresh_from_db()
    assert recommendation.status == "accepted"
    assert TreatmentChange.objects.get().kind == "medication_start"
    tasks = (
        signed_in(client, care_manager)
        .get(reverse("tasks"))
        .context["tasks"]
        .answered_recommendations
    )
    assert list(tasks) == [recommendation]


def test_relapse_plan_is_saved_and_shown(client, care_manager, episode):
    client = signed_in(client, care_manager)

    client.post(
        reverse("relapse_plan", args=[episode.id]),
        {
            "warning_signs": "poor sleep",
            "coping_steps": "walks, call sister",
            "whom_to_call": "Carla 555-0101",
        },
    )
    chart = client.get(reverse("patient_chart", args=[episode.patient_id])).content.decode()

    assert RelapsePreventionPlan.objects.get().coping_steps == "walks, call sister"
    assert "walks, call sister" in chart


def test_pcp_cannot_run_the_review_and_billing_cannot_log_contacts(client, pcp, clinic, episode):
    billing = factories.user(Role.BILLING, clinic)

    review = signed_in(client, pcp).get(reverse("review_patient", args=[episode.id]))
    contact = signed_in(client, billing).get(reverse("new_contact", args=[episode.id]))

    assert (review.status_code, contact.status_code) == (403, 403)


def test_chart_shows_minutes_this_month_with_the_decision(client, care_manager, episode):
    services.record_contact(
        episode,
        occurred_on=date(2026, 11, 3),
        minutes=20,
        mode="phone",
        activity="follow_up",
        staff=care_manager,
        by=care_manager,
        as_of=TODAY,
    )

    page = (
        signed_in(client, care_manager)
        .get(reverse("patient_chart", args=[episode.patient_id]))
        .content.decode()
    )

    assert "<strong>20 min</strong> counted" in page
    assert "no initiating visit within 12 months" in page


def test_a_large_caseload_is_paged_with_its_sort_kept(
    client, monkeypatch, care_manager, episode, clinic
):
    from cocm.care import views

    for _ in range(2):
        factories.episode(clinic, care_manager)
    monkeypatch.setattr(views, "CASELOAD_PAGE_ROWS", 2)
    signed_in(client, care_manager)

    first = client.get(reverse("caseload"), {"sort": "patient_name", "dir": "desc"})
    second = client.get(reverse("caseload"), {"sort": "patient_name", "dir": "desc", "page": "2"})

    names = [row.patient_name for row in first.context["rows"]]
    names += [row.patient_name for row in second.context["rows"]]
    assert names == sorted(names, reverse=True) and len(names) == 3
    assert first.context["total"] == 3
    assert "sort=patient_name&amp;dir=desc&amp;page=2" in first.content.decode()
    assert "3 open episodes · rows 1–2" in first.content.decode()
