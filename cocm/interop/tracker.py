"""Import of an existing caseload tracker (CSV or XLSX): rows become patients, episodes of
care and their baseline and latest PHQ-9 (page: /interop/tracker/, command:
`cocm import caseload`).

Checking (the dry run) reads every row and names each problem by row number and column;
importing stores all rows in the caller's one transaction, or none. Matching on the MRN makes
a second import of the same file store nothing new.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePath

from django.utils import timezone
from openpyxl import load_workbook

from cocm.accounts.models import Clinic, Role, User
from cocm.domain.diagnoses import DiagnosisCodeError, normalize_icd10cm
from cocm.domain.episodes import ConsentMethod
from cocm.domain.instruments import InstrumentCode, ScoreFlag, Severity, severity
from cocm.domain.interop import (
    REQUIRED_TRACKER_COLUMNS,
    TRACKER_COLUMNS,
    date_problem,
    total_problem,
    tracker_column,
    tracker_date,
    tracker_sex,
)
from cocm.errors import InvalidRequest
from cocm.interop.models import TrackerUpload
from cocm.measures.models import Assessment, Method
from cocm.registry import services as registry
from cocm.registry.models import Patient

MAX_ROWS = 50_000


class TrackerFileError(ValueError):
    """The file cannot be read as a tracker at all."""


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.reason}"


@dataclass
class TrackerRow:
    row: int
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    sex: str
    enrolled_on: date
    care_manager: User | None
    diagnosis: str | None
    consent_on: date | None
    scores: list[tuple[int, date]] = field(default_factory=list)


@dataclass
class TrackerSheet:
    headers: list[str]
    rows: list[list[object]]  # data rows, without the header

    def suggested_mapping(self) -> dict[str, str]:
        """Field → header, for the headers the contract names (TRACKER_COLUMNS)."""
        mapping: dict[str, str] = {}
        for header in self.headers:
            name = tracker_column(header)
            if name and name not in mapping:
                mapping[name] = header
        return mapping


@dataclass
class Summary:
    patients_created: int = 0
    episodes_opened: int = 0
    episodes_referred_only: int = 0
    assessments_recorded: int = 0
    rows_already_imported: int = 0

    def message(self, rows: int) -> str:
        return (
            f"Imported {rows} rows: {self.patients_created} new patients, "
            f"{self.episodes_opened} enrolled episodes, {self.episodes_referred_only} "
            f"referred (no diagnosis), {self.assessments_recorded} PHQ-9 scores; "
            f"{self.rows_already_imported} rows were already in the registry."
        )


def read_sheet(content: bytes, filename: str) -> TrackerSheet:
    """The header row and the data rows of a CSV or XLSX file."""
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".xlsx":
        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a damaged file
            raise TrackerFileError(f"{filename} is not a readable XLSX file.") from error
        sheet = workbook.worksheets[0]
        rows = [list(row) for row in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 1)]
        workbook.close()
    elif suffix == ".csv":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise TrackerFileError(f"{filename} is not UTF-8 text.") from error
        rows = [list(row) for row in csv.reader(io.StringIO(text))]
    else:
        raise TrackerFileError("The file must be .csv or .xlsx.")
    if not rows:
        raise TrackerFileError(f"{filename} is empty.")
    if len(rows) > MAX_ROWS + 1:
        raise TrackerFileError(f"{filename} has more than {MAX_ROWS} rows.")
    headers = [str(h).strip() if h is not None else "" for h in rows[0]]
    data = [row for row in rows[1:] if any(str(c or "").strip() for c in row)]
    return TrackerSheet(headers, data)


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an MRN typed as a number in Excel
    return str(value).strip() if value is not None else ""


def check_rows(
    sheet: TrackerSheet, mapping: dict[str, str], clinic: Clinic, *, as_of: date
) -> tuple[list[TrackerRow], list[RowError]]:
    """Every row parsed, or every problem named by row number and column (the dry run)."""
    errors: list[RowError] = []
    missing = [name for name in REQUIRED_TRACKER_COLUMNS if not mapping.get(name)]
    for name in missing:
        errors.append(RowError(1, TRACKER_COLUMNS[name][0], "no column is mapped to it"))
    unknown = [h for h in mapping.values() if h and h not in sheet.headers]
    for header in unknown:
        errors.append(RowError(1, header, "no such column in the file"))
    if errors:
        return [], errors
    index = {name: sheet.headers.index(header) for name, header in mapping.items() if header}
    managers: dict[str, User | None] = {}
    parsed: list[TrackerRow] = []
    seen: dict[str, int] = {}
    for offset, cells in enumerate(sheet.rows):
        number = offset + 2
        row_errors: list[RowError] = []

        def cell(name: str, cells: list[object] = cells) -> object:
            position = index.get(name)
            return cells[position] if position is not None and position < len(cells) else None

        def fail(name: str, reason: str, number: int = number, sink: list = row_errors) -> None:
            sink.append(RowError(number, mapping[name], reason))

        mrn = _text(cell("mrn"))
        if not mrn:
            fail("mrn", "the MRN is empty")
        elif len(mrn) > 32:
            fail("mrn", "an MRN is at most 32 characters")
        elif mrn in seen:
            fail("mrn", f"MRN {mrn} is also on row {seen[mrn]}")
        else:
            seen[mrn] = number
        names = {}
        for name in ("given_name", "family_name"):
            names[name] = _text(cell(name))
            if not names[name]:
                fail(name, "empty")
            elif len(names[name]) > 100:
                fail(name, "at most 100 characters")
        dates: dict[str, date | None] = {}
        for name in (
            "birth_date",
            "enrolled_on",
            "consent_on",
            "phq9_baseline_on",
            "phq9_latest_on",
        ):
            raw = cell(name)
            if name not in index or _text(raw) == "":
                dates[name] = None
                if name in ("birth_date", "enrolled_on"):
                    fail(name, "empty")
                continue
            dates[name] = tracker_date(raw)
            problem = (
                "not a date (use YYYY-MM-DD or MM/DD/YYYY)"
                if dates[name] is None
                else date_problem(dates[name], as_of=as_of)  # type: ignore[arg-type]
            )
            if problem:
                fail(name, problem)
                dates[name] = None
        sex = tracker_sex(cell("sex"))
        if sex is None:
            fail("sex", f"'{_text(cell('sex'))[:20]}' is not female, male, other or unknown")
        scores: list[tuple[int, date]] = []
        for score_name, date_name in (
            ("phq9_baseline", "phq9_baseline_on"),
            ("phq9_latest", "phq9_latest_on"),
        ):
            raw = _text(cell(score_name))
            if not raw:
                continue
            try:
                total: object = int(float(raw)) if float(raw).is_integer() else float(raw)
            except ValueError:
                total = raw
            problem = total_problem(InstrumentCode.PHQ9, total)
            if problem:
                fail(score_name, problem)
            elif dates.get(date_name) is None:
                if date_name not in index:
                    row_errors.append(RowError(number, score_name, "needs its date column"))
                elif _text(cell(date_name)) == "":
                    fail(date_name, "the score has no date")
            else:
                scores.append((int(total), dates[date_name]))  # type: ignore[arg-type, call-overload]
        manager = None
        username = _text(cell("care_manager"))
        if username:
            if username not in managers:
                try:
                    managers[username] = registry.staff_member(
                        clinic.organization, username, Role.CARE_MANAGER, clinic, "care_manager"
                    )
                except registry.InvalidRequest:
                    managers[username] = None
            manager = managers[username]
            if manager is None:
                fail("care_manager", f"'{username[:40]}' is not a care manager at {clinic.name}")
        diagnosis = None
        if _text(cell("diagnosis")):
            try:
                diagnosis = normalize_icd10cm(_text(cell("diagnosis")))
            except DiagnosisCodeError as error:
                fail("diagnosis", str(error))
        enrolled_on, consent_on = dates.get("enrolled_on"), dates.get("consent_on")
        if enrolled_on and enrolled_on > as_of:
            fail("enrolled_on", f"{enrolled_on.isoformat()} is in the future")
        if enrolled_on and consent_on and consent_on > enrolled_on:
            fail("consent_on", "consent comes on or before the enrollment date")
        if row_errors:
            errors.extend(row_errors)
            continue
        parsed.append(
            TrackerRow(
                row=number,
                mrn=mrn,
                given_name=names["given_name"],
                family_name=names["family_name"],
                birth_date=dates["birth_date"],  # type: ignore[arg-type]
                sex=sex,  # type: ignore[arg-type]
                enrolled_on=dates["enrolled_on"],  # type: ignore[arg-type]
                care_manager=manager,
                diagnosis=diagnosis,
                consent_on=dates.get("consent_on"),
                scores=scores,
            )
        )
    return parsed, errors


def import_rows(
    rows: Iterable[TrackerRow],
    clinic: Clinic,
    *,
    by: User | None,
    as_of: date,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Store checked rows (the caller owns the one transaction). A patient whose MRN is
    already registered is matched, and gets no second episode or duplicate score."""
    summary = Summary()
    for row in rows:
        try:
            _import_row(row, clinic, by=by, as_of=as_of, summary=summary)
        except registry.InvalidRequest as error:
            raise TrackerImportError(RowError(row.row, error.field, error.message)) from error
        if progress:
            progress(1)
    return summary


