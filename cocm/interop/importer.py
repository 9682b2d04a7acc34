"""Import of FHIR R4 transaction and batch Bundles (POST /fhir, `cocm import fhir`).

Each entry is validated with its fhir.resources R4B model and by our own rules
(cocm/domain/interop.py), stored as an ImportedResource, and fed into the registry where the
registry keeps that kind of data (patients; PHQ-9/GAD-7… totals of a patient in an episode of
care; deaths). A transaction is all-or-nothing; a batch stores each valid entry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cocm.accounts.models import Clinic, Organization, User
from cocm.accounts.scoping import visible_patients
from cocm.domain.episodes import DischargeReason, EpisodeStatus
from cocm.domain.instruments import InstrumentCode
from cocm.domain.interop import (
    RESULT_STATUSES,
    date_problem,
    instrument_for_loinc,
    is_known_code_system,
    total_problem,
)
from cocm.interop.feed import feed
from cocm.interop.fhir import (
    FhirProblem,
    as_date,
    codings,
    information,
    is_resource_type,
    operation_outcome,
    validated,
    walk_references,
)
from cocm.interop.identity import patient_by_fhir_id, patient_fhir_ids
from cocm.interop.mapping.patient import PatientData, patient_from_fhir
from cocm.interop.models import ImportedResource, InteropSettings, PatientIdentifier
from cocm.measures.models import Assessment
from cocm.measures.services import imported_total
from cocm.registry import services as registry
from cocm.registry.models import Episode, Patient

# The resource types the registry keeps (docs/interop.md); any other is acknowledged.
KEPT_TYPES = frozenset(
    {
        "Patient",
        "Encounter",
        "Condition",
        "Observation",
        "QuestionnaireResponse",
        "Procedure",
        "ServiceRequest",
        "MedicationRequest",
        "Coverage",
        "Organization",
        "Practitioner",
        "EpisodeOfCare",
        "CarePlan",
    }
)
# The element that names the patient a resource is about.
PATIENT_ELEMENT = {"Coverage": "beneficiary", "EpisodeOfCare": "patient"}
NON_PATIENT_TYPES = frozenset({"Organization", "Practitioner"})
# Types whose feed (cocm.interop.feed) links a registry row to the stored resource.
FED_TYPES = frozenset({"Coverage", "Condition", "Encounter"})
# Coded elements whose code systems we check.
CODED_ELEMENTS = {
    "Observation": ("code",),
    "Condition": ("code",),
    "Procedure": ("code",),
    "ServiceRequest": ("code",),
    "Encounter": ("type",),
    "MedicationRequest": ("medicationCodeableConcept",),
}
# Dates that record something that happened: never in the future, never before 1900.
PAST_DATES = {
    "Patient": ("birthDate", "deceasedDateTime"),
    "Observation": ("effectiveDateTime", "effectivePeriod.start", "issued"),
    "Condition": ("onsetDateTime", "onsetPeriod.start", "abatementDateTime", "recordedDate"),
    "Encounter": ("period.start",),
    "Procedure": ("performedDateTime", "performedPeriod.start"),
    "QuestionnaireResponse": ("authored",),
    "MedicationRequest": ("authoredOn",),
    "ServiceRequest": ("authoredOn",),
}
MAX_ID_LENGTH = 64


@dataclass
class Entry:
    index: int
    method: str
    resource_type: str
    resource_id: str
    body: dict[str, Any]
    full_url: str = ""
    data: PatientData | None = None
    skipped: bool = False
    warnings: list[FhirProblem] = field(default_factory=list)


@dataclass
class ImportContext:
    organization: Organization
    user: User | None
    clinic: Clinic | None
    as_of: date
    rewrite: dict[str, str] = field(default_factory=dict)
    patients: dict[str, Patient] = field(default_factory=dict)  # "Patient/<id>" → patient
    # The bundle's resources already stored, by (type, id), read in one query.
    existing: dict[tuple[str, str], ImportedResource] = field(default_factory=dict)
    episodes: dict[int, list[Episode]] = field(default_factory=dict)  # by patient id
    # New resources not inserted yet: one bulk insert per transaction (or batch entry).
    pending: list[ImportedResource] = field(default_factory=list)

    def flush(self) -> None:
        ImportedResource.objects.bulk_create(self.pending, batch_size=500)
        self.pending.clear()


@dataclass
class ImportResult:
    status: int
    body: dict[str, Any]
    stored: int = 0  # resources created or changed
    patient_ids: set[int] = field(default_factory=set)  # the patients written to (audit)


def import_bundle(
    organization: Organization,
    bundle: object,
    *,
    as_of: date,
    user: User | None = None,
    clinic: Clinic | None = None,
) -> ImportResult:
    """Import a transaction or batch Bundle; answer a transaction-response or
    batch-response Bundle, or an OperationOutcome when the Bundle itself is refused."""
    try:
        kind = bundle_kind(bundle)
    except FhirProblem as problem:
        return ImportResult(problem.status, operation_outcome([problem]))
    assert isinstance(bundle, dict)
    context = ImportContext(organization, user, clinic, as_of)
    raw_entries = bundle.get("entry", [])
    entries: list[Entry | FhirProblem] = []
    for index, raw in enumerate(raw_entries):
        try:
            entries.append(parse_entry(index, raw, context))
        except FhirProblem as problem:
            entries.append(problem)
    for entry in entries:
        if isinstance(entry, Entry) and not entry.skipped:
            reference = f"{entry.resource_type}/{entry.resource_id}"
            context.rewrite[reference] = reference
            if entry.full_url:
                context.rewrite[entry.full_url] = reference
    if kind == "transaction":
        return import_transaction(entries, context)
    return import_batch(entries, context)


def bundle_kind(bundle: object) -> str:
    if not isinstance(bundle, dict):
        raise FhirProblem("The body is not a FHIR resource (a JSON object).", "Bundle", status=400)
    if bundle.get("resourceType") != "Bundle":
        raise FhirProblem(
            f"Expected a Bundle, got resourceType '{bundle.get('resourceType')}'.",
            "Bundle.resourceType",
        )
    if bundle.get("type") not in {"transaction", "batch"}:
        raise FhirProblem(
            f"Bundle.type must be 'transaction' or 'batch', not '{bundle.get('type')}'.",
            "Bundle.type",
        )
    if not isinstance(bundle.get("entry", []), list):
        raise FhirProblem("Bundle.entry must be a list.", "Bundle.entry", code="structure")
    return str(bundle["type"])


def parse_entry(index: int, raw: object, context: ImportContext) -> Entry:
    """Validate one entry's request and resource (no database writes)."""
    where = f"Bundle.entry[{index}]"
    if not isinstance(raw, dict):
        raise FhirProblem("An entry must be a JSON object.", where, code="structure")
    request = raw.get("request") or {}
    method = str(request.get("method", "")).upper()
    url = str(request.get("url", ""))
    resource = raw.get("resource")
    if method not in {"PUT", "POST"}:
        raise FhirProblem(
            f"Only PUT and POST entries are supported, not '{method or 'none'}'.",
            f"{where}.request.method",
            code="not-supported",
        )
    if not isinstance(resource, dict):
        raise FhirProblem("The entry has no resource.", f"{where}.resource", code="required")
    resource_type = str(resource.get("resourceType", ""))
    if resource_type not in KEPT_TYPES:
        if not is_resource_type(resource_type):
            raise FhirProblem(
                f"'{resource_type}' is not a FHIR R4 resource type.",
                f"{where}.resource.resourceType",
            )
        return Entry(index, method, resource_type, "", resource, skipped=True)
    if method == "PUT":
        url_type, _, url_id = url.partition("?")[0].strip("/").partition("/")
        if url_type != resource_type or not url_id or "/" in url_id:
            raise FhirProblem(
                f"request.url must be '{resource_type}/<id>' for a PUT, not '{url}'.",
                f"{where}.request.url",
            )
        if resource.get("id") not in (None, url_id):
            raise FhirProblem(
                f"The resource id '{resource.get('id')}' differs from request.url '{url}'.",
                f"{where}.resource.id",
            )
        resource = {**resource, "id": url_id}
    elif url.strip("/") != resource_type:
        raise FhirProblem(
            f"request.url must be '{resource_type}' for a POST, not '{url}'.",
            f"{where}.request.url",
        )
    _, body = validated(resource, f"{where}.resource")
    entry = Entry(index, method, resource_type, str(body.get("id", "")), body)
    entry.full_url = str(raw.get("fullUrl", ""))
    if method == "POST":
        entry.resource_id = posted_id(body, context)
        body["id"] = entry.resource_id
    if len(entry.resource_id) > MAX_ID_LENGTH:
        raise FhirProblem(f"An id is at most {MAX_ID_LENGTH} characters.", f"{where}.resource.id")
    check_codes(entry, where)
    check_dates(entry, where, context.as_of)
    if resource_type == "Patient":
        entry.data = patient_from_fhir(body, f"{where}.resource")
    return entry


