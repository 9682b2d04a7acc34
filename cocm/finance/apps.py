from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "cocm.finance"
    label = "finance"
    verbose_name = "Financial model: scenarios, calibration, projection"
