"""Small pieces every registry → FHIR mapping uses."""

from typing import Any

OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
QUESTIONNAIRE_BASE = "urn:cocm:Questionnaire/"


def reference(kind: str, fhir_id: str, display: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"reference": f"{kind}/{fhir_id}"}
    if display:
        out["display"] = display
    return out


def clinic_reference(clinic_id: int, name: str = "") -> dict[str, Any]:
    return reference("Organization", f"clinic-{clinic_id}", name)


def staff(user: object) -> dict[str, Any] | None:
    return {"display": str(user)} if user is not None else None


def questionnaire_id(instrument: str) -> str:
    """`PHQ-9` → `phq-9`: the id of an instrument's Questionnaire."""
    return instrument.lower()


def questionnaire_url(instrument: str) -> str:
    return QUESTIONNAIRE_BASE + questionnaire_id(instrument)
