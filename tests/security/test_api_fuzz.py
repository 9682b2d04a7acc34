"""Schemathesis drives the API from its own OpenAPI schema: valid requests on seeded records,
random ids and deliberately invalid data. No answer may be a server error or differ from
what the schema documents (status, content type, body)."""

import re

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cocm.accounts.models import ApiToken, Role
from cocm.api.routes import api

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MINIMUM_CASES = 1000
EXAMPLES_PER_OPERATION = 75


@pytest.fixture
def wsgi_app():
    # The requests run in this test's thread and database transaction: Django must not
    # close the connection at the start and end of each request, as its test client
    # arranges for itself.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def known_path_parameters(path: str, samples: dict) -> dict:
    return {name: samples[name] for name in re.findall(r"{(\w+)}", path) if samples.get(name)}


def test_the_api_survives_a_thousand_generated_requests(registry, wsgi_app):
    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    schema.app = wsgi_app
    token = ApiToken.issue(registry.users[Role.CARE_MANAGER])[1]
    headers = {"Authorization": f"Bearer {token}"}
    cases = 0
    statuses: dict[int, int] = {}

    for result in schema.get_all_operations():
        operation = result.ok()
        fixed = known_path_parameters(operation.path, registry.samples)
        strategy = st.one_of(
            operation.as_strategy(path_parameters=fixed),
            operation.as_strategy(),
            operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE),
        )

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):  # type: ignore[no-untyped-def]
            nonlocal cases
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)
            cases += 1
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        run()

    assert cases >= MINIMUM_CASES
    # Not all refusals: the seeded ids and the token let many requests through.
    assert sum(n for status, n in statuses.items() if status < 300) > cases // 10
