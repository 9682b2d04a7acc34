"""Test data builders that set only what a test is about."""

from datetime import date
from itertools import count

from cocm.accounts.models import Clinic, ClinicSetting, Membership, Organization, Role, User
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
