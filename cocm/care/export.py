"""Caseload exports (CSV and XLSX) with the tracker's columns."""

import csv
import io
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from cocm.care.tracker import COLUMNS, TrackerRow


def cell(row: TrackerRow, key: str) -> Any:
    value = getattr(row, key)
    if key == "flags":
        return "; ".join(flag.reason for flag in value)
    if key.endswith("_change") and value is not None:
        return round(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def as_csv(rows: list[TrackerRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([heading for _, heading in COLUMNS])
    for row in rows:
        writer.writerow(
            [
                value.isoformat() if isinstance(value, date) else ("" if value is None else value)
                for value in (cell(row, key) for key, _ in COLUMNS)
            ]
        )
    return buffer.getvalue()


def as_xlsx(rows: list[TrackerRow]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Caseload"
    sheet.append([heading for _, heading in COLUMNS])
    for header in sheet[1]:
        header.font = Font(bold=True)
    for row in rows:
        sheet.append([cell(row, key) for key, _ in COLUMNS])
    for index, (key, _) in enumerate(COLUMNS, start=1):
        if key.endswith("_on"):
            for (value,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                value.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "B2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
