"""Imported data is registry data: imported coverage, diagnoses, encounters, procedures,
orders, medications, scores and deaths show on the chart, the caseload's flags and billing
as data entered in the product does (docs/interop.md, docs/rules.md 8)."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from cocm.accounts.models import Role
from cocm.interop.models import ImportedResource
from cocm.registry.models import Coverage, Diagnosis, Episode, Patient
from tests import factories
from tests.interop.conftest import fhir_patient, phq9_observation, post_bundle, transaction

pytestmark = pytest.mark.django_db

CPT = "http://www.ama-assn.org/go/cpt"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


@pytest.fixture
def consultant(clinic):
    return factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic)


def imported_patient(fhir, **extra):
    post_bundle(fhir, transaction(fhir_patient("p1", mrn="MRN-1", **extra)))
    return Patient.objects.get(mrn="MRN-1")


@pytest.fixture
def episode(fhir, clinic, care_manager):
    """An open, not yet enrolled episode of the imported patient Patient/p1."""
    patient = imported_patient(fhir)
    return factories.episode(
        clinic, care_manager, the_patient=patient, referred_on=date(2026, 9, 1), diagnoses=()
    )


@pytest.fixture
def page(care_manager):
    browser = Client()
    browser.force_login(care_manager)
    return browser


def chart(page, patient, **query):
    return page.get(reverse("patient_chart", args=[patient.pk]), query).content.decode()


def send(fhir, *resources):
    response = post_bundle(fhir, transaction(fhir_patient("p1", mrn="MRN-1"), *resources))
    assert response.status_code == 200, response.json()
    return response.json()["entry"]


def coverage(cov_id="c1", sopt="1", start="2026-01-01", **extra):
    return {
        "resourceType": "Coverage",
        "id": cov_id,
        "status": "active",
        "type": {"coding": [{"system": "https://nahdo.org/sopt", "code": sopt}]},
        "beneficiary": {"reference": "Patient/p1"},
        "payor": [{"display": "Medicare Part B"}],
        "subscriberId": "1EG4-TE5-MK72",
        "period": {"start": start},
        **extra,
    }


def condition(cond_id="d1", code="F41.1", clinical="active", on="2026-09-20"):
    return {
        "resourceType": "Condition",
        "id": cond_id,
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": clinical,
                }
            ]
        },
        "code": {"coding": [{"system": ICD10CM, "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "onsetDateTime": on,
    }


def encounter(enc_id="e1", code="99213", on="2026-08-15", status="finished"):
    return {
        "resourceType": "Encounter",
        "id": enc_id,
        "status": status,
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
        },
        "type": [{"coding": [{"system": CPT, "code": code, "display": "Office visit"}]}],
        "subject": {"reference": "Patient/p1"},
        "period": {"start": on, "end": on},
    }


def test_an_imported_coverage_is_the_patients_coverage_on_the_chart_and_for_billing(
    fhir, page, episode
):
    patient = episode.patient
    send(fhir, coverage())

    stored = Coverage.objects.get(patient=patient)
    assert (stored.payer_kind, stored.payer_name, stored.member_id) == (
        "medicare",
        "Medicare Part B",
        "1EG4-TE5-MK72",
    )
    assert (stored.starts_on, stored.ends_on) == (date(2026, 1, 1), None)
    html = chart(page, patient)
    assert "<td>Medicare — Medicare Part B</td><td>1EG4-TE5-MK72</td><td>2026-01-01</td>" in html

    # Billing reads the payer: the chart's month under Medicare's rules.
    from cocm.registry.coverages import payer_on

    assert payer_on([patient.pk], date(2026, 11, 1)) == {patient.pk: "medicare"}

    # The same bundle again stores nothing new; a changed period changes the same coverage.
    send(fhir, coverage())
    send(fhir, coverage(period={"start": "2026-01-01", "end": "2026-10-31"}))
    stored = Coverage.objects.get(patient=patient)
    assert stored.ends_on == date(2026, 10, 31)
    assert ImportedResource.objects.get(resource_type="Coverage").coverage == stored
    assert payer_on([patient.pk], date(2026, 11, 1)) == {}


def test_a_coverage_whose_payer_we_cannot_tell_is_kept_as_imported_with_a_warning(fhir, episode):
    entries = send(fhir, coverage(sopt="3"))

    outcome = entries[1]["response"]["outcome"]
    assert outcome["issue"][0]["severity"] == "warning"
    assert "Source of Payment Typology" in outcome["issue"][0]["diagnostics"]
    assert outcome["issue"][0]["expression"] == ["Bundle.entry[1].resource"]
    assert not Coverage.objects.exists()
    assert ImportedResource.objects.filter(resource_type="Coverage").count() == 1


def test_a_coverage_that_is_cancelled_later_stops_being_the_patients_coverage(fhir, episode):
    send(fhir, coverage())
    send(fhir, coverage(status="cancelled"))

    assert not Coverage.objects.exists()


def test_an_imported_depression_or_anxiety_condition_is_a_diagnosis_of_the_open_episode(
    fhir, page, episode
):
    send(
        fhir,
        condition("d1", "F411"),
        condition("d2", "E11.9"),
        condition("d3", "F32.1", "resolved"),
    )

    diagnosis = Diagnosis.objects.get(episode=episode)
    assert (diagnosis.code, diagnosis.onset_on) == ("F41.1", date(2026, 9, 20))
    html = chart(page, episode.patient)
    assert '<span class="code" title="Generalized anxiety disorder">F41.1</span>' in html
    # Every imported condition is on the timeline, with its status.
    assert "Condition (imported): ICD-10-CM E11.9, active" in html
    assert "Condition (imported): ICD-10-CM F32.1, resolved" in html

    send(fhir, condition("d1", "F411"))  # again: nothing new
    assert Diagnosis.objects.count() == 1


def test_a_condition_of_a_patient_not_in_collaborative_care_makes_no_episode(fhir, page):
    send(fhir, condition())

    assert not Episode.objects.exists() and not Diagnosis.objects.exists()
    patient = ImportedResource.objects.get(resource_type="Condition").patient
    html = chart(page, patient)
    assert "No open episode." in html
    assert "Condition (imported): ICD-10-CM F41.1, active" in html


def test_an_imported_office_visit_is_the_initiating_visit_and_on_the_timeline(fhir, page, episode):
    send(fhir, encounter("e1", "99213", "2026-08-15"), encounter("e2", "90791", "2026-08-20"))

    episode.refresh_from_db()
    assert episode.initiating_visit_on == date(2026, 8, 15)
    html = chart(page, episode.patient)
    assert '<dt id="initiating-visit">Initiating visit</dt><dd>2026-08-15</dd>' in html
    assert "Encounter (imported): Office visit (CPT 99213), finished" in html
    assert "Encounter (imported): Office visit (CPT 90791), finished" in html
    only = chart(page, episode.patient, kind="encounter")
    assert only.count("Encounter (imported)") == 2
    assert "Referred" not in only.split('id="timeline-heading"')[1].split("</ol>")[0]

    # A planned visit, or one after the recorded one that is not an E/M, changes nothing.
    send(fhir, encounter("e3", "99214", "2026-08-30", status="planned"))
    episode.refresh_from_db()
    assert episode.initiating_visit_on == date(2026, 8, 15)


def test_an_imported_hospice_procedure_is_shown_on_the_chart(fhir, page, episode):
    procedure = {
        "resourceType": "Procedure",
        "id": "pr1",
        "status": "completed",
        "code": {"coding": [{"system": SNOMED, "code": "385763009", "display": "Hospice care"}]},
        "subject": {"reference": "Patient/p1"},
        "performedDateTime": "2026-10-05",
    }
    order = {
        "resourceType": "ServiceRequest",
        "id": "sr1",
        "status": "active",
        "intent": "order",
        "code": {"coding": [{"system": SNOMED, "code": "183524004", "display": "Referral"}]},
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-10-06",
    }
    medication = {
        "resourceType": "MedicationRequest",
        "id": "m1",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "312940",
                    "display": "sertraline 50 MG Oral Tablet",
                }
            ]
        },
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-10-07",
    }
    send(fhir, procedure, order, medication)

    html = chart(page, episode.patient)
    care = html.split('id="care-notes-heading"')[1].split("</section>")[0]
    assert (
        "<strong>Hospice care</strong> 2026-10-05 — Procedure: Hospice care (SNOMED CT 385763009)"
        in care
    )
    assert "Procedure (imported): Hospice care (SNOMED CT 385763009), completed" in html
    assert "Order (imported): Referral (SNOMED CT 183524004), active" in html
    treatment = chart(page, episode.patient, kind="treatment")
    assert "Medication order (imported): sertraline 50 MG Oral Tablet (RxNorm 312940), active" in (
        treatment
    )


def test_a_billing_user_sees_no_imported_clinical_record(fhir, clinic, episode):
    send(fhir, encounter(), condition("d9", "E11.9"))
    biller = Client()
    biller.force_login(factories.user(Role.BILLING, clinic))

    html = chart(biller, episode.patient)

    assert "(imported)" not in html


def test_an_imported_severe_score_flags_the_patient_on_the_caseload(
    fhir, page, clinic, care_manager, consultant
):
    patient = imported_patient(fhir)
    factories.episode(
        clinic,
        care_manager,
        the_patient=patient,
        consent_on=date(2026, 9, 1),
        psychiatric_consultant=consultant,
    )
    send(fhir, phq9_observation(patient="Patient/p1", value=22, on="2026-11-20"))

    html = page.get(reverse("caseload")).content.decode()

    assert ">Severe score</summary>" in html


def test_an_imported_death_is_shown_and_takes_the_patient_off_the_caseload(
    fhir, page, clinic, care_manager, consultant
):
    patient = imported_patient(fhir, name=[{"family": "Quill", "given": ["Ann"]}])
    factories.episode(
        clinic,
        care_manager,
        the_patient=patient,
        consent_on=date(2026, 9, 1),
        psychiatric_consultant=consultant,
    )
    assert "Quill" in page.get(reverse("caseload")).content.decode()

    post_bundle(
        fhir,
        transaction(
            fhir_patient(
                "p1",
                mrn="MRN-1",
                name=[{"family": "Quill", "given": ["Ann"]}],
                deceasedDateTime="2026-11-01",
            )
        ),
    )

    assert "Quill" not in page.get(reverse("caseload")).content.decode()
    html = chart(page, patient)
    assert '<strong class="warn" id="deceased">Deceased 2026-11-01</strong>' in html
