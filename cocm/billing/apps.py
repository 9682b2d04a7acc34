from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "cocm.billing"
    label = "billing"
    verbose_name = "Billing: monthly codes, fee schedules, month close"

    def ready(self) -> None:
        # Care shows billing figures without importing billing (cocm/care/billing_figures.py).
        from cocm.billing.months import care_figures
        from cocm.care.billing_figures import supply

        supply(care_figures)
