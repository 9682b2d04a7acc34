"""Spreadsheet files (CSV and XLSX) for every export in the product.

One place writes them, so every export neutralises cells that a spreadsheet would read as
a formula (OWASP "CSV injection"): a value beginning with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return is prefixed with an apostrophe and stays text. Numbers and dates are
written as numbers and dates, never neutralised.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def neutralised(value: Any) -> Any:
    """A text cell a spreadsheet cannot run: formula-like text gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass(frozen=True)
class Sheet:
    """One table: a title (the XLSX sheet name), its headings and its rows."""

    title: str
    headings: Sequence[str]
    rows: Iterable[Sequence[Any]]


def csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)):
        return value
    return neutralised(str(value))


def xlsx_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, (int, float, date, datetime)):
        return value
    return neutralised(str(value))


def csv_lines(sheet: Sheet) -> Iterator[str]:
    """The sheet as CSV text, a line at a time (exports of any size stream)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_value(heading) for heading in sheet.headings])
    for row in sheet.rows:
        writer.writerow([csv_value(value) for value in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def as_csv(sheet: Sheet) -> str:
    return "".join(csv_lines(sheet))


def as_xlsx(*sheets: Sheet) -> bytes:
    """One workbook, a worksheet per sheet: bold headings, frozen header row, ISO dates.

    Written in openpyxl's write-only mode: each row goes to the file as it is read, so a
    sheet of any length (an organization's caseload) never holds its rows in memory; only
    the finished, compressed file is."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        worksheet = workbook.create_sheet(sheet.title[:31])
        worksheet.freeze_panes = "A2"
        headings = []
        for heading in sheet.headings:
            cell = WriteOnlyCell(worksheet, xlsx_value(heading))
            cell.font = Font(bold=True)
            headings.append(cell)
        worksheet.append(headings)
        for row in sheet.rows:
            worksheet.append([xlsx_cell(worksheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_cell(worksheet: Any, value: Any) -> Any:
    """A cell's value, as a cell with its number format when it is a date or a time."""
    value = xlsx_value(value)
    if not isinstance(value, date):
        return value
    cell = WriteOnlyCell(worksheet, value)
    cell.number_format = "yyyy-mm-dd hh:mm" if isinstance(value, datetime) else "yyyy-mm-dd"
    return cell


def spreadsheet_response(sheet: Sheet, export_format: str, filename: str) -> HttpResponseBase:
    """A download of one sheet as ``csv`` (streamed) or ``xlsx``; ``filename`` without suffix.

    The file name must not identify a patient (it ends up in browser histories and logs).
    """
    if export_format not in FORMATS:
        raise ValueError(f"unknown export format {export_format!r}")
    response: HttpResponseBase
    if export_format == "csv":
        response = StreamingHttpResponse(csv_lines(sheet), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(as_xlsx(sheet), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{export_format}"'
    return response
