from datetime import date

import pytest

from cocm.accounts.models import ApiToken, Role
from cocm.measures.models import Assessment, SafetyAlert
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def episode(clinic, care_manager):
    return factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))


@pytest.fixture
def api(client, care_manager):
    _, raw = ApiToken.issue(care_manager)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def post(client, path, body):
    return client.post(f"/api/v1{path}", body, content_type="application/json")


def test_post_a_phq9_returns_total_severity_and_flags(api, episode):
    response = post(
        api,
        f"/episodes/{episode.id}/assessments",
        {"instrument": "PHQ-9", "taken_on": "2026-10-01", "answers": [3, 3, 3, 3, 3, 2, 2, 1, 1]},
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["total"], body["severity"]) == (21, "severe")
    assert set(body["flags"]) == {"safety", "positive_screen", "severe"}
    assert SafetyAlert.objects.get().assessment_id == body["id"]


def test_a_missing_item_is_null_and_prorated(api, episode):
    response = post(
        api,
        f"/episodes/{episode.id}/assessments",
        {
            "instrument": "PHQ-9",
            "taken_on": "2026-10-01",
            "answers": [1, 1, 1, 1, 1, 1, 1, 2, None],
        },
    )

    assert (response.json()["total"], response.json()["prorated"]) == (10, True)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"instrument": "BDI-II", "answers": [1]}, "unknown instrument"),
        ({"instrument": "GAD-7", "answers": [1] * 6}, "expects 7 answers, got 6"),
        ({"instrument": "GAD-7", "answers": [1, 1, 1, 1, 1, 1, 9]}, "allowed"),
        ({"instrument": "PHQ-9", "answers": [None] * 3 + [1] * 6}, "at most 2 can be missing"),
        ({"instrument": "GAD-7", "answers": [1, 1, 1, 1, 1, 1, None]}, "none can be missing"),
        ({"instrument": "PHQ-9", "answers": [1] * 9, "taken_on": "2099-01-01"}, "future"),
    ],
)
def test_unscorable_assessments_are_422_naming_the_problem(api, episode, body, message):
    response = post(api, f"/episodes/{episode.id}/assessments", {"taken_on": "2026-10-01", **body})

    assert response.status_code == 422
    assert message in response.json()["detail"][0]["msg"]
    assert not Assessment.objects.exists()


def test_list_and_amend(api, episode):
    created = post(
        api,
        f"/episodes/{episode.id}/assessments",
        {"instrument": "GAD-7", "taken_on": "2026-10-01", "answers": [1] * 7},
    ).json()

    amended = post(
        api,
        f"/assessments/{created['id']}/amendments",
        {"answers": [2] * 7, "reason": "transcription error"},
    )
    listed = api.get(f"/api/v1/episodes/{episode.id}/assessments").json()

    assert amended.status_code == 201
    assert amended.json()["amends"] == created["id"]
    assert [(a["total"], a["is_current"]) for a in listed] == [(7, False), (14, True)]


def test_another_clinics_episode_is_404(api, clinic):
    elsewhere = factories.clinic(clinic.organization)
    theirs = factories.episode(elsewhere, factories.user(Role.CARE_MANAGER, elsewhere))

    response = post(
        api,
        f"/episodes/{theirs.id}/assessments",
        {"instrument": "PHQ-2", "taken_on": "2026-10-01", "answers": [1, 1]},
    )

    assert response.status_code == 404
