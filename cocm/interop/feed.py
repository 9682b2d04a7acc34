"""What the registry makes of an imported resource (docs/interop.md, docs/rules.md 8).

An imported Coverage becomes a registry Coverage (billing reads its payer), a depression or
anxiety Condition a diagnosis of the patient's open episode, an E/M encounter the episode's
initiating visit. Each registry row is written as a page would write it (the caseload rows
and billing see it through the same signals); the imported resource keeps a link to it so
that a changed resource changes it rather than adding another. Encounters, procedures,
orders, medications and conditions are shown on the chart from the imported resources
themselves (cocm.interop.chart).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cocm.accounts.models import User
from cocm.domain.diagnoses import DiagnosisCodeError, normalize_icd10cm
from cocm.domain.interop import (
    ICD10CM,
    SOPT,
    condition_stands,
    is_episode_diagnosis,
    is_initiating_visit,
    payer_kind_from_sopt,
)
from cocm.errors import InvalidRequest
from cocm.interop.fhir import as_date, codings
from cocm.interop.models import ImportedResource
from cocm.registry import services as registry
from cocm.registry.models import Coverage, Episode, Patient


def feed(resource: ImportedResource, patient: Patient, as_of: date, user: User | None) -> str:
    """Feed a stored (new or changed) resource into the registry; a note when the registry
    could not take what it says (kept as imported all the same), else ''."""
    if resource.resource_type == "Coverage":
        return feed_coverage(resource, patient)
    if resource.resource_type == "Condition":
        return feed_condition(resource, patient, user)
    if resource.resource_type == "Encounter":
        feed_encounter(resource, patient, as_of)
    return ""


def _first_code(concept: object, system: str) -> str | None:
    return next((c.get("code") for c in codings(concept) if c.get("system") == system), None)


def _status_code(concept: object) -> str | None:
    return next((c.get("code") for c in codings(concept)), None)


def coverage_fields(body: dict[str, Any]) -> dict[str, Any] | None:
    """The registry Coverage an active FHIR Coverage is, None when it names no payer kind
    or start we can bill by."""
    kind = payer_kind_from_sopt(_first_code(body.get("type"), SOPT))
    period = body.get("period") or {}
    starts_on = as_date(period.get("start"))
    if body.get("status") != "active" or kind is None or starts_on is None:
        return None
    payors = body.get("payor") or [{}]
    member_id = body.get("subscriberId") or next(
        (
            i.get("value", "")
            for i in body.get("identifier", [])
            if _status_code((i.get("type") or {})) == "MB"
        ),
        "",
    )
    return {
        "payer_kind": kind,
        "payer_name": str(payors[0].get("display", ""))[:100],
        "member_id": str(member_id)[:64],
        "starts_on": starts_on,
        "ends_on": as_date(period.get("end")),
    }


def feed_coverage(resource: ImportedResource, patient: Patient) -> str:
    fields = coverage_fields(resource.body)
    linked = resource.coverage
    if fields is None:
        if linked is not None:  # cancelled, or no longer a payer we bill by
            resource.coverage = None
            resource.save(update_fields=["coverage"])
            if not linked.imported_from.exclude(pk=resource.pk).exists():
                linked.delete()
        return (
            "Coverage: not an active coverage with a Source of Payment Typology type "
            "(Medicare, Medicaid, commercial, self-pay) and a start date; kept as imported, "
            "not a registry coverage."
        )
    if linked is None:
        # A coverage the care team already recorded is the same coverage, not another.
        linked = Coverage.objects.filter(
            patient=patient, payer_kind=fields["payer_kind"], starts_on=fields["starts_on"]
        ).first()
    if linked is None:
        try:
            linked = registry.add_coverage(patient, **fields)
        except InvalidRequest as error:
            return f"Coverage: {error.message} Kept as imported, not a registry coverage."
    elif any(getattr(linked, name) != value for name, value in fields.items()):
        if fields["ends_on"] and fields["ends_on"] < fields["starts_on"]:
            return "Coverage: the period ends before it starts; the registry coverage is unchanged."
        for name, value in fields.items():
            setattr(linked, name, value)
        linked.save()
    if resource.coverage_id != linked.pk:
        resource.coverage = linked
        resource.save(update_fields=["coverage"])
    return ""


def episode_diagnosis_code(body: dict[str, Any]) -> str | None:
    """The depression or anxiety ICD-10-CM code of a Condition that stands, else None."""
    if not condition_stands(
        _status_code(body.get("clinicalStatus")), _status_code(body.get("verificationStatus"))
    ):
        return None
    for coding in codings(body.get("code")):
        if coding.get("system") != ICD10CM or not isinstance(coding.get("code"), str):
            continue
        try:
            code = normalize_icd10cm(coding["code"])
        except DiagnosisCodeError:
            continue
        if is_episode_diagnosis(code):
            return code
    return None


def feed_condition(resource: ImportedResource, patient: Patient, user: User | None) -> str:
    body = resource.body
    code = episode_diagnosis_code(body)
    if code is None:
        return ""
    episode = Episode.objects.open().filter(patient=patient).first()
    if episode is None:
        return ""  # not in collaborative care: the measures read it as imported
    onset_on = as_date(body.get("onsetDateTime") or (body.get("onsetPeriod") or {}).get("start"))
    diagnosis = episode.diagnoses.filter(code=code).first()
    if diagnosis is None:
        diagnosis = registry.add_diagnosis(episode, code, onset_on=onset_on, by=user)  # type: ignore[arg-type]
    elif diagnosis.onset_on is None and onset_on is not None:
        diagnosis.onset_on = onset_on
        diagnosis.save(update_fields=["onset_on"])
    if resource.diagnosis_id != diagnosis.pk:
        resource.diagnosis = diagnosis
        resource.save(update_fields=["diagnosis"])
    return ""


def feed_encounter(resource: ImportedResource, patient: Patient, as_of: date) -> None:
    body = resource.body
    visit_on = as_date((body.get("period") or {}).get("start"))
    types = [(c.get("system"), c.get("code")) for t in body.get("type", []) for c in codings(t)]
    if body.get("status") != "finished" or visit_on is None or not is_initiating_visit(types):
        return
    episode = Episode.objects.open().filter(patient=patient).first()
    if episode is None:
        return
    started_on = episode.enrolled_on or as_of
    recorded = episode.initiating_visit_on
    if visit_on <= started_on and (recorded is None or recorded < visit_on):
        episode.initiating_visit_on = visit_on
        episode.version += 1
        episode.save(update_fields=["initiating_visit_on", "version"])
