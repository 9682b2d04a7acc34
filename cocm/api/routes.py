"""The REST API (../shared/API_CONTRACT.md): thin endpoints over the same services as the pages."""

from collections.abc import Callable
from datetime import timedelta
from typing import Literal, TypeVar

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer
from pydantic import TypeAdapter

from cocm.accounts.models import ApiToken, Clinic, TokenScope, User, hash_token
from cocm.accounts.permissions import can
from cocm.accounts.scoping import own_clinic, visible_episodes, visible_patients
from cocm.api.schemas import (
    AmendmentIn,
    AssessmentIn,
    AssessmentOut,
    BillingRowOut,
    CaseloadRowOut,
    ClinicOut,
    ConsentIn,
    ContactEditIn,
    ContactIn,
    ContactOut,
    CoverageIn,
    CoverageOut,
    DiagnosisIn,
    EpisodeIn,
    EpisodeOut,
    ErrorOut,
    PatientIn,
    PatientOut,
    RecommendationOut,
    ResponseIn,
    ReviewIn,
    ReviewOut,
    StatusIn,
)
from cocm.billing import services as billing
from cocm.care import review
from cocm.care import services as care
from cocm.care.caseload import on_caseload, organization_caseload_rows
from cocm.care.models import CaseReview, Contact
from cocm.care.models import Recommendation as CareRecommendation
from cocm.domain.coding import Month
from cocm.domain.episodes import DischargeReason, EpisodeStatus
from cocm.measures import services as measures
from cocm.measures.models import Assessment
from cocm.pages import Audit
from cocm.registry import services
from cocm.registry.models import Coverage, Episode, Patient, StatusChange

T = TypeVar("T")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
        if api_token.scope == TokenScope.READ and request.method not in SAFE_METHODS:
            raise HttpError(403, "This token is read-only.")
        now = timezone.now()
        # Minute precision is enough for "last used", and spares a write per request.
        if api_token.last_used_at is None or now - api_token.last_used_at > timedelta(minutes=1):
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
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


@api.exception_handler(services.EditConflict)
def edit_conflict(request: HttpRequest, error: services.EditConflict) -> HttpResponse:
    return api.create_response(request, {"detail": error.message}, status=409)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    # Ninja answers a body that is not JSON at all with a bare 400; the contract promises
    # a 422 naming what is wrong for every invalid body.
    if error.status_code == 400:
        detail = [{"loc": ["body"], "msg": "The request body is not valid JSON."}]
        return api.create_response(request, {"detail": detail}, status=422)
    return api.create_response(request, {"detail": str(error)}, status=error.status_code)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "Missing or invalid bearer token."}, status=401)


def require(request: HttpRequest, capability: str) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    if not can(user, capability):
        raise HttpError(403, f"Your role does not allow: {capability}.")
    return user


def audited(request: HttpRequest, audit: Audit[T], work: Callable[[], T]) -> T:
    """The endpoint's one service call and its audit event, in one transaction: every
    endpoint that touches patient data goes through here."""
    with transaction.atomic():
        result = work()
        audit.record(request, result, channel="api")
    return result


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
    return {
        "id": episode.id,
        "patient_id": episode.patient_id,
        "clinic_id": episode.clinic_id,
        "status": episode.status,
        "referred_on": episode.referred_on,
        "referring_pcp": username(episode.referring_pcp),
        "care_manager": username(episode.care_manager),
        "psychiatric_consultant": username(episode.psychiatric_consultant),
        "consent": consent_out(episode),
        "initiating_visit_on": episode.initiating_visit_on,
        "billing_program": episode.billing_program,
        "enrolled_on": episode.enrolled_on,
        "discharged_on": episode.discharged_on,
        "discharge_reason": episode.discharge_reason or None,
        "diagnoses": [
            {"code": d.code, "description": d.description, "onset_on": d.onset_on}
            for d in episode.diagnoses.all()
        ],
        "status_history": [status_change_out(change) for change in episode.status_changes.all()],
        "version": episode.version,
    }


def consent_out(episode: Episode) -> dict | None:
    if not episode.consent_on:
        return None
    return {
        "obtained_on": episode.consent_on,
        "method": episode.consent_method,
        "obtained_by": username(episode.consent_obtained_by),
        "cost_sharing_explained": episode.consent_cost_sharing_explained,
        "psychiatric_consultation_explained": episode.consent_psychiatric_consultation_explained,
        "revoked_on": episode.consent_revoked_on,
    }


