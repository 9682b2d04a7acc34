from django.apps import AppConfig


class ToolkitConfig(AppConfig):
    name = "cocm.toolkit"
    label = "toolkit"
    verbose_name = "Program toolkit: patient handouts, surveys, implementation checklist"