def posted_id(body: dict[str, Any], context: ImportContext) -> str:
    """The id of a POSTed resource: the stored resource with one of its identifiers, else
    one derived from its content, so that posting the same resource again stores nothing."""
    resource_type = body["resourceType"]
    identifiers = body.get("identifier", [])
    for identifier in identifiers if isinstance(identifiers, list) else [identifiers]:
        if not isinstance(identifier, dict) or not identifier.get("value"):
            continue
        if resource_type == "Patient":
            known = (
                PatientIdentifier.objects.filter(
                    patient__organization=context.organization,
                    system=identifier.get("system", ""),
                    value=identifier["value"],
                )
                .values_list("patient_id", flat=True)
                .first()
            )
            if known:
                return patient_fhir_ids([known])[known]
        wanted = {k: identifier[k] for k in ("system", "value") if k in identifier}
        if _json_contains_supported():
            match = (
                ImportedResource.objects.filter(
                    organization=context.organization,
                    resource_type=resource_type,
                    body__identifier__contains=[wanted],
                )
                .values_list("resource_id", flat=True)
                .first()
            )
        else:
            match = _identifier_match(context.organization, resource_type, identifier)
        if match:
            return match
    content = json.dumps({k: v for k, v in body.items() if k != "id"}, sort_keys=True)
    return "h" + hashlib.sha256(content.encode()).hexdigest()[:40]


