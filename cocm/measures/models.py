import hashlib
import secrets
from datetime import date

from django.db import models
from django.db.models import Q
from django.utils import timezone

from cocm.accounts.models import User
from cocm.domain.instruments import InstrumentCode
from cocm.registry.models import Episode

InstrumentChoices = models.TextChoices(
    "InstrumentChoices", [(code.name, (code.value, code.value)) for code in InstrumentCode]
)


class Method(models.TextChoices):
    IN_CLINIC = "in_clinic", "In clinic"
    PHONE = "phone", "By phone"
    VIDEO = "video", "By video"
    SELF_REPORT = "self_report", "Self-report (patient link)"
    IMPORTED = "imported", "Imported (FHIR, from the EHR)"


class Assessment(models.Model):
    """A scored questionnaire. The score is always computed on the server.

    A correction is a new row that `amends` the old one; the old row stays, with
    `is_current` False, so what was first recorded remains readable.
    """

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="assessments")
    instrument = models.CharField(max_length=16, choices=InstrumentChoices.choices)
    taken_on = models.DateField()
    answers = models.JSONField(help_text="chosen option per item (0-based), null if missing")
    total = models.PositiveSmallIntegerField()
    severity = models.CharField(max_length=24)
    prorated = models.BooleanField(default=False)
    flags = models.JSONField(default=list)
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.IN_CLINIC)
    respondent = models.CharField(max_length=32, default="patient")
    # The guardian who answered, when the respondent is a guardian (docs/pediatric.md).
    respondent_guardian = models.ForeignKey(
        "registry.Guardian", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    administered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    amends = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="amended_by"
    )
    amendment_reason = models.CharField(max_length=200, blank=True)
    is_current = models.BooleanField(default=True)
    # Bumped by every edit (cocm/versions.py); a form carrying an older one conflicts.
    version = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["episode", "instrument", "taken_on"],
                condition=Q(is_current=True),
                name="assessment_current_idx",
            ),
        ]
        ordering = ["taken_on", "id"]

    def __str__(self) -> str:
        return f"{self.instrument} {self.total} on {self.taken_on}"

    @property
    def severity_label(self) -> str:
        return self.severity.replace("_", " ")

    @property
    def respondent_label(self) -> str:
        """Who answered: the patient, or the named guardian (docs/pediatric.md)."""
        if self.respondent_guardian_id:
            return f"guardian: {self.respondent_guardian}"
        return self.respondent


class SafetyAlert(models.Model):
    """A positive suicide-risk item. Open until a clinician documents the follow-up."""

    class Action(models.TextChoices):
        SAFETY_PLAN = "safety_plan", "Spoke with the patient; safety plan reviewed"
        RISK_ASSESSMENT = "risk_assessment", "Suicide risk assessment done"
        CRISIS_SERVICES = "crisis_services", "Crisis services / 988 contacted"
        EMERGENCY = "emergency", "Emergency services / emergency department"
        PCP_INFORMED = "pcp_informed", "PCP or psychiatric consultant informed"
        NOT_REACHED = "not_reached", "Could not reach the patient (outreach continues)"
        OTHER = "other", "Other"

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="safety_alerts")
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="alerts")
    item = models.PositiveSmallIntegerField()
    item_answer = models.PositiveSmallIntegerField()
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The clinician's credentials when they documented the follow-up (e.g. "LCSW"), kept
    # with the record as signed.
    resolved_by_credentials = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=24, choices=Action.choices, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["episode"], condition=Q(resolved_at__isnull=True), name="alert_open_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True)
                | (Q(resolved_by__isnull=False) & ~Q(action="")),
                name="alert_resolution_documented",
            ),
        ]

    def __str__(self) -> str:
        return f"Safety alert on episode {self.episode_id}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def documented_by(self) -> str:
        """Who documented the follow-up, with their credentials as signed."""
        if self.resolved_by is None:
            return ""
        name = self.resolved_by.get_full_name() or self.resolved_by.username
        return f"{name}, {self.resolved_by_credentials}" if self.resolved_by_credentials else name


class Notification(models.Model):
    """A message for one staff member, shown in the product at once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    # The patient it is about: the page names them to a user allowed to see them; the text
    # (also what an email says) names no one.
    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.CharField(max_length=200)
    url = models.CharField(max_length=200, blank=True)
    urgent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.text


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"


class SingleUseLink(models.Model):
    """A secret, expiring, single-use link: the token in the URL is the credential and only
    its digest is stored. Self-report invitations and survey links (cocm/toolkit) are both."""

    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @staticmethod
    def new_token() -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        return token, digest(token)

    def is_usable(self, now: object = None) -> bool:
        return self.completed_at is None and (now or timezone.now()) < self.expires_at


class Invitation(SingleUseLink):
    """A single-use, expiring link for a patient to answer questionnaires on a phone."""

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="invitations")
    instruments = models.JSONField()
    channel = models.CharField(max_length=8, choices=Channel.choices)
    language = models.CharField(max_length=8, default="en")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    reminded_at = models.DateTimeField(null=True, blank=True)
    schedule = models.ForeignKey(
        "Schedule", on_delete=models.SET_NULL, null=True, blank=True, related_name="invitations"
    )
    # Sent to a guardian about the patient (the answers record the guardian as respondent);
    # empty: sent to the patient.
    guardian = models.ForeignKey(
        "registry.Guardian", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["completed_at", "expires_at"])]

    def __str__(self) -> str:
        return f"Invitation {self.pk} ({', '.join(self.instruments)})"

    @property
    def addressee(self) -> str:
        """The first name the page greets: the guardian's, else the patient's."""
        return self.guardian.first_name if self.guardian else self.episode.patient.given_name


class Schedule(models.Model):
    """Send the same questionnaires every N days (e.g. PHQ-9 every 4 weeks)."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="schedules")
    instruments = models.JSONField()
    channel = models.CharField(max_length=8, choices=Channel.choices)
    every_days = models.PositiveSmallIntegerField(default=28)
    next_on = models.DateField()
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["active", "next_on"])]

    def __str__(self) -> str:
        return f"{', '.join(self.instruments)} every {self.every_days} days"

    def is_due(self, today: date) -> bool:
        return self.active and self.next_on <= today


class TreatmentChange(models.Model):
    """A dated change of treatment; the trajectory chart marks it."""

    class Kind(models.TextChoices):
        MEDICATION_START = "medication_start", "Medication started"
        MEDICATION_CHANGE = "medication_change", "Medication changed"
        MEDICATION_STOP = "medication_stop", "Medication stopped"
        PSYCHOTHERAPY = "psychotherapy", "Psychotherapy changed"
        REFERRAL = "referral", "Referred to specialty care"
        OTHER = "other", "Other"

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="treatment_changes")
    on = models.DateField()
    kind = models.CharField(max_length=24, choices=Kind.choices)
    description = models.CharField(max_length=200)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["on", "id"]

    def __str__(self) -> str:
        return f"{self.on}: {self.description}"
