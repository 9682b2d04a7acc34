"""Use cases for patients and episodes of care: load rows, apply the domain rules, save.

Callers (views, API, commands) own the transaction.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.signals import post_save
from django.utils import timezone

from cocm.accounts.models import Clinic, Organization, Role, User
from cocm.accounts.scoping import visible_patients
from cocm.domain.consent import (
    ConsentError,
    RevokedPeriod,
    check_disclosures,
    check_renewal,
    check_revocation,
)
from cocm.domain.dates import DateOutOfBounds, check_birth_date, check_record_date
from cocm.domain.diagnoses import DiagnosisCodeError, normalize_icd10cm
from cocm.domain.episodes import (
    ConsentMethod,
    DischargeReason,
    EpisodeFacts,
    EpisodeStatus,
    TransitionError,
    check_transition,
)
from cocm.domain.pediatric import (
    PediatricError,
    check_guardian_contact,
    consent_party,
    guardian_has_access,
    majority_on,
)
from cocm.errors import EditConflict, InvalidRequest
from cocm.registry import bulk_rows
from cocm.registry.models import (
    CareTeamChange,
    CareTeamRole,
    ConsentRevocation,
    Coverage,
    Diagnosis,
    Episode,
    Guardian,
    Patient,
    PediatricSettings,
    StatusChange,
)
from cocm.versions import claimed, seen

# Rows per bulk write or `__in` lookup of the many-row services (SQLite allows 32,766
# parameters per query; Django splits a bulk insert further under its own 999).
BATCH = 2000


def updated_in_place(episode: Episode) -> None:
    """Say that an episode changed through `QuerySet.update()`, which sends no signal: what
    listens for its saves (the stored caseload rows, care.caseload) must hear of it."""
    post_save.send(sender=Episode, instance=episode, created=False)


# `check_consent_party(assent_age=ASK)`: read the organization's assent age (no age is < 0).
ASK = -1

SEARCH_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y")


def search_filter(query: str) -> Q:
    """What "Find patient" matches: the MRN; a birth date (2026-11-23 or 11/23/2026);
    "Last, First"; "First Last" or "Last First"; or the start of either name."""
    query = " ".join(query.split())
    if not query:
        return Q(pk__in=[])
    match = Q(mrn__iexact=query)
    for layout in SEARCH_DATE_FORMATS:
        try:
            match |= Q(birth_date=datetime.strptime(query, layout).date())
        except ValueError:
            continue
    if "," in query:
        family, _, given = (part.strip() for part in query.partition(","))
        return match | (Q(family_name__istartswith=family) & Q(given_name__istartswith=given))
    words = query.split(" ")
    match |= Q(family_name__istartswith=query) | Q(given_name__istartswith=query)
    for cut in range(1, len(words)):
        first, rest = " ".join(words[:cut]), " ".join(words[cut:])
        match |= Q(given_name__istartswith=first, family_name__istartswith=rest)
        match |= Q(family_name__istartswith=first, given_name__istartswith=rest)
    return match


def search_patients(user: User, query: str) -> QuerySet[Patient]:
    """The patients the user may open that match the search (at most 50, by name)."""
    return (
        visible_patients(user, Patient.objects)
        .filter(search_filter(query))
        .order_by("family_name", "given_name")[:50]
    )


def checked_birth_date(birth_date: object, *, as_of: date) -> None:
    """Refuse a birth date outside the domain bounds, naming the field."""
    if not isinstance(birth_date, date):
        raise InvalidRequest("Give the birth date.", "birth_date")
    try:
        check_birth_date(birth_date, as_of=as_of, oldest_age_years=settings.COCM_OLDEST_AGE_YEARS)
    except DateOutOfBounds as error:
        raise InvalidRequest(str(error), "birth_date") from error


def checked_record_date(
    on: date | None, field: str, what: str, *, as_of: date, birth_date: date | None = None
) -> None:
    """Refuse a record date (referral, visit, coverage) outside the domain bounds."""
    if on is None:
        return
    try:
        check_record_date(
            on,
            as_of=as_of,
            what=what,
            birth_date=birth_date,
            years_back=settings.COCM_RECORD_YEARS_BACK,
        )
    except DateOutOfBounds as error:
        raise InvalidRequest(str(error), field) from error


def update_patient(patient: Patient, version: int, **fields: object) -> None:
    """Save demographics only if nobody saved the patient since `version` was read."""
    if "birth_date" in fields:
        checked_birth_date(fields["birth_date"], as_of=patient.organization.today())
    mrn = str(fields.get("mrn", patient.mrn)).strip()
    taken = Patient.objects.filter(organization_id=patient.organization_id, mrn=mrn)
    if taken.exclude(pk=patient.pk).exists():
        raise InvalidRequest(f"A patient with MRN {mrn} is already registered.", "mrn")
    try:
        with transaction.atomic():  # a savepoint: the IntegrityError must not spoil the caller
            updated = Patient.objects.filter(pk=patient.pk, version=version).update(
                **fields, version=F("version") + 1
            )
    except IntegrityError as error:  # a concurrent registration took the MRN
        raise InvalidRequest(f"A patient with MRN {mrn} is already registered.", "mrn") from error
    if not updated:
        raise EditConflict
    patient.refresh_from_db()


def register_patient(
    organization: Organization, *, coverage: "CoverageData | None" = None, **fields: object
) -> Patient:
    """Create a patient, with the payer's coverage if given; the MRN must be new within the
    organization, the birth date sensible. A refusal of the coverage's start date names
    `coverage_starts_on`, as the registration form does."""
    checked_birth_date(fields.get("birth_date"), as_of=organization.today())
    fields["mrn"] = mrn = str(fields.get("mrn", "")).strip()
    if fields.get("email"):
        try:
            validate_email(fields["email"])
        except ValidationError as error:
            raise InvalidRequest("Enter a valid email address.", "email") from error
    if Patient.objects.filter(organization=organization, mrn=mrn).exists():
        raise InvalidRequest(f"A patient with MRN {mrn} is already registered.", "mrn")
    try:
        with transaction.atomic():  # a savepoint: the IntegrityError must not spoil the caller
            patient = Patient.objects.create(organization=organization, **fields)
    except IntegrityError as error:  # a concurrent registration of the same MRN
        raise InvalidRequest(f"A patient with MRN {mrn} is already registered.", "mrn") from error
    if coverage is not None:
        try:
            add_coverage(patient, **vars(coverage))
        except InvalidRequest as error:
            error.field = {"starts_on": "coverage_starts_on"}.get(error.field, error.field)
            raise
    return patient


@dataclass(frozen=True)
class CoverageData:
    payer_kind: str
    starts_on: date
    payer_name: str = ""
    member_id: str = ""


def add_coverage(
    patient: Patient,
    *,
    payer_kind: str,
    starts_on: date,
    ends_on: date | None = None,
    payer_name: str = "",
    member_id: str = "",
) -> Coverage:
    """Record a payer's coverage; dates ordered and within the domain bounds."""
    today = patient.organization.today()
    for value, field in ((starts_on, "starts_on"), (ends_on, "ends_on")):
        if value is None:
            continue
        try:
            check_record_date(
                value,
                as_of=today,
                what="coverage date",
                years_back=settings.COCM_RECORD_YEARS_BACK,
                future_allowed=True,
            )
        except DateOutOfBounds as error:
            raise InvalidRequest(str(error), field) from error
    if ends_on and ends_on < starts_on:
        raise InvalidRequest("The coverage ends before it starts.", "ends_on")
    return Coverage.objects.create(
        patient=patient,
        payer_kind=payer_kind,
        payer_name=payer_name,
        member_id=member_id,
        starts_on=starts_on,
        ends_on=ends_on,
    )