def _json_contains_supported() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def _identifier_match(
    organization: Organization, resource_type: str, identifier: dict[str, Any]
) -> str | None:
    # SQLite has no JSON containment: compare in Python over the type's resources.
    wanted = (identifier.get("system"), identifier.get("value"))
    rows = ImportedResource.objects.filter(
        organization=organization, resource_type=resource_type
    ).values_list("resource_id", "body")
    for resource_id, body in rows.iterator(chunk_size=500):
        for other in body.get("identifier", []):
            if (other.get("system"), other.get("value")) == wanted:
                return resource_id
    return None


def check_codes(entry: Entry, where: str) -> None:
    body = entry.body
    for element in CODED_ELEMENTS.get(entry.resource_type, ()):
        concepts = body.get(element)
        concept_list = concepts if isinstance(concepts, list) else [concepts]
        for c_index, concept in enumerate(concept_list):
            for k, coding in enumerate(codings(concept)):
                if not is_known_code_system(coding.get("system")):
                    path = f"{element}[{c_index}]" if isinstance(concepts, list) else element
                    raise FhirProblem(
                        f"{entry.resource_type}.{path}: unknown code system "
                        f"'{coding.get('system')}'.",
                        f"{where}.resource.{path}.coding[{k}].system",
                        code="code-invalid",
                    )
    if entry.resource_type == "Observation":
        instrument = observation_instrument(body)
        if instrument is not None and ("valueInteger" in body or "valueQuantity" in body):
            value = body.get("valueInteger", (body.get("valueQuantity") or {}).get("value"))
            problem = total_problem(instrument, value)
            if problem:
                # Kept as the EHR sent it (the measures' logic decides about such values,
                # as CMS159's test case "SecondPHQ9OutofRange" expects) but never scored:
                # no assessment, so neither the chart nor the flags see it.
                key = "valueInteger" if "valueInteger" in body else "valueQuantity.value"
                entry.warnings.append(
                    FhirProblem(
                        f"Observation.{key}: {problem}; kept as sent, not recorded as an "
                        "assessment.",
                        f"{where}.resource.{key}",
                        code="value",
                    )
                )


