from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "cocm.billing"
    label = "billing"
    verbose_name = "Billing: monthly codes, fee schedules, month close"