def staff_member(
    organization: Organization, username: str, role: Role, clinic: Clinic, field: str
) -> User:
    """The organization's user with the role in the clinic, by username."""
    user = User.objects.filter(
        organization=organization,
        username=username,
        is_active=True,
        memberships__clinic=clinic,
        memberships__role=role,
    ).first()
    if user is None:
        raise InvalidRequest(f"'{username}' is not a {role.label.lower()} at {clinic.name}.", field)
    return user


TEAM_ROLES = {
    "care_manager": Role.CARE_MANAGER,
    "psychiatric_consultant": Role.PSYCHIATRIC_CONSULTANT,
    "referring_pcp": Role.PCP,
}


def check_team(team: "CareTeam", clinic: Clinic) -> None:
    """Each member of the care team works at the episode's clinic in that role."""
    for field, role in TEAM_ROLES.items():
        member = getattr(team, field)
        if member is None:
            continue
        if not member.is_active or not member.memberships.filter(clinic=clinic, role=role).exists():
            raise InvalidRequest(f"{member} is not a {role.label.lower()} at {clinic.name}.", field)


def change_care_team(episode: Episode, team: "CareTeam", *, version: int, by: User) -> int:
    """Change the episode's care manager, psychiatric consultant and PCP; each change is
    kept (CareTeamChange) and a form that read an older version conflicts. Returns how
    many roles changed."""
    check_team(team, episode.clinic)
    changes = [
        CareTeamChange(
            episode=episode,
            role=CareTeamRole(field),
            from_user_id=getattr(episode, f"{field}_id"),
            to_user=getattr(team, field),
            changed_by=by,
        )
        for field in TEAM_ROLES
        if getattr(episode, f"{field}_id") != getattr(getattr(team, field), "id", None)
    ]
    updated = Episode.objects.filter(pk=episode.pk, version=version).update(
        **{field: getattr(team, field) for field in TEAM_ROLES}, version=F("version") + 1
    )
    if not updated:
        raise EditConflict
    updated_in_place(episode)
    # Saved one by one: each save marks the episode's caseload row changed (care.caseload).
    for change in changes:
        change.save()
    episode.refresh_from_db()
    return len(changes)


