"""Claim lines for the billing system, as CSV and XLSX."""

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from cocm.billing.services import BillingLine, diagnosis_codes

HEADINGS = (
    "Patient",
    "MRN",
    "Payer",
    "Billing practitioner",
    "Date of service",
    "Codes",
    "Units",
    "ICD-10-CM",
    "Minutes",
    "Expected amount",
    "Month type",
)


def claim_rows(lines: list[BillingLine]) -> list[list[object]]:
    """Ready lines only: what goes to the claim."""
    ready = [line for line in lines if line.status == "ready"]
    diagnoses = diagnosis_codes([line.episode.id for line in ready])
    rows = []
    for line in ready:
        source = line.saved if line.saved and line.saved.frozen else None
        codes = (
            source.codes
            if source
            else [{"code": str(c.code), "units": c.units} for c in line.result.codes]
        )
        rows.append(
            [
                line.episode.patient,
                line.episode.mrn,
                line.payer,
                line.episode.referring_pcp,
                (source.date_of_service if source else line.date_of_service),
                " ".join(c["code"] for c in codes),
                " ".join(str(c["units"]) for c in codes),
                " ".join(diagnoses.get(line.episode.id, [])),
                source.minutes if source else line.result.minutes_counted,
                source.expected_amount if source else line.expected_amount,
                str(line.result.month_type),
            ]
        )
    return rows


def as_csv(lines: list[BillingLine]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADINGS)
    for row in claim_rows(lines):
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue()


def as_xlsx(lines: list[BillingLine]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Claims"
    sheet.append(HEADINGS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in claim_rows(lines):
        sheet.append([float(v) if hasattr(v, "as_tuple") else v for v in row])
    for (cell,) in sheet.iter_rows(min_row=2, min_col=5, max_col=5):
        cell.number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
