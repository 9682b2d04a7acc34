from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "cocm.interop"
    label = "interop"
    verbose_name = "Interoperability: FHIR R4 import and server, tracker import"
