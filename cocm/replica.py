"""Reads that may lag by seconds go to a read replica (docs/scale.md, "A read replica").

With `DATABASE_REPLICA_URL` set, the database alias `replica` (`COCM_READ_REPLICA`) is a
streaming replica of the primary. A view that may show data a few seconds old (reports,
exports, the month worklist before its close) is decorated with `reads_from_replica`; its
reads then go to the replica, through `ReplicaRouter`, unless
- the request has written anything other than its own audit event (read-after-write: the
  user must see what they just saved), or
- the primary is inside a transaction (a read in a transaction belongs to it).
Writes always go to the primary. Without a replica configured everything is the primary.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Model
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase

PRIMARY = "default"

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Within this block, reads may go to the replica (see the module docstring)."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def reads_from_replica(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A view whose reads may lag by seconds; a streamed body reads from the replica too."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        with replica_reads():
            response = view(request, *args, **kwargs)
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = _streamed_from_replica(response.streaming_content)
        return response

    return wrapper


def _streamed_from_replica(chunks: Iterable[Any]) -> Iterator[Any]:
    with replica_reads():
        yield from chunks


class ReplicaRouter:
    """Django database router: the replica for lag-tolerant reads, the primary for the rest."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        replica: str | None = settings.COCM_READ_REPLICA
        if replica and _replica_reads.get() and not connections[PRIMARY].in_atomic_block:
            return replica
        return PRIMARY

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        if model._meta.label not in settings.COCM_REPLICA_WRITES_KEEPING_READS:
            # Read-after-write: the rest of this request reads from the primary.
            _replica_reads.set(False)
        return PRIMARY

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # one database, two copies of it

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == PRIMARY