def observation_instrument(body: dict[str, Any]) -> InstrumentCode | None:
    for coding in codings(body.get("code")):
        if coding.get("system") == "http://loinc.org":
            instrument = instrument_for_loinc(coding.get("code"))
            if instrument:
                return instrument
    return None


def _value_at(body: dict[str, Any], dotted: str) -> object:
    value: object = body
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def check_dates(entry: Entry, where: str, as_of: date) -> None:
    for dotted in PAST_DATES.get(entry.resource_type, ()):
        value = as_date(_value_at(entry.body, dotted))
        problem = date_problem(value, as_of=as_of) if value else None
        if problem:
            raise FhirProblem(
                f"{entry.resource_type}.{dotted}: {problem}.", f"{where}.resource.{dotted}"
            )


def import_transaction(entries: list[Entry | FhirProblem], context: ImportContext) -> ImportResult:
    problems = [e for e in entries if isinstance(e, FhirProblem)]
    if problems:
        return ImportResult(_status(problems), operation_outcome(problems))
    answers: dict[int, dict[str, Any]] = {}
    stored = 0
    try:
        with transaction.atomic():
            for entry in _in_order(entries, context):
                answers[entry.index], changed = store_entry(entry, context)
                stored += changed
            context.flush()
    except FhirProblem as problem:
        return ImportResult(_status([problem]), operation_outcome([problem]))
    except IntegrityError:  # another import stored the same resource meanwhile
        return ImportResult(409, operation_outcome([CONCURRENT]))
    body = {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [answers[i] for i in range(len(entries))],
    }
    return ImportResult(200, body, stored, {p.pk for p in context.patients.values()})


def import_batch(entries: list[Entry | FhirProblem], context: ImportContext) -> ImportResult:
    answers: dict[int, dict[str, Any]] = {}
    stored = 0
    for index, entry in enumerate(entries):
        if isinstance(entry, FhirProblem):
            answers[index] = _failed(entry)
    for entry in _in_order(entries, context):
        try:
            with transaction.atomic():
                answers[entry.index], changed = store_entry(entry, context)
                stored += changed
                context.flush()
        except (FhirProblem, IntegrityError) as error:
            context.pending.clear()
            problem = error if isinstance(error, FhirProblem) else CONCURRENT
            answers[entry.index] = _failed(problem)
            # The savepoint is gone: forget what this entry stored.
            key = (entry.resource_type, entry.resource_id)
            context.existing.pop(key, None)
            stored = ImportedResource.objects.filter(
                organization=context.organization,
                resource_type=entry.resource_type,
                resource_id=entry.resource_id,
            ).first()
            if stored is not None:
                context.existing[key] = stored
            context.patients.pop(f"Patient/{entry.resource_id}", None)
            context.episodes.clear()
    body = {
        "resourceType": "Bundle",
        "type": "batch-response",
        "entry": [answers[i] for i in range(len(entries))],
    }
    # A failed entry's savepoint was rolled back: only patients that still exist count.
    written = {p.pk for p in context.patients.values()}
    existing = set(Patient.objects.filter(pk__in=written).values_list("pk", flat=True))
    return ImportResult(200, body, stored, existing)


CONCURRENT = FhirProblem(
    "Another import stored the same resource at the same time; send the bundle again.",
    "Bundle",
    code="conflict",
    status=409,
)


def _status(problems: list[FhirProblem]) -> int:
    return max(problem.status for problem in problems)


def _failed(problem: FhirProblem) -> dict[str, Any]:
    return {
        "response": {
            "status": f"{problem.status} {STATUS_TEXT.get(problem.status, 'Error')}",
            "outcome": operation_outcome([problem]),
        }
    }


