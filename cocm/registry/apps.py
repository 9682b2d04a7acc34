from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "cocm.registry"
    label = "registry"
    verbose_name = "Patients and episodes of care"