def save_coverage(
    patient: Patient, coverage: Coverage | None, *, version: int, **fields: object
) -> Coverage:
    """Add a payer coverage, or change one (e.g. its end date), if nobody saved the
    patient since `version` was read."""
    starts_on, ends_on = fields.get("starts_on"), fields.get("ends_on")
    if isinstance(starts_on, date) and isinstance(ends_on, date) and ends_on < starts_on:
        raise InvalidRequest(
            f"The coverage ends ({ends_on}) before it starts ({starts_on}).", "ends_on"
        )
    if coverage is not None and coverage.patient_id != patient.id:
        raise InvalidRequest("This coverage belongs to another patient.", "coverage")
    updated = Patient.objects.filter(pk=patient.pk, version=version).update(
        version=F("version") + 1
    )
    if not updated:
        raise EditConflict
    coverage = coverage or Coverage(patient=patient)
    for name, value in fields.items():
        setattr(coverage, name, value)
    coverage.save()
    patient.refresh_from_db()
    return coverage


def normalized_codes(codes: list[str], field: str = "diagnoses") -> list[str]:
    normalized = []
    for code in codes:
        try:
            normalized.append(normalize_icd10cm(code))
        except DiagnosisCodeError as error:
            raise InvalidRequest(str(error), field) from error
    return list(dict.fromkeys(normalized))


@dataclass(frozen=True)
class Consent:
    """Consent as documented at enrollment (cocm-rules.md 1.5): the two Medicare
    disclosures are recorded, and written consent may come with its signed scan."""

    obtained_on: date
    method: ConsentMethod
    obtained_by: User | None
    cost_sharing_explained: bool = False
    psychiatric_consultation_explained: bool = False
    document: UploadedFile | None = None
    guardian: Guardian | None = None  # who consented for a minor
    patient_assent: bool = False  # the minor's assent, where the organization requires it


# What a signed consent scan may be, recognised by its first bytes (not by its name).
DOCUMENT_SIGNATURES = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
)


def consent_document_kind(document: UploadedFile, field: str) -> str:
    """The file's type (pdf, png, jpg) if it is a PDF or an image within the size limit."""
    limit = settings.COCM_CONSENT_DOCUMENT_MAX_BYTES
    if document.size is None or document.size > limit:
        raise InvalidRequest(
            f"The file is larger than {limit // (1024 * 1024)} MB; scan it at a lower resolution.",
            field,
        )
    if not document.size:
        raise InvalidRequest("The file is empty.", field)
    document.seek(0)
    head = document.read(8)
    document.seek(0)
    for signature, kind in DOCUMENT_SIGNATURES:
        if head.startswith(signature):
            return kind
    raise InvalidRequest("Upload the signed consent as a PDF, PNG or JPEG file.", field)


def check_consent(
    consent: Consent, patient: Patient | None = None, *, assent_age: int | None = ASK
) -> str | None:
    """Refuse incomplete consent; the type of its scan, if any (`assent_age` as in
    `check_consent_party`)."""
    if patient is not None:
        check_consent_party(consent, patient, assent_age=assent_age)
    try:
        check_disclosures(
            cost_sharing_explained=consent.cost_sharing_explained,
            psychiatric_consultation_explained=consent.psychiatric_consultation_explained,
        )
    except ConsentError as error:
        raise InvalidRequest(error.message, error.field) from error
    if consent.document is None:
        return None
    if consent.method != ConsentMethod.WRITTEN:
        raise InvalidRequest(
            "Only written consent has a signed form to attach.", "consent_document"
        )
    return consent_document_kind(consent.document, "consent_document")


@dataclass(frozen=True)
class CareTeam:
    care_manager: User | None
    psychiatric_consultant: User | None
    referring_pcp: User | None


def team_by_username(
    clinic: Clinic,
    *,
    care_manager: str | None,
    psychiatric_consultant: str | None,
    referring_pcp: str | None,
) -> CareTeam:
    """The care team a request names by username, each a member of the clinic in that role
    (refused on the field that names someone else)."""

    def staff(name: str | None, role: Role, field: str) -> User | None:
        return staff_member(clinic.organization, name, role, clinic, field) if name else None

    return CareTeam(
        care_manager=staff(care_manager, Role.CARE_MANAGER, "care_manager"),
        psychiatric_consultant=staff(
            psychiatric_consultant, Role.PSYCHIATRIC_CONSULTANT, "psychiatric_consultant"
        ),
        referring_pcp=staff(referring_pcp, Role.PCP, "referring_pcp"),
    )


