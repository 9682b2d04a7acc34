from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "cocm.care"
    label = "care"
    verbose_name = "Care management: contacts, reviews, recommendations, tasks"

    def ready(self) -> None:
        from cocm.care import caseload

        caseload.connect()
