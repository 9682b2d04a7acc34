"""FHIR JSON → patient facts: the forms of each element, and bad data that must not raise."""

from datetime import UTC, date, datetime

import pytest

from cocm.domain.clinical import Coding, Period
from cocm.reports import facts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-02-19T14:30:00+00:00", datetime(2025, 2, 19, 14, 30, tzinfo=UTC)),
        ("2025-02-19T14:30:00.000-04:00", datetime(2025, 2, 19, 18, 30, tzinfo=UTC)),
        ("2025-12-31T23:59:59.999Z", datetime(2025, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)),
        ("2025-02-19", datetime(2025, 2, 19, tzinfo=UTC)),
        ("2025-02", datetime(2025, 2, 1, tzinfo=UTC)),
        ("2025", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-02-30", None),
        ("yesterday", None),
        (20250219, None),
        (None, None),
    ],
)
def test_parse_datetime(text, expected):
    assert facts.parse_datetime(text) == expected


def test_parse_date_keeps_the_written_date():
    assert facts.parse_date("2012-01-01") == date(2012, 1, 1)
    assert facts.parse_date("not a date") is None


def test_an_observation_with_each_kind_of_value():
    base = {
        "resourceType": "Observation",
        "id": "o",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "44261-6"}]},
    }

    integer = facts.observation({**base, "valueInteger": 10, "effectiveDateTime": "2025-01-02"})
    quantity = facts.observation({**base, "valueQuantity": {"value": 7.5}})
    concept = facts.observation(
        {**base, "valueCodeableConcept": {"coding": [{"system": "s", "code": "c"}]}}
    )
    period = facts.observation(
        {**base, "effectivePeriod": {"start": "2025-01-02T10:00:00Z", "end": "bad"}}
    )

    assert (integer.value, integer.effective.start) == (10, datetime(2025, 1, 2, tzinfo=UTC))
    assert quantity.value == 7.5
    assert (concept.value, concept.value_codes) == ("c", (Coding("s", "c"),))
    assert period.effective == Period(datetime(2025, 1, 2, 10, tzinfo=UTC), None)


def test_an_observation_not_done_keeps_its_reason():
    o = facts.observation(
        {
            "resourceType": "Observation",
            "status": "cancelled",
            "issued": "2025-01-02T08:00:00Z",
            "extension": [
                {
                    "url": "http://hl7.org/fhir/us/qicore/StructureDefinition/qicore-notDoneReason",
                    "valueCodeableConcept": {
                        "coding": [{"system": "http://snomed.info/sct", "code": "720834000"}]
                    },
                }
            ],
        }
    )

    assert o.not_done_reason == (Coding("http://snomed.info/sct", "720834000"),)
    assert o.issued == datetime(2025, 1, 2, 8, tzinfo=UTC)


def test_a_condition_reads_its_statuses_from_their_code_systems():
    c = facts.condition(
        {
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "active",
                    }
                ]
            },
            "verificationStatus": {"coding": [{"system": "other", "code": "confirmed"}]},
            "onsetDateTime": "2024-02-25T14:35:00+00:00",
            "abatementPeriod": {"start": "2024-03-01", "end": "2024-04-01"},
        }
    )

    assert (c.clinical_status, c.verification_status) == ("active", None)
    assert c.abatement == Period(datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC))


def test_a_medication_request_reads_dosage_and_supply():
    m = facts.medication_request(
        {
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": {"coding": [{"system": "rx", "code": "1"}]},
            "dosageInstruction": [
                {
                    "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                    "doseAndRate": [{"doseQuantity": {"value": 1}}],
                }
            ],
            "dispenseRequest": {
                "quantity": {"value": 60},
                "numberOfRepeatsAllowed": 1,
                "expectedSupplyDuration": {"value": 4, "code": "wk"},
            },
        }
    )

    assert (m.dosage.frequency, m.dosage.period_unit, m.dosage.dose) == (2, "d", 1)
    assert (m.dosage.quantity, m.dosage.refills, m.dosage.expected_supply_days) == (60, 1, 28)


def test_garbage_resources_do_not_raise():
    patient = facts.patient_facts(
        {"id": "p", "birthDate": 12, "deceasedBoolean": "yes"},
        [
            {"resourceType": "Encounter", "period": "today", "type": "x", "class": None},
            {"resourceType": "Condition", "code": {"coding": [{"code": "F32.1"}]}},
            {"resourceType": "Observation", "valueInteger": True, "component": ["x", {}]},
            {"resourceType": "MedicationRequest", "dosageInstruction": "daily"},
            {"resourceType": "ServiceRequest", "doNotPerform": "no"},
            {"resourceType": "Procedure", "performedPeriod": []},
            "not a resource",
        ],
    )

    assert (patient.birth_date, patient.deceased) == (None, None)
    assert patient.encounters[0].period == Period(None, None)
    assert patient.conditions[0].codes == ()  # a coding without a system is not comparable
    assert patient.observations[0].value is None
    assert patient.service_requests[0].do_not_perform is None


def test_a_bundle_must_hold_one_patient():
    with pytest.raises(ValueError, match="2 Patient"):
        facts.bundle_facts({"entry": [{"resource": {"resourceType": "Patient"}}] * 2})
