"""The quality measures over registry data: the service, /api/v1/quality/* and the command."""

import io
import json
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from cocm.accounts.models import ApiToken, AuditEvent, Role
from cocm.billing import aggregates
from cocm.care.models import Activity, Contact, Mode
from cocm.domain.episodes import DischargeReason
from cocm.measures.models import Assessment
from cocm.registry.models import Episode
from cocm.reports import quality
from cocm.reports.registry_facts import registry_facts
from tests import factories

pytestmark = pytest.mark.django_db


def phq9(episode, taken_on, total):
    return Assessment.objects.create(
        episode=episode,
        instrument="PHQ-9",
        taken_on=taken_on,
        answers=[0] * 9,
        total=total,
        severity="moderate",
    )


def contact(episode, occurred_on, staff, mode=Mode.IN_PERSON, no_show=False):
    return Contact.objects.create(
        episode=episode,
        occurred_on=occurred_on,
        minutes=30,
        mode=mode,
        activity=Activity.FOLLOW_UP,
        staff=staff,
        no_show=no_show,
    )


def depressed_patient(clinic, staff, follow_up, diagnoses=("F32.1",), family_name="Reyes"):
    """Referred 2024-02-01, seen and PHQ-9 18 on 2024-03-01, a follow-up PHQ-9 on 2025-03-01."""
    patient = factories.patient(clinic.organization, family_name=family_name)
    episode = factories.episode(
        clinic, staff, the_patient=patient, referred_on=date(2024, 2, 1), diagnoses=diagnoses
    )
    contact(episode, date(2024, 3, 1), staff)
    phq9(episode, date(2024, 3, 1), 18)
    if follow_up is not None:
        phq9(episode, date(2025, 3, 1), follow_up)
    return episode


@pytest.fixture
def care_manager(clinic):
    return factories.user(Role.CARE_MANAGER, clinic, username="cm")


@pytest.fixture
def consultant(clinic):
    return factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic, username="pc")


@pytest.fixture
def registry(clinic, care_manager):
    remitted = depressed_patient(clinic, care_manager, 3, family_name="Remitted")
    depressed_patient(clinic, care_manager, 12, family_name="Still")
    depressed_patient(clinic, care_manager, 3, diagnoses=("F41.1",), family_name="Anxious")
    died = depressed_patient(clinic, care_manager, 3, family_name="Died")
    Episode.objects.filter(pk=died.pk).update(
        status="discharged",
        discharged_on=date(2025, 1, 15),
        discharge_reason=DischargeReason.DECEASED,
    )
    no_show = depressed_patient(clinic, care_manager, 3, family_name="NoShow")
    Contact.objects.filter(episode=no_show).update(no_show=True)
    aggregates.refresh([no_show.id])  # update() sends no signal
    return {"remitted": remitted, "died": died}


def test_cms159_over_the_registry(clinic, registry):
    report = quality.quality_report(clinic.organization, Episode.objects.all(), "cms159", 2025).data

    assert (report["measure"], report["version"], report["period"]) == ("CMS159", "0.2.000", "2025")
    assert (report["initial_population"], report["denominator"]) == (3, 3)
    assert (report["denominator_exclusions"], report["numerator"], report["rate"]) == (1, 1, 0.5)
    by_id = {p["patient_id"]: p for p in report["patients"]}
    remitted = by_id[registry["remitted"].patient_id]
    assert remitted["index_date"] == "2024-03-01"
    assert (remitted["in_numerator"], remitted["excluded"]) == (True, False)
    assert remitted["deciding_value"] == "3"
    assert remitted["fhir_id"] == str(registry["remitted"].patient_id)
    died = by_id[registry["died"].patient_id]
    assert (died["in_denominator"], died["excluded"], died["in_numerator"]) == (True, True, False)
    assert died["exclusion_reasons"] == ["expired"]


def test_the_registry_facts_take_a_fixed_number_of_queries(
    clinic, registry, care_manager, django_assert_max_num_queries
):
    for _ in range(5):
        depressed_patient(clinic, care_manager, 3)

    with django_assert_max_num_queries(8):
        quality.quality_report(clinic.organization, Episode.objects.all(), "cms159", 2025)


