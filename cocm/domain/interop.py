"""Rules for data received from other systems (FHIR R4): which code systems we read, which
LOINC codes are our instruments' totals, and which values and dates are plausible.

Nothing here imports Django or reads the clock (take `as_of`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from cocm.domain.instruments import INSTRUMENTS, InstrumentCode

LOINC = "http://loinc.org"
SNOMED_CT = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"

# Code systems of the coded elements we read (Observation/Condition/Procedure/ServiceRequest
# code, Encounter type, MedicationRequest medication), by their canonical URIs in the FHIR R4
# terminology registry (hl7.org/fhir/R4/terminologies-systems.html) and the VSAC URIs the
# eCQM value sets use (reference/ecqm/*/valuesets).
CODE_SYSTEMS: dict[str, str] = {
    LOINC: "LOINC",
    SNOMED_CT: "SNOMED CT",
    ICD10CM: "ICD-10-CM",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "http://www.cms.gov/Medicare/Coding/ICD10": "ICD-10-PCS",
    "http://hl7.org/fhir/sid/icd-9-cm": "ICD-9-CM",
    CPT: "CPT",
    "http://www.nlm.nih.gov/research/umls/hcpcs": "HCPCS",
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": "HCPCS",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://hl7.org/fhir/sid/ndc": "NDC",
    "http://terminology.hl7.org/CodeSystem/v3-ActCode": "HL7 ActCode",
    "http://terminology.hl7.org/CodeSystem/observation-category": "Observation category",
    "http://terminology.hl7.org/CodeSystem/condition-category": "Condition category",
    "http://hl7.org/fhir/us/core/CodeSystem/us-core-category": "US Core category",
    "http://hl7.org/fhir/us/core/CodeSystem/condition-category": "US Core condition category",
    "http://terminology.hl7.org/CodeSystem/v3-NullFlavor": "HL7 NullFlavor",
    "http://terminology.hl7.org/CodeSystem/data-absent-reason": "Data absent reason",
}

# Observation statuses whose value stands (FHIR R4 observation-status: preliminary,
# registered, cancelled and entered-in-error results are not results).
RESULT_STATUSES = frozenset({"final", "amended", "corrected"})

EARLIEST_DATE = date(1900, 1, 1)


def is_known_code_system(system: str | None) -> bool:
    """Whether we can read codes of this system (CODE_SYSTEMS, from the FHIR R4 registry)."""
    return system in CODE_SYSTEMS


def instrument_for_loinc(code: str | None) -> InstrumentCode | None:
    """The instrument whose total score this LOINC code is (instruments.py total_loinc)."""
    for instrument in INSTRUMENTS.values():
        if instrument.total_loinc is not None and instrument.total_loinc.code == code:
            return instrument.code
    return None


def total_problem(instrument: InstrumentCode, total: object) -> str | None:
    """Why a received total cannot be this instrument's score (range from instruments.py)."""
    definition = INSTRUMENTS[instrument]
    if isinstance(total, bool) or not isinstance(total, int | float):
        return f"a {instrument} total must be a number"
    if total != int(total) or not definition.min_total <= total <= definition.max_total:
        return (
            f"a {instrument} total is a whole number from {definition.min_total} to "
            f"{definition.max_total}; {total} is not"
        )
    return None


def date_problem(value: date, *, as_of: date) -> str | None:
    """Why a recorded clinical date is implausible: before 1900 or after tomorrow (one day
    of slack for time zones) [I]."""
    if value < EARLIEST_DATE:
        return f"{value.isoformat()} is before {EARLIEST_DATE.year}"
    if value > as_of + timedelta(days=1):
        return f"{value.isoformat()} is in the future"
    return None


def mrn_index(type_codes: list[str | None]) -> int | None:
    """Which identifier is the medical record number: the first typed MR (HL7 v2 table 0203),
    else the first one; None without identifiers."""
    if not type_codes:
        return None
    return next((i for i, code in enumerate(type_codes) if code == "MR"), 0)


# --------------------------------------------------------------------------- registry feed

# PHDSC Source of Payment Typology (the code system of US Core/QI-Core Coverage.type):
# a code's leading digits name its family.
SOPT = "https://nahdo.org/sopt"
# Families the registry bills differently: 1 Medicare, 2 Medicaid, 5 private health
# insurance, 6 Blue Cross/Blue Shield, 81 self-pay.
SOPT_PAYER_KINDS = {
    "1": "medicare",
    "2": "medicaid",
    "5": "commercial",
    "6": "commercial",
    "81": "self_pay",
}


def payer_kind_from_sopt(code: str | None) -> str | None:
    """The registry payer kind of a Source of Payment Typology code, None when its family
    is not one we bill differently (docs/rules.md 8)."""
    if not code:
        return None
    for prefix in sorted(SOPT_PAYER_KINDS, key=len, reverse=True):
        if code.startswith(prefix):
            return SOPT_PAYER_KINDS[prefix]
    return None


# ICD-10-CM chapter 5 codes a CoCM episode treats for depression or anxiety: depressive
# episodes (F32), recurrent (F33), dysthymia (F34.1), phobic and other anxiety (F40, F41),
# adjustment disorders with depressed mood or anxiety (F43.2x), postpartum depression
# (F53.0).
EPISODE_DIAGNOSIS_PREFIXES = ("F32", "F33", "F34.1", "F40", "F41", "F43.2", "F53.0")


