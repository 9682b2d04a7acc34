"""Pediatric collaborative care: guardians, consent and assent, respondents, links (issue 17)."""

from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.urls import reverse

from cocm.accounts.models import ApiToken, AuditEvent, Role
from cocm.measures import services as measures
from cocm.measures.models import Assessment, Invitation
from cocm.registry import services
from cocm.registry.models import Episode, Guardian, PediatricSettings
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY  # 2026-11-23
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def care_manager(clinic):
    return factories.user(Role.CARE_MANAGER, clinic, username="cm")


@pytest.fixture
def cm_client(client, care_manager):
    client.force_login(care_manager)
    return client


@pytest.fixture
def api(client, care_manager):
    _, raw = ApiToken.issue(care_manager)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


@pytest.fixture
def teen(clinic):
    return factories.patient(
        clinic.organization, given_name="Leo", family_name="Lopez", birth_date=date(2012, 6, 1)
    )


def mother(patient, **fields):
    data = {
        "name": "Maria Lopez",
        "relationship": "mother",
        "phone": "555-0101",
        "email": "maria@example.org",
        "legal_authority": True,
        "may_receive_links": True,
        "may_see_results": True,
        **fields,
    }
    return services.add_guardian(patient, services.GuardianData(**data), as_of=TODAY)


def consent(guardian=None, assent=False, on=date(2026, 11, 5)):
    return services.Consent(
        on,
        "verbal",
        None,
        cost_sharing_explained=True,
        psychiatric_consultation_explained=True,
        guardian=guardian,
        patient_assent=assent,
    )


def guardian_post(**overrides):
    data = {
        "name": "Maria Lopez",
        "relationship": "mother",
        "phone": "",
        "email": "",
        "legal_authority": "on",
        "may_receive_links": "on",
    }
    data.update(overrides)
    return data


def test_a_guardian_without_a_contact_is_refused_on_the_page_and_nothing_is_stored(cm_client, teen):
    response = cm_client.post(reverse("add_guardian", args=[teen.id]), guardian_post())

    assert response.status_code == 200
    assert response.context["form"].errors["phone"] == [
        "Give the guardian's phone number or email address."
    ]
    assert not Guardian.objects.exists()


def test_the_page_adds_a_guardian_and_the_chart_shows_it(cm_client, teen):
    response = cm_client.post(
        reverse("add_guardian", args=[teen.id]), guardian_post(email="maria@example.org")
    )

    assert response.status_code == 302
    chart = cm_client.get(reverse("patient_chart", args=[teen.id])).content.decode()
    assert "Parents and guardians" in chart
    assert "Maria Lopez" in chart and "legal authority to consent" in chart
    assert AuditEvent.objects.filter(what="guardian", patient_id=teen.id).exists()


def test_a_minor_is_enrolled_only_with_a_guardians_consent_and_the_patients_assent(
    clinic, care_manager, teen
):
    episode = factories.episode(clinic, care_manager, the_patient=teen)
    guardian = mother(teen)

    def enroll(value):
        services.enroll(episode, consent=value, on=date(2026, 11, 5), by=care_manager, as_of=TODAY)

    with pytest.raises(services.InvalidRequest) as no_guardian:
        enroll(consent())
    with pytest.raises(services.InvalidRequest) as no_assent:
        enroll(consent(guardian))
    enroll(consent(guardian, assent=True))

    assert no_guardian.value.field == "consent_guardian"
    assert no_assent.value.field == "patient_assent"
    episode.refresh_from_db()
    assert (episode.status, episode.consent_guardian, episode.consent_patient_assent) == (
        "enrolled",
        guardian,
        True,
    )


def test_assent_follows_the_organization_setting(clinic, care_manager, teen):
    PediatricSettings.objects.create(organization=clinic.organization, assent_from_age=15)
    episode = factories.episode(clinic, care_manager, the_patient=teen)

    services.enroll(
        episode, consent=consent(mother(teen)), on=date(2026, 11, 5), by=care_manager, as_of=TODAY
    )

    assert Episode.objects.get(id=episode.id).status == "enrolled"  # 14 < 15: no assent needed


