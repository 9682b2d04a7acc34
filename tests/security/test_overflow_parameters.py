"""Ids and page numbers too large for a 64-bit integer, on every page and API operation:
a 404 or a clear message, never a server error (cocm/queryparams.py)."""

import re

import pytest
from django.test import Client

from cocm.accounts.models import Role
from cocm.queryparams import MAX_ID, BadQueryParameter, int_param, page_param, whole_number
from tests.security.test_access_matrix import (
    API_PREFIX,
    PARAMETER,
    api_body,
    api_operations,
    call_api,
    page_patterns,
    protected_pages,
    request,
)

HUGE = "99999999999999999999"
ROLES = list(Role)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", None), (None, None), ("7", 7), (" 42 ", 42), (str(MAX_ID), MAX_ID)],
)
def test_whole_numbers_in_range_are_read(text, expected):
    assert whole_number(text, "clinic") == expected


@pytest.mark.parametrize(
    "text", [HUGE, str(MAX_ID + 1), "0", "-1", "abc", "1.5", "1e9", "²", "١٢", "--1", "-"]
)
def test_anything_else_is_refused_naming_the_parameter(text):
    with pytest.raises(BadQueryParameter, match="'clinic' must be") as refused:
        whole_number(text, "clinic")

    assert refused.value.name == "clinic"


def test_defaults_and_page_numbers():
    assert int_param({}, "clinic", default=3) == 3
    assert page_param({}) == 1
    assert page_param({"page": "12"}) == 12
    with pytest.raises(BadQueryParameter):
        page_param({"page": HUGE})


def overflowing_url(route: str, samples: dict) -> str:
    """Every integer path argument replaced by a number past 64 bits."""

    def value(match: re.Match) -> str:
        name, converter = match.group("name"), match.group("converter")
        if converter == "int" or name.endswith("_id"):
            return HUGE
        return str(samples[name])

    return "/" + PARAMETER.sub(value, route).lstrip("^").rstrip("$")


@pytest.mark.parametrize("role", ROLES, ids=[role.value for role in ROLES])
def test_no_page_or_api_operation_fails_on_an_overflowing_id(registry, role):
    client = Client(raise_request_exception=False)
    client.force_login(registry.users[role])
    failures = []
    # Pages: every integer path argument, then the integer query parameters any page reads.
    for route, pattern in page_patterns():
        if "<" not in route:
            continue
        url = overflowing_url(route, registry.samples)
        response = request(client, url)
        if response.status_code >= 500:
            failures.append(f"{pattern.name} {url}: {response.status_code}")
    for name, url, _ in protected_pages(registry.samples):
        query = f"?page={HUGE}&clinic={HUGE}&care_manager={HUGE}&patient_id={HUGE}&user={HUGE}"
        response = client.get(url + query)
        if response.status_code >= 500:
            failures.append(f"{name} {url}{query}: {response.status_code}")
    # The API: every id in a path.
    client = Client(
        HTTP_AUTHORIZATION=f"Bearer {registry.token(registry.users[role])}",
        raise_request_exception=False,
    )
    for method, route in api_operations():
        url = API_PREFIX + overflowing_url(
            route.lstrip("/").replace("{", "<").replace("}", ">"), registry.samples
        )
        response = call_api(client, method, url, api_body(method, route, role, registry))
        if response.status_code >= 500:
            failures.append(f"{method} {route}: {response.status_code}")
        elif "_id}" in route and response.status_code not in (403, 404, 422):
            failures.append(f"{method} {route}: {response.status_code}, expected 403/404/422")

    assert failures == []


@pytest.mark.django_db
def test_the_not_found_page_says_why_or_that_nothing_is_there(client):
    unknown = client.get("/no-such-page/")

    assert unknown.status_code == 404
    assert "There is nothing at this address." in unknown.content.decode()
    assert "Resolver404" not in unknown.content.decode()