def check_referral(
    patient: Patient,
    clinic: Clinic,
    referred_on: date,
    *,
    as_of: date,
    initiating_visit_on: date | None = None,
) -> None:
    """An episode may open for this patient at this clinic on this referral date."""
    if clinic.organization_id != patient.organization_id:
        raise InvalidRequest("The clinic belongs to another organization.", "clinic_id")
    if referred_on > as_of:
        raise InvalidRequest(f"The referral date {referred_on} is in the future.", "referred_on")
    checked_record_date(
        referred_on, "referred_on", "referral date", as_of=as_of, birth_date=patient.birth_date
    )
    checked_record_date(
        initiating_visit_on,
        "initiating_visit_on",
        "initiating visit date",
        as_of=as_of,
        birth_date=patient.birth_date,
    )


def check_consent_date(consent: Consent, referred_on: date) -> None:
    if consent.obtained_on < referred_on:
        raise InvalidRequest(
            f"Consent ({consent.obtained_on}) cannot precede the referral ({referred_on}).",
            "consent",
        )


def open_episode(
    patient: Patient,
    clinic: Clinic,
    *,
    referred_on: date,
    team: CareTeam,
    diagnoses: list[str],
    consent: Consent | None,
    by: User,
    as_of: date,
    initiating_visit_on: date | None = None,
    billing_program: str = "cocm",
) -> Episode:
    """Open an episode on referral; enroll it at once when consent and a diagnosis exist."""
    check_referral(
        patient, clinic, referred_on, as_of=as_of, initiating_visit_on=initiating_visit_on
    )
    if patient.episodes.open().exists():
        raise InvalidRequest(
            "This patient already has an open episode; discharge it before opening another.",
            "patient_id",
        )
    codes = normalized_codes(diagnoses)
    check_team(team, clinic)
    episode = Episode(
        patient=patient,
        clinic=clinic,
        referred_on=referred_on,
        referring_pcp=team.referring_pcp,
        care_manager=team.care_manager,
        psychiatric_consultant=team.psychiatric_consultant,
        initiating_visit_on=initiating_visit_on,
        billing_program=billing_program,
        status=EpisodeStatus.REFERRED,
        status_changed_on=referred_on,
    )
    try:
        episode.save()
    except IntegrityError as error:  # a concurrent request opened one first
        raise InvalidRequest("This patient already has an open episode.", "patient_id") from error
    StatusChange.objects.create(
        episode=episode, to_status=EpisodeStatus.REFERRED, on=referred_on, changed_by=by
    )
    for code in codes:
        Diagnosis.objects.create(episode=episode, code=code, recorded_by=by)
    if consent is not None and codes:
        enroll(
            episode,
            consent=consent,
            on=max(consent.obtained_on, referred_on),
            by=by,
            as_of=as_of,
        )
    elif consent is not None:
        record_consent(episode, consent)
    return episode


@dataclass(frozen=True)
class Opening:
    """One episode for `open_episodes`: what `open_episode` takes for one patient, and the
    enrollment date when consent and a diagnosis come with it (default: as `open_episode`
    enrolls, on the later of consent and referral)."""

    patient: Patient
    referred_on: date
    team: CareTeam
    diagnoses: list[str]
    consent: Consent | None = None
    enrolled_on: date | None = None


class OpeningsRefused(InvalidRequest):
    """`open_episodes` refused some openings: `errors` pairs each one's index with why."""

    def __init__(self, errors: list[tuple[int, InvalidRequest]]) -> None:
        _, first = errors[0]
        super().__init__(first.message, first.field)
        self.errors = errors


def check_opening(
    opening: Opening, clinic: Clinic, *, as_of: date, assent_age: int | None = ASK
) -> list[str]:
    """The checks `open_episode` and `enroll` make of one new episode, without a query once
    the assent age is known (not: the open episode and the care team, which
    `open_episodes` checks for all at once). Returns the normalized diagnosis codes."""
    patient, referred_on, consent = opening.patient, opening.referred_on, opening.consent
    check_referral(patient, clinic, referred_on, as_of=as_of)
    codes = normalized_codes(opening.diagnoses)
    if consent is None:
        return codes
    if consent.document is not None:
        raise InvalidRequest("Attach a signed form to one episode at a time.", "consent_document")
    check_consent_date(consent, referred_on)
    check_consent(consent, patient, assent_age=assent_age)
    if codes:
        facts = EpisodeFacts(
            status=EpisodeStatus.REFERRED,
            consent_on=consent.obtained_on,
            has_diagnosis=True,
            last_change_on=referred_on,
            referred_on=referred_on,
        )
        try:
            check_transition(facts, EpisodeStatus.ENROLLED, enrollment_date(opening), as_of=as_of)
        except TransitionError as error:
            raise InvalidRequest(str(error), error.field) from error
    return codes


def enrollment_date(opening: Opening) -> date:
    assert opening.consent is not None
    return opening.enrolled_on or max(opening.consent.obtained_on, opening.referred_on)


class Opened(NamedTuple):
    """An episode `open_episodes` opened."""

    id: int
    patient_id: int
    enrolled_on: date | None


