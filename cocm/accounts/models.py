import hashlib
import secrets
import zoneinfo
from datetime import date

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
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
    # Roles whose members must sign in with a one-time code as well as their password
    # (ONC 170.315(d)(13)); the organization admin chooses them, beyond the roles that always
    # must (settings.COCM_TWO_FACTOR_ROLES: organization admins by default).
    two_factor_roles = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def today(self) -> date:
        return timezone.localdate(timezone=self.tz)

    def requires_two_factor(self, roles: frozenset[str]) -> bool:
        return bool(roles & self.two_factor_role_set)

    @property
    def two_factor_role_set(self) -> frozenset[str]:
        """The roles chosen by the organization and those the deployment always requires."""
        return frozenset(self.two_factor_roles) | frozenset(settings.COCM_TWO_FACTOR_ROLES)


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


def staff_name(username: str, first_name: str, last_name: str, credentials: str) -> str:
    """How a staff member is named on every page and export: "Dana Lee, LCSW"."""
    name = f"{first_name} {last_name}".strip() or username
    return f"{name}, {credentials}" if credentials else name


class User(AbstractUser):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="users", null=True, blank=True
    )
    credentials = models.CharField(max_length=32, blank=True, help_text="e.g. LCSW, MD, NP")

    def __str__(self) -> str:
        return staff_name(self.username, self.first_name, self.last_name, self.credentials)

    @property
    def roles(self) -> frozenset[str]:
        # Cached per instance: permission checks ask for roles many times per request.
        if not hasattr(self, "_roles"):
            self._load_memberships()
        return self._roles

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def clinic_ids(self) -> frozenset[int]:
        if not hasattr(self, "_clinic_ids"):
            self._load_memberships()
        return self._clinic_ids

    def _load_memberships(self) -> None:
        pairs = list(self.memberships.values_list("role", "clinic_id"))
        self._roles = frozenset(role for role, _ in pairs)
        self._clinic_ids = frozenset(clinic_id for _, clinic_id in pairs)


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


class TokenScope(models.TextChoices):
    READ = "read", "Read only"
    READ_WRITE = "read_write", "Read and write"


class ApiToken(models.Model):
    """A bearer token for integrations; only its SHA-256 digest is stored.

    Its scope narrows what the user's roles allow: a read-only token cannot change data.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    scope = models.CharField(
        max_length=16, choices=TokenScope.choices, default=TokenScope.READ_WRITE
    )
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user.username})"

    @classmethod
    def issue(
        cls, user: User, name: str = "", scope: str = TokenScope.READ_WRITE
    ) -> tuple["ApiToken", str]:
        raw = secrets.token_urlsafe(32)
        while raw.startswith("-"):  # a prefix like "-Ab3" would read as an option on the CLI
            raw = secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, scope=scope, digest=hash_token(raw), prefix=raw[:8]
        )
        return token, raw


class AppendOnly(Exception):
    """Raised when code tries to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: object) -> int:
        raise AppendOnly("Audit events are never changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("Audit events are never deleted.")

    def bulk_create(self, *args: object, **kwargs: object) -> list["AuditEvent"]:
        raise AppendOnly("Audit events are appended one by one, each chained to the last.")


class AuditEvent(models.Model):
    """Who did what to which patient's record, when and from where. Never edited.

    An event is appended with a plain insert (`id` is the order of appends). The seal
    (`cocm.accounts.audit.seal_pending`, run by the worker and by `cocm audit verify`) then
    gives it its place in its organization's hash chain (`chain`, `sequence`) and the
    SHA-256 of its content and of the event before it, so `cocm audit verify` finds a row
    edited or deleted with raw SQL. Sealing writes only those three columns, once.
    """

    class Action(models.TextChoices):
        VIEW = "view"
        CREATE = "create"
        UPDATE = "update"
        EXPORT = "export"
        EMERGENCY = "emergency", "Emergency (break-glass) access"
        SIGN_IN = "sign_in", "Signed in"
        SIGN_OUT = "sign_out", "Signed out"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        SETTINGS = "settings", "Security settings changed"

    # The organization whose chain holds the event (0: no organization, e.g. a failed
    # sign-in of an unknown username) and its place there; None until sealed.
    chain = models.BigIntegerField(default=0)
    sequence = models.BigIntegerField(null=True)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    patient_id = models.BigIntegerField(null=True, db_index=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    what = models.CharField(max_length=100)
    object_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=8, default="web")
    remote_addr = models.GenericIPAddressField(null=True)
    previous_hash = models.CharField(max_length=64, blank=True)
    entry_hash = models.CharField(max_length=64, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["user", "occurred_at"]),
            # The seal's work list: events not yet in their chain.
            models.Index(fields=["id"], condition=Q(sequence=None), name="audit_event_pending"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(sequence__gte=1), name="audit_sequence_positive"),
            models.UniqueConstraint(fields=["chain", "sequence"], name="audit_chain_position"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action} {self.what}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise AppendOnly("Audit events are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnly("Audit events are never deleted.")

    @property
    def sealed(self) -> bool:
        return self.sequence is not None


class AuditChainHead(models.Model):
    """The last sealed event of one chain (one per organization, `chain` 0 for events of no
    organization). The seal moves it; `audit verify` compares it with the chain's last row
    to notice a deleted tail. The row with `chain` SEAL_LOCK is the seal's lock."""

    SEAL_LOCK = -1

    chain = models.BigIntegerField(unique=True, default=0)
    sequence = models.BigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit chain {self.chain} head #{self.sequence}"


class BreakGlassGrant(models.Model):
    """Emergency access to one patient outside the user's clinics: a stated reason, a time
    limit, an audit event, and a line in the organization admin's report."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="break_glass_grants")
    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.PROTECT, related_name="break_glass_grants"
    )
    reason = models.CharField(max_length=500)
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["user", "expires_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="break_glass_has_reason"),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("granted_at")),
                name="break_glass_expires_after_grant",
            ),
        ]

    def __str__(self) -> str:
        return f"Break-glass by {self.user} on patient {self.patient_id}"
