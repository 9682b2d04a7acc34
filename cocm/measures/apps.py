from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "cocm.measures"
    label = "measures"
    verbose_name = "Assessments, safety alerts and self-report"
