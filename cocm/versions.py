"""Optimistic version checks: a write names the version of the row its user read, and a
conditional UPDATE ... WHERE version = expected (bumping it) lets exactly one of two racing
writers through; the other gets EditConflict, on a page and in the API alike (docs/scale.md,
"Concurrent writers")."""

from typing import Any

from django.db.models import F, Model, QuerySet
from django.db.models.signals import post_save

from cocm.errors import EditConflict


def claim(rows: QuerySet[Any], version: int, *, conflict: str = "", **changes: object) -> None:
    """Bump the version of the one row in `rows` if it is still at `version` (with
    `changes` written in the same UPDATE); else raise EditConflict with `conflict` (default:
    the generic message). On PostgreSQL the UPDATE holds the row lock until the transaction
    ends, so a second writer waits and then finds the version moved on."""
    if not rows.filter(version=version).update(version=F("version") + 1, **changes):
        raise EditConflict(conflict)


def claimed(instance: Model, version: int, *, conflict: str = "", **changes: object) -> None:
    """`claim` for a loaded row; the instance then carries the new version and changes, and
    post_save is sent as a save() would (what listens for writes, such as the stored
    caseload rows, must hear of an UPDATE too)."""
    model = type(instance)
    claim(model._default_manager.filter(pk=instance.pk), version, conflict=conflict, **changes)
    for name, value in changes.items():
        setattr(instance, name, value)
    instance.version = version + 1  # type: ignore[attr-defined]
    post_save.send(
        sender=model, instance=instance, created=False, update_fields={*changes, "version"}
    )


def seen(instance: Model, version: int | None, *, conflict: str = "") -> int:
    """The version a write expects: `version` as the user read it, else the one loaded.
    Checked first, before the write's own rules: a user who read an older version gets the
    conflict (someone changed it since), not a refusal the other user's change caused."""
    loaded: int = instance.version  # type: ignore[attr-defined]
    if version is None:
        return loaded
    if version != loaded:
        raise EditConflict(conflict)
    return version
