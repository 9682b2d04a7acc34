"""Write many rows fast: COPY on PostgreSQL, executemany on SQLite.

`insert` lets the database give the ids (the many-row services: the tracker import).
`Rows` is for the synthetic population only (`cocm/population.py`): rows are plain lists, not
model instances, so no `save()`, signal or validation runs. Ids are given here, after the
highest one in the table, in the order the rows are added (the order `bulk_create` gave
them), and the tables' sequences are moved past them when the rows are written. A column
the caller does not give takes the model field's default, so a column added later with a
default needs no change here; a column with a database default is left to the database.
"""

import json
from collections.abc import Callable, Iterable
from typing import Any

from django.core.management.color import no_style
from django.db import connection
from django.db.models import NOT_PROVIDED, Field, JSONField, Max, Model

# Field types the database drivers take as they are on both databases (str, int, bool).
NATIVE = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "FileField",
    "ForeignKey",
    "IntegerField",
    "OneToOneField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
}


def converter(field: Field[Any, Any]) -> Callable[[Any], Any] | None:
    """How a value of the field is passed to the driver; None when it is passed as it is."""
    if isinstance(field, JSONField):
        encoder = field.encoder
        return lambda value: None if value is None else json.dumps(value, cls=encoder)
    if connection.vendor == "postgresql" or field.get_internal_type() in NATIVE:
        return None  # psycopg adapts dates and datetimes itself
    # SQLite: Django's own conversion (dates and times as text, in UTC), once per value.
    known: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        try:
            return known[value]
        except KeyError:
            known[value] = field.get_db_prep_save(value, connection)
            return known[value]

    return convert


class Rows:
    """The rows of one model waiting to be written, each with its id already given."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        fields = [f for f in model._meta.concrete_fields if f.db_default is NOT_PROVIDED]
        self.columns = [f.column for f in fields]
        self.index = {f.attname: i for i, f in enumerate(fields)}
        self.id_index = self.index[model._meta.pk.attname]
        self.template = [f.get_default() for f in fields]
        self.converters = [(i, c) for i, f in enumerate(fields) if (c := converter(f))]
        self.next_id = (model.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
        self.rows: list[list[Any]] = []

    def add(self, **values: Any) -> int:
        """Queue one row (field attnames as keywords); returns its id."""
        row = self.template.copy()
        index = self.index
        for name, value in values.items():
            row[index[name]] = value
        for i, convert in self.converters:
            row[i] = convert(row[i])
        row_id = row[self.id_index] = self.next_id
        self.next_id += 1
        self.rows.append(row)
        return row_id

    def write(self) -> None:
        """Send the queued rows to the database and forget them."""
        if not self.rows:
            return
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = ", ".join(quote(column) for column in self.columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                places = ", ".join(["%s"] * len(self.columns))
                insert = f"INSERT INTO {table} ({columns}) VALUES ({places})"  # noqa: S608 - names from the model
                cursor.executemany(insert, self.rows)
        self.rows.clear()


def reset_sequences(models: Iterable[type[Model]]) -> None:
    """Move the id sequences past the ids given here (PostgreSQL; SQLite keeps track itself)."""
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cursor.execute(sql)


def insert(model: type[Model], rows: Iterable[dict[str, Any]]) -> int:
    """Insert rows (field attnames → values) with one statement run once per row
    (`executemany`), the ids given by the database; returns how many. As `Rows`, no
    `save()`, signal or validation runs, and a column not given takes the field's default
    (one value for all the rows: a `created_at` is the time of the insert); COPY on
    PostgreSQL. For the
    many-row services (an import), whose caller owns the transaction and marks what the
    signals would have: `bulk_create` spent most of an import preparing values row by row."""
    fields = [
        f for f in model._meta.concrete_fields if f.db_default is NOT_PROVIDED and not f.primary_key
    ]
    index = {f.attname: i for i, f in enumerate(fields)}
    template = [f.get_default() for f in fields]
    converters = [(i, c) for i, f in enumerate(fields) if (c := converter(f))]
    values = []
    for given in rows:
        row = template.copy()
        for name, value in given.items():
            row[index[name]] = value
        for i, convert in converters:
            row[i] = convert(row[i])
        values.append(row)
    if not values:
        return 0
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # COPY: one round trip, not one per row
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            places = ", ".join(["%s"] * len(fields))
            insert = f"INSERT INTO {table} ({columns}) VALUES ({places})"  # noqa: S608 - names from the model
            cursor.executemany(insert, values)
    return len(values)
