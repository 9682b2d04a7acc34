"""FHIR read and search: registry patients (mapping/patient.py) and imported resources as
stored, clinic-scoped with the registry's own querysets (registry.services)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import F, Q, QuerySet
from django.http import QueryDict

from cocm.accounts.models import User
from cocm.accounts.scoping import visible_episodes, visible_patients
from cocm.care.models import CaseReview, Contact, RelapsePreventionPlan
from cocm.domain.interop import ICD10CM, LOINC, instrument_for_loinc
from cocm.interop.fhir import FhirProblem, as_date
from cocm.interop.identity import patient_by_fhir_id, patient_fhir_ids
from cocm.interop.mapping import episode as episode_mapping
from cocm.interop.mapping import observation as observation_mapping
from cocm.interop.mapping.patient import LOCAL_MRN_SYSTEM, patient_to_fhir
from cocm.interop.mapping.questionnaire import all_questionnaires
from cocm.interop.models import ImportedResource
from cocm.measures.models import Assessment
from cocm.registry.models import Diagnosis, Episode, Patient

SEARCHABLE_TYPES = (
    "Patient",
    "EpisodeOfCare",
    "Condition",
    "Encounter",
    "Observation",
    "Questionnaire",
    "QuestionnaireResponse",
    "CarePlan",
    "Procedure",
)
# Served as imported too (read and search), though the registry has no table of its own.
IMPORTED_ONLY_TYPES = (
    "ServiceRequest",
    "MedicationRequest",
    "Coverage",
    "Organization",
    "Practitioner",
)
SEARCH_PARAMS = {
    "patient": "reference",
    "date": "date",
    "birthdate": "date",
    "code": "token",
    "identifier": "token",
    "_count": "number",
}
CLINICAL_PARAMS = ("patient", "date", "code", "_count")
PARAMS_OF_TYPE = {
    "Patient": ("identifier", "birthdate", "_count"),
    "Questionnaire": ("code", "_count"),
    "Organization": ("_count",),
    "Practitioner": ("_count",),
}


def params_of(resource_type: str) -> tuple[str, ...]:
    """The search parameters a type supports (the CapabilityStatement says the same)."""
    return PARAMS_OF_TYPE.get(resource_type, CLINICAL_PARAMS)


BULK = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition"
DEFAULT_COUNT = 50
MAX_COUNT = 200
DATE_PREFIXES = ("eq", "ne", "lt", "gt", "le", "ge")


@dataclass(frozen=True)
class Native:
    """Registry rows served as one FHIR resource type (mapping/*.py does the mapping)."""

    prefix: str
    rows: Callable[[User], QuerySet[Any]]
    patient_path: str
    date_column: str
    to_fhir: Callable[[Any, str], dict[str, Any]]
    code: Callable[[str, str], Q] | None = None


def _assessments(user: User) -> QuerySet[Assessment]:
    # Imported totals are served as the Observation the EHR sent, not twice.
    return Assessment.objects.filter(
        episode__in=visible_episodes(user, Episode.objects),
        is_current=True,
        imported_from__isnull=True,
    )


def _instrument_code(system: str, code: str) -> Q:
    instrument = instrument_for_loinc(code) if system in ("", LOINC) else None
    return Q(instrument=instrument) if instrument else Q(pk__in=[])


def _icd10cm_code(system: str, code: str) -> Q:
    return Q(code=code.upper()) if system in ("", ICD10CM) else Q(pk__in=[])


NATIVE: dict[str, Native] = {
    "EpisodeOfCare": Native(
        "ep",
        lambda user: (
            visible_episodes(user, Episode.objects)
            .select_related("clinic", "care_manager", "psychiatric_consultant", "referring_pcp")
            .prefetch_related("status_changes", "diagnoses")
        ),
        "patient_id",
        "referred_on",
        episode_mapping.episode_to_fhir,
    ),
    "Condition": Native(
        "dx",
        lambda user: Diagnosis.objects.filter(episode__in=visible_episodes(user, Episode.objects)),
        "episode__patient_id",
        "onset_on",
        episode_mapping.condition_to_fhir,
        _icd10cm_code,
    ),
    "Observation": Native(
        "as",
        _assessments,
        "episode__patient_id",
        "taken_on",
        observation_mapping.observation_to_fhir,
        _instrument_code,
    ),
    "QuestionnaireResponse": Native(
        "qr",
        _assessments,
        "episode__patient_id",
        "taken_on",
        observation_mapping.questionnaire_response_to_fhir,
    ),
    "Encounter": Native(
        "ct",
        lambda user: Contact.objects.filter(
            episode__in=visible_episodes(user, Episode.objects)
        ).select_related("staff"),
        "episode__patient_id",
        "occurred_on",
        episode_mapping.encounter_to_fhir,
    ),
    "CarePlan": Native(
        "rp",
        lambda user: RelapsePreventionPlan.objects.filter(
            episode__in=visible_episodes(user, Episode.objects)
        ).select_related("episode"),
        "episode__patient_id",
        "updated_at__date",
        episode_mapping.care_plan_to_fhir,
    ),
    "Procedure": Native(
        "cr",
        lambda user: CaseReview.objects.filter(
            episode__in=visible_episodes(user, Episode.objects)
        ).select_related("consultant"),
        "episode__patient_id",
        "reviewed_on",
        episode_mapping.procedure_to_fhir,
    ),
}


def capability_statement(base: str) -> dict[str, Any]:
    """What this server really does: the types, interactions and search parameters."""

    def resource(kind: str) -> dict[str, Any]:
        params = params_of(kind)
        described: dict[str, Any] = {
            "type": kind,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": n, "type": SEARCH_PARAMS[n]} for n in params],
        }
        if kind == "Patient":
            described["operation"] = [{"name": "export", "definition": f"{BULK}/patient-export"}]
        return described

    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-01",
        "kind": "instance",
        "software": {"name": "CoCM Registry"},
        "implementation": {"description": "CoCM Registry FHIR R4 server", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Bearer tokens (cocm token create); clinic-scoped access."
                },
                "resource": [
                    *(resource(kind) for kind in SEARCHABLE_TYPES + IMPORTED_ONLY_TYPES),
                    {
                        "type": "Group",
                        "operation": [{"name": "export", "definition": f"{BULK}/group-export"}],
                    },
                ],
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
                "operation": [{"name": "export", "definition": f"{BULK}/export"}],
            }
        ],
    }


def _check_type(resource_type: str) -> None:
    if resource_type not in SEARCHABLE_TYPES + IMPORTED_ONLY_TYPES:
        raise FhirProblem(
            f"Resource type '{resource_type}' is not supported here (see /fhir/metadata).",
            code="not-supported",
            status=404,
        )


def _imported(user: User, resource_type: str) -> QuerySet[ImportedResource]:
    rows = ImportedResource.objects.filter(
        organization_id=user.organization_id, resource_type=resource_type
    )
    if resource_type in {"Organization", "Practitioner"}:
        return rows
    return rows.filter(patient__in=visible_patients(user, Patient.objects))


def read(user: User, resource_type: str, resource_id: str) -> tuple[dict[str, Any], int | None]:
    """The resource and the patient it belongs to; 404 when unknown or not visible."""
    _check_type(resource_type)
    not_found = FhirProblem(
        f"{resource_type}/{resource_id} is not known.", code="not-found", status=404
    )
    if resource_type == "Patient":
        if user.organization is None:
            raise not_found
        patient = patient_by_fhir_id(user.organization, resource_id)
        if (
            patient is None
            or not visible_patients(user, Patient.objects).filter(pk=patient.pk).exists()
        ):
            raise not_found
        return patient_resource(patient, resource_id), patient.pk
    if resource_type == "Questionnaire":
        found = [q for q in all_questionnaires() if q["id"] == resource_id]
        if not found:
            raise not_found
        return found[0], None
    row = _imported(user, resource_type).filter(resource_id=resource_id).first()
    if row is not None:
        return row.body, row.patient_id
    native = NATIVE.get(resource_type)
    prefix, _, number = resource_id.partition("-")
    if native is None or prefix != native.prefix or not number.isdigit() or len(number) > 18:
        raise not_found
    obj = native.rows(user).annotate(_patient=F(native.patient_path)).filter(pk=int(number)).first()
    if obj is None:
        raise not_found
    return native.to_fhir(obj, patient_fhir_ids([obj._patient])[obj._patient]), obj._patient


def patient_resource(patient: Patient, fhir_id: str) -> dict[str, Any]:
    stored = (
        ImportedResource.objects.filter(patient=patient, resource_type="Patient")
        .values_list("body", flat=True)
        .first()
    )
    return stored or patient_to_fhir(patient, fhir_id)


def _date_filter(values: list[str], column: str) -> Q:
    condition = Q()
    for value in values:
        prefix = value[:2] if value[:2] in DATE_PREFIXES else "eq"
        on = as_date(value[2:] if value[:2] in DATE_PREFIXES else value)
        if on is None or not (value[2:] if value[:2] in DATE_PREFIXES else value)[:4].isdigit():
            raise FhirProblem(
                f"date: '{value}' is not a date such as ge2025-01-01.", "date", status=400
            )
        lookups = {"eq": "", "lt": "__lt", "gt": "__gt", "le": "__lte", "ge": "__gte"}
        if prefix == "ne":
            condition &= ~Q(**{column: on})
        else:
            condition &= Q(**{column + lookups[prefix]: on})
    return condition


def _patient_ids(user: User, value: str) -> list[int]:
    fhir_id = value.removeprefix("Patient/")
    if user.organization is None:
        return []
    patient = patient_by_fhir_id(user.organization, fhir_id)
    return [patient.pk] if patient is not None else []


def _count(params: QueryDict) -> tuple[int, int]:
    try:
        count = int(params.get("_count", DEFAULT_COUNT))
        offset = int(params.get("_offset", 0))
    except ValueError as error:
        raise FhirProblem("_count and _offset are whole numbers.", "_count", status=400) from error
    if not 0 <= offset < 10**12:
        raise FhirProblem("_offset is out of range.", "_offset", status=400)
    return max(0, min(count, MAX_COUNT)), offset


def search(
    user: User, resource_type: str, params: QueryDict, base: str
) -> tuple[dict[str, Any], set[int]]:
    """A searchset Bundle of one page, with `link` next when there is more."""
    _check_type(resource_type)
    unknown = [
        name
        for name in params
        if name not in params_of(resource_type) and name not in {"_offset", "_format"}
    ]
    if unknown:
        raise FhirProblem(f"Unsupported search parameter '{unknown[0]}'.", unknown[0], status=400)
    count, offset = _count(params)
    if resource_type == "Patient":
        resources, total, patient_ids = _search_patients(user, params, count, offset)
    elif resource_type == "Questionnaire":
        resources, total, patient_ids = _search_questionnaires(params, count, offset)
    else:
        # The registry's own rows first, then the imported ones.
        native, native_total, patient_ids = _search_native(
            user, resource_type, params, count, offset
        )
        imported_offset = max(0, offset - native_total)
        imported, imported_total, imported_ids = _search_imported(
            user, resource_type, params, count - len(native), imported_offset
        )
        resources, total = native + imported, native_total + imported_total
        patient_ids |= imported_ids
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": [{"relation": "self", "url": _page_url(base, params, offset)}],
        "entry": [
            {
                "fullUrl": f"{base.rstrip('/')}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }
    if offset + count < total and count:
        bundle["link"].append({"relation": "next", "url": _page_url(base, params, offset + count)})
    return bundle, patient_ids


def _page_url(base: str, params: QueryDict, offset: int) -> str:
    query = params.copy()
    query["_offset"] = str(offset)
    return f"{base}?{urlencode(sorted(query.lists()), doseq=True)}"


def _search_patients(
    user: User, params: QueryDict, count: int, offset: int
) -> tuple[list[dict[str, Any]], int, set[int]]:
    patients = visible_patients(user, Patient.objects)
    for value in params.getlist("identifier"):
        system, bar, code = value.rpartition("|")
        if system == LOCAL_MRN_SYSTEM:
            by_identifier = Q(mrn=code)
        elif system:
            by_identifier = Q(identifiers__system=system, identifiers__value=code)
        elif bar:
            by_identifier = Q(identifiers__system="", identifiers__value=code)
        else:
            by_identifier = Q(identifiers__value=code) | Q(mrn=code)
        patients = patients.filter(by_identifier)
    if params.getlist("birthdate"):
        patients = patients.filter(_date_filter(params.getlist("birthdate"), "birth_date"))
    patients = patients.order_by("pk").distinct()
    total = patients.count()
    page = list(patients[offset : offset + count])
    ids = patient_fhir_ids(p.pk for p in page)
    return [patient_resource(p, ids[p.pk]) for p in page], total, {p.pk for p in page}


def _search_questionnaires(
    params: QueryDict, count: int, offset: int
) -> tuple[list[dict[str, Any]], int, set[int]]:
    found = all_questionnaires()
    for value in params.getlist("code"):
        wanted = {token.rpartition("|")[2] for token in value.split(",")}
        found = [
            q for q in found if wanted & {c["code"] for c in q.get("code", [])} or q["id"] in wanted
        ]
    return found[offset : offset + count], len(found), set()


def _search_native(
    user: User, resource_type: str, params: QueryDict, count: int, offset: int
) -> tuple[list[dict[str, Any]], int, set[int]]:
    native = NATIVE.get(resource_type)
    if native is None:
        return [], 0, set()
    rows = native.rows(user).annotate(_patient=F(native.patient_path))
    for value in params.getlist("patient"):
        rows = rows.filter(_patient__in=_patient_ids(user, value))
    for value in params.getlist("code"):
        condition = Q(pk__in=[])
        for token in value.split(","):
            system, _, code = token.rpartition("|")
            if native.code is not None:
                condition |= native.code(system, code)
        rows = rows.filter(condition)
    if params.getlist("date"):
        rows = rows.filter(_date_filter(params.getlist("date"), native.date_column))
    rows = rows.order_by("pk")
    total = rows.count()
    page = list(rows[offset : offset + count]) if offset < total else []
    ids = patient_fhir_ids({obj._patient for obj in page})
    return [native.to_fhir(obj, ids[obj._patient]) for obj in page], total, set(ids)


def _search_imported(
    user: User, resource_type: str, params: QueryDict, count: int, offset: int
) -> tuple[list[dict[str, Any]], int, set[int]]:
    rows = _imported(user, resource_type)
    for value in params.getlist("patient"):
        rows = rows.filter(patient_id__in=_patient_ids(user, value))
    for value in params.getlist("code"):
        condition = Q()
        for token in value.split(","):
            system, bar, code = token.rpartition("|")
            condition |= (
                Q(codes__contains=f" {system}|{code} ") if bar else Q(codes__contains=f"|{code} ")
            )
        rows = rows.filter(condition)
    if params.getlist("date"):
        rows = rows.filter(_date_filter(params.getlist("date"), "effective_on"))
    rows = rows.order_by("effective_on", "pk")
    total = rows.count()
    page = list(rows[offset : offset + count].values_list("body", "patient_id")) if count else []
    return [body for body, _ in page], total, {pid for _, pid in page if pid}
