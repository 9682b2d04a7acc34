"""The month's billing files, written by cocm.spreadsheets (formula-like text neutralised).

- claims: one row per claim line (one code, its units in their own column) of the ready
  patient-months billed to a payer, with what a claim form asks for;
- self-pay: the ready patient-months of self-pay or uninsured patients (not claims);
- problems: the blocked and not-billable patient-months with their reasons.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.http.response import HttpResponseBase

from cocm.billing.fees import fee_table
from cocm.billing.services import BillingLine, diagnosis_codes
from cocm.domain import coding
from cocm.spreadsheets import Sheet, spreadsheet_response

# CMS Place of Service code set: 11 office, 50 federally qualified health center, 72 rural
# health clinic (https://www.cms.gov/medicare/coding-billing/place-of-service-codes).
PLACE_OF_SERVICE = {
    coding.ClinicSetting.PRACTICE: "11",
    coding.ClinicSetting.FQHC: "50",
    coding.ClinicSetting.RHC: "72",
}
# CMS-1500 item 21 holds up to twelve diagnoses (A-L); the first is the primary one.
MAX_DIAGNOSES = 12
KINDS = ("claims", "self_pay", "problems")
Status = coding.BillingStatus


def claim_lines(lines: Sequence[BillingLine]) -> list[BillingLine]:
    """Ready patient-months billed to a payer (self-pay and uninsured ones are not claims)."""
    return [line for line in lines if line.status == Status.READY and line.is_claim]


def self_pay_lines(lines: Sequence[BillingLine]) -> list[BillingLine]:
    return [line for line in lines if line.status == Status.READY and not line.is_claim]


def problem_lines(lines: Sequence[BillingLine]) -> list[BillingLine]:
    return [line for line in lines if line.status in (Status.BLOCKED, Status.NOT_BILLABLE)]


def claims_sheet(lines: Sequence[BillingLine], month: str) -> Sheet:
    """One row per code of every claim: patient, payer, practitioner, diagnoses, service."""
    chosen = claim_lines(lines)
    diagnoses = diagnosis_codes([line.episode.id for line in chosen])
    width = max([1, *(len(diagnoses.get(line.episode.id, [])) for line in chosen)])
    width = min(width, MAX_DIAGNOSES)
    year = int(month[:4])
    fees = fee_table({year})
    headings = [
        "Month",
        "Patient",
        "Birth date",
        "MRN",
        "Payer",
        "Payer name",
        "Member ID",
        "Rendering/billing practitioner",
        *(
            f"Diagnosis {index} (ICD-10-CM{', primary' if index == 1 else ''})"
            for index in range(1, width + 1)
        ),
        "Code",
        "Units",
        "Date of service",
        "Place of service",
        "Expected amount",
        "Month type",
        "Minutes counted",
    ]

    def rows() -> Iterator[list[Any]]:
        for line in chosen:
            episode = line.episode
            codes = diagnoses.get(episode.id, [])[:width]
            padded = [*codes, *([None] * (width - len(codes)))]
            for code, units in line.claim_codes:
                fee = fees.get((year, line.payer, code))
                yield [
                    month,
                    episode.patient,
                    episode.birth_date,
                    episode.mrn,
                    line.payer_label,
                    line.payer_name,
                    line.member_id,
                    episode.referring_pcp,
                    *padded,
                    code,
                    units,
                    line.service_date,
                    PLACE_OF_SERVICE.get(episode.clinic_setting, ""),
                    None if fee is None else (fee * units).quantize(Decimal("0.01")),
                    str(line.result.month_type),
                    line.result.minutes_counted,
                ]

    return Sheet("Claims", headings, rows())


def self_pay_sheet(lines: Sequence[BillingLine], month: str) -> Sheet:
    """Ready patient-months of self-pay or uninsured patients: billed to the patient."""
    headings = [
        "Month",
        "Patient",
        "Birth date",
        "MRN",
        "Coverage",
        "Codes",
        "Minutes counted",
        "Date of service",
        "Expected amount",
    ]
    rows = (
        [
            month,
            line.episode.patient,
            line.episode.birth_date,
            line.episode.mrn,
            line.payer_label or "no coverage on file",
            " + ".join(f"{code} x{units}" for code, units in line.claim_codes),
            line.result.minutes_counted,
            line.service_date,
            line.amount,
        ]
        for line in self_pay_lines(lines)
    )
    return Sheet("Self-pay", headings, rows)


def problems_sheet(lines: Sequence[BillingLine], month: str) -> Sheet:
    """Blocked and not-billable patient-months, with why and what to fix."""
    headings = [
        "Month",
        "Patient",
        "MRN",
        "Clinic",
        "Payer",
        "Status",
        "Month type",
        "Minutes counted",
        "Minutes to next threshold",
        "Blocking reasons",
        "What to fix",
        "Minutes not counted",
        "Decision",
    ]
    rows = (
        [
            month,
            line.episode.patient,
            line.episode.mrn,
            line.episode.clinic,
            line.payer_label or "no coverage on file",
            "blocked" if line.status == Status.BLOCKED else "not billable",
            str(line.result.month_type),
            line.result.minutes_counted,
            line.result.minutes_to_next_threshold,
            "; ".join(line.result.blocked_reasons),
            " ".join(fix.action for fix in line.fixes),
            "; ".join(f"{e.minutes} min {e.reason}" for e in line.result.excluded),
            line.result.decision,
        ]
        for line in problem_lines(lines)
    )
    return Sheet("Blocked and not billable", headings, rows)


SHEETS = {"claims": claims_sheet, "self_pay": self_pay_sheet, "problems": problems_sheet}


def sheet(kind: str, lines: Sequence[BillingLine], month: str) -> Sheet:
    return SHEETS[kind](lines, month)


def response(
    kind: str, lines: Sequence[BillingLine], month: coding.Month, file_format: str
) -> HttpResponseBase:
    """The month's file of this kind, as a download."""
    return spreadsheet_response(
        sheet(kind, lines, str(month)), file_format, f"{kind.replace('_', '-')}-{month}"
    )