STATUS_TEXT = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    409: "Conflict",
    422: "Unprocessable Entity",
}


def _in_order(entries: list[Entry | FhirProblem], context: ImportContext) -> list[Entry]:
    """Patients first, then what does not belong to a patient, then the rest: so that
    every reference to a patient of the bundle resolves. Reads the stored ones first."""
    ready = [e for e in entries if isinstance(e, Entry)]
    ids_by_type: dict[str, list[str]] = {}
    for entry in ready:
        if not entry.skipped:
            ids_by_type.setdefault(entry.resource_type, []).append(entry.resource_id)
    for resource_type, ids in ids_by_type.items():
        for start in range(0, len(ids), 500):  # SQLite caps the parameters of one query
            rows = ImportedResource.objects.filter(
                organization=context.organization,
                resource_type=resource_type,
                resource_id__in=ids[start : start + 500],
            ).select_related("assessment")
            context.existing.update({(r.resource_type, r.resource_id): r for r in rows})

    rank = {"Patient": 0, "Organization": 1, "Practitioner": 1}
    return sorted(ready, key=lambda e: (rank.get(e.resource_type, 2), e.index))


def store_entry(entry: Entry, context: ImportContext) -> tuple[dict[str, Any], int]:
    """Store one validated entry; its response entry and whether anything changed."""
    where = f"Bundle.entry[{entry.index}]"
    if entry.skipped:
        message = f"{entry.resource_type or 'This resource'} is not kept by the registry; skipped."
        return {"response": {"status": "200 OK", "outcome": information(message)}}, 0
    body = walk_references(entry.body, context.rewrite)
    patient = None
    if entry.resource_type == "Patient":
        assert entry.data is not None
        patient = store_patient(entry, context, where)
    elif entry.resource_type not in NON_PATIENT_TYPES:
        patient = referenced_patient(entry, body, context, where)
    existing = context.existing.get((entry.resource_type, entry.resource_id))
    location = f"{entry.resource_type}/{entry.resource_id}"
    response: dict[str, Any] = {"location": location}
    if entry.warnings:
        response["outcome"] = operation_outcome(entry.warnings, severity="warning")
    if existing is not None:
        if existing.patient_id not in (None, patient.pk if patient else None):
            raise FhirProblem(
                f"{location} already belongs to another patient.",
                f"{where}.request.url",
                code="conflict",
                status=409,
            )
        if existing.body == body and existing.patient_id == (patient.pk if patient else None):
            return {"response": {"status": "200 OK", **response}}, 0
        existing.body = body
        existing.patient = patient
        existing.codes, existing.effective_on = search_columns(body)
        existing.imported_at = timezone.now()  # what `_since` of an export compares
        if existing.pk is not None:  # else still pending: inserted as it is now
            existing.save(update_fields=["body", "patient", "codes", "effective_on", "imported_at"])
        status, changed = "200 OK", 1
        resource = existing
    else:
        codes, effective_on = search_columns(body)
        resource = ImportedResource(
            organization=context.organization,
            patient=patient,
            resource_type=entry.resource_type,
            resource_id=entry.resource_id,
            body=body,
            codes=codes,
            effective_on=effective_on,
        )
        status, changed = "201 Created", 1
        context.existing[(entry.resource_type, entry.resource_id)] = resource
    scored = patient is not None and entry.resource_type == "Observation" and not entry.warnings
    if scored:  # before a new resource is inserted: one INSERT with its assessment
        feed_assessment(resource, patient, context)  # type: ignore[arg-type]
    fed = patient is not None and not scored and entry.resource_type in FED_TYPES
    if status == "201 Created":
        if fed:  # its feed links the registry row to it: it needs its primary key now
            resource.save(force_insert=True)
        else:
            context.pending.append(resource)
    if fed:
        note = feed(resource, patient, context.as_of, context.user)  # type: ignore[arg-type]
        if note:
            warning = FhirProblem(note, f"{where}.resource", code="informational")
            response["outcome"] = operation_outcome([warning], severity="warning")
    return {"response": {"status": status, **response}}, changed


