from django.db import models
from django.db.models import Q
from django.utils import timezone

from cocm.accounts.models import Organization, User
from cocm.registry.models import Episode


class Mode(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    PHONE = "phone", "Phone"
    VIDEO = "video", "Video"
    SECURE_MESSAGE = "secure_message", "Secure message"
    TEXT = "text", "Text message"


class Activity(models.TextChoices):
    OUTREACH = "outreach", "Outreach / engagement"
    INITIAL_ASSESSMENT = "initial_assessment", "Initial assessment"
    FOLLOW_UP = "follow_up", "Follow-up"
    BEHAVIORAL_ACTIVATION = "behavioral_activation", "Brief intervention: behavioral activation"
    PROBLEM_SOLVING = "problem_solving", "Brief intervention: problem-solving treatment"
    MOTIVATIONAL_INTERVIEWING = (
        "motivational_interviewing",
        ("Brief intervention: motivational interviewing"),
    )
    CARE_COORDINATION = "care_coordination", "Care coordination"
    CASELOAD_REVIEW = "caseload_review", "Caseload review"
    RELAPSE_PREVENTION = "relapse_prevention", "Relapse prevention"
    OTHER = "other", "Other"


class TimeRole(models.TextChoices):
    """Whose minutes these are, which decides whether they count toward the CoCM codes."""

    CARE_MANAGER = "care_manager", "Care manager"
    BILLING_PRACTITIONER = "billing_practitioner", "Billing practitioner"
    PSYCHIATRIC_CONSULTANT = "psychiatric_consultant", "Psychiatric consultant"


class Contact(models.Model):
    """A contact or block of care-management time on an episode, with its minutes."""

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="contacts")
    occurred_on = models.DateField()
    started_at = models.DateTimeField(null=True, blank=True)
    minutes = models.PositiveSmallIntegerField()
    mode = models.CharField(max_length=16, choices=Mode.choices)
    activity = models.CharField(max_length=32, choices=Activity.choices)
    staff = models.ForeignKey(User, on_delete=models.PROTECT, related_name="contacts")
    role = models.CharField(max_length=24, choices=TimeRole.choices, default=TimeRole.CARE_MANAGER)
    separately_billed = models.BooleanField(
        default=False, help_text="time of a separately billed service (e.g. psychotherapy)"
    )
    no_show = models.BooleanField(default=False, help_text="patient did not attend / not reached")
    note = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    # Bumped by every edit (cocm/versions.py); a form carrying an older one conflicts.
    version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["occurred_on", "id"]
        indexes = [
            models.Index(fields=["episode", "occurred_on"]),
            # Month close reads one month (and the months before it) across every episode.
            models.Index(fields=["occurred_on", "episode"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gte=0) & Q(minutes__lte=1440), name="contact_minutes_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.get_activity_display()} ({self.minutes} min)"


class ReviewRequest(models.Model):
    """A care manager asks the psychiatric consultant to discuss a patient."""

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="review_requests")
    reason = models.CharField(max_length=300)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    review = models.ForeignKey(
        "CaseReview", on_delete=models.SET_NULL, null=True, blank=True, related_name="requests"
    )

    def __str__(self) -> str:
        return self.reason


class CaseReview(models.Model):
    """A psychiatric caseload review of one patient."""

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="reviews")
    consultant = models.ForeignKey(User, on_delete=models.PROTECT, related_name="reviews")
    reviewed_on = models.DateField()
    minutes = models.PositiveSmallIntegerField()
    summary = models.TextField()
    contact = models.OneToOneField(Contact, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-reviewed_on", "-id"]
        indexes = [models.Index(fields=["episode", "reviewed_on"])]

    def __str__(self) -> str:
        return f"Review {self.reviewed_on}"


class Recommendation(models.Model):
    """A consultant's recommendation; a task for the patient's PCP until answered."""

    class Kind(models.TextChoices):
        START_MEDICATION = "start_medication", "Start a medication"
        CHANGE_MEDICATION = "change_medication", "Change a medication"
        STOP_MEDICATION = "stop_medication", "Stop a medication"
        PSYCHOTHERAPY = "psychotherapy", "Change psychotherapy"
        REFER_SPECIALTY = "refer_specialty", "Refer to specialty care"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the PCP"
        ACCEPTED = "accepted", "Accepted"
        MODIFIED = "modified", "Accepted with changes"
        DECLINED = "declined", "Declined"

    review = models.ForeignKey(CaseReview, on_delete=models.PROTECT, related_name="recommendations")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="recommendations")
    pcp = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="recommendations"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    medication = models.CharField(max_length=100, blank=True)
    dose = models.CharField(max_length=100, blank=True)
    text = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    response_note = models.CharField(max_length=500, blank=True)
    # Bumped by every edit (cocm/versions.py); a form carrying an older one conflicts.
    version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["pcp", "status"]),
            models.Index(fields=["episode", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending") | Q(responded_at__isnull=False),
                name="recommendation_response_dated",
            ),
        ]

    def __str__(self) -> str:
        return self.summary

    @property
    def summary(self) -> str:
        drug = " ".join(part for part in (self.medication, self.dose) if part)
        details = "; ".join(part for part in (drug, self.text) if part)
        return f"{self.get_kind_display()}: {details}" if details else self.get_kind_display()


