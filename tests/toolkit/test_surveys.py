"""Surveys: patient satisfaction by the secure link, staff surveys by link or in the product,
results per clinic and period with response rates, anonymity and the under-5 rule."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from cocm.accounts.models import Role
from cocm.toolkit import surveys
from cocm.toolkit.models import SurveyInvitation, SurveyParticipation, SurveyResponse
from tests import factories

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def care_manager(clinic):
    return factories.user(Role.CARE_MANAGER, clinic, username="carla")


def link_token(message) -> str:
    return re.search(r"/toolkit/s/([^/]+)/", message.body).group(1)


def patient_episode(clinic, care_manager, number):
    patient = factories.patient(
        clinic.organization, given_name=f"Pat{number}", email=f"p{number}@example.org"
    )
    return factories.episode(clinic, care_manager, the_patient=patient, consent_on=date(2026, 9, 1))


def test_a_patient_survey_round_trip_through_the_secure_link(
    client, clinic, care_manager, django_capture_on_commit_callbacks
):
    episodes = [patient_episode(clinic, care_manager, n) for n in range(3)]
    tokens = []
    for episode in episodes:
        with django_capture_on_commit_callbacks(execute=True):
            surveys.send_patient_survey(episode, channel="email", by=care_manager, now=NOW)
        tokens.append(link_token(mail.outbox[-1]))

    page = client.get(reverse("survey_response", args=[tokens[0]]))
    first = client.post(
        reverse("survey_response", args=[tokens[0]]),
        {"q1": "5", "q2": "4", "q3": "5", "q4": "4", "q5": "5"},
    )
    reused = client.post(reverse("survey_response", args=[tokens[0]]), {"q1": "1"})
    client.post(reverse("survey_response", args=[tokens[1]]), {"q1": "3", "q3": "3"})

    assert "My care manager listened to me" in page.content.decode()
    assert "Thank you for your feedback." in first.content.decode()
    assert reused.status_code == 410
    assert "expired or was already used" in reused.content.decode()
    assert SurveyResponse.objects.count() == 2
    assert SurveyResponse.objects.filter(episode=episodes[0]).get().answers == [5, 4, 5, 4, 5]
    (row,) = surveys.survey_results("patient-satisfaction", [clinic], ["2026-11"])
    assert (row.result.invited, row.result.responses) == (3, 2)
    assert str(row.result.response_rate) == "2/3"
    assert [str(m) if m is not None else None for m in row.result.means] == [
        "4", "4", "4", "4", "5",
    ]  # fmt: skip


def test_an_expired_survey_link_is_refused_and_stores_nothing(client, clinic, care_manager):
    episode = patient_episode(clinic, care_manager, 1)
    invitation = surveys.send_patient_survey(episode, channel="email", by=care_manager, now=NOW)
    token, digest = SurveyInvitation.new_token()
    invitation.token_digest = digest
    invitation.expires_at = NOW - timedelta(minutes=1)
    invitation.save()

    response = client.post(reverse("survey_response", args=[token]), {"q1": "5"})

    assert response.status_code == 410
    assert not SurveyResponse.objects.exists()
    with pytest.raises(surveys.InvalidRequest) as error:
        surveys.submit_by_link(invitation, [5, 5, 5, 5, 5], now=NOW)
    assert error.value.field == "token"


def test_a_bad_answer_on_the_link_names_the_field_and_leaves_the_link_usable(clinic, care_manager):
    episode = patient_episode(clinic, care_manager, 1)
    invitation = surveys.send_patient_survey(episode, channel="email", by=care_manager, now=NOW)

    with pytest.raises(surveys.InvalidRequest) as error:
        surveys.submit_by_link(invitation, [5, 5, 9, 5, 5], now=NOW)

    assert error.value.field == "answers[2]"
    invitation.refresh_from_db()
    assert invitation.completed_at is None
    assert not SurveyResponse.objects.exists()


def answer_as_pcp(clinic, number, score):
    pcp = factories.user(Role.PCP, clinic, username=f"pcp{number}")
    return surveys.answer_in_product(
        "pcp-satisfaction", clinic, [score] * 5, user=pcp, as_of=date(2026, 11, 23)
    )


def test_staff_answers_are_anonymous_and_withheld_under_five(clinic):
    for number in range(4):
        answer_as_pcp(clinic, number, 4)
    factories.user(Role.PCP, clinic, username="pcp-silent")

    (four,) = surveys.survey_results("pcp-satisfaction", [clinic], ["2026-11"])
    answer_as_pcp(clinic, 4, 2)
    (five,) = surveys.survey_results("pcp-satisfaction", [clinic], ["2026-11"])

    response_fields = {field.name for field in SurveyResponse._meta.get_fields()}
    assert not {"user", "recipient", "invitation", "created_at"} & response_fields
    assert (four.result.responses, four.result.withheld, four.result.means) == (4, True, ())
    assert str(four.result.response_rate) == "4/5"
    assert (five.result.responses, five.result.withheld) == (5, False)
    assert [str(m) for m in five.result.means] == ["18/5"] * 5
    assert SurveyParticipation.objects.count() == 5


def test_a_staff_member_answers_once_per_period(clinic):
    pcp = factories.user(Role.PCP, clinic, username="pcp1")
    surveys.answer_in_product(
        "pcp-satisfaction", clinic, [5] * 5, user=pcp, as_of=date(2026, 11, 2)
    )

    with pytest.raises(surveys.InvalidRequest) as error:
        surveys.answer_in_product(
            "pcp-satisfaction", clinic, [1] * 5, user=pcp, as_of=date(2026, 11, 20)
        )

    assert error.value.field == "survey"
    assert SurveyResponse.objects.count() == 1


def test_a_care_manager_cannot_answer_the_pcp_survey(clinic, care_manager):
    with pytest.raises(surveys.InvalidRequest) as error:
        surveys.answer_in_product(
            "pcp-satisfaction", clinic, [5] * 5, user=care_manager, as_of=date(2026, 11, 23)
        )

    assert error.value.field == "survey"


def test_the_results_page_withholds_small_groups_and_exports(client, clinic):
    for number in range(3):
        answer_as_pcp(clinic, number, 5)
    client.force_login(factories.user(Role.ORG_ADMIN, clinic))
    query = "?survey=pcp-satisfaction&start=2026-11&end=2026-11"

    page = client.get(reverse("survey_results") + query).content.decode()
    export = client.get(reverse("survey_results") + query + "&format=csv")

    assert "Survey results: Primary care provider satisfaction" in page
    assert "<td>Riverside Family Medicine</td><td>3</td><td>3</td><td>100%</td>" in page
    assert "withheld (fewer than 5 respondents)" in page
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines[0].startswith("Clinic,Invited,Responses,Response rate,Q1 mean (1-5)")
    assert lines[1].startswith("Riverside Family Medicine,3,3,100%,withheld")


def test_staff_links_go_to_every_staff_member_of_the_role(
    clinic, django_capture_on_commit_callbacks
):
    admin = factories.user(Role.ORG_ADMIN, clinic)
    for number in range(2):
        cm = factories.user(Role.CARE_MANAGER, clinic, username=f"cm{number}")
        cm.email = f"cm{number}@example.org"
        cm.save()

    with django_capture_on_commit_callbacks(execute=True):
        links = surveys.send_staff_survey("care-manager-experience", clinic, by=admin, now=NOW)
    response = surveys.submit_by_link(links[0], [4, 4, 4, 4, 4], now=NOW)

    assert sorted(m.to[0] for m in mail.outbox) == ["cm0@example.org", "cm1@example.org"]
    assert (response.episode, response.period) == (None, "2026-11")


def test_the_in_product_survey_page_records_answers_anonymously(client, clinic):
    pcp = factories.user(Role.PCP, clinic, username="pcp1")
    client.force_login(pcp)

    page = client.get(reverse("answer_survey")).content.decode()
    response = client.post(reverse("answer_survey"), {"clinic": clinic.id, "q1": "4", "q2": "5"})

    assert "Primary care provider satisfaction" in page
    assert response.status_code == 302
    assert SurveyResponse.objects.get().answers == [4, 5, None, None, None]
