from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cocm.accounts.models import AuditEvent, Role
from cocm.registry.models import Coverage, Episode, Patient
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def cm_client(client, care_manager):
    client.force_login(care_manager)
    return client


def test_it_sends_anonymous_users_to_sign_in(client):
    response = client.get(reverse("caseload"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "home"),
    [
        (Role.CARE_MANAGER, "caseload"),
        (Role.PSYCHIATRIC_CONSULTANT, "caseload"),
        (Role.PCP, "pcp_patients"),
        (Role.BILLING, "billing_home"),
        (Role.ORG_ADMIN, "organization"),
    ],
)
def test_each_role_lands_on_its_own_home(client, clinic, role, home):
    client.force_login(factories.user(role, clinic))

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response.url == reverse(home)
    assert client.get(response.url, follow=True).status_code == 200


def test_it_logs_in_with_username_and_password(client, clinic):
    factories.user(Role.CARE_MANAGER, clinic, username="carla", password="a long pass phrase")

    response = client.post(
        reverse("login"), {"username": "carla", "password": "a long pass phrase"}
    )

    assert response.status_code == 302
    assert response.url == reverse("home")


def test_caseload_shows_my_open_episodes_only(cm_client, clinic, care_manager):
    mine = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))
    colleague = factories.user(Role.CARE_MANAGER, clinic)
    theirs = factories.episode(clinic, colleague)

    response = cm_client.get(reverse("caseload"))

    rows = response.context["rows"]
    assert [row.episode_id for row in rows] == [mine.id]
    assert rows[0].status == "enrolled"
    assert rows[0].enrolled_on == date(2026, 9, 1)
    assert theirs.patient.family_name not in response.content.decode()


def test_caseload_filters_by_care_manager_and_status(cm_client, clinic, care_manager):
    factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))
    colleague = factories.user(Role.CARE_MANAGER, clinic)
    theirs = factories.episode(clinic, colleague)

    response = cm_client.get(reverse("caseload"), {"care_manager": "", "status": "referred"})

    assert [row.episode_id for row in response.context["rows"]] == [theirs.id]


def test_caseload_ignores_nonsense_filters(cm_client):
    response = cm_client.get(
        reverse("caseload"), {"care_manager": "x'--", "clinic": "abc", "status": "<script>"}
    )

    assert response.status_code == 200


def test_caseload_runs_a_constant_number_of_queries(cm_client, clinic, care_manager):
    def queries_for_caseload():
        with CaptureQueriesContext(connection) as captured:
            response = cm_client.get(reverse("caseload"))
        return len(captured), len(response.context["rows"])

    for _ in range(3):
        factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))
    few = queries_for_caseload()
    for _ in range(30):
        factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))
    many = queries_for_caseload()

    assert (few[1], many[1]) == (3, 33)
    assert few[0] == many[0]


def test_register_patient_with_coverage(cm_client, clinic):
    response = cm_client.post(
        reverse("register_patient"),
        {
            "mrn": "R-1001",
            "given_name": "Dana",
            "family_name": "Cole",
            "birth_date": "1975-04-02",
            "sex": "female",
            "preferred_language": "es",
            "payer_kind": "medicare",
            "coverage_starts_on": "2025-01-01",
        },
    )

    patient = Patient.objects.get(mrn="R-1001")
    assert response.status_code == 302
    assert response.url == reverse("patient_chart", args=[patient.id])
    assert Coverage.objects.get(patient=patient).payer_kind == "medicare"
    assert AuditEvent.objects.filter(patient_id=patient.id, action="create").exists()


def test_register_patient_names_the_bad_fields(cm_client):
    response = cm_client.post(
        reverse("register_patient"),
        {
            "mrn": "",
            "given_name": "Dana",
            "family_name": "Cole",
            "birth_date": "1975-13-40",
            "sex": "dragon",
            "payer_kind": "medicare",
        },
    )

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert set(errors) == {"mrn", "birth_date", "sex", "preferred_language", "coverage_starts_on"}
    assert not Patient.objects.exists()


def test_chart_shows_the_patient_and_is_audited(cm_client, clinic, care_manager):
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))

    response = cm_client.get(reverse("patient_chart", args=[episode.patient_id]))

    page = response.content.decode()
    assert episode.patient.mrn in page
    assert "F32.1" in page
    assert "Major depressive disorder, single episode, moderate" in page
    event = AuditEvent.objects.get(what="chart")
    assert (event.patient_id, event.action, event.user_id) == (
        episode.patient_id,
        "view",
        care_manager.id,
    )


