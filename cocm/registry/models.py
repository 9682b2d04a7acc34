import uuid
from datetime import date

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cocm.accounts.models import Clinic, Organization, User
from cocm.domain.diagnoses import DiagnosisCodeError, diagnosis_description, normalize_icd10cm
from cocm.domain.episodes import (
    OPEN_STATUSES,
    ConsentMethod,
    DischargeReason,
    EpisodeStatus,
)


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Spanish"
    OTHER = "other", "Other"


def patient_name(family_name: str, given_name: str) -> str:
    """How a patient is named in lists: "Family, Given"."""
    return f"{family_name}, {given_name}"


class Patient(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="patients"
    )
    mrn = models.CharField("MRN", max_length=32)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    sex = models.CharField(max_length=8, choices=Sex.choices)
    preferred_language = models.CharField(
        max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    # The clinic a patient without an episode belongs to (an imported patient); it decides
    # who sees them until an episode names a clinic (accounts.scoping.visible_patients).
    home_clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, null=True, blank=True, related_name="home_patients"
    )
    deceased = models.BooleanField(default=False)
    deceased_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Bumped by every edit; a form that carries an older version is a conflicting edit.
    version = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "mrn"], name="patient_mrn_unique"),
            models.CheckConstraint(condition=Q(sex__in=Sex.values), name="patient_sex_valid"),
        ]
        indexes = [models.Index(fields=["organization", "family_name", "given_name"])]

    def __str__(self) -> str:
        return patient_name(self.family_name, self.given_name)

    def age_on(self, on: date) -> int:
        before_birthday = (on.month, on.day) < (self.birth_date.month, self.birth_date.day)
        return on.year - self.birth_date.year - before_birthday


class PayerKind(models.TextChoices):
    MEDICARE = "medicare", "Medicare"
    MEDICAID = "medicaid", "Medicaid"
    COMMERCIAL = "commercial", "Commercial"
    SELF_PAY = "self_pay", "Self-pay"


class Coverage(models.Model):
    """A payer covering the patient between two dates (open-ended when ends_on is empty)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="coverages")
    payer_kind = models.CharField(max_length=16, choices=PayerKind.choices)
    payer_name = models.CharField(max_length=100, blank=True)
    member_id = models.CharField(max_length=64, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="coverage_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.payer_name or self.get_payer_kind_display()

    def covers(self, on: date) -> bool:
        return self.starts_on <= on and (self.ends_on is None or on <= self.ends_on)


class BillingProgram(models.TextChoices):
    COCM = "cocm", "Collaborative care (CoCM)"
    GENERAL_BHI = "general_bhi", "General behavioral health integration"


def consent_document_path(instance: object, filename: str) -> str:
    """A random name: nothing identifying the patient in the storage path."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"consent/{uuid.uuid4().hex}.{extension}"


class EpisodeQuerySet(models.QuerySet["Episode"]):
    def open(self) -> "EpisodeQuerySet":
        return self.exclude(status=EpisodeStatus.DISCHARGED)

    def visible_to(self, user: User) -> "EpisodeQuerySet":
        return self.filter(clinic_id__in=user.clinic_ids)


class Episode(models.Model):
    """An episode of collaborative care, from the PCP's referral to discharge."""

    Status = models.TextChoices("Status", [(s.name, (s.value, s.label)) for s in EpisodeStatus])
    DischargeReasonChoices = models.TextChoices(
        "DischargeReasonChoices", [(r.name, (r.value, r.label)) for r in DischargeReason]
    )
    ConsentMethodChoices = models.TextChoices(
        "ConsentMethodChoices", [(m.name, (m.value, m.value.capitalize())) for m in ConsentMethod]
    )

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="episodes")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="episodes")
    referred_on = models.DateField()
    referring_pcp = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="referred_episodes", null=True, blank=True
    )
    care_manager = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="managed_episodes", null=True, blank=True
    )
    psychiatric_consultant = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="consulted_episodes", null=True, blank=True
    )
    status = models.CharField(max_length=24, choices=Status.choices, default=EpisodeStatus.REFERRED)
    consent_on = models.DateField(null=True, blank=True)
    consent_method = models.CharField(
        max_length=8, choices=ConsentMethodChoices.choices, blank=True
    )
    consent_obtained_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # The two disclosures Medicare requires with consent (cocm-rules.md 1.5).
    consent_cost_sharing_explained = models.BooleanField(default=False)
    consent_psychiatric_consultation_explained = models.BooleanField(default=False)
    consent_document = models.FileField(upload_to=consent_document_path, blank=True)
    # The revocation in force (empty once consent is given again); history in ConsentRevocation.
    consent_revoked_on = models.DateField(null=True, blank=True)
    # A minor's consent is given by a guardian with legal authority, with the minor's assent
    # from the organization's age (docs/pediatric.md).
    consent_guardian = models.ForeignKey(
        "Guardian", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    consent_patient_assent = models.BooleanField(default=False)
    initiating_visit_on = models.DateField(null=True, blank=True)
    billing_program = models.CharField(
        max_length=16, choices=BillingProgram.choices, default=BillingProgram.COCM
    )
    enrolled_on = models.DateField(null=True, blank=True)
    discharged_on = models.DateField(null=True, blank=True)
    discharge_reason = models.CharField(
        max_length=24, choices=DischargeReasonChoices.choices, blank=True
    )
    status_changed_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=0)  # see Patient.version

    objects = EpisodeQuerySet.as_manager()

    class Meta:
        constraints = [
            # At most one open episode per patient.
            models.UniqueConstraint(
                fields=["patient"],
                condition=~Q(status=EpisodeStatus.DISCHARGED),
                name="episode_one_open_per_patient",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in EpisodeStatus]),
                name="episode_status_valid",
            ),
            # Enrolled or later means consent was documented.
            models.CheckConstraint(
                condition=Q(status=EpisodeStatus.REFERRED)
                | Q(enrolled_on__isnull=True, status=EpisodeStatus.DISCHARGED)
                | Q(consent_on__isnull=False, enrolled_on__isnull=False),
                name="episode_enrolled_has_consent",
            ),
            models.CheckConstraint(
                condition=~Q(status=EpisodeStatus.DISCHARGED)
                | (Q(discharged_on__isnull=False) & ~Q(discharge_reason="")),
                name="episode_discharge_has_reason",
            ),
        ]
        indexes = [
            # The caseload: a care manager's open episodes (a small part of all episodes).
            models.Index(
                fields=["care_manager"],
                condition=~Q(status=EpisodeStatus.DISCHARGED),
                name="episode_open_by_care_manager",
            ),
            models.Index(fields=["care_manager", "status"]),
            models.Index(fields=["clinic", "status"]),
        ]

    def __str__(self) -> str:
        return f"Episode {self.pk} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def validate_icd10cm(value: str) -> None:
    try:
        normalize_icd10cm(value)
    except DiagnosisCodeError as error:
        raise ValidationError(str(error)) from error