def status_change_out(change: StatusChange) -> dict:
    return {
        "from_status": change.from_status or None,
        "to_status": change.to_status,
        "on": change.on,
        "reason": change.reason or None,
    }


def load_episode(user: User, episode_id: int) -> Episode:
    return get_object_or_404(
        visible_episodes(user, Episode.objects).select_related(
            "referring_pcp", "care_manager", "psychiatric_consultant", "consent_obtained_by"
        ),
        id=episode_id,
    )


@api.get("/clinics", response={200: list[ClinicOut], **ERRORS}, tags=["clinics"])
def list_clinics(request: HttpRequest) -> list[Clinic]:
    user = require(request, "view_clinics")
    return list(Clinic.objects.filter(id__in=user.clinic_ids).order_by("name"))


@api.post("/patients", response={201: PatientOut, **ERRORS}, tags=["patients"])
def create_patient(request: HttpRequest, payload: PatientIn) -> Status:
    user = require(request, "register_patient")
    patient = audited(
        request,
        Audit("create", "patient", lambda patient: patient.id),
        lambda: services.register_patient(user.organization, **payload.dict()),
    )
    return Status(201, patient_out(patient))


@api.get("/patients/{patient_id}", response={200: PatientOut, **ERRORS}, tags=["patients"])
def get_patient(request: HttpRequest, patient_id: int) -> dict:
    user = require(request, "view_patient")
    patient = get_object_or_404(visible_patients(user, Patient.objects), id=patient_id)
    return audited(request, Audit("view", "patient", patient.id), lambda: patient_out(patient))


@api.post(
    "/patients/{patient_id}/coverages", response={201: CoverageOut, **ERRORS}, tags=["patients"]
)
def add_coverage(request: HttpRequest, patient_id: int, payload: CoverageIn) -> Status:
    user = require(request, "register_patient")
    patient = get_object_or_404(visible_patients(user, Patient.objects), id=patient_id)
    coverage = audited(
        request,
        Audit("create", "coverage", patient.id, lambda coverage: coverage.id),
        lambda: services.add_coverage(patient, **payload.dict()),
    )
    return Status(201, coverage_out(coverage))


@api.post("/episodes", response={201: EpisodeOut, **ERRORS}, tags=["episodes"])
def create_episode(request: HttpRequest, payload: EpisodeIn) -> Status:
    user = require(request, "refer_patient")
    patient = get_object_or_404(visible_patients(user, Patient.objects), id=payload.patient_id)
    clinic = own_clinic(user, payload.clinic_id, "clinic_id")
    episode = audited(
        request,
        Audit("create", "episode", patient.id, lambda episode: episode.id),
        lambda: services.open_episode(
            patient,
            clinic,
            referred_on=payload.referred_on,
            team=services.team_by_username(
                clinic,
                care_manager=payload.care_manager,
                psychiatric_consultant=payload.psychiatric_consultant,
                referring_pcp=payload.referring_pcp,
            ),
            diagnoses=payload.diagnoses,
            consent=consent_given(user, patient, payload.consent),
            by=user,
            as_of=user.organization.today(),
            initiating_visit_on=payload.initiating_visit_on,
            billing_program=payload.billing_program,
        ),
    )
    return Status(201, episode_out(load_episode(user, episode.id)))


def consent_given(
    user: User, patient: Patient, consent: ConsentIn | None
) -> services.Consent | None:
    """The consent the request records, obtained by the token's user."""
    if consent is None:
        return None
    return services.Consent(
        consent.obtained_on,
        consent.method,
        user,
        cost_sharing_explained=consent.cost_sharing_explained,
        psychiatric_consultation_explained=consent.psychiatric_consultation_explained,
        guardian=services.consenting_guardian(patient, consent.guardian_id),
        patient_assent=consent.patient_assent,
    )


@api.get("/episodes/{episode_id}", response={200: EpisodeOut, **ERRORS}, tags=["episodes"])
def get_episode(request: HttpRequest, episode_id: int) -> dict:
    user = require(request, "view_patient")
    episode = load_episode(user, episode_id)
    return audited(
        request,
        Audit("view", "episode", episode.patient_id, episode.id),
        lambda: episode_out(episode),
    )


