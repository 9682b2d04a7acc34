"""Caseload exports (CSV and XLSX) with the tracker's columns, written by cocm.spreadsheets."""

from collections.abc import Iterator, Sequence
from typing import Any

from cocm.care.tracker import COLUMNS, TrackerRow
from cocm.spreadsheets import Sheet


def cell(row: TrackerRow, key: str) -> Any:
    value = getattr(row, key)
    if key == "flags":
        return "; ".join(flag.reason for flag in value)
    if key.endswith("_change") and value is not None:
        return round(value)
    return value


def caseload_sheet(rows: Sequence[TrackerRow]) -> Sheet:
    """The tracker rows as one sheet; formula-like text (a name like "=HYPERLINK(...)")
    is neutralised by the writer."""

    def values() -> Iterator[list[Any]]:
        for row in rows:
            yield [cell(row, key) for key, _ in COLUMNS]

    return Sheet("Caseload", [heading for _, heading in COLUMNS], values())
