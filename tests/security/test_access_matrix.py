"""Every URL and every API operation, for every role, against the one permission table.

The walk is generic: a page or API operation added later is covered without editing this
file. A page whose view declares no capability (`@requires`) and is not in PUBLIC fails.
"""

import json
import re
from collections.abc import Iterator
from unittest import mock

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from cocm.accounts.audit import _model_for
from cocm.accounts.models import AuditEvent, Role
from cocm.accounts.permissions import (
    CLINICAL_TERMS,
    OUTCOME_CAPABILITIES,
    PERMISSIONS,
    SECTIONS,
    can,
)
from cocm.api import routes
from cocm.registry.models import Patient
from tests.security.conftest import AS_OF

# Pages anyone may reach: signing in and out, the patient's self-report link (its token is
# the credential), the notification badge (empty for anonymous users), the landing page
# (a redirect to the role's home), the one-time-code step of signing in, the favicon and a
# survey link (its token is the credential, like self_report).
PUBLIC = frozenset(
    {
        "login",
        "logout",
        "two_factor",
        "self_report",
        "survey_response",
        "notification_badge",
        "home",
        "favicon",
    }
)
# Django's admin has its own permissions; the API and the FHIR server take bearer tokens
# (the FHIR server's matrix is tests/interop/test_fhir_access.py).
SKIPPED_NAMESPACES = frozenset({"admin", "api", "fhir"})
PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
ROLES = list(Role)
MISSING = 987654321


