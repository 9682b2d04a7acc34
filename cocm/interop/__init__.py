"""FHIR R4 import and server, patient search and spreadsheet import (docs/interop.md)."""


def patient_fhir_id(patient) -> str:  # type: ignore[no-untyped-def]
    """The id a registry patient is served at under /fhir/Patient/ (see identity.py)."""
    from cocm.interop.identity import patient_fhir_id as fhir_id

    return fhir_id(patient)
