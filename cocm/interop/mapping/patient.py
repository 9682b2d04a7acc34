"""Patient: registry.Patient ↔ FHIR R4 Patient (US Core Patient's must-support elements that
the registry keeps: identifiers, name, gender, birth date, deceased, telecom, language)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from cocm.domain.interop import mrn_index
from cocm.interop.fhir import FhirProblem, as_date
from cocm.registry.models import Language, Patient, Sex

MRN_TYPE = {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
LOCAL_MRN_SYSTEM = "urn:cocm:mrn"


@dataclass
class PatientData:
    """What the registry keeps of a FHIR Patient."""

    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    sex: str
    deceased: bool
    deceased_on: date | None
    phone: str
    email: str
    preferred_language: str
    identifiers: list[tuple[str, str, str]]  # (system, value, type code)
    managing_organization: str | None


def _type_code(identifier: dict[str, Any]) -> str:
    for coding in (identifier.get("type") or {}).get("coding", []):
        if coding.get("code"):
            return str(coding["code"])
    return ""


def patient_from_fhir(body: dict[str, Any], where: str) -> PatientData:
    """The registry's fields of a validated FHIR Patient; FhirProblem naming the field the
    registry cannot do without."""
    identifiers = [
        (str(i.get("system", "")), str(i["value"]), _type_code(i))
        for i in body.get("identifier", [])
        if i.get("value")
    ]
    index = mrn_index([code for _, _, code in identifiers])
    mrn = identifiers[index][1] if index is not None else str(body.get("id", ""))
    if not mrn:
        raise FhirProblem("A patient needs an identifier (its MRN).", f"{where}.identifier")
    if len(mrn) > 32:
        raise FhirProblem(
            f"The MRN '{mrn[:40]}' is longer than 32 characters.",
            f"{where}.identifier[{index or 0}].value",
        )
    names = body.get("name", [])
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else None)
    given = " ".join(name.get("given", [])) if name else ""
    family = str(name.get("family", "")) if name else ""
    if not (given or family):
        raise FhirProblem("A patient needs a name (given or family).", f"{where}.name")
    if len(given) > 100 or len(family) > 100:
        raise FhirProblem("A name is longer than 100 characters.", f"{where}.name[0]")
    birth_date = as_date(body.get("birthDate"))
    if birth_date is None:
        raise FhirProblem("A patient needs a birth date.", f"{where}.birthDate")
    deceased_on = as_date(body.get("deceasedDateTime"))
    deceased = bool(body.get("deceasedBoolean")) or deceased_on is not None
    telecom = body.get("telecom", [])
    phone = next((t["value"] for t in telecom if t.get("system") == "phone" and t.get("value")), "")
    email = next((t["value"] for t in telecom if t.get("system") == "email" and t.get("value")), "")
    languages = [
        coding.get("code", "")
        for communication in body.get("communication", [])
        for coding in (communication.get("language") or {}).get("coding", [])
    ]
    language = next(
        (code[:2] for code in languages if code[:2] in {Language.ENGLISH, Language.SPANISH}),
        Language.ENGLISH if not languages else Language.OTHER,
    )
    managing = (body.get("managingOrganization") or {}).get("reference")
    return PatientData(
        mrn=mrn,
        given_name=given,
        family_name=family,
        birth_date=birth_date,
        sex=body.get("gender") or Sex.UNKNOWN,
        deceased=deceased,
        deceased_on=deceased_on,
        phone=phone[:32],
        email=email if len(email) <= 254 and "@" in email else "",
        preferred_language=language,
        identifiers=identifiers,
        managing_organization=managing,
    )


def patient_to_fhir(patient: Patient, fhir_id: str) -> dict[str, Any]:
    """The registry's patient as a FHIR R4 Patient (its source identifiers kept)."""
    identifiers = [
        {
            **({"type": {"coding": [dict(MRN_TYPE)]}} if i.type_code == "MR" else {}),
            **({"system": i.system} if i.system else {}),
            "value": i.value,
        }
        for i in patient.identifiers.all()
    ]
    if not any(i["value"] == patient.mrn for i in identifiers):
        identifiers.insert(
            0,
            {
                "type": {"coding": [dict(MRN_TYPE)]},
                "system": LOCAL_MRN_SYSTEM,
                "value": patient.mrn,
            },
        )
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": fhir_id,
        "identifier": identifiers,
        "name": [
            {
                "use": "official",
                "family": patient.family_name,
                "given": patient.given_name.split(" ") if patient.given_name else [],
            }
        ],
        "gender": patient.sex,
        "birthDate": patient.birth_date.isoformat(),
    }
    telecom = [{"system": "phone", "value": patient.phone}] if patient.phone else []
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    if telecom:
        resource["telecom"] = telecom
    if patient.deceased_on:
        resource["deceasedDateTime"] = patient.deceased_on.isoformat()
    elif patient.deceased:
        resource["deceasedBoolean"] = True
    if patient.preferred_language in {Language.ENGLISH, Language.SPANISH}:
        resource["communication"] = [
            {
                "language": {
                    "coding": [{"system": "urn:ietf:bcp:47", "code": patient.preferred_language}]
                }
            }
        ]
    if patient.home_clinic_id:
        resource["managingOrganization"] = {
            "reference": f"Organization/clinic-{patient.home_clinic_id}"
        }
    return resource