def open_episodes(
    clinic: Clinic, openings: list[Opening], *, by: User | None, as_of: date
) -> list[Opened]:
    """The many-row form of `open_episode` (an import): every opening checked as that
    function and `enroll` check one (`check_opening`; a patient with an open episode, a
    care team not at the clinic), all refused together (`OpeningsRefused`), then each table
    written with one statement (`bulk_rows.insert`), so the queries do not grow with each
    episode.

    A bulk insert sends no signal: the caller marks the new episodes' stored caseload rows
    (`care.caseload.mark_changed`). No billing month is counted from an episode without
    contacts, so there is nothing to recount."""
    errors: list[tuple[int, InvalidRequest]] = []
    for team in {opening.team for opening in openings}:
        try:
            check_team(team, clinic)
        except InvalidRequest as error:
            errors.extend((i, error) for i, o in enumerate(openings) if o.team == team)
    already_open = set()
    patient_ids = [o.patient.pk for o in openings]
    for start in range(0, len(patient_ids), BATCH):
        already_open.update(
            Episode.objects.open()
            .filter(patient_id__in=patient_ids[start : start + BATCH])
            .values_list("patient_id", flat=True)
        )
    assent_age = assent_from_age(clinic.organization)
    codes: list[list[str]] = []
    for index, opening in enumerate(openings):
        try:
            if opening.patient.pk in already_open:
                raise InvalidRequest("This patient already has an open episode.", "patient_id")
            codes.append(check_opening(opening, clinic, as_of=as_of, assent_age=assent_age))
        except InvalidRequest as error:
            errors.append((index, error))
            codes.append([])
    if errors:
        raise OpeningsRefused(sorted(errors, key=lambda pair: pair[0]))
    rows = []
    for opening, episode_codes in zip(openings, codes, strict=True):
        consent = opening.consent
        enrolled_on = enrollment_date(opening) if consent and episode_codes else None
        row = {
            "patient_id": opening.patient.pk,
            "clinic_id": clinic.pk,
            "referred_on": opening.referred_on,
            "referring_pcp_id": getattr(opening.team.referring_pcp, "pk", None),
            "care_manager_id": getattr(opening.team.care_manager, "pk", None),
            "psychiatric_consultant_id": getattr(opening.team.psychiatric_consultant, "pk", None),
            "status": str(EpisodeStatus.ENROLLED if enrolled_on else EpisodeStatus.REFERRED),
            "status_changed_on": enrolled_on or opening.referred_on,
            "enrolled_on": enrolled_on,
        }
        if consent is not None:
            row.update(
                consent_on=consent.obtained_on,
                consent_method=str(consent.method),
                consent_obtained_by_id=getattr(consent.obtained_by, "pk", None),
                consent_cost_sharing_explained=consent.cost_sharing_explained,
                consent_psychiatric_consultation_explained=(
                    consent.psychiatric_consultation_explained
                ),
                consent_guardian_id=getattr(consent.guardian, "pk", None),
                consent_patient_assent=consent.patient_assent,
            )
        rows.append(row)
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction stays usable
            bulk_rows.insert(Episode, rows)
    except IntegrityError as error:  # a concurrent request opened one first
        raise InvalidRequest("A patient already has an open episode.", "patient_id") from error
    # The ids the database gave: each patient has one open episode, the one just inserted.
    ids = {}
    for start in range(0, len(patient_ids), BATCH):
        ids.update(
            Episode.objects.open()
            .filter(patient_id__in=patient_ids[start : start + BATCH])
            .values_list("patient_id", "id")
        )
    by_id = getattr(by, "pk", None)
    history, diagnoses, opened = [], [], []
    for row, episode_codes in zip(rows, codes, strict=True):
        episode_id = ids[row["patient_id"]]
        opened.append(Opened(episode_id, row["patient_id"], row["enrolled_on"]))
        referred = str(EpisodeStatus.REFERRED)
        history.append(
            {
                "episode_id": episode_id,
                "to_status": referred,
                "on": row["referred_on"],
                "changed_by_id": by_id,
            }
        )
        if row["enrolled_on"] is not None:
            history.append(
                {
                    "episode_id": episode_id,
                    "from_status": referred,
                    "to_status": str(EpisodeStatus.ENROLLED),
                    "on": row["enrolled_on"],
                    "changed_by_id": by_id,
                }
            )
        diagnoses.extend(
            {"episode_id": episode_id, "code": code, "recorded_by_id": by_id}
            for code in episode_codes
        )
    bulk_rows.insert(StatusChange, history)
    bulk_rows.insert(Diagnosis, diagnoses)
    return opened