class RelapsePreventionPlan(models.Model):
    episode = models.OneToOneField(
        Episode, on_delete=models.PROTECT, related_name="relapse_prevention_plan"
    )
    warning_signs = models.TextField()
    coping_steps = models.TextField()
    whom_to_call = models.TextField()
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    # Bumped by every edit (cocm/versions.py); a form carrying an older one conflicts.
    version = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Relapse-prevention plan of episode {self.episode_id}"


class FollowUp(models.Model):
    """The next contact due for an episode (one open at a time)."""

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="follow_ups")
    due_on = models.DateField()
    what = models.CharField(max_length=200, blank=True)
    assigned_to = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, related_name="follow_ups"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Bumped when it is done or replaced (cocm/versions.py): a page that showed an older
    # version conflicts instead of undoing the other user's change.
    version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["assigned_to", "done_at", "due_on"])]
        constraints = [
            models.UniqueConstraint(
                fields=["episode"],
                condition=Q(done_at__isnull=True),
                name="follow_up_one_open_per_episode",
            ),
        ]

    def __str__(self) -> str:
        return f"Follow-up due {self.due_on}"


class CareSettings(models.Model):
    """An organization's thresholds for the caseload flags (defaults from the rules reference)."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="care_settings"
    )
    not_improved_week = models.PositiveSmallIntegerField(
        default=10, help_text="AIMS: not 50% improved after 10-12 weeks"
    )
    no_contact_days = models.PositiveSmallIntegerField(default=30)
    no_measure_days = models.PositiveSmallIntegerField(default=30)
    recommendation_wait_days = models.PositiveSmallIntegerField(default=7)
    early_follow_up_days = models.PositiveSmallIntegerField(
        default=28, help_text="Bao 2016: a follow-up contact within 4 weeks of enrollment"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(not_improved_week__gte=10, not_improved_week__lte=12),
                name="care_settings_week_10_to_12",
            ),
        ]
        verbose_name = "care settings"
        verbose_name_plural = "care settings"

    def __str__(self) -> str:
        return f"Care settings of {self.organization}"


class CaseloadRow(models.Model):
    """The caseload tracker's row of one episode as of one day, stored so that a caseload
    reads one row per episode instead of recomputing it, and so that the tracker, the PCP
    list and the review agenda filter, sort and page in the database.

    Every write that can change the row bumps `generation` in the writer's transaction; a
    stored row is used only while `computed_generation` equals it, `as_of` is the day asked
    for and `rules_key` names the organization's current flag thresholds
    (`cocm/care/caseload.py`).

    The row's values are typed columns named as `TrackerRow`'s fields (names are read live
    with the episode); its flags are `flags` (code, reason and source, as shown) and one
    boolean column per flag code (`flag_<code>`, what a filter reads), with `flag_count`
    for the review agenda's order.
    """

    episode = models.OneToOneField(
        Episode, primary_key=True, on_delete=models.CASCADE, related_name="caseload_row"
    )
    generation = models.PositiveBigIntegerField(default=0)
    computed_generation = models.BigIntegerField(default=-1)
    as_of = models.DateField(null=True)
    rules_key = models.CharField(max_length=200, blank=True)

    status = models.CharField(max_length=24, blank=True)
    referred_on = models.DateField(null=True)
    enrolled_on = models.DateField(null=True)
    weeks_in_treatment = models.IntegerField(null=True)
    twelve_weeks_on = models.DateField(null=True)
    payer = models.CharField(max_length=64, blank=True)
    contacts = models.IntegerField(default=0)
    no_shows = models.IntegerField(default=0)
    last_contact_on = models.DateField(null=True)
    days_since_contact = models.IntegerField(null=True)
    first_billable_month = models.CharField(max_length=7, blank=True)
    phq9_first = models.SmallIntegerField(null=True)
    phq9_last = models.SmallIntegerField(null=True)
    phq9_change = models.FloatField(null=True)
    phq9_target = models.CharField(max_length=16, blank=True)
    gad7_first = models.SmallIntegerField(null=True)
    gad7_last = models.SmallIntegerField(null=True)
    gad7_change = models.FloatField(null=True)
    gad7_target = models.CharField(max_length=16, blank=True)
    last_measure_on = models.DateField(null=True)
    weeks_to_remission = models.IntegerField(null=True)
    last_review_on = models.DateField(null=True)
    review_requested = models.CharField(max_length=300, blank=True)
    relapse_plan = models.BooleanField(default=False)
    minutes_this_month = models.IntegerField(default=0)
    minutes_to_next_threshold = models.IntegerField(null=True)
    next_code = models.CharField(max_length=32, blank=True)
    open_alert = models.BooleanField(default=False)
    flags = models.JSONField(default=list)
    flag_count = models.PositiveSmallIntegerField(default=0)
    # One per FlagCode (tests/care/test_caseload_table.py checks that none is missing).
    flag_safety_alert = models.BooleanField(default=False)
    flag_not_improved = models.BooleanField(default=False)
    flag_severe = models.BooleanField(default=False)
    flag_no_baseline = models.BooleanField(default=False)
    flag_no_contact = models.BooleanField(default=False)
    flag_no_measure = models.BooleanField(default=False)
    flag_no_consultant = models.BooleanField(default=False)
    flag_not_reviewed = models.BooleanField(default=False)
    flag_non_responder_unreviewed = models.BooleanField(default=False)
    flag_recommendation_waiting = models.BooleanField(default=False)
    flag_no_early_follow_up = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"caseload row of episode {self.episode_id}"
