"""Integrity: concurrent edits conflict, clinical data is never destroyed, oversized
requests are refused clearly, and nothing identifying reaches URLs or application logs."""

import io
import logging
from datetime import date
from unittest import mock

import pytest
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import timezone

from cocm.accounts.models import ApiToken, AuditEvent, BreakGlassGrant
from cocm.accounts.views import bad_request
from cocm.api import routes
from cocm.domain.episodes import DischargeReason
from cocm.registry import services
from cocm.registry.models import Episode, Patient
from tests import factories
from tests.security.test_access_matrix import PARAMETER, api_operations, page_patterns

pytestmark = pytest.mark.django_db
CONFLICT = "This record was changed by someone else while you were editing; reload and try again."


@pytest.fixture
def patient(clinic):
    return factories.patient(clinic.organization, given_name="Maria", family_name="Lopez")


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def demographics(patient: Patient, **changes: object) -> dict:
    fields = ["mrn", "given_name", "family_name", "birth_date", "sex", "preferred_language"]
    return {**{name: getattr(patient, name) for name in fields}, **changes}


def test_the_second_of_two_concurrent_patient_edits_gets_a_conflict(care_manager, patient):
    first, second = signed_in(care_manager), signed_in(care_manager)
    url = reverse("edit_patient", args=[patient.id])
    version = first.get(url).context["form"]["version"].value()
    assert second.get(url).context["form"]["version"].value() == version

    saved = first.post(url, {**demographics(patient, given_name="Mara"), "version": version})
    refused = second.post(url, {**demographics(patient, family_name="Lopes"), "version": version})

    assert saved.status_code == 302
    assert refused.status_code == 200
    assert CONFLICT in refused.content.decode()
    patient.refresh_from_db()
    assert (patient.given_name, patient.family_name, patient.version) == ("Mara", "Lopez", 1)


def test_a_patient_edit_is_audited(care_manager, patient):
    client = signed_in(care_manager)

    client.post(
        reverse("edit_patient", args=[patient.id]),
        {**demographics(patient, phone="555-0100"), "version": 0},
    )

    assert AuditEvent.objects.filter(
        action="update", what="patient", patient_id=patient.id
    ).exists()


def test_an_mrn_taken_by_another_patient_is_refused_on_edit(clinic, care_manager, patient):
    factories.patient(clinic.organization, mrn="TAKEN-1")

    response = signed_in(care_manager).post(
        reverse("edit_patient", args=[patient.id]),
        {**demographics(patient, mrn="TAKEN-1"), "version": 0},
    )

    assert "A patient with MRN TAKEN-1 is already registered." in response.content.decode()


def test_the_second_of_two_concurrent_status_changes_gets_a_conflict(clinic, care_manager):
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 2))
    first, second = signed_in(care_manager), signed_in(care_manager)
    url = reverse("change_status", args=[episode.id])
    version = first.get(url).context["form"]["version"].value()
    second.get(url)

    saved = first.post(url, {"status": "active", "on": "2026-11-20", "version": version})
    refused = second.post(
        url,
        {"status": "discharged", "on": "2026-11-20", "reason": "moved", "version": version},
    )

    assert saved.status_code == 302
    assert CONFLICT in refused.content.decode()
    episode.refresh_from_db()
    assert (episode.status, episode.version) == ("active", 2)  # enrolled, then active
    assert episode.status_changes.count() == 3  # referred, enrolled, active: nothing half-kept


def test_a_stale_episode_in_the_service_raises_a_conflict(clinic, care_manager):
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 2))
    stale = Episode.objects.get(id=episode.id)
    services.change_status(
        episode,
        services.EpisodeStatus.ACTIVE,
        on=date(2026, 11, 1),
        by=care_manager,
        as_of=date(2026, 11, 23),
    )

    with pytest.raises(services.EditConflict):
        services.change_status(
            stale,
            services.EpisodeStatus.DISCHARGED,
            on=date(2026, 11, 2),
            by=care_manager,
            as_of=date(2026, 11, 23),
            reason=DischargeReason.MOVED,
        )


def test_the_api_answers_a_conflicting_status_change_with_409(client, clinic, care_manager):
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 2))
    _, raw = ApiToken.issue(care_manager)

    with mock.patch.object(routes.services, "change_status", side_effect=services.EditConflict):
        response = client.post(
            f"/api/v1/episodes/{episode.id}/status",
            {"status": "active", "on": "2026-11-20"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )

    assert response.status_code == 409
    assert response.json() == {"detail": CONFLICT}


def test_a_patient_with_clinical_history_cannot_be_deleted(clinic, care_manager):
    episode = factories.episode(clinic, care_manager)

    with pytest.raises(ProtectedError):
        episode.patient.delete()


def test_the_api_offers_no_way_to_delete_anything():
    methods = {method for method, _ in api_operations()}

    assert "DELETE" not in methods


def test_the_database_refuses_a_break_glass_grant_without_a_reason(care_manager, patient):
    now = timezone.now()

    with pytest.raises(IntegrityError):
        BreakGlassGrant.objects.create(
            user=care_manager, patient=patient, reason="", granted_at=now, expires_at=now
        )


def test_an_oversized_api_body_gets_a_413_that_says_so(client, care_manager, settings):
    _, raw = ApiToken.issue(care_manager)
    body = '{"mrn": "' + "A" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + '"}'

    response = client.post(
        "/api/v1/patients",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )

    assert response.status_code == 413
    assert response.json() == {"detail": "The request is too large: the limit is 1024 KiB."}


def test_an_oversized_form_gets_a_413_page(care_manager, settings):
    client = signed_in(care_manager)

    response = client.post(
        reverse("patient_search"), {"query": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    )

    assert response.status_code == 413
    assert "The request is too large" in response.content.decode()


def test_an_oversized_upload_gets_a_413(care_manager, settings):
    settings.COCM_MAX_UPLOAD_BYTES = 2048
    client = signed_in(care_manager)
    upload = io.BytesIO(b"x" * 4096)
    upload.name = "patients.csv"

    response = client.post(reverse("patient_search"), {"file": upload})

    assert response.status_code == 413


def test_a_body_over_the_limit_found_while_reading_gets_a_413_too(rf):
    # A chunked body has no Content-Length: Django finds it too large only while reading
    # it and raises RequestDataTooBig, which reaches the 400 handler.
    request = rf.post("/patients/find/")

    response = bad_request(request, RequestDataTooBig("too big"))

    assert response.status_code == 413


def test_no_url_carries_a_name_or_mrn():
    parameters = {
        match.group("name") for route, _ in page_patterns() for match in PARAMETER.finditer(route)
    }
    parameters |= {
        part[1:-1] for _, route in api_operations() for part in route.split("/") if "{" in part
    }

    assert not {p for p in parameters if not (p.endswith("_id") or p in {"token", "month"})}


def test_application_logs_hold_no_names_or_mrns(client, care_manager, caplog):
    _, raw = ApiToken.issue(care_manager)
    caplog.set_level(logging.DEBUG)

    client.post(
        "/api/v1/patients",
        {"mrn": "SECRET-MRN-1", "given_name": "Zelda", "family_name": "Quixote", "sex": "x"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    signed_in(care_manager).post(reverse("patient_search"), {"query": "Quixote"})
    signed_in(care_manager).get(reverse("patient_chart", args=[987654]))

    assert caplog.records  # Django did log the 404 and the 422
    assert "SECRET-MRN-1" not in caplog.text
    assert "Zelda" not in caplog.text
    assert "Quixote" not in caplog.text


def test_get_resolver_sees_the_edit_page():
    assert "edit_patient" in get_resolver().reverse_dict
