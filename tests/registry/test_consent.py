"""Consent inside enrollment, the signed scan, revocation and renewal (issue 17, part 1)."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cocm.accounts.models import ApiToken, AuditEvent, Role
from cocm.billing import services as billing
from cocm.care import services as care
from cocm.care.chart import chart_context
from cocm.domain.coding import Month
from cocm.registry import services
from cocm.registry.models import ConsentRevocation, Coverage, Episode
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY  # 2026-11-23
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def care_manager(clinic):
    return factories.user(Role.CARE_MANAGER, clinic, username="cm")


@pytest.fixture
def consultant(clinic):
    return factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic, username="psych")


@pytest.fixture
def cm_client(client, care_manager):
    client.force_login(care_manager)
    return client


@pytest.fixture
def api(client, care_manager):
    _, raw = ApiToken.issue(care_manager)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def enroll_post(**overrides):
    data = {
        "enrolled_on": "2026-11-05",
        "consent_on": "2026-11-05",
        "consent_method": "written",
        "cost_sharing_explained": "on",
        "psychiatric_consultation_explained": "on",
        "diagnoses": "F32.1",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_the_enroll_page_shows_the_script_the_disclosures_and_the_consent_form_links(
    cm_client, clinic, care_manager
):
    episode = factories.episode(clinic, care_manager)

    page = cm_client.get(reverse("enroll_patient", args=[episode.id])).content.decode()

    assert "Introducing collaborative care (say this to the patient)" in page
    assert "a copay or coinsurance may apply" in page
    assert "Patient told that cost sharing (copay, coinsurance) may apply" in page
    assert "Patient agreed to psychiatric consultation about their care" in page
    assert f"/episodes/{episode.id}/consent/form/?lang=es" in page
    assert 'enctype="multipart/form-data"' in page


def test_the_script_is_in_spanish_for_a_spanish_speaking_patient(cm_client, clinic, care_manager):
    patient = factories.patient(clinic.organization, preferred_language="es")
    episode = factories.episode(clinic, care_manager, the_patient=patient)

    page = cm_client.get(reverse("enroll_patient", args=[episode.id])).content.decode()

    assert "Presentación de la atención colaborativa" in page
    assert "puede aplicarse un copago o coseguro" in page


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("cost_sharing_explained", "cost sharing (copay, coinsurance) may apply each month"),
        ("psychiatric_consultation_explained", "consults a psychiatric consultant"),
    ],
)
def test_enrollment_is_refused_without_each_medicare_disclosure(
    cm_client, clinic, care_manager, missing, message
):
    episode = factories.episode(clinic, care_manager)

    response = cm_client.post(
        reverse("enroll_patient", args=[episode.id]), enroll_post(**{missing: None})
    )

    assert response.status_code == 200
    assert message in response.context["form"].errors[missing][0]
    episode.refresh_from_db()
    assert episode.status == "referred"
    assert episode.consent_on is None


def test_written_consent_keeps_its_signed_scan_served_only_to_the_clinic_and_audited(
    cm_client, client, clinic, care_manager
):
    episode = factories.episode(clinic, care_manager)
    scan = SimpleUploadedFile("Rivera signed.pdf", PDF, content_type="application/pdf")

    response = cm_client.post(
        reverse("enroll_patient", args=[episode.id]), enroll_post(consent_document=scan)
    )

    assert response.status_code == 302
    episode.refresh_from_db()
    assert episode.status == "enrolled"
    assert episode.consent_cost_sharing_explained is True
    assert episode.consent_psychiatric_consultation_explained is True
    assert episode.consent_document.name.startswith("consent/")
    assert "Rivera" not in episode.consent_document.name
    served = cm_client.get(reverse("consent_document", args=[episode.id]))
    assert served["Content-Type"] == "application/pdf"
    assert b"".join(served.streaming_content) == PDF
    assert AuditEvent.objects.filter(
        what="consent document", patient_id=episode.patient_id, action="view"
    ).exists()
    chart = cm_client.get(reverse("patient_chart", args=[episode.patient_id])).content.decode()
    assert "Signed consent form" in chart
    assert "Cost sharing explained: yes" in chart
    other_clinic = factories.clinic(clinic.organization)
    client.force_login(factories.user(Role.CARE_MANAGER, other_clinic))
    assert client.get(reverse("consent_document", args=[episode.id])).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "method", "message"),
    [
        ("consent.docx", b"PK\x03\x04 not a pdf", "written", "PDF, PNG or JPEG"),
        ("consent.pdf", b"MZ\x90\x00 an executable", "written", "PDF, PNG or JPEG"),
        ("consent.png", PNG, "verbal", "Only written consent"),
    ],
)
def test_an_upload_that_is_not_a_pdf_or_image_is_refused_and_nothing_is_stored(
    cm_client, clinic, care_manager, name, content, method, message
):
    episode = factories.episode(clinic, care_manager)
    upload = SimpleUploadedFile(name, content)

    response = cm_client.post(
        reverse("enroll_patient", args=[episode.id]),
        enroll_post(consent_document=upload, consent_method=method),
    )

    assert response.status_code == 200
    assert message in response.context["form"].errors["consent_document"][0]
    episode.refresh_from_db()
    assert (episode.status, episode.consent_on, episode.consent_document.name) == (
        "referred",
        None,
        "",
    )


def test_an_upload_over_the_size_limit_is_refused_naming_the_field(
    cm_client, clinic, care_manager, settings
):
    settings.COCM_CONSENT_DOCUMENT_MAX_BYTES = 1024 * 1024
    episode = factories.episode(clinic, care_manager)
    upload = SimpleUploadedFile("big.pdf", PDF + b"0" * (1024 * 1024))

    response = cm_client.post(
        reverse("enroll_patient", args=[episode.id]), enroll_post(consent_document=upload)
    )

    assert "larger than 1 MB" in response.context["form"].errors["consent_document"][0]
    episode.refresh_from_db()
    assert episode.status == "referred"


def test_the_printable_consent_form_names_the_patient_and_team_in_both_languages(
    cm_client, clinic, care_manager, consultant
):
    patient = factories.patient(clinic.organization, given_name="Rosa", family_name="Mendez")
    episode = factories.episode(
        clinic, care_manager, the_patient=patient, psychiatric_consultant=consultant
    )

    english = cm_client.get(reverse("consent_form", args=[episode.id])).content.decode()
    spanish = cm_client.get(reverse("consent_form", args=[episode.id]) + "?lang=es")

    assert "Consent to collaborative care" in english
    assert "Rosa Mendez" in english
    assert str(consultant) in english
    assert "cost sharing (a copay, coinsurance or deductible) may apply" in english
    assert "Consentimiento para la atención colaborativa" in spanish.content.decode()
    assert "Rosa Mendez" in spanish.content.decode()


# --------------------------------------------------------------------------- revocation


def billed_episode(clinic, care_manager, consultant):
    episode = factories.episode(
        clinic, care_manager, consent_on=date(2026, 9, 1), psychiatric_consultant=consultant
    )
    episode.initiating_visit_on = date(2026, 8, 15)
    episode.save()
    Coverage.objects.create(
        patient=episode.patient, payer_kind="medicare", starts_on=date(2020, 1, 1)
    )
    for on, minutes in [(date(2026, 10, 6), 40), (date(2026, 11, 2), 20), (date(2026, 11, 12), 25)]:
        care.record_contact(
            episode,
            occurred_on=on,
            minutes=minutes,
            mode="phone",
            activity="follow_up",
            staff=care_manager,
            by=care_manager,
            as_of=TODAY,
        )
    return episode


def november_minutes(api, clinic, episode):
    """What the month worklist, the caseload and the chart count for November 2026."""
    (line,) = billing.month_lines(clinic.organization, Episode.objects.all(), Month(2026, 11))
    (row,) = api.get("/api/v1/caseload").json()
    episode = Episode.objects.select_related("clinic__organization").get(id=episode.id)
    chart = chart_context(episode, TODAY)["billing"]
    return line.result, row["minutes_this_month"], chart.minutes_counted


def test_revocation_stops_counting_minutes_and_renewal_resumes_everywhere(
    api, clinic, care_manager, consultant
):
    episode = billed_episode(clinic, care_manager, consultant)
    assert november_minutes(api, clinic, episode)[1:] == (45, 45)

    response = api.post(
        f"/api/v1/episodes/{episode.id}/consent/revocation",
        {"on": "2026-11-05", "reason": "Patient no longer wants phone follow-up"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["consent"]["revoked_on"] == "2026-11-05"
    result, caseload, chart = november_minutes(api, clinic, episode)
    assert (result.minutes_counted, caseload, chart) == (20, 20, 20)
    assert [str(c.code) for c in result.codes] == ["G2214"]
    assert "consent revoked on 2026-11-05: no minute from then counts" in result.decision
    assert [(e.minutes, e.reason) for e in result.excluded] == [
        (25, "consent revoked on 2026-11-05")
    ]

    renewed = api.post(
        f"/api/v1/episodes/{episode.id}/consent/renewal",
        {"obtained_on": "2026-11-10", "method": "verbal"},
        content_type="application/json",
    )

    assert renewed.status_code == 200
    assert renewed.json()["consent"]["revoked_on"] is None
    result, caseload, chart = november_minutes(api, clinic, episode)
    assert (result.minutes_counted, caseload, chart) == (45, 45, 45)
    assert [str(c.code) for c in result.codes] == ["99493"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"on": "2026-08-31", "reason": "moved away"}, "on", "before the consent (2026-09-01)"),
        ({"on": "2026-11-24", "reason": "moved away"}, "on", "in the future"),
        ({"on": "2026-11-05", "reason": "   "}, "reason", "Say why"),
    ],
)
def test_the_api_refuses_a_bad_revocation_naming_the_field(
    api, clinic, care_manager, body, field, message
):
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))

    response = api.post(
        f"/api/v1/episodes/{episode.id}/consent/revocation", body, content_type="application/json"
    )

    assert response.status_code == 422
    (detail,) = response.json()["detail"]
    assert detail["loc"] == ["body", field]
    assert message in detail["msg"]
    assert not ConsentRevocation.objects.exists()
    episode.refresh_from_db()
    assert episode.consent_revoked_on is None


def test_the_api_refuses_a_revocation_without_a_body_field(api, clinic, care_manager):
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))

    response = api.post(
        f"/api/v1/episodes/{episode.id}/consent/revocation",
        {"on": "2026-11-05"},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert "reason" in str(response.json()["detail"])


def test_the_revocation_page_refuses_the_same_dates_and_records_a_good_one_on_the_timeline(
    cm_client, clinic, care_manager
):
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))
    url = reverse("revoke_consent", args=[episode.id])

    early = cm_client.post(url, {"on": "2026-08-20", "reason": "changed mind"})
    future = cm_client.post(url, {"on": "2026-12-01", "reason": "changed mind"})
    done = cm_client.post(url, {"on": "2026-11-05", "reason": "changed mind"})

    assert "before the consent (2026-09-01)" in early.context["form"].errors["on"][0]
    assert "in the future" in future.context["form"].errors["on"][0]
    assert done.status_code == 302
    chart = cm_client.get(reverse("patient_chart", args=[episode.patient_id])).content.decode()
    assert "Consent revoked on 2026-11-05: no minute from then counts for billing." in chart
    assert "Consent revoked — changed mind" in chart
    assert "Consent given again" in chart  # the renewal button
    assert ConsentRevocation.objects.get().recorded_by == care_manager


def test_renewal_needs_both_disclosures_and_a_date_after_the_revocation(
    cm_client, clinic, care_manager
):
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))
    services.revoke_consent(episode, on=date(2026, 11, 5), reason="x", by=care_manager, as_of=TODAY)
    url = reverse("renew_consent", args=[episode.id])

    no_disclosure = cm_client.post(url, {"consent_on": "2026-11-10", "consent_method": "verbal"})
    too_early = cm_client.post(
        url,
        {
            "consent_on": "2026-11-04",
            "consent_method": "verbal",
            "cost_sharing_explained": "on",
            "psychiatric_consultation_explained": "on",
        },
    )

    assert "cost_sharing_explained" in no_disclosure.context["form"].errors
    assert "before the revocation" in too_early.context["form"].errors["consent_on"][0]
    episode.refresh_from_db()
    assert episode.consent_revoked_on == date(2026, 11, 5)


def test_consent_through_the_api_without_a_disclosure_is_refused(api, clinic, care_manager):
    patient = factories.patient(clinic.organization)

    response = api.post(
        "/api/v1/episodes",
        {
            "patient_id": patient.id,
            "clinic_id": clinic.id,
            "referred_on": "2026-11-02",
            "care_manager": "cm",
            "diagnoses": ["F32.1"],
            "consent": {
                "obtained_on": "2026-11-02",
                "method": "verbal",
                "cost_sharing_explained": False,
            },
        },
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "cost_sharing_explained"]
    assert not Episode.objects.exists()
