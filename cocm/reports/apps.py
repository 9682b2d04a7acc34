from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "cocm.reports"
    label = "reports"
    verbose_name = "Reports: program indicators, quality measures, dashboard"
