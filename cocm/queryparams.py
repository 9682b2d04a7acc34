"""Integer query parameters (ids, page numbers), parsed one way for every page and the API.

A value that is not a whole number in range is refused before it reaches the database:
SQLite and PostgreSQL store at most a signed 64-bit integer, and a larger number in a
filter fails inside the driver (a server error) instead of finding nothing. The refusal is
a 404 whose message names the parameter (pages show it; the API answers 404), or, for the
id filters of a list page, the filter is ignored and the page says why (`int_filter`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest

MAX_ID = 2**63 - 1  # the largest signed 64-bit integer (SQLite INTEGER, PostgreSQL bigint)
_MAX_DIGITS = len(str(MAX_ID))


class BadQueryParameter(Http404):
    """A query parameter that is not a whole number in range; `name` says which."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def whole_number(
    text: str | None,
    name: str,
    *,
    minimum: int = 1,
    maximum: int = MAX_ID,
) -> int | None:
    """The integer in `text`, None when it is empty; BadQueryParameter when not in range."""
    if text is None:
        return None
    text = text.strip()
    if text == "":
        return None
    # Only ASCII digits: str.isdigit() also accepts "²" and int() other scripts' digits.
    digits = text.removeprefix("-")
    if not digits or len(digits) > _MAX_DIGITS or not all("0" <= c <= "9" for c in digits):
        raise BadQueryParameter(name, f"'{name}' must be a whole number, not '{text[:40]}'.")
    value = int(text)
    if not minimum <= value <= maximum:
        raise BadQueryParameter(
            name, f"'{name}' must be between {minimum} and {maximum}, not {value}."
        )
    return value


def int_param(
    query: Mapping[str, Any],
    name: str,
    *,
    default: int | None = None,
    minimum: int = 1,
    maximum: int = MAX_ID,
) -> int | None:
    """An integer query parameter (`request.GET`), or `default` when absent or empty."""
    value = whole_number(query.get(name), name, minimum=minimum, maximum=maximum)
    return default if value is None else value


def page_param(query: Mapping[str, Any], name: str = "page") -> int:
    """A page number (1 when absent); a page past the last is the paginator's business."""
    value = int_param(query, name, default=1, minimum=1)
    assert value is not None
    return value


def int_filter(request: HttpRequest, name: str) -> int | None:
    """An id filter of a list page (`?clinic=3`): a value that is not an id is ignored and
    the page says so, as it ignores any other filter value it does not know."""
    try:
        return int_param(request.GET, name)
    except BadQueryParameter as error:
        messages.warning(request, f"{error.message} That filter was ignored.")
        return None