def test_drr_and_dms_over_the_registry(clinic, care_manager):
    patient = factories.patient(clinic.organization)
    episode = factories.episode(
        clinic, care_manager, the_patient=patient, referred_on=date(2024, 5, 1)
    )
    contact(episode, date(2025, 3, 1), care_manager, mode=Mode.VIDEO)
    phq9(episode, date(2024, 6, 1), 20)
    phq9(episode, date(2024, 12, 1), 4)
    phq9(episode, date(2025, 3, 1), 6)

    drr = quality.quality_report(clinic.organization, Episode.objects.all(), "drr", 2025).data
    dms = quality.quality_report(clinic.organization, Episode.objects.all(), "dms", 2025).data

    assert (drr["denominator"], drr["follow_up"], drr["remission"], drr["response"]) == (1, 1, 1, 1)
    assert drr["patients"][0]["iesd"] == "2024-06-01"
    assert drr["settings"]["endpoints_inclusive"] is True
    first = dms["assessment_periods"][0]
    assert (first["start"], first["end"], first["denominator"], first["numerator"]) == (
        "2025-01-01",
        "2025-04-30",
        1,
        1,
    )
    assert dms["assessment_periods"][1]["denominator"] == 0


@pytest.mark.parametrize(
    ("period", "message"),
    [("25", "YYYY"), ("2024", "known: 2025, 2026"), ("99999999999999999999", "YYYY")],
)
def test_a_bad_period_is_refused_with_the_field_named(period, message):
    with pytest.raises(quality.InvalidRequest) as error:
        quality.parse_period(period, "cms159", date(2026, 11, 23))

    assert error.value.field == "period"
    assert message in error.value.message


@pytest.fixture
def api(client, consultant):
    _, raw = ApiToken.issue(consultant)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def test_the_api_gives_the_contract_shape_and_audits(api, registry):
    response = api.get("/api/v1/quality/cms159?period=2025")

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {
        "measure",
        "version",
        "period",
        "initial_population",
        "denominator",
        "denominator_exclusions",
        "numerator",
        "rate",
        "patients",
    }
    assert set(body["patients"][0]) >= {
        "patient_id",
        "fhir_id",
        "index_date",
        "in_denominator",
        "excluded",
        "in_numerator",
    }
    assert (body["denominator"], body["numerator"]) == (3, 1)
    assert AuditEvent.objects.filter(what="quality cms159 2025", channel="api").exists()


def test_the_api_cms2_has_exceptions(api, registry):
    body = api.get("/api/v1/quality/cms2?period=2026").json()

    assert (body["version"], "denominator_exceptions" in body) == ("0.4.001", True)


def test_the_api_refuses_a_bad_period(api):
    response = api.get("/api/v1/quality/drr?period=20x5")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "period"