def record_consent(episode: Episode, consent: Consent) -> None:
    """Document consent on the episode: date, method, who obtained it, the disclosures."""
    check_consent_date(consent, episode.referred_on)
    kind = check_consent(consent, episode.patient)
    episode.consent_on = consent.obtained_on
    episode.consent_guardian = consent.guardian
    episode.consent_patient_assent = consent.patient_assent
    episode.consent_method = consent.method
    episode.consent_obtained_by = consent.obtained_by
    episode.consent_cost_sharing_explained = consent.cost_sharing_explained
    episode.consent_psychiatric_consultation_explained = consent.psychiatric_consultation_explained
    fields = [
        "consent_on",
        "consent_method",
        "consent_obtained_by",
        "consent_cost_sharing_explained",
        "consent_psychiatric_consultation_explained",
        "consent_guardian",
        "consent_patient_assent",
    ]
    if consent.document is not None:
        episode.consent_document.save(f"consent.{kind}", consent.document, save=False)
        fields.append("consent_document")
    episode.save(update_fields=fields)


def revoke_consent(
    episode: Episode,
    *,
    on: date,
    reason: str,
    by: User,
    as_of: date,
    version: int | None = None,
) -> ConsentRevocation:
    """The patient withdrew consent: from `on`, no minute counts for billing (1.5).

    `version` is the episode version the user saw (default: the one loaded)."""
    expected = seen(episode, version)
    reason = reason.strip()
    try:
        check_revocation(
            consent_on=episode.consent_on,
            revoked_on=on,
            as_of=as_of,
            open_revocation_on=episode.consent_revoked_on,
        )
    except ConsentError as error:
        raise InvalidRequest(error.message, error.field) from error
    if not reason:
        raise InvalidRequest("Say why the patient withdrew consent.", "reason")
    if len(reason) > 500:
        raise InvalidRequest("Keep the reason under 500 characters.", "reason")
    latest = episode.revocations.order_by("-revoked_on").first()
    if latest is not None and latest.renewed_on is not None and on < latest.renewed_on:
        raise InvalidRequest(
            f"The revocation date {on} is before the latest consent ({latest.renewed_on}).", "on"
        )
    # Two users recording the withdrawal at once: one revocation, the other conflicts.
    claimed(episode, expected, consent_revoked_on=on)
    return ConsentRevocation.objects.create(
        episode=episode, revoked_on=on, reason=reason, recorded_by=by
    )


def renew_consent(
    episode: Episode, consent: Consent, *, as_of: date, version: int | None = None
) -> ConsentRevocation:
    """Consent given again after a revocation: minutes count again from its date (1.5).

    `version` is the episode version the user saw (default: the one loaded)."""
    expected = seen(episode, version)
    try:
        check_renewal(
            revoked_on=episode.consent_revoked_on, renewed_on=consent.obtained_on, as_of=as_of
        )
    except ConsentError as error:
        raise InvalidRequest(error.message, error.field) from error
    kind = check_consent(consent, episode.patient)
    revocation = episode.revocations.get(revoked_on=episode.consent_revoked_on, renewed_on=None)
    claimed(episode, expected, consent_revoked_on=None)
    revocation.renewed_on = consent.obtained_on
    revocation.renewed_method = consent.method
    revocation.renewed_by = consent.obtained_by
    if consent.document is not None:
        revocation.renewal_document.save(f"consent.{kind}", consent.document, save=False)
    revocation.save()
    return revocation


def revoked_periods(episode_ids: Iterable[int]) -> dict[int, tuple[RevokedPeriod, ...]]:
    """Each episode's revocations as the billing engine reads them, in one query."""
    periods: dict[int, list[RevokedPeriod]] = {}
    for episode_id, revoked_on, renewed_on in (
        ConsentRevocation.objects.filter(episode_id__in=episode_ids)
        .order_by("revoked_on", "id")
        .values_list("episode_id", "revoked_on", "renewed_on")
    ):
        periods.setdefault(episode_id, []).append(RevokedPeriod(revoked_on, renewed_on))
    return {episode_id: tuple(rows) for episode_id, rows in periods.items()}


def enroll_with_team(
    episode: Episode,
    *,
    diagnoses: Iterable[str],
    care_manager: User | None,
    psychiatric_consultant: User | None,
    consent: Consent | None,
    on: date,
    by: User,
    as_of: date,
    version: int | None = None,
) -> None:
    """The enrollment form: add the diagnoses not yet recorded, name the care manager and
    consultant (an empty choice keeps the current one), then enroll (`version` as in
    `enroll`)."""
    seen(episode, version)
    with transaction.atomic():
        for code in diagnoses:
            if not episode.diagnoses.filter(code=code).exists():
                add_diagnosis(episode, code, onset_on=None, by=by)
        episode.care_manager = care_manager or episode.care_manager
        episode.psychiatric_consultant = psychiatric_consultant or episode.psychiatric_consultant
        episode.save(update_fields=["care_manager", "psychiatric_consultant"])
        enroll(episode, consent=consent, on=on, by=by, as_of=as_of, version=version)