def store_patient(entry: Entry, context: ImportContext, where: str) -> Patient:
    data = entry.data
    assert data is not None
    organization = context.organization
    patient = patient_by_fhir_id(organization, entry.resource_id)
    taken = Patient.objects.filter(organization=organization, mrn=data.mrn)
    if patient is not None:
        taken = taken.exclude(pk=patient.pk)
    other = taken.first()
    if other is not None:
        raise FhirProblem(
            f"The MRN {data.mrn} already belongs to another patient of this organization.",
            f"{where}.resource.identifier",
            code="conflict",
            status=409,
        )
    if (
        patient is not None
        and context.user is not None
        and not visible_patients(context.user, Patient.objects).filter(pk=patient.pk).exists()
    ):
        raise FhirProblem(
            f"Patient/{entry.resource_id} is not a patient you can see.",
            f"{where}.request.url",
            code="forbidden",
            status=403,
        )
    fields = {
        "mrn": data.mrn,
        "given_name": data.given_name,
        "family_name": data.family_name,
        "birth_date": data.birth_date,
        "sex": data.sex,
        "deceased": data.deceased,
        "deceased_on": data.deceased_on,
        "phone": data.phone,
        "email": data.email,
        "preferred_language": data.preferred_language,
    }
    if patient is None:
        clinic = home_clinic(data, context, where)
        patient = Patient.objects.create(organization=organization, home_clinic=clinic, **fields)
    else:
        changed = [name for name, value in fields.items() if getattr(patient, name) != value]
        for name in changed:
            setattr(patient, name, fields[name])
        if changed:
            patient.version += 1
            patient.save(update_fields=[*changed, "version"])
    for system, value, type_code in data.identifiers:
        PatientIdentifier.objects.get_or_create(
            patient=patient,
            system=system[:255],
            value=value[:255],
            defaults={"type_code": type_code[:32]},
        )
    if data.deceased:
        record_death(patient, data.deceased_on, context)
    context.patients[f"Patient/{entry.resource_id}"] = patient
    return patient


def home_clinic(data: PatientData, context: ImportContext, where: str) -> Clinic:
    """managingOrganization when it names a clinic of the organization, else the import's
    clinic, else the organization's import clinic, else its first clinic."""
    clinics = Clinic.objects.filter(organization=context.organization)
    reference = data.managing_organization or ""
    if reference.startswith("Organization/"):
        org_id = reference.removeprefix("Organization/")
        if org_id.startswith("clinic-") and org_id[7:].isdigit():
            found = clinics.filter(pk=int(org_id[7:])).first()
            if found:
                return found
        named = (
            ImportedResource.objects.filter(
                organization=context.organization, resource_type="Organization", resource_id=org_id
            )
            .values_list("body", flat=True)
            .first()
        )
        name = (named or {}).get("name")
        found = clinics.filter(name__iexact=name).first() if name else None
        if found:
            return found
    if context.clinic is not None:
        return context.clinic
    settings = InteropSettings.objects.filter(organization=context.organization).first()
    if settings and settings.import_clinic_id:
        return settings.import_clinic  # type: ignore[return-value]
    first = clinics.order_by("pk").first()
    if first is None:
        raise FhirProblem("The organization has no clinic to import patients into.", where)
    return first


def record_death(patient: Patient, on: date | None, context: ImportContext) -> None:
    """A death discharges the patient's open episode (reason deceased) when the episode's
    history allows that date."""
    episode = Episode.objects.open().filter(patient=patient).first()
    if episode is None or on is None:
        return
    try:
        with transaction.atomic():
            registry.change_status(
                episode,
                EpisodeStatus.DISCHARGED,
                on=on,
                by=context.user,  # type: ignore[arg-type]
                as_of=context.as_of,
                reason=DischargeReason.DECEASED,
            )
    except registry.InvalidRequest:
        pass  # e.g. a death dated before the last status change: the patient still shows it


