"""Stored caseload rows: the tracker's row of each episode, kept correct on every write.

`tracker_rows` computes a row from an episode's contacts, measures, reviews, billing time
and flags: about half a millisecond of CPU per episode, too much for a caseload of 150
opened by every care manager many times a day, and far too much for an organization's
34,000. So each episode keeps its last computed row (`CaseloadRow`, typed columns), the
rows that are not current are recomputed first (`ensure_current`), and then a caseload, the
PCP list and the review agenda filter, sort and page in the database (`CaseloadRows`): a
page reads only the rows it shows.

A stored row is current while
- no write changed its inputs since it was computed: every such write bumps the episode's
  `generation` in the writer's own transaction (the receivers below; a write through
  `QuerySet.update()` or `bulk_create()` sends no signal and must call `mark_changed`),
  and the reader reads the generation *before* the data it computes from, so a row
  computed from data older than a concurrent write keeps the older generation and is
  recomputed next time;
- it was computed for the same day (weeks in treatment, days since contact, the month's
  minutes, the payer and the time-driven flags change with the calendar);
- the organization's flag thresholds, its billing rules (minutes to the next threshold) and
  the row format are the same (`rules_key`).

Names (patient, MRN, clinic, care manager) are not stored: they are read with the rows
(joined), so renaming a patient or a clinic needs no bump.
"""

from collections.abc import Iterator, Sequence
from dataclasses import astuple, fields
from datetime import date
from hashlib import sha256
from typing import Any, overload