@api.post(
    "/episodes/{episode_id}/status",
    response={200: EpisodeOut, 409: ErrorOut, **ERRORS},
    tags=["episodes"],
)
def change_status(request: HttpRequest, episode_id: int, payload: StatusIn) -> dict:
    capability = "enroll_patient" if payload.status == "enrolled" else "change_episode_status"
    user = require(request, capability)
    episode = load_episode(user, episode_id)
    audited(
        request,
        Audit("update", "episode status", episode.patient_id, episode.id),
        lambda: services.change_status(
            episode,
            EpisodeStatus(payload.status),
            on=payload.on,
            by=user,
            as_of=user.organization.today(),
            reason=DischargeReason(payload.reason) if payload.reason else None,
            version=payload.version,
        ),
    )
    return episode_out(load_episode(user, episode_id))


@api.post(
    "/episodes/{episode_id}/diagnoses",
    response={201: EpisodeOut, 409: ErrorOut, **ERRORS},
    tags=["episodes"],
)
def add_diagnosis(request: HttpRequest, episode_id: int, payload: DiagnosisIn) -> Status:
    """Add a diagnosis; 409 when another client added the same code at the same moment."""
    user = require(request, "edit_diagnoses")
    episode = load_episode(user, episode_id)
    audited(
        request,
        Audit("create", "diagnosis", episode.patient_id, episode.id),
        lambda: services.add_diagnosis(episode, payload.code, onset_on=payload.onset_on, by=user),
    )
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
                "version",
            )
        },
        "amends": assessment.amends_id,
        "respondent_guardian": (
            str(assessment.respondent_guardian) if assessment.respondent_guardian_id else None
        ),
    }


@api.post(
    "/episodes/{episode_id}/assessments",
    response={201: AssessmentOut, **ERRORS},
    tags=["assessments"],
)
def create_assessment(request: HttpRequest, episode_id: int, payload: AssessmentIn) -> Status:
    user = require(request, "record_assessment")
    episode = load_episode(user, episode_id)
    guardian_id = payload.respondent_guardian_id
    assessment = audited(
        request,
        Audit("create", "assessment", episode.patient_id, lambda assessment: assessment.id),
        lambda: measures.record_assessment(
            episode,
            payload.instrument,
            payload.taken_on,
            payload.answers,
            method=payload.method,
            by=user,
            as_of=user.organization.today(),
            respondent=payload.respondent,
            respondent_guardian=services.consenting_guardian(
                episode.patient, guardian_id, "respondent_guardian_id"
            ),
        ),
    )
    return Status(201, assessment_out(assessment))


@api.get(
    "/episodes/{episode_id}/assessments",
    response={200: list[AssessmentOut], **ERRORS},
    tags=["assessments"],
)
def list_assessments(request: HttpRequest, episode_id: int) -> list[dict]:
    user = require(request, "view_clinical")
    episode = load_episode(user, episode_id)
    return audited(
        request,
        Audit("view", "assessments", episode.patient_id, episode.id),
        lambda: [assessment_out(a) for a in episode.assessments.order_by("taken_on", "id")],
    )


@api.post(
    "/assessments/{assessment_id}/amendments",
    response={201: AssessmentOut, 409: ErrorOut, **ERRORS},
    tags=["assessments"],
)
def amend_assessment(request: HttpRequest, assessment_id: int, payload: AmendmentIn) -> Status:
    user = require(request, "record_assessment")
    original = get_object_or_404(
        Assessment.objects.filter(
            episode__in=visible_episodes(user, Episode.objects)
        ).select_related("episode__patient"),
        id=assessment_id,
    )
    amended = audited(
        request,
        Audit("update", "assessment", original.episode.patient_id, lambda amended: amended.id),
        lambda: measures.amend_assessment(
            original,
            payload.answers,
            taken_on=payload.taken_on or original.taken_on,
            reason=payload.reason,
            by=user,
            as_of=user.organization.today(),
            version=payload.version,
        ),
    )
    return Status(201, assessment_out(amended))


# --------------------------------------------------------------------------- care management