def is_episode_diagnosis(code: str) -> bool:
    """Whether an imported (normalized) ICD-10-CM code is a depression or anxiety diagnosis
    of the patient's episode of care (docs/rules.md 8)."""
    return code.startswith(EPISODE_DIAGNOSIS_PREFIXES)


# FHIR R4 condition-clinical and condition-ver-status codes of a condition that stands.
ACTIVE_CONDITION = frozenset({"active", "recurrence", "relapse"})
UNVERIFIED_CONDITION = frozenset({"refuted", "entered-in-error"})


def condition_stands(clinical_status: str | None, verification_status: str | None) -> bool:
    """Whether a received Condition is a current diagnosis: clinically active (or without a
    clinical status) and neither refuted nor entered in error (docs/rules.md 8)."""
    if verification_status in UNVERIFIED_CONDITION:
        return False
    return clinical_status is None or clinical_status in ACTIVE_CONDITION


# Visits that initiate CoCM (cocm-rules.md 1.5: "E/M, AWV, IPPE, TCM" by the billing
# practitioner): office/outpatient E/M 99202-99205 and 99211-99215, home E/M 99341-99350,
# TCM 99495-99496 (CPT); AWV G0438/G0439 and IPPE G0402 (HCPCS).
INITIATING_VISIT_CODES = frozenset(
    [str(code) for code in (*range(99202, 99206), *range(99211, 99216))]
    + [str(code) for code in (*range(99341, 99351), 99495, 99496)]
    + ["G0438", "G0439", "G0402"]
)


def is_initiating_visit(codes: list[tuple[str | None, str | None]]) -> bool:
    """Whether an encounter typed with these (system, code) pairs is a visit that initiates
    CoCM: a CPT or HCPCS code of INITIATING_VISIT_CODES (docs/rules.md 1.5 and 8)."""
    return any(
        CODE_SYSTEMS.get(system or "") in {"CPT", "HCPCS"} and code in INITIATING_VISIT_CODES
        for system, code in codes
    )


# --------------------------------------------------------------------------- tracker import

# The columns of an existing tracker (API_CONTRACT.md "cocm import caseload"), matched case-
# and space-insensitively; the AIMS Center tracker's own spellings are accepted too [I].
TRACKER_COLUMNS: dict[str, tuple[str, ...]] = {
    "mrn": ("MRN", "Medical record number", "Patient ID"),
    "given_name": ("First name", "Given name"),
    "family_name": ("Last name", "Family name", "Surname"),
    "birth_date": ("Date of birth", "DOB", "Birth date"),
    "sex": ("Sex", "Gender"),
    "enrolled_on": ("Enrollment date", "Date enrolled", "Initial assessment date"),
    "care_manager": ("Care manager", "BHCM"),
    "phq9_baseline": ("PHQ-9 baseline", "Initial PHQ-9", "First PHQ-9"),
    "phq9_baseline_on": ("PHQ-9 baseline date", "Initial PHQ-9 date", "First PHQ-9 date"),
    "phq9_latest": ("PHQ-9 latest", "Last PHQ-9", "Latest PHQ-9"),
    "phq9_latest_on": ("PHQ-9 latest date", "Last PHQ-9 date", "Latest PHQ-9 date"),
    "diagnosis": ("Diagnosis", "ICD-10", "Diagnosis code"),
    "consent_on": ("Consent date", "Date of consent"),
}
REQUIRED_TRACKER_COLUMNS = ("mrn", "given_name", "family_name", "birth_date", "sex", "enrolled_on")
SEX_WORDS = {
    "f": "female",
    "female": "female",
    "woman": "female",
    "m": "male",
    "male": "male",
    "man": "male",
    "other": "other",
    "o": "other",
    "x": "other",
    "unknown": "unknown",
    "u": "unknown",
    "": "unknown",
}


def normalized_header(header: object) -> str:
    """A header as matched: lower case, without spaces, hyphens or underscores
    (API_CONTRACT.md: "headers matched case- and space-insensitively")."""
    text = str(header or "").lower()
    return "".join(ch for ch in text if ch not in " -_\t\n")


def tracker_column(header: object) -> str | None:
    """Which tracker field a spreadsheet header is (TRACKER_COLUMNS, API_CONTRACT.md), if any."""
    wanted = normalized_header(header)
    for name, spellings in TRACKER_COLUMNS.items():
        if any(normalized_header(s) == wanted for s in spellings):
            return name
    return None


def tracker_sex(value: object) -> str | None:
    """female/male/other/unknown from a tracker cell (F, M, Female, …) [I]; None if not."""
    return SEX_WORDS.get(str(value or "").strip().lower())


def tracker_date(value: object) -> date | None:
    """A date cell: a date, YYYY-MM-DD, or US MM/DD/YYYY (how US trackers write dates) [I]."""
    if isinstance(value, datetime):  # an XLSX date cell
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    try:
        if "/" in text:
            month, day, year = (int(p) for p in text.split("/"))
            return date(year if year > 99 else 2000 + year, month, day)
        if len(text) >= 10 and text[4] == "-":
            return date.fromisoformat(text[:10])
    except ValueError:
        return None
    return None