from django.db import connections, router
from django.db.models import (
    Case,
    CharField,
    Expression,
    F,
    Model,
    OrderBy,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import NullIf
from django.db.models.signals import post_delete, post_save

from cocm.accounts.models import Organization, staff_name
from cocm.care.billing_figures import MonthFigures, month_figures
from cocm.care.models import (
    CaseloadRow,
    CaseReview,
    Contact,
    Recommendation,
    RelapsePreventionPlan,
    ReviewRequest,
)
from cocm.care.tracker import COLUMNS, TrackerRow, flag_rules, tracker_rows
from cocm.domain.episodes import EpisodeStatus
from cocm.domain.flags import Flag, FlagCode, FlagRules
from cocm.measures.models import Assessment, SafetyAlert
from cocm.registry.models import (
    CareTeamChange,
    Clinic,
    ConsentRevocation,
    Coverage,
    Diagnosis,
    Episode,
    Patient,
    StatusChange,
    patient_name,
)

# Bump when `tracker_rows`, `TrackerRow` or the stored columns change what a row holds:
# every stored row is then recomputed on its next read.
ROW_FORMAT = 3
# Episodes computed per batch (SQLite allows 32,766 parameters per query); rows read per
# chunk when a caseload is read whole (an export).
BATCH = 2000

# The tracker row's values stored as columns of the same name; the names are read live,
# the ids are the episode's and the status label follows from the status.
_NAMES = ("patient_name", "mrn", "clinic", "care_manager")
_NOT_STORED = frozenset({*_NAMES, "episode_id", "patient_id", "status_label", "flags"})
STORED = tuple(f.name for f in fields(TrackerRow) if f.name not in _NOT_STORED)
FLAG_COLUMNS = {code: f"flag_{code.value}" for code in FlagCode}
# What `refresh` writes.
STORED_COLUMNS = (*STORED, "flags", "flag_count", *FLAG_COLUMNS.values())
# What a reader reads: the row's values, then the names.
_ROW = ("episode_id", "episode__patient_id", *STORED, "flags")
_READ = (
    *_ROW,
    "episode__patient__family_name",
    "episode__patient__given_name",
    "episode__patient__mrn",
    "episode__clinic__name",
    "episode__care_manager__username",
    "episode__care_manager__first_name",
    "episode__care_manager__last_name",
    "episode__care_manager__credentials",
)
_STATUS_LABELS = {status.value: status.label for status in EpisodeStatus}


def rules_key(rules: FlagRules, billing_rules: MonthFigures) -> str:
    flags = ",".join(str(value) for value in astuple(rules))
    # Hashed: the billing rules' text runs to a few hundred characters per payer.
    billing = sha256(billing_rules.key.encode()).hexdigest()[:16]
    # The flag rules hold the remission cut-off, which decides the row's remission marker.
    return f"{ROW_FORMAT}:{flags}:{billing}"


class CaseloadRows(Sequence[TrackerRow]):
    """Stored rows as tracker rows, read lazily from a queryset of `CaseloadRow`: `len()`
    counts in the database, a slice reads only its rows (what a paginator asks for), and
    iterating reads in chunks of BATCH, so an export of every row never holds them all.

    `filter` and `order_by` narrow and sort in the database; the order always puts open
    safety alerts first and ends with the episode id, so pages never overlap."""

    def __init__(self, rows: QuerySet[CaseloadRow], length: int | None = None) -> None:
        self.rows = rows
        self.length = length  # when already counted

    def filter(self, *conditions: Q, **lookups: Any) -> "CaseloadRows":
        return CaseloadRows(self.rows.filter(*conditions, **lookups))

    def order_by(self, *ordering: str | OrderBy) -> "CaseloadRows":
        """Safety alerts first, then `ordering`, then the episode id."""
        return CaseloadRows(self.rows.order_by(*alerts_first(*ordering)))

    def __len__(self) -> int:
        return self.rows.count() if self.length is None else self.length

    @overload
    def __getitem__(self, index: int) -> TrackerRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[TrackerRow]: ...
    def __getitem__(self, index: int | slice) -> TrackerRow | list[TrackerRow]:
        values = self.rows.values_list(*_READ)
        if isinstance(index, slice):
            return [_tracker_row(each) for each in values[index]]
        return _tracker_row(values[index])

    def __iter__(self) -> Iterator[TrackerRow]:
        for each in self.rows.values_list(*_READ).iterator(chunk_size=BATCH):
            yield _tracker_row(each)


def alerts_first(*ordering: str | OrderBy) -> tuple[str | OrderBy, ...]:
    """Every caseload's order: open safety alerts on top, then `ordering`, then the episode
    id (so that rows with the same values keep one order from page to page)."""
    return ("-open_alert", *ordering, "episode_id")


# How the tracker's columns sort in the database: names through the episode, the status by
# its label, every other column by its stored value. Empty values (None, "") come last in
# either direction, as a list sorted by hand would put them.
_SORT_PATHS: dict[str, tuple[str | Expression, ...]] = {
    "patient_name": ("episode__patient__family_name", "episode__patient__given_name"),
    "mrn": ("episode__patient__mrn",),
    "clinic": ("episode__clinic__name",),
    "care_manager": (
        "episode__care_manager__first_name",
        "episode__care_manager__last_name",
        "episode__care_manager__username",
    ),
    "status_label": (
        Case(
            *(When(status=value, then=Value(label)) for value, label in _STATUS_LABELS.items()),
            output_field=CharField(),
        ),
    ),
}
# Every column of the tracker but the flags (a filter, not an order).
SORTABLE = frozenset(key for key, _ in COLUMNS if key != "flags")


def column_order(key: str, descending: bool = False) -> list[OrderBy]:
    """The ORDER BY of one tracker column (one of SORTABLE), empty values last."""
    if key not in SORTABLE:
        raise ValueError(f"the caseload does not sort by {key!r}")
    paths = _SORT_PATHS.get(key, (key,))
    return [OrderBy(_empty_as_null(path), descending=descending, nulls_last=True) for path in paths]


def _empty_as_null(path: str | Expression) -> Expression:
    if not isinstance(path, str):
        return path
    field = CaseloadRow._meta.get_field(path) if "__" not in path else None
    if field is not None and field.get_internal_type() == "CharField":
        return NullIf(F(path), Value(""))
    return F(path)


def current_caseload(
    episodes: QuerySet[Episode],
    as_of: date,
    rules: FlagRules,
    billing_rules: MonthFigures | None = None,
) -> CaseloadRows:
    """The rows of these episodes as of a day, every one current (the stale ones computed
    and stored first), safety alerts first."""
    ensure_current(episodes, as_of, rules, billing_rules)
    return CaseloadRows(CaseloadRow.objects.filter(episode__in=episodes.order_by())).order_by()


def caseload_rows(
    episodes: QuerySet[Episode],
    as_of: date,
    rules: FlagRules,
    billing_rules: MonthFigures | None = None,
) -> list[TrackerRow]:
    """The tracker rows of these episodes as of a day, safety alerts first; stored rows where
    they are current, the rest computed and stored. Two queries when every row is current."""
    # Through iter(): list() of a sized sequence would count it first, a query more.
    return list(iter(current_caseload(episodes, as_of, rules, billing_rules)))


def on_caseload(episodes: QuerySet[Episode]) -> QuerySet[Episode]:
    """The episodes a caseload lists: the open ones, and any other whose safety alert is
    still open (an alert stays on the care team's list until its follow-up is documented)."""
    alerted = SafetyAlert.objects.filter(resolved_at__isnull=True).values("episode_id")
    return episodes.filter(~Q(status=EpisodeStatus.DISCHARGED) | Q(id__in=alerted))


def organization_caseload_rows(
    organization: Organization, episodes: QuerySet[Episode]
) -> CaseloadRows:
    """`current_caseload` as of the organization's today, under its flag and billing rules."""
    return current_caseload(
        episodes, organization.today(), flag_rules(organization), month_figures(organization)
    )


def refresh_stale(organization: Organization) -> int:
    """Compute the rows of the organization's open episodes that are not current (the
    worker's pass, so that the first caseload of the day finds its rows ready); returns how
    many."""
    episodes = on_caseload(Episode.objects.filter(clinic__organization=organization))
    return ensure_current(
        episodes, organization.today(), flag_rules(organization), month_figures(organization)
    )


def ensure_current(
    episodes: QuerySet[Episode],
    as_of: date,
    rules: FlagRules,
    billing_rules: MonthFigures | None = None,
) -> int:
    """Compute and store the rows of these episodes that are not current (one query when
    none is stale); returns how many."""
    billing_rules = billing_rules or month_figures()
    current = CaseloadRow.objects.filter(current_rows(as_of, rules_key(rules, billing_rules)))
    stale = sorted(
        episodes.order_by()
        .exclude(id__in=current.values("episode_id"))
        .values_list("id", flat=True)
        .distinct()
    )
    refresh(stale, as_of, rules, billing_rules)
    return len(stale)


def current_rows(as_of: date, key: str) -> Q:
    """Stored rows computed since the last write, for this day, under these rules."""
    return Q(computed_generation=F("generation"), as_of=as_of, rules_key=key)


def refresh(
    episode_ids: list[int],
    as_of: date,
    rules: FlagRules,
    billing_rules: MonthFigures | None = None,
) -> None:
    """Compute and store the rows of these episodes, in batches."""
    billing_rules = billing_rules or month_figures()
    key = rules_key(rules, billing_rules)
    for start in range(0, len(episode_ids), BATCH):
        batch = episode_ids[start : start + BATCH]
        # The generation is read before the data: see the module docstring.
        generations = current_generations(batch)
        rows = tracker_rows(Episode.objects.filter(id__in=batch), as_of, rules, billing_rules)
        written = [
            CaseloadRow(
                episode_id=row.episode_id,
                computed_generation=generations[row.episode_id],
                as_of=as_of,
                rules_key=key,
                **stored_values(row),
            )
            for row in rows
        ]
        _write(written, ("computed_generation", "as_of", "rules_key", *STORED_COLUMNS))


def current_generations(episode_ids: list[int]) -> dict[int, int]:
    """The generation of each episode (at most BATCH of them), creating the rows that are
    missing. Read it before the data a stored result is computed from."""
    _ensure_rows(episode_ids)
    return dict(
        CaseloadRow.objects.filter(episode_id__in=episode_ids).values_list(
            "episode_id", "generation"
        )
    )


def mark_changed(episodes: QuerySet[Episode]) -> None:
    """Bump the generation of these episodes' rows (creating them if need be), in the
    caller's transaction, so that no row computed before this write is used after it."""
    ids = list(episodes.order_by().values_list("id", flat=True))
    if not ids:
        return
    # The row must exist before the bump: otherwise a reader inserting it concurrently
    # would store a row computed before this write under generation 0, as if current.
    _ensure_rows(ids)
    CaseloadRow.objects.filter(episode_id__in=ids).update(generation=F("generation") + 1)


def _ensure_rows(episode_ids: list[int]) -> None:
    if not episode_ids:
        return
    columns = [f.name for f in CaseloadRow._meta.concrete_fields if not f.primary_key]
    # A new row holds the defaults: prepared once, not once per episode (an import marks
    # thousands at once).
    (first, *_), sql = _prepared([CaseloadRow(episode_id=0)], columns, insert=True)
    database = connections[router.db_for_write(CaseloadRow)]
    with database.cursor() as cursor:
        if database.vendor == "postgresql":  # one statement for all, not one per row
            head, _, conflict = sql.partition(" VALUES ")
            _, _, conflict = conflict.partition(") ")
            defaults = ", ".join(["%s"] * (len(first) - 1))
            # Names from the model, every value a parameter.
            select = f"SELECT episode_id, {defaults} FROM unnest(%s::bigint[]) AS episode_id"  # noqa: S608
            cursor.execute(f"{head} {select} {conflict}", [*first[1:], episode_ids])
        else:
            cursor.executemany(sql, [[episode_id, *first[1:]] for episode_id in episode_ids])


def _write(rows: list[CaseloadRow], names: Sequence[str], *, insert: bool = False) -> None:
    """Write these columns of the rows with one statement run once per row (`executemany`):
    an UPDATE by episode, or an INSERT that leaves an existing row alone. A row has some 45
    columns, so `bulk_update` (a CASE per column) or `bulk_create` would split a batch into
    statements of 21 rows under Django's SQLite limit of 999 parameters per query, and the
    queries of a page would grow with the number of rows it recomputes."""
    if not rows:
        return
    values, sql = _prepared(rows, names, insert=insert)
    with connections[router.db_for_write(CaseloadRow)].cursor() as cursor:
        cursor.executemany(sql, values)


def _prepared(
    rows: list[CaseloadRow], names: Sequence[str], *, insert: bool
) -> tuple[list[list[Any]], str]:
    """The values of each row (the key first for an INSERT, last for an UPDATE) and the
    statement of `_write`."""
    database = connections[router.db_for_write(CaseloadRow)]
    quote = database.ops.quote_name
    key = CaseloadRow._meta.pk
    assert key is not None
    fields = [CaseloadRow._meta.get_field(name) for name in names]
    table, columns = quote(CaseloadRow._meta.db_table), [quote(f.column) for f in fields]
    if insert:
        fields.insert(0, key)
        placeholders = ", ".join(["%s"] * len(fields))
        sql = (
            f"INSERT INTO {table} ({quote(key.column)}, {', '.join(columns)}) "  # noqa: S608
            f"VALUES ({placeholders}) ON CONFLICT ({quote(key.column)}) DO NOTHING"
        )
    else:
        fields.append(key)
        assignments = ", ".join(f"{column} = %s" for column in columns)
        sql = f"UPDATE {table} SET {assignments} WHERE {quote(key.column)} = %s"  # noqa: S608
    values = [
        [field.get_db_prep_save(getattr(row, field.attname), database) for field in fields]
        for row in rows
    ]
    return values, sql


def stored_values(row: TrackerRow) -> dict[str, Any]:
    """A tracker row's values as `CaseloadRow` columns (`STORED_COLUMNS`): the flags as JSON (code,
    reason, source) and as one boolean per code; not the names, which are read live."""
    codes = {flag.code for flag in row.flags}
    return {
        **{name: getattr(row, name) for name in STORED},
        "flags": [[flag.code.value, flag.reason, flag.source] for flag in row.flags],
        "flag_count": len(row.flags),
        **{column: code in codes for code, column in FLAG_COLUMNS.items()},
    }


def row_to_json(row: TrackerRow) -> dict[str, Any]:
    """What a stored row holds of a tracker row, with its episode's ids: the inverse of
    `row_from_json` (with the names)."""
    return {"episode_id": row.episode_id, "patient_id": row.patient_id, **stored_values(row)}


def row_from_json(values: dict[str, Any]) -> TrackerRow:
    """The tracker row of a stored row's values (`row_to_json`) and its names."""
    return TrackerRow(
        episode_id=values["episode_id"],
        patient_id=values["patient_id"],
        patient_name=values["patient_name"],
        mrn=values["mrn"],
        clinic=values["clinic"],
        care_manager=values["care_manager"],
        status_label=_STATUS_LABELS.get(values["status"], values["status"]),
        flags=tuple(
            Flag(FlagCode(code), reason, source) for code, reason, source in values["flags"]
        ),
        **{name: values[name] for name in STORED},
    )


def _tracker_row(values: tuple[Any, ...]) -> TrackerRow:
    """A tracker row from one row read with the `_READ` columns."""
    *stored, family, given, mrn, clinic, username, first, last, credentials = values
    named = dict(zip(_ROW, stored, strict=True))
    named["patient_id"] = named.pop("episode__patient_id")
    named["patient_name"] = patient_name(family, given)
    named["mrn"] = mrn
    named["clinic"] = clinic
    named["care_manager"] = staff_name(username, first, last, credentials) if username else ""
    return row_from_json(named)


# What each write changes. A contact changes the billing history of every episode of the
# patient (service months count across registry episodes), so it marks them all.
def _episode_of(instance: Any) -> QuerySet[Episode]:
    return Episode.objects.filter(id=instance.episode_id)


def _episodes_of_patient_of_episode(instance: Any) -> QuerySet[Episode]:
    return Episode.objects.filter(patient__episodes__id=instance.episode_id)


def _episodes_of_patient(instance: Any) -> QuerySet[Episode]:
    return Episode.objects.filter(patient_id=instance.patient_id)


_WRITES: dict[type[Model], Any] = {
    Contact: _episodes_of_patient_of_episode,
    Assessment: _episode_of,
    SafetyAlert: _episode_of,
    CaseReview: _episode_of,
    ReviewRequest: _episode_of,
    Recommendation: _episode_of,
    RelapsePreventionPlan: _episode_of,
    StatusChange: _episode_of,
    # The psychiatric consultant decides a flag (and the caseload a row is on).
    CareTeamChange: _episode_of,
    # A revocation stops the episode's minutes counting, which changes the billing history
    # of the patient's other episodes too (as a contact does).
    ConsentRevocation: _episodes_of_patient_of_episode,
    Episode: lambda episode: Episode.objects.filter(id=episode.id),
    Coverage: _episodes_of_patient,
    # The quality measures read an episode's diagnoses and the patient's birth date.
    Diagnosis: _episode_of,
    Patient: lambda patient: Episode.objects.filter(patient_id=patient.id),
    # The clinic's setting (FQHC/RHC) decides the billing codes.
    Clinic: lambda clinic: Episode.objects.filter(clinic_id=clinic.id),
}


def _on_write(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    mark_changed(_WRITES[sender](instance))


def connect() -> None:
    """Called once from the app's `ready()`."""
    for model in _WRITES:
        post_save.connect(_on_write, sender=model, dispatch_uid=f"caseload-{model.__name__}")
        post_delete.connect(_on_write, sender=model, dispatch_uid=f"caseload-{model.__name__}-d")