def enroll(
    episode: Episode,
    *,
    consent: Consent | None,
    on: date,
    by: User,
    as_of: date,
    version: int | None = None,
) -> None:
    """Enroll a referred patient: consent documented on or before, and a diagnosis.

    `version` is the episode version the user saw (default: the one loaded): of two users
    enrolling the same patient at once, one enrolls and the other gets EditConflict."""
    seen(episode, version)
    with transaction.atomic():  # the consent goes back if the status change conflicts
        if consent is not None:
            record_consent(episode, consent)
        change_status(episode, EpisodeStatus.ENROLLED, on=on, by=by, as_of=as_of, version=version)


def change_status(
    episode: Episode,
    to: EpisodeStatus,
    *,
    on: date,
    by: User,
    as_of: date,
    reason: DischargeReason | None = None,
    version: int | None = None,
) -> None:
    """Move the episode along the care loop and keep the dated history.

    `version` is the episode version the user saw (default: the one loaded)."""
    expected = seen(episode, version)
    facts = EpisodeFacts(
        status=EpisodeStatus(episode.status),
        consent_on=episode.consent_on,
        has_diagnosis=episode.diagnoses.exists(),
        last_change_on=episode.status_changed_on,
        referred_on=episode.referred_on,
        # The reverse relation of measures.SafetyAlert (registry does not import measures).
        open_safety_alert=episode.safety_alerts.filter(resolved_at__isnull=True).exists(),
    )
    try:
        check_transition(facts, to, on, as_of=as_of, reason=reason)
    except TransitionError as error:
        raise InvalidRequest(str(error), error.field) from error
    StatusChange.objects.create(
        episode=episode,
        from_status=episode.status,
        to_status=to,
        on=on,
        reason=reason or "",
        changed_by=by,
    )
    episode.status = to
    episode.status_changed_on = on
    if to is EpisodeStatus.ENROLLED:
        episode.enrolled_on = on
    if to is EpisodeStatus.DISCHARGED:
        episode.discharged_on = on
        episode.discharge_reason = reason or ""
    # A conditional update: a status form (or API client) that read an older version
    # conflicts instead of overwriting the other user's change.
    updated = Episode.objects.filter(pk=episode.pk, version=expected).update(
        status=episode.status,
        status_changed_on=episode.status_changed_on,
        enrolled_on=episode.enrolled_on,
        discharged_on=episode.discharged_on,
        discharge_reason=episode.discharge_reason,
        version=F("version") + 1,
    )
    if not updated:
        raise EditConflict
    episode.version = expected + 1
    updated_in_place(episode)


def add_diagnosis(episode: Episode, code: str, *, onset_on: date | None, by: User) -> Diagnosis:
    """Add a provisional ICD-10-CM diagnosis to an episode. Diagnoses are only added (none
    is edited in place), so two users adding different codes at once both keep theirs; of
    two adding the same code, one does and the other gets EditConflict naming it."""
    (normalized,) = normalized_codes([code], field="code")
    if episode.diagnoses.filter(code=normalized).exists():
        raise InvalidRequest(f"{normalized} is already recorded on this episode.", "code")
    try:
        with transaction.atomic():  # a savepoint: the IntegrityError must not spoil the caller
            return Diagnosis.objects.create(
                episode=episode, code=normalized, onset_on=onset_on, recorded_by=by
            )
    except IntegrityError as error:  # the same code, added by another user just now
        raise EditConflict(
            f"{normalized} was recorded on this episode by someone else just now; reload to see it."
        ) from error


@dataclass(frozen=True)
class TimelineEntry:
    on: date
    kind: str
    text: str


def timeline(episodes: Iterable[Episode]) -> list[TimelineEntry]:
    """The patient's dated history across episodes, newest first (episodes should come with
    their status changes and diagnoses prefetched)."""
    entries: list[TimelineEntry] = []
    for episode in episodes:
        for change in episode.status_changes.all():
            text = EpisodeStatus(change.to_status).label
            if change.reason:
                text += f" — {DischargeReason(change.reason).label}"
            entries.append(TimelineEntry(change.on, "status", text))
        for diagnosis in episode.diagnoses.all():
            label = f"Diagnosis {diagnosis.code}"
            if diagnosis.description:
                label += f" ({diagnosis.description})"
            recorded_on = timezone.localdate(diagnosis.recorded_at)
            entries.append(TimelineEntry(recorded_on, "diagnosis", label))
        if episode.consent_on is not None:
            entries.append(
                TimelineEntry(
                    episode.consent_on,
                    "consent",
                    f"Consent documented ({episode.consent_method})",
                )
            )
        for revocation in episode.revocations.all():
            entries.append(
                TimelineEntry(
                    revocation.revoked_on,
                    "consent",
                    f"Consent revoked — {revocation.reason}; no minute from this day counts "
                    "for billing",
                )
            )
            if revocation.renewed_on is not None:
                entries.append(
                    TimelineEntry(
                        revocation.renewed_on,
                        "consent",
                        f"Consent given again ({revocation.renewed_method}); minutes count again",
                    )
                )
    return sorted(entries, key=lambda entry: entry.on, reverse=True)


# --------------------------------------------------------------------------- pediatric


