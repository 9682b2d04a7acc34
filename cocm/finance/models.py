from django.db import models
from django.db.models import Q
from django.utils import timezone

from cocm.accounts.models import Organization, User


class Scenario(models.Model):
    """A named set of financial-model inputs saved by an organization.

    `inputs` keeps only what differs from the defaults: {name: {"value": text, "source":
    "given" | "registry", "note": text}}; the values are the model's input texts, parsed
    again when the scenario is opened, so a scenario follows later default changes.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="finance_scenarios"
    )
    name = models.CharField(max_length=100)
    inputs = models.JSONField(default=dict)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="finance_scenario_name_unique"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="finance_scenario_has_name"),
        ]

    def __str__(self) -> str:
        return self.name