def page_patterns(
    patterns: list | None = None, prefix: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    """(route, pattern) for every page URL, outside the admin and the API."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if {pattern.namespace, pattern.app_name} & SKIPPED_NAMESPACES:
                continue
            yield from page_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def sample_value(name: str, samples: dict) -> object:
    if samples.get(name) is not None:
        return samples[name]
    model = _model_for(name) if name.endswith("_id") else None
    if model is None:
        pytest.fail(f"Add a sample value for the URL argument <{name}> to tests/security.")
    rows = model._default_manager.order_by("pk")
    fields = {f.name for f in model._meta.get_fields()}
    if "episode" in fields:
        rows = rows.filter(episode_id=samples["episode_id"]) or rows
    elif "patient" in fields:
        rows = rows.filter(patient_id=samples["patient_id"]) or rows
    row = rows.first()
    # No such row in the seeded population: an id that exists nowhere still proves that
    # roles without the capability are refused before the lookup (see MISSING).
    return row.pk if row else MISSING


def build_url(route: str, samples: dict) -> str:
    path = PARAMETER.sub(lambda m: str(sample_value(m.group("name"), samples)), route)
    return "/" + path.lstrip("^").rstrip("$")


def capability_of(pattern: URLPattern) -> str | None:
    return getattr(pattern.callback, "capability", None)


def request(client: Client, url: str):  # type: ignore[no-untyped-def]
    response = client.get(url)
    if response.status_code == 405:  # POST-only actions: an empty form is refused politely
        response = client.post(url, {})
    return response


def protected_pages(samples: dict) -> list[tuple[str, str, str]]:
    return [
        (pattern.name or route, build_url(route, samples), capability_of(pattern))
        for route, pattern in page_patterns()
        if pattern.name not in PUBLIC
    ]


def test_it_declares_a_capability_for_every_page_outside_the_public_list():
    undeclared = [
        f"/{route} ({pattern.name})"
        for route, pattern in page_patterns()
        if pattern.name not in PUBLIC and capability_of(pattern) is None
    ]

    assert undeclared == [], "Pages without @requires(...) and not public: " + ", ".join(undeclared)


def test_it_names_only_capabilities_of_the_permission_table():
    unknown = {
        capability_of(pattern)
        for _, pattern in page_patterns()
        if capability_of(pattern) and capability_of(pattern) not in PERMISSIONS
    }

    assert unknown == set()


@pytest.mark.parametrize("role", ROLES, ids=[role.value for role in ROLES])
def test_each_role_reaches_exactly_the_pages_its_permissions_allow(registry, role):
    client = Client()
    client.force_login(registry.users[role])
    mismatches = []

    for name, url, capability in protected_pages(registry.samples):
        allowed = role in PERMISSIONS[capability]
        response = request(client, url)
        redirected_to_login = response.status_code == 302 and "/login/" in response.url
        reached = (200, 302, 404) if str(MISSING) in url else (200, 302)
        ok = (
            response.status_code in reached and not redirected_to_login
            if allowed
            else response.status_code == 403
        )
        if not ok:
            expected = "200/302" if allowed else "403"
            mismatches.append(f"{name} {url}: {response.status_code}, expected {expected}")

    assert mismatches == []


def test_anonymous_visitors_are_sent_to_sign_in_from_every_protected_page(registry):
    client = Client()
    mismatches = []

    for name, url, _ in protected_pages(registry.samples):
        response = request(client, url)
        if not (response.status_code == 302 and response.url.startswith("/login/")):
            mismatches.append(f"{name} {url}: {response.status_code}")

    assert mismatches == []


def test_a_user_of_other_clinics_cannot_open_any_record_page(registry):
    client = Client()
    client.force_login(registry.outsider)  # every role, in another organization
    leaks = []

    for name, url, _ in protected_pages(registry.samples):
        if re.search(r"/\d+(/|$)", url):
            response = request(client, url)
            if response.status_code not in (403, 404):
                leaks.append(f"{name} {url}: {response.status_code}")

    assert leaks == []


def test_it_records_an_audit_event_with_the_patient_for_every_record_page(registry):
    client = Client()
    client.force_login(registry.users[Role.CARE_MANAGER])
    user = registry.users[Role.CARE_MANAGER]
    unaudited = []

    for name, url, capability in protected_pages(registry.samples):
        if not re.search(r"/\d+/", url) or not can(user, capability):
            continue
        before = AuditEvent.objects.order_by("-id").values_list("id", flat=True)[:1]
        last = before[0] if before else 0
        response = request(client, url)
        events = AuditEvent.objects.filter(id__gt=last, user=user)
        if response.status_code < 400 and not events.exclude(patient_id=None).exists():
            unaudited.append(f"{name} {url}")

    assert unaudited == []


# ------------------------------------------------------- content: minimum necessary


MAIN = re.compile(r"<main.*?</main>", re.S)
SECTION = re.compile(r'data-section="([\w-]+)"')
CLINICAL_ROLES = (Role.CARE_MANAGER, Role.PSYCHIATRIC_CONSULTANT, Role.PCP)
# The chart, per role, written out (not derived from SECTIONS): billing and organization
# admins get the non-clinical chart.
CLINICAL_CHART = frozenset(
    {"demographics", "safety-alerts", "episode", "coverage", "timeline", "measures", "care"}
)
CHART_SECTIONS = {
    **dict.fromkeys(CLINICAL_ROLES, CLINICAL_CHART),
    Role.BILLING: {"demographics", "episode", "coverage", "timeline"},
    Role.ORG_ADMIN: {"demographics", "episode", "coverage", "timeline"},
}


def page_content(response) -> str:  # type: ignore[no-untyped-def]
    html = response.content.decode()
    main = MAIN.search(html)
    return main.group(0) if main else html


@pytest.mark.parametrize("role", ROLES, ids=[role.value for role in ROLES])
def test_every_page_shows_a_role_only_the_sections_and_words_it_may_see(registry, role):
    client = Client()
    client.force_login(registry.users[role])
    problems = []

    for name, url, capability in protected_pages(registry.samples):
        if role not in PERMISSIONS[capability]:
            continue
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        content = page_content(response)
        for section in SECTION.findall(content):
            if section not in SECTIONS:
                problems.append(f"{name}: section '{section}' is not declared in SECTIONS")
            elif role not in PERMISSIONS[SECTIONS[section]]:
                problems.append(f"{name}: shows section '{section}'")
        if role not in PERMISSIONS["view_clinical"] and capability not in OUTCOME_CAPABILITIES:
            problems += [f"{name}: shows '{term}'" for term in CLINICAL_TERMS if term in content]

    assert problems == []


@pytest.mark.parametrize("role", ROLES, ids=[role.value for role in ROLES])
def test_the_chart_shows_each_role_its_sections(registry, role):
    client = Client()
    client.force_login(registry.users[role])

    response = client.get(f"/patients/{registry.samples['patient_id']}/")

    assert set(SECTION.findall(page_content(response))) == CHART_SECTIONS[role]


def test_the_clinical_chart_does_show_the_clinical_words(registry):
    # The word list catches something: the same chart, seen by a care manager, holds them.
    client = Client()
    client.force_login(registry.users[Role.CARE_MANAGER])

    content = page_content(client.get(f"/patients/{registry.samples['patient_id']}/"))

    assert {"PHQ-9", "treat-to-target"} <= {term for term in CLINICAL_TERMS if term in content}


# ----------------------------------------------------------------------------- the API


API_PREFIX = "/api/v1"


def api_operations() -> Iterator[tuple[str, str]]:
    """(method, path template under /api/v1) for every operation the API documents."""
    for path, operations in routes.api.get_openapi_schema()["paths"].items():
        for method in operations:
            yield method.upper(), path.removeprefix(API_PREFIX)


def api_url(route: str, samples: dict) -> str:
    return API_PREFIX + build_url(route.lstrip("/").replace("{", "<").replace("}", ">"), samples)


def api_body(method: str, route: str, role: str, registry) -> dict:  # type: ignore[no-untyped-def]
    """A valid body for the operations the contract defines; {} (a 422) for others."""
    today = AS_OF.isoformat()
    if (method, route) == ("POST", "/patients"):
        return {
            "mrn": f"MATRIX-{role}",
            "given_name": "Matrix",
            "family_name": "Test",
            "birth_date": "1970-01-01",
            "sex": "unknown",
        }
    if (method, route) == ("POST", "/episodes"):
        patient = Patient.objects.create(
            organization=registry.users[Role.CARE_MANAGER].organization,
            mrn=f"MATRIX-EP-{role}",
            given_name="Matrix",
            family_name="Episode",
            birth_date="1970-01-01",
            sex="unknown",
        )
        clinic_id = next(iter(registry.users[Role.CARE_MANAGER].clinic_ids))
        return {"patient_id": patient.id, "clinic_id": clinic_id, "referred_on": today}
    bodies = {
        ("POST", "/patients/{patient_id}/coverages"): {
            "payer_kind": "medicare",
            "starts_on": today,
        },
        ("POST", "/episodes/{episode_id}/status"): {"status": "active", "on": today},
        ("POST", "/episodes/{episode_id}/diagnoses"): {"code": "F41.1"},
        ("POST", "/episodes/{episode_id}/assessments"): {
            "instrument": "PHQ-2",
            "taken_on": today,
            "answers": [1, 1],
        },
        ("POST", "/assessments/{assessment_id}/amendments"): {
            "answers": [1] * 9,
            "reason": "typo",
        },
    }
    if (method, route) in bodies:
        return bodies[(method, route)]
    return minimal_body(method, route)


def minimal_body(method: str, route: str) -> dict:
    """The required fields of an operation's JSON body, each with a plain valid value, so
    the request passes validation and reaches the endpoint's permission check."""
    schema = routes.api.get_openapi_schema()
    operation = schema["paths"][API_PREFIX + route][method.lower()]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    return minimal_value(content["schema"], schema) if content else {}


def minimal_value(node: dict, schema: dict) -> object:
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        return minimal_value(schema["components"]["schemas"][name], schema)
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in node:
            return minimal_value(node[combined][0], schema)
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "object":
        return {
            key: minimal_value(value, schema)
            for key, value in node.get("properties", {}).items()
            if key in node.get("required", [])
        }
    if kind == "array":
        return [minimal_value(node["items"], schema)] * node.get("minItems", 0)
    if kind == "integer" or kind == "number":
        return max(node.get("minimum", 1), 1)
    if kind == "boolean":
        return False
    if node.get("format") == "date":
        return AS_OF.isoformat()
    return "x" * max(node.get("minLength", 1), 1)


def call_api(client: Client, method: str, url: str, body: dict):  # type: ignore[no-untyped-def]
    if method == "GET":
        return client.get(url)
    return client.generic(method, url, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("role", ROLES, ids=[role.value for role in ROLES])
def test_each_role_gets_exactly_the_api_operations_its_permissions_allow(registry, role):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {registry.token(registry.users[role])}")
    mismatches = []

    for method, route in api_operations():
        url = api_url(route, registry.samples)
        with mock.patch.object(routes, "can", wraps=can) as asked:
            response = call_api(client, method, url, api_body(method, route, role, registry))
        capabilities = [call.args[1] for call in asked.call_args_list]
        allowed = bool(capabilities) and all(role in PERMISSIONS[c] for c in capabilities)
        if not capabilities:
            mismatches.append(f"{method} {route}: asks for no capability (use require())")
        elif allowed and response.status_code in (401, 403, 404):
            mismatches.append(f"{method} {route}: {response.status_code} for an allowed role")
        elif not allowed and response.status_code != 403:
            mismatches.append(f"{method} {route}: {response.status_code}, expected 403")
        elif response.status_code >= 500:
            mismatches.append(f"{method} {route}: {response.status_code}")

    assert mismatches == []


def test_the_api_refuses_every_operation_without_a_token(registry):
    client = Client()

    statuses = {
        (method, route): call_api(
            client,
            method,
            api_url(route, registry.samples),
            {},
        ).status_code
        for method, route in api_operations()
    }

    assert set(statuses.values()) == {401}


def test_the_api_hides_other_clinics_records_from_every_operation(registry):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {registry.token(registry.outsider)}")
    leaks = []

    for method, route in api_operations():
        if "_id}" not in route:
            continue
        url = api_url(route, registry.samples)
        response = call_api(client, method, url, api_body(method, route, "outsider", registry))
        if response.status_code not in (403, 404):
            leaks.append(f"{method} {route}: {response.status_code}")

    assert leaks == []