def assent_from_age(organization: Organization) -> int | None:
    """The organization's assent age (docs/pediatric.md); 12 unless it set another."""
    settings_row = PediatricSettings.objects.filter(organization=organization).first()
    return settings_row.assent_from_age if settings_row else 12


def set_assent_from_age(organization: Organization, age: int | None) -> None:
    """Save the organization's assent age (docs/pediatric.md)."""
    PediatricSettings.objects.update_or_create(
        organization=organization, defaults={"assent_from_age": age}
    )


def check_consent_party(
    consent: Consent, patient: Patient, *, assent_age: int | None = ASK
) -> None:
    """A minor's consent comes from a guardian with legal authority, with the minor's
    assent from the organization's age (cocm.domain.pediatric.consent_party). `assent_age`:
    that age when the caller has read it already (`assent_from_age`), else it is read."""
    party = consent_party(
        patient.birth_date,
        consent.obtained_on,
        assent_from_age=assent_from_age(patient.organization) if assent_age == ASK else assent_age,
    )
    guardian = consent.guardian
    if guardian is not None:
        if guardian.patient_id != patient.id:
            raise InvalidRequest("That guardian is not this patient's.", "consent_guardian")
        if not guardian.legal_authority:
            raise InvalidRequest(
                f"{guardian} has no legal authority to consent for the patient.",
                "consent_guardian",
            )
    if party.by_guardian and guardian is None:
        raise InvalidRequest(
            "The patient is under 18: a parent or guardian with legal authority consents.",
            "consent_guardian",
        )
    if party.assent_required and not consent.patient_assent:
        raise InvalidRequest(
            "The organization requires the patient's own assent at this age; record it.",
            "patient_assent",
        )


@dataclass(frozen=True)
class GuardianData:
    name: str
    relationship: str
    phone: str = ""
    email: str = ""
    legal_authority: bool = False
    may_receive_links: bool = False
    may_see_results: bool = False
    access_renewed_until: date | None = None


def check_guardian(patient: Patient, data: GuardianData, *, as_of: date) -> None:
    if not data.name.strip():
        raise InvalidRequest("Give the guardian's name.", "name")
    try:
        check_guardian_contact(phone=data.phone, email=data.email)
    except PediatricError as error:
        raise InvalidRequest(error.message, error.field) from error
    if data.email.strip():
        try:
            validate_email(data.email.strip())
        except ValidationError as error:
            raise InvalidRequest("Enter a valid email address.", "email") from error
    renewed = data.access_renewed_until
    if renewed is not None and renewed < majority_on(patient.birth_date):
        raise InvalidRequest(
            f"Access is renewed past the 18th birthday ({majority_on(patient.birth_date)}); "
            "give a later date or leave it empty.",
            "access_renewed_until",
        )
    if renewed is not None and renewed < as_of:
        raise InvalidRequest("The renewal date is in the past.", "access_renewed_until")


def add_guardian(patient: Patient, data: GuardianData, *, as_of: date) -> Guardian:
    """Record a parent or guardian; at least one contact (docs/pediatric.md)."""
    check_guardian(patient, data, as_of=as_of)
    return Guardian.objects.create(patient=patient, **_guardian_fields(data))


GUARDIAN_CHANGED_MEANWHILE = (
    "This guardian's details were changed by someone else while you were editing them; "
    "reload to see them and try again."
)


def update_guardian(
    guardian: Guardian, data: GuardianData, *, as_of: date, version: int | None = None
) -> None:
    """Correct a guardian's details. `version` is the guardian's version the user saw
    (default: the one loaded): of two edits at once, one is kept and the other gets
    EditConflict."""
    expected = seen(guardian, version, conflict=GUARDIAN_CHANGED_MEANWHILE)
    check_guardian(guardian.patient, data, as_of=as_of)
    claimed(guardian, expected, conflict=GUARDIAN_CHANGED_MEANWHILE, **_guardian_fields(data))


def _guardian_fields(data: GuardianData) -> dict[str, object]:
    return {
        "name": data.name.strip(),
        "relationship": data.relationship,
        "phone": data.phone.strip(),
        "email": data.email.strip(),
        "legal_authority": data.legal_authority,
        "may_receive_links": data.may_receive_links,
        "may_see_results": data.may_see_results,
        "access_renewed_until": data.access_renewed_until,
    }


def consenting_guardian(
    patient: Patient, guardian_id: int | None, field: str = "guardian_id"
) -> Guardian | None:
    """The patient's guardian by id (the API names the one who consented, or answered)."""
    if guardian_id is None:
        return None
    guardian = patient.guardians.filter(id=guardian_id).first()
    if guardian is None:
        raise InvalidRequest("No such guardian of this patient.", field)
    return guardian


def guardian_access(guardian: Guardian, on: date) -> bool:
    """Whether the guardian still has access: until the patient's 18th birthday, unless renewed."""
    return guardian_has_access(
        guardian.patient.birth_date, on, renewed_until=guardian.access_renewed_until
    )
