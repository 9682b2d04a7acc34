from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BillingConfig(AppConfig):
    name = "cocm.billing"
    label = "billing"
    verbose_name = "Billing: monthly codes, fee schedules, month close"

    def ready(self) -> None:
        # Care shows billing figures without importing billing (cocm/care/billing_figures.py).
        from cocm.billing import aggregates
        from cocm.billing.months import care_figures
        from cocm.care.billing_figures import supply

        supply(care_figures)
        aggregates.connect()
        # A database migrated with time entries but no stored episode-months (the first
        # migrate after they were added, a restore of an older backup) counts them now.
        post_migrate.connect(aggregates.backfill_if_missing, sender=self)
