import hashlib
import secrets
import zoneinfo
from datetime import date

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone such as America/Chicago.")


class Organization(models.Model):
    """A practice or health system; its time zone decides dates and calendar months."""

    name = models.CharField(max_length=200, unique=True)
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def today(self) -> date:
        return timezone.localdate(timezone=self.tz)


class ClinicSetting(models.TextChoices):
    PRACTICE = "practice", "Practice"
    FQHC = "fqhc", "Federally qualified health center"
    RHC = "rhc", "Rural health clinic"


class Clinic(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="clinics")
    name = models.CharField(max_length=200)
    setting = models.CharField(
        max_length=16, choices=ClinicSetting.choices, default=ClinicSetting.PRACTICE
    )
    phone = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="clinic_name_unique"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    CARE_MANAGER = "care_manager", "Care manager (BHCM)"
    PSYCHIATRIC_CONSULTANT = "psychiatric_consultant", "Psychiatric consultant"
    PCP = "pcp", "Primary care provider"
    BILLING = "billing", "Billing"
    ORG_ADMIN = "org_admin", "Organization admin"


class User(AbstractUser):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="users", null=True, blank=True
    )
    credentials = models.CharField(max_length=32, blank=True, help_text="e.g. LCSW, MD, NP")

    def __str__(self) -> str:
        name = self.get_full_name() or self.username
        return f"{name}, {self.credentials}" if self.credentials else name

    @property
    def roles(self) -> frozenset[str]:
        # Cached per instance: permission checks ask for roles many times per request.
        if not hasattr(self, "_roles"):
            self._roles = frozenset(self.memberships.values_list("role", flat=True))
        return self._roles

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def clinic_ids(self) -> frozenset[int]:
        if not hasattr(self, "_clinic_ids"):
            self._clinic_ids = frozenset(self.memberships.values_list("clinic_id", flat=True))
        return self._clinic_ids


class Membership(models.Model):
    """A user works in a clinic in one role; several rows give several roles or clinics."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "clinic", "role"], name="membership_unique_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.clinic}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> "ApiTokenQuerySet":
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    """A bearer token for integrations; only its SHA-256 digest is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user.username})"

    @classmethod
    def issue(cls, user: User, name: str = "") -> tuple["ApiToken", str]:
        raw = secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, digest=hash_token(raw), prefix=raw[:8])
        return token, raw


class AuditEvent(models.Model):
    """Who did what to which patient's record, when and from where. Never edited."""

    class Action(models.TextChoices):
        VIEW = "view"
        CREATE = "create"
        UPDATE = "update"
        EXPORT = "export"

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    patient_id = models.BigIntegerField(null=True, db_index=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    what = models.CharField(max_length=100)
    object_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=8, default="web")
    remote_addr = models.GenericIPAddressField(null=True)

    class Meta:
        indexes = [models.Index(fields=["user", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action} {self.what}"
