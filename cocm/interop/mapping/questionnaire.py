"""Questionnaire: one per instrument of cocm/domain/instruments.py (items and answer options
with their LOINC codes where instruments.py marks them verified)."""

from typing import Any

from cocm.domain.instruments import INSTRUMENTS, Instrument, Loinc
from cocm.domain.interop import LOINC
from cocm.interop.mapping.common import questionnaire_id, questionnaire_url


def _coding(code: Loinc | None, display: str) -> list[dict[str, Any]]:
    if code is None or not code.verified:
        return []
    return [{"system": LOINC, "code": code.code, "display": display}]


def questionnaire_to_fhir(instrument: Instrument) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(instrument.code),
        "url": questionnaire_url(instrument.code),
        "name": instrument.code.replace("-", ""),
        "title": instrument.name,
        "status": "active",
        "subjectType": ["Patient"],
        "description": instrument.source,
        "item": [
            {
                "linkId": str(item.number),
                "text": item.en,
                "type": "choice",
                "required": False,
                **({"code": _coding(item.loinc, item.en)} if _coding(item.loinc, item.en) else {}),
                "answerOption": [
                    {
                        "valueCoding": {
                            **(
                                {"system": LOINC, "code": option.loinc.code}
                                if option.loinc is not None and option.loinc.verified
                                else {"system": "urn:cocm:answer", "code": str(option.value)}
                            ),
                            "display": option.en,
                        }
                    }
                    for option in item.options
                ],
            }
            for item in instrument.items
        ],
    }
    if panel := _coding(instrument.panel_loinc, instrument.name):
        resource["code"] = panel
    return resource


def all_questionnaires() -> list[dict[str, Any]]:
    return [questionnaire_to_fhir(instrument) for instrument in INSTRUMENTS.values()]