def contact_out(contact: Contact) -> dict:
    return {
        **{
            field: getattr(contact, field)
            for field in (
                "id",
                "episode_id",
                "occurred_on",
                "minutes",
                "mode",
                "activity",
                "role",
                "separately_billed",
                "no_show",
                "version",
            )
        },
        "staff": contact.staff.username,
    }


@api.post("/episodes/{episode_id}/contacts", response={201: ContactOut, **ERRORS}, tags=["care"])
def create_contact(request: HttpRequest, episode_id: int, payload: ContactIn) -> Status:
    user = require(request, "record_contact")
    episode = load_episode(user, episode_id)
    contact = audited(
        request,
        Audit("create", "contact", episode.patient_id, lambda contact: contact.id),
        lambda: care.record_contact(
            episode, staff=user, by=user, as_of=user.organization.today(), **payload.dict()
        ),
    )
    return Status(201, contact_out(contact))


def visible_contact(user: User, contact_id: int) -> Contact:
    return get_object_or_404(
        Contact.objects.filter(episode__in=visible_episodes(user, Episode.objects)).select_related(
            "episode", "staff"
        ),
        id=contact_id,
    )


@api.put(
    "/contacts/{contact_id}", response={200: ContactOut, 409: ErrorOut, **ERRORS}, tags=["care"]
)
def edit_contact(request: HttpRequest, contact_id: int, payload: ContactEditIn) -> dict:
    """Correct a logged contact; 409 when someone changed it since `version`."""
    user = require(request, "record_contact")
    contact = visible_contact(user, contact_id)
    change = care.ContactChange(**payload.dict(exclude={"version"}))
    audited(
        request,
        Audit("update", "contact", contact.episode.patient_id, contact.id),
        lambda: care.edit_contact(
            contact, change, version=payload.version, as_of=user.organization.today()
        ),
    )
    return contact_out(contact)


@api.get(
    "/episodes/{episode_id}/contacts", response={200: list[ContactOut], **ERRORS}, tags=["care"]
)
def list_contacts(request: HttpRequest, episode_id: int) -> list[dict]:
    user = require(request, "view_clinical")
    episode = load_episode(user, episode_id)
    return audited(
        request,
        Audit("view", "contacts", episode.patient_id, episode.id),
        lambda: [contact_out(c) for c in episode.contacts.select_related("staff")],
    )


@api.get("/caseload", response={200: list[CaseloadRowOut], **ERRORS}, tags=["care"])
def caseload(request: HttpRequest, care_manager: str | None = None) -> HttpResponse:
    """Open episodes (and any with an open safety alert) with the tracker's columns and
    flags; `care_manager` is a username."""
    user = require(request, "view_caseload")
    episodes = on_caseload(visible_episodes(user, Episode.objects))
    if care_manager:
        episodes = episodes.filter(care_manager__username=care_manager)
    rows = audited(
        request,
        Audit("view", "caseload"),
        lambda: organization_caseload_rows(user.organization, episodes),
    )
    # Validated and encoded by pydantic-core in one pass: the standard library's encoder
    # took longer than the rest of the request for a caseload of 150.
    validated = CASELOAD_ROWS.validate_python(rows, from_attributes=True)
    return HttpResponse(CASELOAD_ROWS.dump_json(validated), content_type="application/json")


CASELOAD_ROWS = TypeAdapter(list[CaseloadRowOut])


def review_out(review: CaseReview) -> dict:
    return {
        **{
            field: getattr(review, field)
            for field in ("id", "episode_id", "reviewed_on", "minutes", "summary")
        },
        "recommendations": [recommendation_out(r) for r in review.recommendations.all()],
    }


def recommendation_out(recommendation: CareRecommendation) -> dict:
    return {
        field: getattr(recommendation, field)
        for field in (
            "id",
            "episode_id",
            "kind",
            "medication",
            "dose",
            "text",
            "status",
            "response_note",
            "version",
        )
    }


