"""Issue 12 items 10 and 11: the consultant's review page is one screen to decide from, and
a review refuses what it would silently drop."""

from datetime import date

import pytest
from django.urls import reverse

from cocm.care import services
from cocm.care.models import CaseReview, Recommendation
from cocm.errors import InvalidRequest
from cocm.measures import services as measures
from cocm.measures.models import TreatmentChange
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY
PHQ9_15 = [2, 2, 2, 2, 2, 2, 1, 1, 1]  # total 15, item 9 = 1
PHQ9_16 = [2, 2, 2, 2, 2, 2, 2, 2, 0]  # total 16


def review_form(**fields):
    return {
        "reviewed_on": "2026-11-23",
        "minutes": "10",
        "summary": "Discussed.",
        "rec-TOTAL_FORMS": "3",
        "rec-INITIAL_FORMS": "0",
        **fields,
    }


@pytest.fixture
def assessed(episode, care_manager):
    for taken_on, answers in ((date(2026, 10, 1), PHQ9_15), (date(2026, 11, 2), PHQ9_16)):
        measures.record_assessment(
            episode, "PHQ-9", taken_on, answers, method="in_clinic", by=care_manager, as_of=TODAY
        )
    measures.record_treatment_change(
        episode,
        on=date(2026, 10, 15),
        kind="medication_start",
        description="Sertraline 50 mg started",
        by=care_manager,
        as_of=TODAY,
    )
    return episode


def test_the_review_page_shows_what_the_consultant_decides_from(
    client, consultant, care_manager, pcp, assessed
):
    services.request_review(assessed, reason="Worse after the dose change?", by=care_manager)
    earlier = services.record_review(
        assessed,
        consultant=consultant,
        reviewed_on=date(2026, 10, 10),
        minutes=10,
        summary="Start an SSRI.",
        recommendations=[services.RecommendationInput("start_medication", "sertraline", "50 mg")],
        as_of=TODAY,
    )
    services.respond(
        earlier.recommendations.get(),
        status="modified",
        note="Started at 25 mg for a week first",
        by=pcp,
        as_of=TODAY,
    )
    services.request_review(assessed, reason="Worse after the dose change?", by=care_manager)
    client.force_login(consultant)

    html = client.get(reverse("review_patient", args=[assessed.id])).content.decode()

    assert 'viewBox="0 0 960 320"' in html  # the full-size trajectory
    assert "Sertraline 50 mg started" in html  # the treatment-change marker and list
    assert "PHQ-9 item answers" in html
    assert "2026-10-01" in html and "2026-11-02" in html  # the last two measures
    assert 'class="danger-row safety-item"' in html  # item 9 answered 1, highlighted
    assert "Thoughts that you would be better off dead" in html
    assert "sertraline 50 mg" in html  # current medication
    assert "Accepted with changes</strong> by" in html
    assert "Started at 25 mg for a week first" in html
    assert "Worse after the dose change?" in html  # the care manager's question
    assert "contact" in html and "Contacts" in html
    assert "[I]" not in html and "always listed first" not in html
    assert "Open safety alert" in html


def test_flags_read_as_plain_clinical_words_with_the_source_on_hover(client, consultant, assessed):
    client.force_login(consultant)

    response = client.get(reverse("review_patient", args=[assessed.id]))

    flags = response.context["flags"]
    assert flags[0].text.startswith("Open safety alert")
    assert all("[" not in flag.text and "[" not in flag.source for flag in flags)
    assert 'title="Open safety alert (e.g. PHQ-9 item 9 above 0)"' in response.content.decode()


def test_next_patient_works_down_the_agenda(client, clinic, consultant, care_manager, assessed):
    second = factories.episode(
        clinic, care_manager, consent_on=date(2026, 9, 1), psychiatric_consultant=consultant
    )
    client.force_login(consultant)
    agenda = client.get(reverse("review_agenda")).context["agenda"]
    first_id, second_id = agenda[0].episode_id, agenda[1].episode_id

    page = client.get(reverse("review_patient", args=[first_id]))
    saved = client.post(reverse("review_patient", args=[first_id]), review_form())

    assert {first_id, second_id} == {assessed.id, second.id}
    assert f"Next patient: {agenda[1].patient_name}" in page.content.decode()
    assert saved.status_code == 302
    assert saved.url == reverse("review_patient", args=[second_id])


def test_a_recommendation_with_details_but_no_type_is_refused_by_the_page(
    client, consultant, episode
):
    client.force_login(consultant)

    response = client.post(
        reverse("review_patient", args=[episode.id]),
        review_form(**{"rec-0-kind": "", "rec-0-text": "Add psychotherapy, CBT weekly"}),
    )

    assert response.status_code == 200
    errors = response.context["formset"][0].errors["kind"]
    assert "Choose the type of this recommendation" in errors[0]
    assert not CaseReview.objects.exists()
    assert not Recommendation.objects.exists()


def test_a_recommendation_with_details_but_no_type_is_refused_by_the_service(consultant, episode):
    with pytest.raises(InvalidRequest) as refused:
        services.record_review(
            episode,
            consultant=consultant,
            reviewed_on=TODAY,
            minutes=10,
            summary="Discussed.",
            recommendations=[services.RecommendationInput("", text="CBT weekly")],
            as_of=TODAY,
        )

    assert refused.value.field == "recommendations[0].kind"


def test_the_api_refuses_a_recommendation_without_a_type(client, consultant, episode):
    from cocm.accounts.models import ApiToken

    _, raw = ApiToken.issue(consultant)

    response = client.post(
        f"/api/v1/episodes/{episode.id}/reviews",
        {
            "reviewed_on": "2026-11-23",
            "minutes": 10,
            "summary": "Discussed.",
            "recommendations": [{"kind": "", "text": "CBT weekly"}],
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )

    assert response.status_code == 422
    assert "kind" in str(response.json()["detail"][0]["loc"])
    assert not CaseReview.objects.exists()


def test_a_second_review_on_the_same_day_asks_for_confirmation(client, consultant, episode):
    client.force_login(consultant)
    client.post(reverse("review_patient", args=[episode.id]), review_form())

    asked = client.post(reverse("review_patient", args=[episode.id]), review_form())
    confirmed = client.post(
        reverse("review_patient", args=[episode.id]), review_form(confirm_same_day="on")
    )

    assert asked.status_code == 200
    assert "already reviewed on 2026-11-23" in asked.content.decode()
    assert 'type="checkbox" name="confirm_same_day"' in asked.content.decode()
    assert confirmed.status_code == 302
    assert CaseReview.objects.count() == 2


def test_the_api_asks_to_confirm_a_second_review_on_the_same_day(consultant, episode):
    def review(**extra):
        return services.record_review(
            episode,
            consultant=consultant,
            reviewed_on=TODAY,
            minutes=10,
            summary="Discussed.",
            recommendations=[],
            as_of=TODAY,
            **extra,
        )

    review()
    with pytest.raises(InvalidRequest) as refused:
        review()
    review(confirm_same_day=True)

    assert refused.value.field == "confirm_same_day"
    assert CaseReview.objects.count() == 2
    assert TreatmentChange.objects.count() == 0
