"""Observation and QuestionnaireResponse: a scored assessment (measures.Assessment) ↔ its
total score Observation (LOINC total code, US Core survey category, safety item as a
component, derivedFrom its QuestionnaireResponse). Import goes the other way in
cocm/interop/importer.py (feed_assessment)."""

from typing import Any

from cocm.domain.instruments import INSTRUMENTS
from cocm.domain.interop import LOINC
from cocm.interop.mapping.common import (
    OBSERVATION_CATEGORY,
    US_CORE_CATEGORY,
    questionnaire_url,
    reference,
)
from cocm.measures.models import Assessment


def observation_id(assessment: Assessment) -> str:
    return f"as-{assessment.pk}"


def response_id(assessment: Assessment) -> str:
    return f"qr-{assessment.pk}"


def _points(assessment: Assessment) -> list[int | None]:
    items = INSTRUMENTS[assessment.instrument].items
    answers = list(assessment.answers or [])
    return [
        item.options[answers[i]].value
        if i < len(answers) and answers[i] is not None and 0 <= answers[i] < len(item.options)
        else None
        for i, item in enumerate(items)
    ]


def observation_to_fhir(assessment: Assessment, patient_fhir_id: str) -> dict[str, Any]:
    instrument = INSTRUMENTS[assessment.instrument]
    code: dict[str, Any] = {"text": f"{instrument.name} total score"}
    if instrument.total_loinc is not None:
        code["coding"] = [{"system": LOINC, "code": instrument.total_loinc.code}]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": observation_id(assessment),
        "status": "amended" if assessment.amends_id else "final",
        "category": [
            {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]},
            {
                "coding": [
                    {
                        "system": US_CORE_CATEGORY,
                        "code": "screening-assessment",
                        "display": "Screening Assessment",
                    }
                ]
            },
        ],
        "code": code,
        "subject": reference("Patient", patient_fhir_id),
        "effectiveDateTime": assessment.taken_on.isoformat(),
        "issued": assessment.recorded_at.isoformat(),
        "valueInteger": assessment.total,
        "interpretation": [{"text": assessment.severity.replace("_", " ")}],
        "derivedFrom": [reference("QuestionnaireResponse", response_id(assessment))],
    }
    points = _points(assessment)
    components = []
    for item in instrument.items:
        value = points[item.number - 1]
        if item.safety and value is not None:
            item_code: dict[str, Any] = {"text": item.en}
            if item.loinc is not None:
                item_code["coding"] = [{"system": LOINC, "code": item.loinc.code}]
            components.append({"code": item_code, "valueInteger": value})
    if components:
        resource["component"] = components
    return resource


def questionnaire_response_to_fhir(assessment: Assessment, patient_fhir_id: str) -> dict[str, Any]:
    instrument = INSTRUMENTS[assessment.instrument]
    points = _points(assessment)
    answers = list(assessment.answers or [])
    items = []
    for i, item in enumerate(instrument.items):
        if points[i] is None:
            continue
        option = item.options[answers[i]]
        coding = (
            {"system": LOINC, "code": option.loinc.code}
            if option.loinc is not None and option.loinc.verified
            else {"system": "urn:cocm:answer", "code": str(option.value)}
        )
        items.append(
            {
                "linkId": str(item.number),
                "text": item.en,
                "answer": [{"valueCoding": {**coding, "display": option.en}}],
            }
        )
    return {
        "resourceType": "QuestionnaireResponse",
        "id": response_id(assessment),
        "questionnaire": questionnaire_url(instrument.code),
        "status": "amended" if assessment.amends_id else "completed",
        "subject": reference("Patient", patient_fhir_id),
        "authored": assessment.recorded_at.isoformat(),
        "item": items,
    }