@api.post(
    "/episodes/{episode_id}/reviews",
    response={201: ReviewOut, 409: ErrorOut, **ERRORS},
    tags=["care"],
)
def create_review(request: HttpRequest, episode_id: int, payload: ReviewIn) -> Status:
    user = require(request, "run_caseload_review")
    episode = load_episode(user, episode_id)
    recorded = audited(
        request,
        Audit("create", "caseload review", episode.patient_id, lambda review: review.id),
        lambda: care.record_review(
            episode,
            consultant=user,
            reviewed_on=payload.reviewed_on,
            minutes=payload.minutes,
            summary=payload.summary,
            recommendations=[care.RecommendationInput(**r.dict()) for r in payload.recommendations],
            as_of=user.organization.today(),
            confirm_same_day=payload.confirm_same_day,
            version=payload.version,
        ),
    )
    return Status(201, review_out(recorded))


@api.get("/episodes/{episode_id}/reviews", response={200: list[ReviewOut], **ERRORS}, tags=["care"])
def list_reviews(request: HttpRequest, episode_id: int) -> list[dict]:
    user = require(request, "view_clinical")
    episode = load_episode(user, episode_id)
    return audited(
        request,
        Audit("view", "caseload reviews", episode.patient_id, episode.id),
        lambda: [review_out(r) for r in episode.reviews.prefetch_related("recommendations")],
    )


@api.get("/recommendations", response={200: list[RecommendationOut], **ERRORS}, tags=["care"])
def list_recommendations(
    request: HttpRequest,
    status: Literal["pending", "accepted", "modified", "declined", "all"] = "pending",
) -> list[dict]:
    """The PCP's inbox: recommendations for the PCP's patients (default: still pending)."""
    user = require(request, "answer_recommendation")
    found = CareRecommendation.objects.filter(
        pcp=user, episode__in=visible_episodes(user, Episode.objects)
    )
    if status != "all":
        found = found.filter(status=status)
    return audited(
        request,
        Audit("view", "recommendations"),
        lambda: [recommendation_out(r) for r in found.order_by("created_at")],
    )


@api.post(
    "/recommendations/{recommendation_id}/response",
    response={200: RecommendationOut, 409: ErrorOut, **ERRORS},
    tags=["care"],
)
def answer_recommendation(
    request: HttpRequest, recommendation_id: int, payload: ResponseIn
) -> dict:
    user = require(request, "answer_recommendation")
    recommendation = get_object_or_404(review.visible_recommendations(user), id=recommendation_id)
    audited(
        request,
        Audit("update", "recommendation", recommendation.episode.patient_id, recommendation.id),
        lambda: care.respond(
            recommendation, by=user, as_of=user.organization.today(), **payload.dict()
        ),
    )
    return recommendation_out(recommendation)


# --------------------------------------------------------------------------- billing


@api.get("/billing/{month}", response={200: list[BillingRowOut], **ERRORS}, tags=["billing"])
def billing_month(request: HttpRequest, month: str) -> list[dict]:
    """One row per episode with activity that month, with the engine's decision."""
    user = require(request, "view_billing")
    target = billing.parse_month(month)
    lines = audited(
        request,
        Audit("view", f"billing {target}"),
        lambda: billing.month_lines(
            user.organization, visible_episodes(user, Episode.objects), target
        ),
    )
    return [billing_row_out(line, target) for line in lines]


def billing_row_out(line: billing.BillingLine, month: Month) -> dict:
    return {
        "episode_id": line.episode.id,
        "patient_id": line.episode.patient_id,
        "month": str(month),
        "month_type": str(line.result.month_type),
        "status": line.status,
        "minutes_counted": line.result.minutes_counted,
        "codes": [{"code": str(c.code), "units": c.units} for c in line.result.codes],
        "blocked_reasons": list(line.result.blocked_reasons),
        "minutes_to_next_threshold": line.result.minutes_to_next_threshold,
        "decision": line.result.decision,
        "excluded": [f"{e.minutes} min {e.reason}" for e in line.result.excluded],
        "expected_amount": (
            float(line.expected_amount) if line.expected_amount is not None else None
        ),
    }


api.add_router("/quality/", "cocm.reports.api.router")
# Program indicators (cocm/reports, docs/indicators.md).
from cocm.reports.indicators_api import router as indicators_router  # noqa: E402

api.add_router("/", indicators_router)
api.add_router("/finance", "cocm.finance.api.router")
# GET /patients shares its path with POST /patients, so it joins the default router.
import cocm.interop.api  # noqa: E402, F401
from cocm.registry.api import router as consent_router  # noqa: E402

api.add_router("", consent_router)