class Diagnosis(models.Model):
    """A provisional ICD-10-CM diagnosis on an episode."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="diagnoses")
    code = models.CharField("ICD-10-CM", max_length=8, validators=[validate_icd10cm])
    onset_on = models.DateField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["episode", "code"], name="diagnosis_unique_code"),
        ]
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return self.code

    @property
    def description(self) -> str:
        return diagnosis_description(self.code)


class StatusChange(models.Model):
    """One dated step of an episode's status history."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24)
    on = models.DateField()
    reason = models.CharField(max_length=24, blank=True)
    changed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["on", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status} on {self.on}"


class CareTeamRole(models.TextChoices):
    CARE_MANAGER = "care_manager", "Care manager"
    PSYCHIATRIC_CONSULTANT = "psychiatric_consultant", "Psychiatric consultant"
    REFERRING_PCP = "referring_pcp", "PCP"


class CareTeamChange(models.Model):
    """One change of an episode's care team after the referral (who, from whom, to whom)."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="team_changes")
    role = models.CharField(max_length=24, choices=CareTeamRole.choices)
    from_user = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_user = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.from_user or '—'} → {self.to_user or '—'}"


class ConsentRevocation(models.Model):
    """The patient withdrew consent on a day; no minute from then counts for billing until
    consent is given again (`renewed_on`)."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="revocations")
    revoked_on = models.DateField()
    reason = models.CharField(max_length=500)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    renewed_on = models.DateField(null=True, blank=True)
    renewed_method = models.CharField(
        max_length=8, choices=Episode.ConsentMethodChoices.choices, blank=True
    )
    renewed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    renewal_document = models.FileField(upload_to=consent_document_path, blank=True)

    class Meta:
        ordering = ["revoked_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(renewed_on__isnull=True) | Q(renewed_on__gte=models.F("revoked_on")),
                name="revocation_renewal_after_revocation",
            ),
        ]

    def __str__(self) -> str:
        return f"Consent revoked on {self.revoked_on}"


class Relationship(models.TextChoices):
    MOTHER = "mother", "Mother"
    FATHER = "father", "Father"
    LEGAL_GUARDIAN = "legal_guardian", "Legal guardian"
    GRANDPARENT = "grandparent", "Grandparent"
    FOSTER_PARENT = "foster_parent", "Foster parent"
    OTHER = "other", "Other"


class Guardian(models.Model):
    """A parent or guardian of a patient under 18 (docs/pediatric.md)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="guardians")
    name = models.CharField(max_length=150)
    relationship = models.CharField(max_length=16, choices=Relationship.choices)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    legal_authority = models.BooleanField("Has legal authority to consent", default=False)
    may_receive_links = models.BooleanField("May receive questionnaire links", default=False)
    may_see_results = models.BooleanField("May see results", default=False)
    # Access ends when the patient turns 18 unless renewed up to this day.
    access_renewed_until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=0)  # see Patient.version

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(phone="") | ~Q(email=""), name="guardian_has_a_contact"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relationship_display().lower()})"

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name


class PediatricSettings(models.Model):
    """An organization's rules for minors: from which age the patient's assent is required."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="pediatric_settings"
    )
    # None: assent is not required; else required of minors of this age or older.
    assent_from_age = models.PositiveSmallIntegerField(null=True, blank=True, default=12)

    def __str__(self) -> str:
        return f"Pediatric settings of {self.organization}"