def test_a_guardian_without_legal_authority_cannot_consent(clinic, care_manager, teen):
    episode = factories.episode(clinic, care_manager, the_patient=teen)
    aunt = mother(teen, name="Ana Ruiz", relationship="other", legal_authority=False)

    with pytest.raises(services.InvalidRequest) as error:
        services.enroll(
            episode, consent=consent(aunt, True), on=date(2026, 11, 5), by=care_manager, as_of=TODAY
        )

    assert error.value.field == "consent_guardian"
    assert "no legal authority" in error.value.message


def test_the_enroll_page_offers_the_guardian_and_assent_for_a_minor(
    cm_client, clinic, care_manager, teen
):
    episode = factories.episode(clinic, care_manager, the_patient=teen)
    guardian = mother(teen)

    response = cm_client.post(
        reverse("enroll_patient", args=[episode.id]),
        {
            "enrolled_on": "2026-11-05",
            "consent_on": "2026-11-05",
            "consent_method": "verbal",
            "cost_sharing_explained": "on",
            "psychiatric_consultation_explained": "on",
            "consent_guardian": guardian.id,
        },
    )

    assert "assent" in response.context["form"].errors["patient_assent"][0]
    assert Episode.objects.get(id=episode.id).status == "referred"


def test_a_guardian_answered_phq_a_records_the_respondent(api, clinic, care_manager, teen):
    episode = factories.episode(clinic, care_manager, the_patient=teen)
    guardian = mother(teen)

    response = api.post(
        f"/api/v1/episodes/{episode.id}/assessments",
        {
            "instrument": "PHQ-A",
            "taken_on": "2026-11-20",
            "answers": [1, 1, 1, 1, 1, 1, 1, 1, 0],
            "respondent": "guardian",
            "respondent_guardian_id": guardian.id,
        },
        content_type="application/json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["total"], body["respondent"]) == (8, "guardian")
    assert body["respondent_guardian"] == "Maria Lopez (mother)"
    assert Assessment.objects.get().respondent_guardian == guardian


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"instrument": "SCARED-C", "answers": [0] * 40}, "answers"),
        ({"instrument": "SCARED-P", "answers": [0] * 41, "respondent": "patient"}, "respondent"),
        ({"instrument": "PHQ-A", "answers": [0] * 9, "respondent": "teacher"}, "respondent"),
        ({"instrument": "PHQ-A", "answers": [0] * 9, "respondent_guardian_id": 99}, None),
    ],
)
def test_the_api_refuses_bad_pediatric_assessments_naming_the_field(
    api, clinic, care_manager, teen, body, field
):
    episode = factories.episode(clinic, care_manager, the_patient=teen)

    response = api.post(
        f"/api/v1/episodes/{episode.id}/assessments",
        {"taken_on": "2026-11-20", **body},
        content_type="application/json",
    )

    assert response.status_code == 422
    (detail,) = response.json()["detail"]
    assert detail["loc"] == ["body", field or "respondent_guardian_id"]
    if field == "answers":
        assert detail["msg"] == "SCARED-C expects 41 answers, got 40"
    assert not Assessment.objects.exists()


