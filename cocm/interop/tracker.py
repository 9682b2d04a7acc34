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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePath

from django.utils import timezone
from openpyxl import load_workbook

from cocm.accounts.models import Clinic, Role, User
from cocm.care.caseload import mark_changed
from cocm.domain.diagnoses import DiagnosisCodeError, normalize_icd10cm
from cocm.domain.episodes import ConsentMethod
from cocm.domain.instruments import InstrumentCode
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
from cocm.measures.models import Assessment
from cocm.measures.services import imported_total
from cocm.registry import bulk_rows
from cocm.registry import services as registry
from cocm.registry.models import Episode, Patient

MAX_ROWS = 50_000
# Rows imported per round of bulk writes (and per `__in` lookup).
BATCH = registry.BATCH


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

    def audit_text(self, rows: int) -> str:
        return f"tracker import: {rows} rows, {self.patients_created} new patients"

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
    assent_age = registry.assent_from_age(clinic.organization)
    # The patient a row's checks read (organization, birth date): one, not one per row.
    unsaved = Patient(organization=clinic.organization)
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
        row = TrackerRow(
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
        # The registry's own checks of the episode the row opens (the referral after the
        # birth, consent before enrollment, a minor's guardian), as the import makes them.
        unsaved.birth_date = row.birth_date
        try:
            registry.check_opening(
                opening(row, unsaved), clinic, as_of=as_of, assent_age=assent_age
            )
        except InvalidRequest as error:
            errors.append(RowError(number, _column(error.field, mapping), error.message))
            continue
        parsed.append(row)
    return parsed, errors


# The registry names the fields of an episode; a row error names the spreadsheet's column.
_SERVICE_FIELDS = {
    "referred_on": ("enrolled_on",),
    "on": ("enrolled_on",),
    "consent": ("consent_on", "enrolled_on"),
    "consent_guardian": ("birth_date",),
    "patient_assent": ("birth_date",),
    "diagnoses": ("diagnosis",),
}


def _column(field: str, mapping: dict[str, str]) -> str:
    for name in _SERVICE_FIELDS.get(field, ()):
        if mapping.get(name):
            return mapping[name]
    return field


def import_rows(
    rows: Iterable[TrackerRow],
    clinic: Clinic,
    *,
    by: User | None,
    as_of: date,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Store checked rows (the caller owns the one transaction), BATCH rows at a time with a
    few queries per table each, not per row. A patient whose MRN is already registered is
    matched, and gets no second episode or duplicate score."""
    summary = Summary()
    rows = list(rows)
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        _import_batch(batch, clinic, by=by, as_of=as_of, summary=summary)
        if progress:
            progress(len(batch))
    return summary


@dataclass
class TrackerReview:
    """An upload on its review page: the columns chosen for the fields and, once checked,
    the rows ready to import or every problem (the dry run)."""

    upload: TrackerUpload
    sheet: TrackerSheet
    mapping: dict[str, str]
    as_of: date
    checked: bool = False
    rows: list[TrackerRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.checked and not self.errors

    def context(self) -> dict[str, object]:
        return {
            "upload": self.upload,
            "headers": self.sheet.headers,
            "fields": mapping_fields(self.mapping),
            "row_count": len(self.sheet.rows),
            "checked": self.checked,
            "errors": self.errors,
            "ready": self.ready,
            "ready_count": len(self.rows),
        }


def review_upload(upload: TrackerUpload, posted: Mapping[str, str] | None) -> TrackerReview:
    """The upload with the recognised columns chosen; with the choices posted
    (`map_<field>`: a header), those columns, and every row checked."""
    sheet = read_sheet(bytes(upload.content), upload.filename)
    review = TrackerReview(upload, sheet, sheet.suggested_mapping(), upload.organization.today())
    if posted is None:
        return review
    chosen = {name: posted.get(f"map_{name}", "") for name in TRACKER_COLUMNS}
    review.mapping = {name: header for name, header in chosen.items() if header in sheet.headers}
    review.rows, review.errors = check_rows(
        sheet, review.mapping, upload.clinic, as_of=review.as_of
    )
    review.checked = True
    return review


def mapping_fields(mapping: dict[str, str]) -> list[dict[str, object]]:
    """Each tracker column with the spreadsheet header chosen for it."""
    return [
        {
            "name": name,
            "label": spellings[0],
            "required": name in REQUIRED_TRACKER_COLUMNS,
            "chosen": mapping.get(name, ""),
        }
        for name, spellings in TRACKER_COLUMNS.items()
    ]


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
    """Rows the registry refused while importing; the caller's transaction rolls back."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


def _import_batch(
    rows: list[TrackerRow], clinic: Clinic, *, by: User | None, as_of: date, summary: Summary
) -> None:
    organization = clinic.organization
    mrns = [row.mrn for row in rows]
    registered = set(
        Patient.objects.filter(organization=organization, mrn__in=mrns).values_list(
            "mrn", flat=True
        )
    )
    summary.patients_created += bulk_rows.insert(
        Patient,
        (
            {
                "organization_id": organization.pk,
                "mrn": row.mrn,
                "given_name": row.given_name,
                "family_name": row.family_name,
                "birth_date": row.birth_date,
                "sex": row.sex,
                "home_clinic_id": clinic.pk,
            }
            for row in rows
            if row.mrn not in registered
        ),
    )
    # Every row's patient, as the registry's checks read one (no model instance per row).
    patients = {
        patient.mrn: patient
        for patient in Patient.objects.filter(organization=organization, mrn__in=mrns).only(
            "id", "mrn", "organization_id", "birth_date", "sex"
        )
    }
    episode_of = dict(
        Episode.objects.open()
        .filter(patient_id__in=[patients[mrn].pk for mrn in registered])
        .values_list("patient_id", "id")
    )
    opening_rows = [row for row in rows if patients[row.mrn].pk not in episode_of]
    try:
        opened = registry.open_episodes(
            clinic,
            [opening(row, patients[row.mrn]) for row in opening_rows],
            by=by,
            as_of=as_of,
        )
    except registry.OpeningsRefused as refused:
        raise TrackerImportError(
            [
                RowError(opening_rows[i].row, error.field, error.message)
                for i, error in refused.errors
            ]
        ) from refused
    for episode in opened:
        episode_of[episode.patient_id] = episode.id
        if episode.enrolled_on is not None:
            summary.episodes_opened += 1
        else:
            summary.episodes_referred_only += 1
    new_episode_ids = {episode.id for episode in opened}
    # What a row stored before (a re-import): its scores are not stored twice.
    stored = set(
        Assessment.objects.filter(
            episode_id__in=[e for e in episode_of.values() if e not in new_episode_ids],
            instrument=InstrumentCode.PHQ9,
        ).values_list("episode_id", "taken_on", "total")
    )
    assessments, touched = [], set(new_episode_ids)
    for row in rows:
        patient = patients[row.mrn]
        episode_id = episode_of[patient.pk]
        recorded = 0
        for total, taken_on in row.scores:
            if (episode_id, taken_on, total) in stored:
                continue
            stored.add((episode_id, taken_on, total))
            assessments.append(
                imported_total(episode_id, InstrumentCode.PHQ9, taken_on, total, sex=patient.sex)
            )
            touched.add(episode_id)
            recorded += 1
        summary.assessments_recorded += recorded
        if row.mrn in registered and episode_id not in new_episode_ids and not recorded:
            summary.rows_already_imported += 1
    bulk_rows.insert(Assessment, assessments)
    # A bulk insert sends no signal: the stored caseload rows of the episodes written are
    # marked here (the billing months are counted from contacts, which an import has none of).
    mark_changed(Episode.objects.filter(id__in=touched))


def opening(row: TrackerRow, patient: Patient) -> registry.Opening:
    """The episode a row opens: referred at its first date, enrolled on its enrollment date
    when it names a diagnosis."""
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
    return registry.Opening(
        patient,
        referred_on=min([row.enrolled_on, *(on for _, on in row.scores)]),
        team=registry.CareTeam(row.care_manager, None, None),
        diagnoses=[row.diagnosis] if row.diagnosis else [],
        consent=consent,
        enrolled_on=row.enrolled_on if consent else None,
    )
