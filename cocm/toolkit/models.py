from django.db import models

from cocm.accounts.models import Clinic, Organization, User
from cocm.domain.implementation import Phase, TaskStatus
from cocm.domain.surveys import SURVEYS
from cocm.measures.models import Channel, SingleUseLink
from cocm.registry.models import Episode


class StaffContact(models.Model):
    """A staff member's direct phone number, printed on patient handouts (else the clinic's)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="contact")
    phone = models.CharField(max_length=32)

    def __str__(self) -> str:
        return f"{self.user}: {self.phone}"


SurveyChoices = models.TextChoices(
    "SurveyChoices", [(code.replace("-", "_").upper(), (code, code)) for code in SURVEYS]
)


class SurveyInvitation(SingleUseLink):
    """A survey link: to a patient (episode) or to a staff member (recipient), by email or
    text, single-use and expiring like self-report links."""

    survey = models.CharField(max_length=32, choices=SurveyChoices.choices)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=7)  # YYYY-MM the link was sent in
    episode = models.ForeignKey(
        Episode, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recipient = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    language = models.CharField(max_length=8, default="en")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["survey", "clinic", "period"])]

    def __str__(self) -> str:
        return f"{self.survey} link {self.pk}"


class SurveyResponse(models.Model):
    """Answers to a survey. For an anonymous (staff) survey nothing here names or leads to the
    person: no user, no link, no time finer than the month."""

    survey = models.CharField(max_length=32, choices=SurveyChoices.choices)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=7)  # YYYY-MM
    answers = models.JSONField()
    # Patient satisfaction only: the episode the patient was in (not anonymous).
    episode = models.ForeignKey(
        Episode, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["survey", "clinic", "period"])]

    def __str__(self) -> str:
        return f"{self.survey} response {self.pk}"


class SurveyParticipation(models.Model):
    """That a staff member answered a survey in the product in a period (so they answer
    once), kept apart from the answers."""

    survey = models.CharField(max_length=32, choices=SurveyChoices.choices)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=7)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "period", "user"], name="survey_answered_once_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} answered {self.survey} in {self.period}"


PhaseChoices = models.TextChoices("PhaseChoices", [(p.name, (p.value, p.label)) for p in Phase])
TaskStatusChoices = models.TextChoices(
    "TaskStatusChoices", [(s.name, (s.value, s.label)) for s in TaskStatus]
)


class ChecklistTemplateTask(models.Model):
    """A task of the organization's implementation template (seeded from the AIMS phases)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="checklist_template"
    )
    phase = models.CharField(max_length=32, choices=PhaseChoices.choices)
    title = models.CharField(max_length=200)
    indicator = models.CharField(max_length=40, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class ChecklistTask(models.Model):
    """One clinic's implementation task: owner, due date, status."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="checklist")
    phase = models.CharField(max_length=32, choices=PhaseChoices.choices)
    title = models.CharField(max_length=200)
    indicator = models.CharField(max_length=40, blank=True)
    position = models.PositiveIntegerField(default=0)
    owner = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=TaskStatusChoices.choices, default=TaskStatus.NOT_STARTED
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in TaskStatus]),
                name="checklist_task_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title
