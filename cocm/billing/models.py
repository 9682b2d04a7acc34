from django.db import models
from django.db.models import Q
from django.utils import timezone

from cocm.accounts.models import Organization, User
from cocm.registry.models import Episode, PayerKind


class FeeSchedule(models.Model):
    """Expected payment for one code, one year and one payer kind."""

    year = models.PositiveSmallIntegerField()
    payer_kind = models.CharField(max_length=16, choices=PayerKind.choices)
    code = models.CharField(max_length=8)
    amount = models.DecimalField(max_digits=9, decimal_places=2)
    source = models.CharField(max_length=200, blank=True)
    # Made-up amounts of the demo population (`cocm seed`): never a payer's real fee.
    illustrative = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["year", "payer_kind", "code"], name="fee_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="fee_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.payer_kind} {self.code} ${self.amount}"


class DateOfService(models.TextChoices):
    LAST_DAY = "last_day", "Last day of the month"
    THRESHOLD_DAY = "threshold_day", "Day the billable threshold was reached"


class BillingSettings(models.Model):
    """An organization's billing choices; the defaults are the conservative readings."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="billing_settings"
    )
    date_of_service = models.CharField(
        max_length=16, choices=DateOfService.choices, default=DateOfService.LAST_DAY
    )
    restart_on_reenrollment = models.BooleanField(
        default=False, help_text="[I] a re-enrollment within 6 months starts a new initial month"
    )
    first_short_month_is_initial = models.BooleanField(default=True)
    g2214_in_initial_31_to_35 = models.BooleanField(default=True)

    class Meta:
        verbose_name = "billing settings"
        verbose_name_plural = "billing settings"

    def __str__(self) -> str:
        return f"Billing settings of {self.organization}"


class PayerRule(models.Model):
    """Payer-specific billing rules (e.g. a state Medicaid cap of 4 units of 99494)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="payer_rules"
    )
    payer_kind = models.CharField(max_length=16, choices=PayerKind.choices)
    max_99494_units = models.PositiveSmallIntegerField(null=True, blank=True)
    count_consultant_minutes = models.BooleanField(default=False)
    count_inpatient_minutes = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "payer_kind"], name="payer_rule_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_payer_kind_display()} rules"


class ClosedMonth(models.Model):
    """A billed month: its claim lines are frozen; later changes are flagged."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="closed_months"
    )
    month = models.CharField(max_length=7)  # YYYY-MM
    closed_at = models.DateTimeField(default=timezone.now)
    closed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "month"], name="closed_month_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.month} closed"


class ClaimLine(models.Model):
    """One patient-month's billing decision as reviewed, submitted or frozen at close."""

    class Status(models.TextChoices):
        READY = "ready", "Ready to bill"
        BLOCKED = "blocked", "Blocked"
        NOT_BILLABLE = "not_billable", "Not billable"

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="claim_lines")
    month = models.CharField(max_length=7)
    status = models.CharField(max_length=16, choices=Status.choices)
    codes = models.JSONField(default=list)  # [{"code": "99493", "units": 1}]
    minutes = models.PositiveIntegerField()
    decision = models.TextField()
    blocked_reasons = models.JSONField(default=list)
    expected_amount = models.DecimalField(max_digits=9, decimal_places=2, null=True)
    date_of_service = models.DateField(null=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    frozen = models.BooleanField(default=False)
    saved_at = models.DateTimeField(default=timezone.now)
    # Bumped by every edit (cocm/versions.py); a form carrying an older one conflicts.
    version = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["episode", "month"], name="claim_line_unique"),
        ]
        indexes = [models.Index(fields=["month", "status"])]

    def __str__(self) -> str:
        return f"{self.month} episode {self.episode_id}: {self.status}"


class EpisodeMonth(models.Model):
    """One episode's minutes of one calendar month as the billing engine counts them
    (`coding.count_minutes`), stored so that a month close reads one small row per episode
    instead of every time entry. Every write of its inputs recounts it in the writer's own
    transaction (`billing.aggregates`); the stamps say what it was counted under."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="billing_months")
    month = models.DateField()  # its first day
    entries = models.PositiveIntegerField()  # time entries recorded (no-shows included)
    minutes = models.PositiveIntegerField()  # counted
    excluded = models.TextField(blank=True)  # JSON [[minutes, reason], ...]; "" for none
    daily = models.TextField(blank=True)  # counted minutes per day: "3:20 17:45"
    latest_before_consent = models.DateField(null=True)
    any_on_or_after_consent = models.BooleanField(default=False)
    # What the minutes were counted under: a row whose stamps differ from the episode's
    # consent, revocations or payer rule is recounted when read.
    consent_on = models.DateField(null=True)
    revoked = models.TextField(blank=True)  # "2026-03-01/2026-04-02 2026-06-01/"
    payer_kind = models.CharField(max_length=16, blank=True)
    count_consultant_minutes = models.BooleanField(default=False)
    count_inpatient_minutes = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["episode", "month"], name="episode_month_unique"),
        ]
        indexes = [
            models.Index(fields=["month", "episode"], name="episode_month_by_month"),
        ]

    def __str__(self) -> str:
        return f"episode {self.episode_id} {self.month:%Y-%m}: {self.minutes} min"
