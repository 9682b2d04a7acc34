"""Issue 12 item 13: the PCP's pages speak clinical status, and a review's recommendations
are answered on one screen."""

from datetime import date

import pytest
from django.urls import reverse

from cocm.care.models import Recommendation
from cocm.measures.models import TreatmentChange
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY


@pytest.fixture
def reviewed(episode, consultant):
    factories.assessment(episode, date(2026, 9, 2), [2, 2, 2, 2, 2, 2, 2, 1, 1])  # 16
    factories.assessment(episode, date(2026, 11, 2), [1, 1, 1, 0, 0, 0, 0, 0, 0])  # 3
    return factories.review(
        episode,
        date(2026, 11, 20),
        factories.recommendation("change_medication"),
        factories.recommendation("psychotherapy", text="Behavioral activation weekly"),
        factories.recommendation("other", text="Check TSH"),
        summary="Doing well; consolidate.",
    )


def test_the_pcp_landing_page_shows_clinical_status_not_billing(client, pcp, reviewed):
    client.force_login(pcp)

    html = client.get(reverse("pcp_patients")).content.decode()

    assert str(reviewed.episode.patient) in html
    assert "PHQ-9 16 → 3 ↓" in html
    assert "in remission" in html
    assert "3 recommendations waiting for you" in html
    assert reverse("answer_review", args=[reviewed.id]) in html
    assert "to next code" not in html and "99492" not in html and "Minutes" not in html


def test_the_inbox_shows_each_reviews_patient_scores_and_trend(client, pcp, reviewed):
    client.force_login(pcp)

    html = client.get(reverse("pcp_inbox")).content.decode()

    assert "PHQ-9</strong> 16 → 3 ↓, in remission" in html
    assert "Answer all 3 on one screen" in html


def test_all_recommendations_of_a_review_are_answered_on_one_screen(client, pcp, reviewed):
    first, second, third = reviewed.recommendations.order_by("id")
    client.force_login(pcp)
    page = client.get(reverse("answer_review", args=[reviewed.id])).content.decode()

    response = client.post(
        reverse("answer_review", args=[reviewed.id]),
        {
            f"rec{first.id}-status": "accepted",
            f"rec{second.id}-status": "modified",
            f"rec{second.id}-note": "Every other week",
            f"rec{third.id}-status": "declined",
            f"rec{third.id}-note": "Checked last month",
        },
    )

    assert "Change a medication: sertraline 100 mg daily" in page
    assert "latest 3, first 16" in page
    assert response.status_code == 302
    statuses = list(reviewed.recommendations.order_by("id").values_list("status", flat=True))
    assert statuses == ["accepted", "modified", "declined"]
    assert TreatmentChange.objects.count() == 2


def test_one_bad_answer_sends_none_and_names_the_note(client, pcp, reviewed):
    first, second, _ = reviewed.recommendations.order_by("id")
    client.force_login(pcp)

    response = client.post(
        reverse("answer_review", args=[reviewed.id]),
        {f"rec{first.id}-status": "accepted", f"rec{second.id}-status": "declined"},
    )

    assert response.status_code == 200
    assert "Say what you changed or why you declined." in response.content.decode()
    assert not reviewed.recommendations.exclude(status=Recommendation.Status.PENDING).exists()
    assert not TreatmentChange.objects.exists()


def test_a_review_of_another_clinic_is_not_found(client, reviewed):
    outsider = factories.user("pcp", factories.clinic())
    client.force_login(outsider)

    response = client.get(reverse("answer_review", args=[reviewed.id]))

    assert response.status_code == 404
