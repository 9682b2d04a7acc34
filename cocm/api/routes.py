"""The REST API (../shared/API_CONTRACT.md): thin endpoints over the same services as the pages."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer

from cocm.accounts.audit import record_access
from cocm.accounts.models import ApiToken, Clinic, Role, User, hash_token
from cocm.accounts.permissions import can
from cocm.api.schemas import (
    AmendmentIn,
    AssessmentIn,
    AssessmentOut,
    ClinicOut,
    CoverageIn,
    CoverageOut,
    DiagnosisIn,
    EpisodeIn,
    EpisodeOut,
    ErrorOut,
    PatientIn,
    PatientOut,
    StatusIn,
)
from cocm.domain.episodes import DischargeReason, EpisodeStatus
from cocm.measures import services as measures
from cocm.measures.models import Assessment
from cocm.registry import services
from cocm.registry.models import Coverage, Episode, Patient


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        api_token = (
            ApiToken.objects.active()
            .select_related("user__organization")
            .filter(digest=hash_token(token))
            .first()
        )
        if api_token is None:
            return None
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=timezone.now())
        return api_token.user


api = NinjaAPI(
    title="CoCM Registry API",
    version="1",
    auth=BearerToken(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@api.exception_handler(services.InvalidRequest)
def invalid_request(request: HttpRequest, error: services.InvalidRequest) -> HttpResponse:
    return api.create_response(
        request, {"detail": [{"loc": ["body", error.field], "msg": error.message}]}, status=422
    )


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "Missing or invalid bearer token."}, status=401)


def require(request: HttpRequest, capability: str) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    if not can(user, capability):
        raise HttpError(403, f"Your role does not allow: {capability}.")
    return user


def audit(
    request: HttpRequest,
    action: str,
    what: str,
    patient_id: int | None,
    object_id: int | None = None,
) -> None:
    record_access(
        request,
        action,
        what,
        patient_id=patient_id,
        object_id=object_id,
        channel="api",
        user=request.auth,
    )  # type: ignore[attr-defined]


def patient_out(patient: Patient) -> dict:
    return {
        **{field: getattr(patient, field) for field in PatientIn.model_fields},
        "id": patient.id,
        "coverages": [coverage_out(c) for c in patient.coverages.all()],
    }


def coverage_out(coverage: Coverage) -> dict:
    return {
        field: getattr(coverage, field)
        for field in ("id", "payer_kind", "payer_name", "member_id", "starts_on", "ends_on")
    }


def username(user: User | None) -> str | None:
    return user.username if user else None


def episode_out(episode: Episode) -> dict:
    consent = None
    if episode.consent_on:
        consent = {
            "obtained_on": episode.consent_on,
            "method": episode.consent_method,
            "obtained_by": username(episode.consent_obtained_by),
        }
    return {
        "id": episode.id,
        "patient_id": episode.patient_id,
        "clinic_id": episode.clinic_id,
        "status": episode.status,
        "referred_on": episode.referred_on,
        "referring_pcp": username(episode.referring_pcp),
        "care_manager": username(episode.care_manager),
        "psychiatric_consultant": username(episode.psychiatric_consultant),
        "consent": consent,
        "initiating_visit_on": episode.initiating_visit_on,
        "billing_program": episode.billing_program,
        "enrolled_on": episode.enrolled_on,
        "discharged_on": episode.discharged_on,
        "discharge_reason": episode.discharge_reason or None,
        "diagnoses": [
            {"code": d.code, "description": d.description, "onset_on": d.onset_on}
            for d in episode.diagnoses.all()
        ],
        "status_history": [
            {
                "from_status": change.from_status or None,
                "to_status": change.to_status,
                "on": change.on,
                "reason": change.reason or None,
            }
            for change in episode.status_changes.all()
        ],
    }


def load_episode(user: User, episode_id: int) -> Episode:
    return get_object_or_404(
        services.visible_episodes(user).select_related(
            "referring_pcp", "care_manager", "psychiatric_consultant", "consent_obtained_by"
        ),
        id=episode_id,
    )


@api.get("/clinics", response={200: list[ClinicOut], **ERRORS}, tags=["clinics"])
def list_clinics(request: HttpRequest) -> list[Clinic]:
    user: User = request.auth  # type: ignore[attr-defined]
    return list(Clinic.objects.filter(id__in=user.clinic_ids).order_by("name"))


@api.post("/patients", response={201: PatientOut, **ERRORS}, tags=["patients"])
def create_patient(request: HttpRequest, payload: PatientIn) -> Status:
    user = require(request, "register_patient")
    data = payload.dict()
    data["mrn"] = data["mrn"].strip()
    if data["email"]:
        try:
            validate_email(data["email"])
        except DjangoValidationError as error:
            raise services.InvalidRequest("Enter a valid email address.", "email") from error
    if data["birth_date"] > user.organization.today():
        raise services.InvalidRequest("The birth date is in the future.", "birth_date")
    with transaction.atomic():
        patient = services.register_patient(user.organization, **data)
        audit(request, "create", "patient", patient.id)
    return Status(201, patient_out(patient))


@api.get("/patients/{patient_id}", response={200: PatientOut, **ERRORS}, tags=["patients"])
def get_patient(request: HttpRequest, patient_id: int) -> dict:
    user = require(request, "view_patient")
    patient = get_object_or_404(services.visible_patients(user), id=patient_id)
    audit(request, "view", "patient", patient.id)
    return patient_out(patient)


@api.post(
    "/patients/{patient_id}/coverages", response={201: CoverageOut, **ERRORS}, tags=["patients"]
)
def add_coverage(request: HttpRequest, patient_id: int, payload: CoverageIn) -> Status:
    user = require(request, "register_patient")
    patient = get_object_or_404(services.visible_patients(user), id=patient_id)
    if payload.ends_on and payload.ends_on < payload.starts_on:
        raise services.InvalidRequest("The coverage ends before it starts.", "ends_on")
    with transaction.atomic():
        coverage = Coverage.objects.create(patient=patient, **payload.dict())
        audit(request, "create", "coverage", patient.id, coverage.id)
    return Status(201, coverage_out(coverage))


@api.post("/episodes", response={201: EpisodeOut, **ERRORS}, tags=["episodes"])
def create_episode(request: HttpRequest, payload: EpisodeIn) -> Status:
    user = require(request, "refer_patient")
    patient = get_object_or_404(services.visible_patients(user), id=payload.patient_id)
    clinic = Clinic.objects.filter(id=payload.clinic_id, id__in=user.clinic_ids).first()
    if clinic is None:
        raise services.InvalidRequest("Unknown clinic or not one of yours.", "clinic_id")
    org = user.organization

    def staff(name: str | None, role: Role, field: str) -> User | None:
        return services.staff_member(org, name, role, clinic, field) if name else None

    team = services.CareTeam(
        care_manager=staff(payload.care_manager, Role.CARE_MANAGER, "care_manager"),
        psychiatric_consultant=staff(
            payload.psychiatric_consultant, Role.PSYCHIATRIC_CONSULTANT, "psychiatric_consultant"
        ),
        referring_pcp=staff(payload.referring_pcp, Role.PCP, "referring_pcp"),
    )
    consent = None
    if payload.consent:
        consent = services.Consent(payload.consent.obtained_on, payload.consent.method, user)
    with transaction.atomic():
        episode = services.open_episode(
            patient,
            clinic,
            referred_on=payload.referred_on,
            team=team,
            diagnoses=payload.diagnoses,
            consent=consent,
            by=user,
            as_of=org.today(),
            initiating_visit_on=payload.initiating_visit_on,
            billing_program=payload.billing_program,
        )
        audit(request, "create", "episode", patient.id, episode.id)
    return Status(201, episode_out(load_episode(user, episode.id)))


@api.get("/episodes/{episode_id}", response={200: EpisodeOut, **ERRORS}, tags=["episodes"])
def get_episode(request: HttpRequest, episode_id: int) -> dict:
    user = require(request, "view_patient")
    episode = load_episode(user, episode_id)
    audit(request, "view", "episode", episode.patient_id, episode.id)
    return episode_out(episode)


@api.post("/episodes/{episode_id}/status", response={200: EpisodeOut, **ERRORS}, tags=["episodes"])
def change_status(request: HttpRequest, episode_id: int, payload: StatusIn) -> dict:
    capability = "enroll_patient" if payload.status == "enrolled" else "change_episode_status"
    user = require(request, capability)
    episode = load_episode(user, episode_id)
    with transaction.atomic():
        services.change_status(
            episode,
            EpisodeStatus(payload.status),
            on=payload.on,
            by=user,
            as_of=user.organization.today(),
            reason=DischargeReason(payload.reason) if payload.reason else None,
        )
        audit(request, "update", "episode status", episode.patient_id, episode.id)
    return episode_out(load_episode(user, episode_id))


@api.post(
    "/episodes/{episode_id}/diagnoses", response={201: EpisodeOut, **ERRORS}, tags=["episodes"]
)
def add_diagnosis(request: HttpRequest, episode_id: int, payload: DiagnosisIn) -> Status:
    user = require(request, "edit_diagnoses")
    episode = load_episode(user, episode_id)
    with transaction.atomic():
        services.add_diagnosis(episode, payload.code, onset_on=payload.onset_on, by=user)
        audit(request, "create", "diagnosis", episode.patient_id, episode.id)
    return Status(201, episode_out(load_episode(user, episode_id)))


def assessment_out(assessment: Assessment) -> dict:
    return {
        **{
            field: getattr(assessment, field)
            for field in (
                "id",
                "episode_id",
                "instrument",
                "taken_on",
                "answers",
                "total",
                "severity",
                "prorated",
                "flags",
                "method",
                "respondent",
                "is_current",
            )
        },
        "amends": assessment.amends_id,
    }


@api.post(
    "/episodes/{episode_id}/assessments",
    response={201: AssessmentOut, **ERRORS},
    tags=["assessments"],
)
def create_assessment(request: HttpRequest, episode_id: int, payload: AssessmentIn) -> Status:
    user = require(request, "record_assessment")
    episode = load_episode(user, episode_id)
    with transaction.atomic():
        assessment = measures.record_assessment(
            episode,
            payload.instrument,
            payload.taken_on,
            payload.answers,
            method=payload.method,
            by=user,
            as_of=user.organization.today(),
            respondent=payload.respondent,
        )
        audit(request, "create", "assessment", episode.patient_id, assessment.id)
    return Status(201, assessment_out(assessment))


@api.get(
    "/episodes/{episode_id}/assessments",
    response={200: list[AssessmentOut], **ERRORS},
    tags=["assessments"],
)
def list_assessments(request: HttpRequest, episode_id: int) -> list[dict]:
    user = require(request, "view_clinical")
    episode = load_episode(user, episode_id)
    audit(request, "view", "assessments", episode.patient_id, episode.id)
    return [assessment_out(a) for a in episode.assessments.order_by("taken_on", "id")]


@api.post(
    "/assessments/{assessment_id}/amendments",
    response={201: AssessmentOut, **ERRORS},
    tags=["assessments"],
)
def amend_assessment(request: HttpRequest, assessment_id: int, payload: AmendmentIn) -> Status:
    user = require(request, "record_assessment")
    original = get_object_or_404(
        Assessment.objects.filter(episode__in=services.visible_episodes(user)).select_related(
            "episode__patient"
        ),
        id=assessment_id,
    )
    with transaction.atomic():
        amended = measures.amend_assessment(
            original,
            payload.answers,
            taken_on=payload.taken_on or original.taken_on,
            reason=payload.reason,
            by=user,
            as_of=user.organization.today(),
        )
        audit(request, "update", "assessment", original.episode.patient_id, amended.id)
    return Status(201, assessment_out(amended))