def test_a_care_manager_may_not_read_the_measures(client, care_manager):
    _, raw = ApiToken.issue(care_manager)

    response = client.get("/api/v1/quality/cms159", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 403


def test_the_api_counts_only_the_consultants_clinics(api, registry, care_manager):
    other = factories.clinic(registry["remitted"].clinic.organization)
    depressed_patient(other, factories.user(Role.CARE_MANAGER, other), 3)

    body = api.get("/api/v1/quality/cms159?period=2025").json()

    assert body["initial_population"] == 3


def test_the_command_writes_json(registry):
    out = io.StringIO()

    call_command(
        "report",
        "quality",
        "--measure",
        "cms159",
        "--period",
        "2025",
        "--format",
        "json",
        stdout=out,
    )

    body = json.loads(out.getvalue())
    assert (body["measure"], body["numerator"], body["denominator_exclusions"]) == ("CMS159", 1, 1)
    assert AuditEvent.objects.filter(what="quality cms159 2025 (json)", channel="cli").exists()


def test_the_command_writes_csv_with_names(registry):
    out = io.StringIO()

    call_command("report", "quality", "--measure", "cms159", "--period", "2025", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Measure,Version,Period,MRN,Patient,Patient id,FHIR id,Index date")
    assert len(lines) == 4
    assert any("Died" in line and "expired" in line for line in lines)


def test_the_command_writes_xlsx(registry, tmp_path):
    target = tmp_path / "cms2.xlsx"

    call_command(
        "report",
        "quality",
        "--measure",
        "dms",
        "--period",
        "2025",
        "--format",
        "xlsx",
        "--output",
        str(target),
        stdout=io.StringIO(),
    )

    sheet = load_workbook(target).active
    assert sheet.title == "DMS-E 2025"
    assert sheet["D1"].value == "Assessment period"


def test_the_command_refuses_a_period_without_a_version(registry):
    with pytest.raises(CommandError, match="--period"):
        call_command("report", "quality", "--measure", "cms2", "--period", "2019")


def test_the_quality_page_shows_the_counts_and_the_patients(client, consultant, registry):
    client.force_login(consultant)

    response = client.get("/reports/quality/?measure=cms159&period=2025")

    assert response.status_code == 200
    page = response.content.decode()
    assert "CMS159 Depression Remission at Twelve Months" in page
    assert "DepressionRemissionatTwelveMonthsFHIR v0.2.000" in page
    assert "Initial population <strong>3</strong>" in page
    assert "exclusions <strong>1</strong>" in page
    assert "numerator <strong>1</strong>" in page
    assert "Rate: <strong>50%</strong>" in page
    assert "Died" in page and "yes: expired" in page
    assert "Anxious" not in page
    assert AuditEvent.objects.filter(what="quality cms159 2025", channel="web").exists()


@pytest.mark.parametrize("measure", ["cms2", "drr", "dms"])
def test_the_quality_page_renders_every_measure(client, consultant, registry, measure):
    client.force_login(consultant)

    page = client.get(f"/reports/quality/?measure={measure}&period=2026").content.decode()

    assert "Quality measures — 2026" in page
    assert ("Assessment period 2026-01-01 to 2026-04-30" in page) is (measure == "dms")


def test_the_quality_page_exports_the_patient_list(client, consultant, registry):
    client.force_login(consultant)

    response = client.get("/reports/quality/?measure=cms159&period=2025&export=csv")

    assert response["Content-Disposition"] == 'attachment; filename="quality-cms159-2025.csv"'
    assert b"Died" in b"".join(response.streaming_content)


def test_the_quality_page_refuses_an_unknown_period(client, consultant):
    client.force_login(consultant)

    assert client.get("/reports/quality/?period=1999").status_code == 404
    assert client.get("/reports/quality/?measure=nope").status_code == 404


def test_registry_rows_become_qi_core_facts(clinic, care_manager):
    patient = factories.patient(clinic.organization)
    episode = factories.episode(clinic, care_manager, the_patient=patient)
    contact(episode, date(2026, 9, 2), care_manager, mode=Mode.PHONE)
    contact(episode, date(2026, 9, 3), care_manager, mode=Mode.SECURE_MESSAGE)
    original = phq9(episode, date(2026, 9, 2), 14)
    corrected = phq9(episode, date(2026, 9, 2), 15)
    Assessment.objects.filter(pk=original.pk).update(is_current=False)
    Assessment.objects.filter(pk=corrected.pk).update(amends=original)
    teen = Assessment.objects.create(
        episode=episode,
        instrument="PHQ-A",
        taken_on=date(2026, 9, 9),
        answers=[1] * 9,
        total=9,
        severity="mild",
    )

    (facts,) = registry_facts(clinic.organization, Episode.objects.all())

    assert [e.id for e in facts.encounters] == [f"contact-{Contact.objects.first().pk}"]
    (condition,) = facts.conditions
    assert (condition.codes[0].code, condition.clinical_status, condition.verification_status) == (
        "F32.1",
        "active",
        "confirmed",
    )
    assert condition.onset.start.date() == date(2026, 9, 1)  # the referral date
    assert [(o.codes[0].code, o.status, o.value) for o in facts.observations] == [
        ("44261-6", "amended", 15.0),
        ("89204-2", "final", 9.0),
    ]
    assert facts.observations[1].id == f"assessment-{teen.pk}"
    assert facts.fhir_id == str(patient.pk)