def referenced_patient(
    entry: Entry, body: dict[str, Any], context: ImportContext, where: str
) -> Patient | None:
    element = PATIENT_ELEMENT.get(entry.resource_type, "subject")
    reference = (
        (body.get(element) or {}).get("reference") if isinstance(body.get(element), dict) else None
    )
    if not reference:
        if entry.resource_type in {"Observation", "Condition", "Encounter", "Procedure"}:
            raise FhirProblem(
                f"{entry.resource_type}.{element} must name the patient.",
                f"{where}.resource.{element}",
                code="required",
            )
        return None
    if reference in context.patients:
        return context.patients[reference]
    if "://" in reference and not reference.startswith("urn:"):
        # A patient on another server: kept as the reference it is, with no registry patient.
        return None
    kind, _, fhir_id = reference.partition("/")
    patient = patient_by_fhir_id(context.organization, fhir_id) if kind == "Patient" else None
    if (
        patient is not None
        and context.user is not None
        and not visible_patients(context.user, Patient.objects).filter(pk=patient.pk).exists()
    ):
        patient = None
    if patient is None:
        raise FhirProblem(
            f"{entry.resource_type}.{element}: '{reference[:80]}' is not a patient of this "
            "organization (in the bundle or already imported).",
            f"{where}.resource.{element}.reference",
            code="not-found",
        )
    context.patients[reference] = patient
    return patient


def feed_assessment(resource: ImportedResource, patient: Patient, context: ImportContext) -> None:
    """A total score of one of our instruments, for a patient in an episode of care on that
    date, becomes (or updates) an imported assessment of the episode."""
    body = resource.body
    instrument = observation_instrument(body)
    total = body.get("valueInteger", (body.get("valueQuantity") or {}).get("value"))
    taken_on = as_date(
        body.get("effectiveDateTime") or (body.get("effectivePeriod") or {}).get("start")
    )
    existing = resource.assessment
    if (
        instrument is None
        or total is None
        or taken_on is None
        or body.get("status") not in RESULT_STATUSES
    ):
        if existing is not None and existing.is_current:
            existing.is_current = False
            existing.save(update_fields=["is_current"])
        return
    if patient.pk not in context.episodes:
        context.episodes[patient.pk] = list(
            Episode.objects.filter(patient=patient).order_by("-referred_on", "-pk")
        )
    episode = next(
        (
            e
            for e in context.episodes[patient.pk]
            if e.referred_on <= taken_on
            and (e.discharged_on is None or e.discharged_on >= taken_on)
        ),
        None,
    )
    if episode is None:
        return
    scored = Assessment(
        **imported_total(episode.pk, instrument, taken_on, int(total), sex=patient.sex)
    )
    if existing is None:
        scored.save()
        resource.assessment = scored
        if resource.pk is not None:  # a new resource is inserted with it
            resource.save(update_fields=["assessment"])
        return
    for name in ("episode_id", "instrument", "taken_on", "total", "severity", "flags"):
        setattr(existing, name, getattr(scored, name))
    existing.is_current = True
    existing.save()


# Where a resource's date is (the first present), for the `date` search parameter.
DATE_ELEMENTS = (
    "effectiveDateTime",
    "effectivePeriod.start",
    "onsetDateTime",
    "onsetPeriod.start",
    "recordedDate",
    "period.start",
    "performedDateTime",
    "performedPeriod.start",
    "authored",
    "authoredOn",
    "birthDate",
)
CODE_ELEMENTS = ("code", "type", "category", "medicationCodeableConcept", "class")


def search_columns(body: dict[str, Any]) -> tuple[str, date | None]:
    """The codes (" system|code " tokens) and the date a resource is searched by."""
    tokens = []
    for element in CODE_ELEMENTS:
        value = body.get(element)
        for concept in value if isinstance(value, list) else [value]:
            if isinstance(concept, dict) and "code" in concept and "coding" not in concept:
                concept = {"coding": [concept]}  # Encounter.class is a Coding
            for coding in codings(concept):
                tokens.append(f"{coding.get('system', '')}|{coding.get('code', '')}")
    on = next(
        (d for d in (as_date(_value_at(body, e)) for e in DATE_ELEMENTS) if d is not None), None
    )
    return (" " + " ".join(tokens) + " " if tokens else ""), on