def test_chart_of_a_patient_in_another_clinic_is_not_found(cm_client, clinic):
    elsewhere = factories.clinic(clinic.organization)
    theirs = factories.episode(elsewhere, factories.user(Role.CARE_MANAGER, elsewhere))

    response = cm_client.get(reverse("patient_chart", args=[theirs.patient_id]))

    assert response.status_code == 404


def test_refer_and_enroll_through_the_pages(cm_client, clinic, care_manager):
    patient = factories.patient(clinic.organization)
    consultant = factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic)

    cm_client.post(
        reverse("refer_patient", args=[patient.id]),
        {
            "clinic": clinic.id,
            "referred_on": "2026-11-02",
            "diagnoses": "",
            "care_manager": care_manager.id,
            "billing_program": "cocm",
        },
    )
    episode = Episode.objects.get(patient=patient)
    response = cm_client.post(
        reverse("enroll_patient", args=[episode.id]),
        {
            "enrolled_on": "2026-11-05",
            "consent_on": "2026-11-05",
            "consent_method": "written",
            "cost_sharing_explained": "on",
            "psychiatric_consultation_explained": "on",
            "diagnoses": "F33.1, F41.1",
            "care_manager": care_manager.id,
            "psychiatric_consultant": consultant.id,
        },
    )

    assert response.status_code == 302
    episode.refresh_from_db()
    assert episode.status == "enrolled"
    assert episode.psychiatric_consultant == consultant
    assert episode.consent_method == "written"
    assert sorted(episode.diagnoses.values_list("code", flat=True)) == ["F33.1", "F41.1"]


def test_enroll_without_diagnosis_keeps_the_episode_referred(cm_client, clinic, care_manager):
    episode = factories.episode(clinic, care_manager, diagnoses=())

    response = cm_client.post(
        reverse("enroll_patient", args=[episode.id]),
        {
            "enrolled_on": "2026-11-05",
            "consent_on": "2026-11-05",
            "consent_method": "verbal",
            "cost_sharing_explained": "on",
            "psychiatric_consultation_explained": "on",
            "diagnoses": "",
        },
    )

    assert response.status_code == 200
    assert "without a provisional diagnosis" in response.content.decode()
    episode.refresh_from_db()
    assert episode.status == "referred"
    assert episode.consent_on is None


def test_discharge_needs_a_reason_on_the_page(cm_client, clinic, care_manager):
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))

    response = cm_client.post(
        reverse("change_status", args=[episode.id]),
        {"status": "discharged", "on": "2026-11-01", "reason": ""},
    )

    assert "A discharge needs a reason." in response.content.decode()
    episode.refresh_from_db()
    assert episode.status == "enrolled"


def test_discharge_with_reason(cm_client, clinic, care_manager):
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))

    cm_client.post(
        reverse("change_status", args=[episode.id]),
        {"status": "discharged", "on": "2026-11-01", "reason": "goals_met"},
    )

    episode.refresh_from_db()
    assert (episode.status, episode.discharge_reason) == ("discharged", "goals_met")


def test_patient_search_is_a_post_and_finds_by_mrn(cm_client, clinic, care_manager):
    episode = factories.episode(clinic, care_manager)

    response = cm_client.post(reverse("patient_search"), {"query": episode.patient.mrn})

    assert list(response.context["patients"]) == [episode.patient]


def test_billing_staff_cannot_enroll(client, clinic, care_manager):
    episode = factories.episode(clinic, care_manager)
    client.force_login(factories.user(Role.BILLING, clinic))

    response = client.post(reverse("enroll_patient", args=[episode.id]), {})

    assert response.status_code == 403


@pytest.mark.parametrize(
    "query",
    ["Wright, Rosa", "wright,rosa", "Rosa Wright", "Wright Rosa", "  rosa   wright ", "RW-4471",
     "1980-05-17", "05/17/1980", "Wri"],
)  # fmt: skip
def test_find_patient_by_last_first_first_last_mrn_or_birth_date(cm_client, clinic, query):
    rosa = factories.patient(
        clinic.organization, given_name="Rosa", family_name="Wright", mrn="RW-4471"
    )
    factories.patient(clinic.organization, given_name="Rosa", family_name="Diaz",
                      birth_date=date(1975, 1, 2))  # fmt: skip
    factories.patient(clinic.organization, given_name="James", family_name="Wright",
                      birth_date=date(1990, 3, 4))  # fmt: skip

    response = cm_client.post(reverse("patient_search"), {"query": query})

    names = [str(p) for p in response.context["patients"]]
    assert str(rosa) in names
    if query != "Wri":
        assert names == ["Wright, Rosa"]
    assert "Wright, Rosa" in response.content.decode()


def test_find_patient_keeps_the_query_out_of_the_url(cm_client, clinic):
    response = cm_client.get(reverse("patient_search"), {"query": "Wright, Rosa"})

    assert response.context["patients"] == []
