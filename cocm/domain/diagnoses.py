"""ICD-10-CM diagnosis codes as recorded on an episode of care."""

import re

# ICD-10-CM: a letter, two characters (the second may be a letter in some chapters),
# then optionally a dot and one to four characters (CDC/NCHS ICD-10-CM Official
# Guidelines, section I.A.1-I.A.3).
ICD10CM_PATTERN = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")

# Provisional diagnoses a CoCM program most often treats (CMS-1654-F: "any mental,
# behavioral health, or psychiatric condition"). Descriptions from ICD-10-CM FY2026.
COMMON_DIAGNOSES: dict[str, str] = {
    "F32.0": "Major depressive disorder, single episode, mild",
    "F32.1": "Major depressive disorder, single episode, moderate",
    "F32.2": "Major depressive disorder, single episode, severe without psychotic features",
    "F32.4": "Major depressive disorder, single episode, in partial remission",
    "F32.5": "Major depressive disorder, single episode, in full remission",
    "F32.9": "Major depressive disorder, single episode, unspecified",
    "F32.A": "Depression, unspecified",
    "F33.0": "Major depressive disorder, recurrent, mild",
    "F33.1": "Major depressive disorder, recurrent, moderate",
    "F33.2": "Major depressive disorder, recurrent severe without psychotic features",
    "F33.41": "Major depressive disorder, recurrent, in partial remission",
    "F33.9": "Major depressive disorder, recurrent, unspecified",
    "F34.1": "Dysthymic disorder",
    "F41.0": "Panic disorder without agoraphobia",
    "F41.1": "Generalized anxiety disorder",
    "F41.9": "Anxiety disorder, unspecified",
    "F43.10": "Post-traumatic stress disorder, unspecified",
    "F43.12": "Post-traumatic stress disorder, chronic",
    "F43.23": "Adjustment disorder with mixed anxiety and depressed mood",
    "F53.0": "Postpartum depression",
    "F10.10": "Alcohol abuse, uncomplicated",
}


class DiagnosisCodeError(ValueError):
    """A diagnosis code that is not an ICD-10-CM code."""


def normalize_icd10cm(code: str) -> str:
    """Upper-case an ICD-10-CM code and place its dot (ICD-10-CM Official Guidelines I.A)."""
    cleaned = code.strip().upper()
    if "." not in cleaned and len(cleaned) > 3:
        cleaned = f"{cleaned[:3]}.{cleaned[3:]}"
    if not ICD10CM_PATTERN.match(cleaned):
        raise DiagnosisCodeError(
            f"'{code}' is not an ICD-10-CM code (expected a form like F32.1, F33.9 or F41.1)."
        )
    return cleaned


def diagnosis_description(code: str) -> str:
    """The ICD-10-CM FY2026 description of a common CoCM diagnosis, or '' when not listed."""
    return COMMON_DIAGNOSES.get(code, "")