def test_scared_through_the_api_scores_total_and_subscales_on_the_chart(
    api, cm_client, clinic, care_manager, teen
):
    episode = factories.episode(clinic, care_manager, the_patient=teen)
    mother(teen)

    response = api.post(
        f"/api/v1/episodes/{episode.id}/assessments",
        {"instrument": "SCARED-C", "taken_on": "2026-11-20", "answers": [1] * 41},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert (response.json()["total"], response.json()["severity"]) == (41, "positive")
    detail = cm_client.get(
        reverse("assessment_detail", args=[response.json()["id"]])
    ).content.decode()
    assert "Panic disorder or significant somatic symptoms" in detail
    assert "13 (cut-off 7: <span" in detail
    assert "Answered by <strong" in detail


def test_a_link_goes_to_the_guardian_who_answers_as_respondent(
    clinic, care_manager, teen, django_capture_on_commit_callbacks
):
    episode = factories.episode(clinic, care_manager, the_patient=teen)
    guardian = mother(teen)

    with django_capture_on_commit_callbacks(execute=True):
        invitation = measures.send_invitation(
            episode,
            ["PHQ-A", "SCARED-P"],
            channel="email",
            by=care_manager,
            now=NOW,
            guardian=guardian,
        )
    submission = measures.submit_self_report(
        invitation, {"PHQ-A": [0] * 9, "SCARED-P": [0] * 41}, now=NOW
    )

    assert mail.outbox[-1].to == ["maria@example.org"]
    assert "Maria" in mail.outbox[-1].body and "Leo" not in mail.outbox[-1].body
    assert [
        (a.instrument, a.respondent, a.respondent_guardian) for a in submission.assessments
    ] == [
        ("PHQ-A", "guardian", guardian),
        ("SCARED-P", "guardian", guardian),
    ]


def test_the_parent_version_is_not_sent_to_the_teen(clinic, care_manager):
    patient = factories.patient(clinic.organization, birth_date=date(2012, 6, 1), email="t@x.org")
    episode = factories.episode(clinic, care_manager, the_patient=patient)

    with pytest.raises(services.InvalidRequest) as error:
        measures.send_invitation(episode, ["SCARED-P"], channel="email", by=care_manager, now=NOW)

    assert error.value.field == "instruments"
    assert not Invitation.objects.exists()


def test_at_18_the_guardians_access_ends_unless_renewed(clinic, care_manager):
    patient = factories.patient(clinic.organization, birth_date=date(2008, 11, 23))  # 18 today
    episode = factories.episode(clinic, care_manager, the_patient=patient)
    guardian = Guardian.objects.create(
        patient=patient, name="Maria Lopez", relationship="mother", email="m@x.org",
        may_receive_links=True,
    )  # fmt: skip

    with pytest.raises(services.InvalidRequest) as ended:
        measures.send_invitation(
            episode, ["PHQ-9"], channel="email", by=care_manager, now=NOW, guardian=guardian
        )
    data = services.GuardianData(
        name="Maria Lopez",
        relationship="mother",
        email="m@x.org",
        may_receive_links=True,
        access_renewed_until=date(2027, 5, 31),
    )
    services.update_guardian(guardian, data, as_of=TODAY)
    renewed = measures.send_invitation(
        episode, ["PHQ-9"], channel="email", by=care_manager, now=NOW, guardian=guardian
    )

    assert ended.value.field == "guardian"
    assert "turned 18" in ended.value.message
    assert renewed.guardian == guardian


def test_a_renewal_before_the_18th_birthday_is_refused(teen):
    with pytest.raises(services.InvalidRequest) as error:
        mother(teen, access_renewed_until=date(2027, 1, 1))

    assert error.value.field == "access_renewed_until"


def test_the_org_admin_sets_the_assent_age(client, clinic):
    client.force_login(factories.user(Role.ORG_ADMIN, clinic))

    response = client.post(reverse("pediatric_settings"), {"assent_from_age": "14"})

    assert response.status_code == 302
    assert PediatricSettings.objects.get().assent_from_age == 14
    page = client.get(reverse("pediatric_settings")).content.decode()
    assert "required from age 14" in page


def test_the_api_adds_a_guardian_and_enrolls_a_minor_with_their_consent(api, clinic, teen):
    missing = api.post(
        f"/api/v1/patients/{teen.id}/guardians",
        {"name": "Maria Lopez", "relationship": "mother"},
        content_type="application/json",
    )
    added = api.post(
        f"/api/v1/patients/{teen.id}/guardians",
        {"name": "Maria Lopez", "relationship": "mother", "phone": "555-0101",
         "legal_authority": True},
        content_type="application/json",
    )  # fmt: skip
    body = {
        "patient_id": teen.id,
        "clinic_id": clinic.id,
        "referred_on": "2026-11-02",
        "care_manager": "cm",
        "diagnoses": ["F32.1"],
        "consent": {"obtained_on": "2026-11-02", "method": "verbal"},
    }
    without = api.post("/api/v1/episodes", body, content_type="application/json")
    body["consent"] |= {"guardian_id": added.json()["id"], "patient_assent": True}
    enrolled = api.post("/api/v1/episodes", body, content_type="application/json")

    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "phone"]
    assert added.status_code == 201
    assert without.status_code == 422
    assert without.json()["detail"][0]["loc"] == ["body", "consent_guardian"]
    assert enrolled.status_code == 201
    assert enrolled.json()["status"] == "enrolled"
