"""EpisodeOfCare (registry.Episode: status history, care team), Condition (registry.Diagnosis,
ICD-10-CM), CarePlan (care.RelapsePreventionPlan), Encounter (care.Contact, minutes and mode)
and Procedure (care.CaseReview, the psychiatric consultant's caseload review)."""

from typing import Any

from cocm.care.models import Activity, CaseReview, Contact, Mode, RelapsePreventionPlan
from cocm.domain.episodes import EpisodeStatus
from cocm.domain.interop import ICD10CM
from cocm.interop.mapping.common import clinic_reference, reference, staff
from cocm.registry.models import Diagnosis, Episode

EPISODE_STATUS = {
    EpisodeStatus.REFERRED: "planned",
    EpisodeStatus.ENROLLED: "active",
    EpisodeStatus.ACTIVE: "active",
    EpisodeStatus.RELAPSE_PREVENTION: "active",
    EpisodeStatus.DISCHARGED: "finished",
}
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ENCOUNTER_CLASS = {
    Mode.IN_PERSON: ("AMB", "ambulatory"),
    Mode.PHONE: ("VR", "virtual"),
    Mode.VIDEO: ("VR", "virtual"),
    Mode.SECURE_MESSAGE: ("VR", "virtual"),
    Mode.TEXT: ("VR", "virtual"),
}
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def _period(start: object, end: object) -> dict[str, str]:
    period = {"start": start.isoformat()}  # type: ignore[attr-defined]
    if end is not None:
        period["end"] = end.isoformat()  # type: ignore[attr-defined]
    return period


def episode_to_fhir(episode: Episode, patient_fhir_id: str) -> dict[str, Any]:
    changes = list(episode.status_changes.all())
    history = []
    for index, change in enumerate(changes):
        following = changes[index + 1].on if index + 1 < len(changes) else None
        if index + 1 == len(changes):
            break  # the current status is `status`; the history holds the earlier ones
        history.append(
            {
                "status": EPISODE_STATUS[EpisodeStatus(change.to_status)],
                "period": _period(change.on, following),
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "EpisodeOfCare",
        "id": f"ep-{episode.pk}",
        "status": EPISODE_STATUS[EpisodeStatus(episode.status)],
        "statusHistory": history,
        "type": [{"text": f"Collaborative care: {episode.get_status_display()}"}],
        "diagnosis": [
            {"condition": reference("Condition", f"dx-{d.pk}", d.code)}
            for d in episode.diagnoses.all()
        ],
        "patient": reference("Patient", patient_fhir_id),
        "managingOrganization": clinic_reference(episode.clinic_id, episode.clinic.name),
        "period": _period(episode.referred_on, episode.discharged_on),
    }
    if not history:
        del resource["statusHistory"]
    if not resource["diagnosis"]:
        del resource["diagnosis"]
    if episode.care_manager is not None:
        resource["careManager"] = staff(episode.care_manager)
    team = [
        f"{label}: {user}"
        for label, user in (
            ("care manager", episode.care_manager),
            ("psychiatric consultant", episode.psychiatric_consultant),
            ("referring PCP", episode.referring_pcp),
        )
        if user is not None
    ]
    if team:
        resource["team"] = [{"display": "; ".join(team)}]
    return resource


def condition_to_fhir(diagnosis: Diagnosis, patient_fhir_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"dx-{diagnosis.pk}",
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
        "verificationStatus": {
            "coding": [{"system": CONDITION_VERIFICATION, "code": "provisional"}]
        },
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}],
        "code": {
            "coding": [
                {"system": ICD10CM, "code": diagnosis.code, "display": diagnosis.description}
            ]
        },
        "subject": reference("Patient", patient_fhir_id),
        "recordedDate": diagnosis.recorded_at.isoformat(),
    }
    if diagnosis.onset_on:
        resource["onsetDateTime"] = diagnosis.onset_on.isoformat()
    return resource


# Labels by value (a dict lookup: get_FOO_display is slow over a whole export).
ACTIVITY_LABELS: dict[str, str] = {value: str(label) for value, label in Activity.choices}
MODE_LABELS: dict[str, str] = {value: str(label) for value, label in Mode.choices}


def encounter_to_fhir(contact: Contact, patient_fhir_id: str) -> dict[str, Any]:
    code, display = ENCOUNTER_CLASS[Mode(contact.mode)]
    start = (
        contact.started_at.isoformat() if contact.started_at else contact.occurred_on.isoformat()
    )
    return {
        "resourceType": "Encounter",
        "id": f"ct-{contact.pk}",
        "status": "cancelled" if contact.no_show else "finished",
        "class": {"system": ACT_CODE, "code": code, "display": display},
        "type": [
            {"text": ACTIVITY_LABELS.get(contact.activity, contact.activity)},
            {"text": f"Mode: {MODE_LABELS.get(contact.mode, contact.mode)}"},
        ],
        "subject": reference("Patient", patient_fhir_id),
        "episodeOfCare": [reference("EpisodeOfCare", f"ep-{contact.episode_id}")],
        "participant": [{"individual": staff(contact.staff)}],
        "period": {"start": start},
        "length": {
            "value": contact.minutes,
            "unit": "min",
            "system": "http://unitsofmeasure.org",
            "code": "min",
        },
    }


def care_plan_to_fhir(plan: RelapsePreventionPlan, patient_fhir_id: str) -> dict[str, Any]:
    return {
        "resourceType": "CarePlan",
        "id": f"rp-{plan.pk}",
        "status": "active" if plan.episode.is_open else "completed",
        "intent": "plan",
        "title": "Relapse prevention plan",
        "category": [{"text": "Relapse prevention plan"}],
        "subject": reference("Patient", patient_fhir_id),
        "created": plan.updated_at.isoformat(),
        "note": [
            {"text": f"Warning signs: {plan.warning_signs}"},
            {"text": f"Coping steps: {plan.coping_steps}"},
            {"text": f"Whom to call: {plan.whom_to_call}"},
        ],
    }


def procedure_to_fhir(review: CaseReview, patient_fhir_id: str) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": f"cr-{review.pk}",
        "status": "completed",
        "code": {"text": "Psychiatric consultant caseload review"},
        "subject": reference("Patient", patient_fhir_id),
        "performedDateTime": review.reviewed_on.isoformat(),
        "performer": [{"actor": staff(review.consultant)}],
        "note": [{"text": f"{review.minutes} minutes. {review.summary}"}],
    }
