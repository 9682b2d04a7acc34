"""Test data builders that set only what a test is about."""

from datetime import date
from itertools import count

from cocm.accounts.models import Clinic, ClinicSetting, Membership, Organization, Role, User
from cocm.care import services as care
from cocm.care.models import Activity, CaseReview, Contact, Mode
from cocm.measures import services as measures
from cocm.measures.models import Assessment, Method
from cocm.registry import services
from cocm.registry.models import Episode, Patient

_numbers = count(1)
TODAY = date(2026, 11, 23)


def organization(name: str = "Test Health") -> Organization:
    org, _ = Organization.objects.get_or_create(name=name, defaults={"time_zone": "UTC"})
    return org


def clinic(
    org: Organization | None = None, name: str | None = None, setting: str = ClinicSetting.PRACTICE
) -> Clinic:
    return Clinic.objects.create(
        organization=org or organization(),
        name=name or f"Clinic {next(_numbers)}",
        setting=setting,
    )


def user(
    role: str = Role.CARE_MANAGER,
    *clinics: Clinic,
    username: str | None = None,
    password: str = "correct horse battery staple",
) -> User:
    clinics = clinics or (clinic(),)
    member = User.objects.create_user(
        username=username or f"{role}{next(_numbers)}",
        password=password,
        organization=clinics[0].organization,
        first_name="Test",
        last_name=role.replace("_", " ").title(),
    )
    for each in clinics:
        Membership.objects.create(user=member, clinic=each, role=role)
    return member


def add_role(member: User, role: str, where: Clinic) -> User:
    Membership.objects.create(user=member, clinic=where, role=role)
    member.__dict__.pop("_roles", None)
    member.__dict__.pop("_clinic_ids", None)
    return member


def patient(org: Organization | None = None, **fields: object) -> Patient:
    number = next(_numbers)
    defaults = {
        "mrn": f"T{number:06d}",
        "given_name": "Alex",
        "family_name": f"Rivera{number}",
        "birth_date": date(1980, 5, 17),
        "sex": "female",
    }
    return Patient.objects.create(organization=org or organization(), **{**defaults, **fields})


def episode(
    where: Clinic,
    by: User,
    *,
    the_patient: Patient | None = None,
    referred_on: date = date(2026, 9, 1),
    diagnoses: tuple[str, ...] = ("F32.1",),
    consent_on: date | None = None,
    care_manager: User | None = None,
    psychiatric_consultant: User | None = None,
) -> Episode:
    consent = (
        services.Consent(
            consent_on,
            "verbal",
            by,
            cost_sharing_explained=True,
            psychiatric_consultation_explained=True,
        )
        if consent_on
        else None
    )
    return services.open_episode(
        the_patient or patient(where.organization),
        where,
        referred_on=referred_on,
        team=services.CareTeam(care_manager or by, psychiatric_consultant, None),
        diagnoses=list(diagnoses),
        consent=consent,
        by=by,
        as_of=TODAY,
    )


def contact(
    the_episode: Episode,
    on: date,
    minutes: int = 20,
    *,
    staff: User | None = None,
    **fields: object,
) -> Contact:
    """A care-management contact through the service (so the caseload and billing see it);
    the episode's care manager's phone follow-up unless `fields` say otherwise."""
    staff = staff or the_episode.care_manager
    defaults: dict[str, object] = {"mode": Mode.PHONE, "activity": Activity.FOLLOW_UP}
    return care.record_contact(
        the_episode,
        occurred_on=on,
        minutes=minutes,
        staff=staff,
        by=staff,
        as_of=TODAY,
        **{**defaults, **fields},  # type: ignore[arg-type]
    )


def assessment(
    the_episode: Episode,
    on: date,
    answers: list[int | None],
    instrument: str = "PHQ-9",
    **fields: object,
) -> Assessment:
    """A scored measure through the service, taken in clinic by the care manager."""
    by = fields.pop("by", None) or the_episode.care_manager
    return measures.record_assessment(
        the_episode,
        instrument,
        on,
        answers,
        method=str(fields.pop("method", Method.IN_CLINIC)),
        by=by,  # type: ignore[arg-type]
        as_of=TODAY,
        **fields,  # type: ignore[arg-type]
    )


def recommendation(kind: str = "change_medication", **fields: str) -> care.RecommendationInput:
    """What the consultant recommends (a medication change unless told otherwise)."""
    defaults = (
        {"medication": "sertraline", "dose": "100 mg daily"} if kind.endswith("medication") else {}
    )
    return care.RecommendationInput(kind, **{**defaults, **fields})


def review(
    the_episode: Episode,
    on: date,
    *recommendations: care.RecommendationInput,
    consultant: User | None = None,
    summary: str = "Reviewed on the caseload.",
    minutes: int = 10,
) -> CaseReview:
    """A psychiatric caseload review through the service, with its recommendations."""
    consultant = consultant or the_episode.psychiatric_consultant
    if consultant is None:
        raise ValueError("The episode has no psychiatric consultant: pass one.")
    return care.record_review(
        the_episode,
        consultant=consultant,
        reviewed_on=on,
        minutes=minutes,
        summary=summary,
        recommendations=list(recommendations),
        as_of=TODAY,
    )