def store_upload(user: User, clinic: Clinic, filename: str, content: bytes) -> TrackerUpload:
    """Keep an uploaded tracker for review; a file that cannot be read is refused (`file`)."""
    try:
        read_sheet(content, filename)
    except TrackerFileError as error:
        raise InvalidRequest(str(error), "file") from error
    return TrackerUpload.objects.create(
        organization=user.organization,
        clinic=clinic,
        uploaded_by=user,
        filename=filename[:200],
        content=content,
    )


def import_upload(
    upload: TrackerUpload, rows: list[TrackerRow], *, by: User, as_of: date
) -> Summary:
    """Import the checked rows of an upload, all or none (the caller's transaction), and
    mark the upload imported."""
    summary = import_rows(rows, upload.clinic, by=by, as_of=as_of)
    upload.imported_at = timezone.now()
    upload.save(update_fields=["imported_at"])
    return summary


class TrackerImportError(Exception):
    """A row the registry refused while importing; the caller's transaction rolls back."""

    def __init__(self, error: RowError) -> None:
        super().__init__(str(error))
        self.error = error


def _import_row(
    row: TrackerRow, clinic: Clinic, *, by: User | None, as_of: date, summary: Summary
) -> None:
    patient = Patient.objects.filter(organization=clinic.organization, mrn=row.mrn).first()
    created = patient is None
    if patient is None:
        patient = Patient.objects.create(
            organization=clinic.organization,
            mrn=row.mrn,
            given_name=row.given_name,
            family_name=row.family_name,
            birth_date=row.birth_date,
            sex=row.sex,
            home_clinic=clinic,
        )
        summary.patients_created += 1
    episode = patient.episodes.open().first()
    new_episode = episode is None
    if episode is None:
        referred_on = min([row.enrolled_on, *(on for _, on in row.scores)])
        consent = None
        if row.diagnosis:
            # An enrolled tracker row stands for consent documented in the practice's own
            # process; the import attests its two Medicare disclosures, as the API's consent
            # object does by default (docs/interop.md, "Importing a tracker").
            consent = registry.Consent(
                row.consent_on or row.enrolled_on,
                ConsentMethod.VERBAL,
                None,
                cost_sharing_explained=True,
                psychiatric_consultation_explained=True,
            )
        episode = registry.open_episode(
            patient,
            clinic,
            referred_on=referred_on,
            team=registry.CareTeam(row.care_manager, None, None),
            diagnoses=[row.diagnosis] if row.diagnosis else [],
            consent=None,
            by=by,  # type: ignore[arg-type]
            as_of=as_of,
        )
        if consent is not None:
            registry.enroll(episode, consent=consent, on=row.enrolled_on, by=by, as_of=as_of)  # type: ignore[arg-type]
            summary.episodes_opened += 1
        else:
            summary.episodes_referred_only += 1
    recorded = 0
    for total, taken_on in row.scores:
        if Assessment.objects.filter(
            episode=episode, instrument=InstrumentCode.PHQ9, taken_on=taken_on, total=total
        ).exists():
            continue
        band = severity(InstrumentCode.PHQ9, total)
        Assessment.objects.create(
            episode=episode,
            instrument=InstrumentCode.PHQ9,
            taken_on=taken_on,
            answers=[None] * 9,
            total=total,
            severity=band,
            flags=[ScoreFlag.SEVERE] if band == Severity.SEVERE else [],
            method=Method.IMPORTED,
        )
        recorded += 1
    summary.assessments_recorded += recorded
    if not (created or new_episode or recorded):
        summary.rows_already_imported += 1
