"""FHIR R4 plumbing shared by import and server: validation with the fhir.resources R4B
models, OperationOutcome, dates, references. No registry rules here."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any

import orjson
from fhir.resources.R4B import get_fhir_model_class as _model_class
from pydantic import ValidationError

FHIR_JSON = "application/fhir+json"

# Required bindings the R4B models accept any code for (they check the pattern only).
STATUS_CODES: dict[str, tuple[str, frozenset[str]]] = {
    "Observation": (
        "status",
        frozenset(
            [
                "registered",
                "preliminary",
                "final",
                "amended",
                "corrected",
                "cancelled",
                "entered-in-error",
                "unknown",
            ]
        ),
    ),
    "Encounter": (
        "status",
        frozenset(
            [
                "planned",
                "arrived",
                "triaged",
                "in-progress",
                "onleave",
                "finished",
                "cancelled",
                "entered-in-error",
                "unknown",
            ]
        ),
    ),
    "Procedure": (
        "status",
        frozenset(
            [
                "preparation",
                "in-progress",
                "not-done",
                "on-hold",
                "stopped",
                "completed",
                "entered-in-error",
                "unknown",
            ]
        ),
    ),
    "QuestionnaireResponse": (
        "status",
        frozenset(["in-progress", "completed", "amended", "entered-in-error", "stopped"]),
    ),
    "Patient": ("gender", frozenset({"male", "female", "other", "unknown"})),
}


class FhirProblem(Exception):
    """One thing wrong with a resource; `expression` is its FHIRPath, e.g.
    `Bundle.entry[2].resource.valueInteger`. `status` is the HTTP status it earns."""

    def __init__(
        self, message: str, expression: str = "", *, code: str = "invalid", status: int = 422
    ) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression
        self.code = code
        self.status = status


def operation_outcome(issues: list[FhirProblem], severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": severity,
                "code": issue.code,
                "diagnostics": issue.message,
                **({"expression": [issue.expression]} if issue.expression else {}),
            }
            for issue in issues
        ],
    }


def information(message: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": message}],
    }


def _path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


@cache
def get_fhir_model_class(name: str) -> Any:
    """The R4B model class of a resource type (looked up once per type)."""
    return _model_class(name)


def is_resource_type(name: str) -> bool:
    try:
        get_fhir_model_class(name)
    except (KeyError, ValueError, AttributeError, ImportError):
        return False
    return bool(name)


def validated(resource: dict[str, Any], where: str) -> tuple[Any, dict[str, Any]]:
    """The R4B model of the resource and its FHIR JSON; FhirProblem naming the first bad
    field (as `<where>.<field>`) when the resource does not conform."""
    resource_type = resource.get("resourceType")
    try:
        model_class = get_fhir_model_class(str(resource_type))
    except (KeyError, ValueError) as error:
        raise FhirProblem(
            f"'{resource_type}' is not a FHIR R4 resource type.", f"{where}.resourceType"
        ) from error
    try:
        model = model_class.model_validate(resource)
    except ValidationError as error:
        problems = error.errors()
        first = problems[0]
        message = f"{resource_type}{_path(first['loc'])}: {first['msg']}"
        if len(problems) > 1:
            message += f" (and {len(problems) - 1} more)"
        raise FhirProblem(message, f"{where}{_path(first['loc'])}", code="structure") from error
    except (TypeError, ValueError) as error:  # the models raise these for some shapes
        raise FhirProblem(f"{resource_type}: {error}", where, code="structure") from error
    body = orjson.loads(model.model_dump_json(exclude_none=True))
    status = STATUS_CODES.get(str(resource_type))
    if status and status[0] in body and body[status[0]] not in status[1]:
        raise FhirProblem(
            f"{resource_type}.{status[0]} '{body[status[0]]}' is not a FHIR R4 code "
            f"(one of {', '.join(sorted(status[1]))}).",
            f"{where}.{status[0]}",
            code="code-invalid",
        )
    return model, body


def as_date(value: object) -> date | None:
    """The calendar date of a FHIR date or dateTime (a year or year-month: its first day)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value[:4].isdigit():
        parts = [int(p) for p in value[:10].split("-") if p.isdigit()]
        try:
            return date(
                parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1
            )
        except ValueError:
            return None
    return None


def walk_references(value: Any, rewrite: dict[str, str]) -> Any:
    """A copy of a resource with every `reference` found in `rewrite` replaced."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "reference" and isinstance(item, str) and item in rewrite:
                out[key] = rewrite[item]
            else:
                out[key] = walk_references(item, rewrite)
        return out
    if isinstance(value, list):
        return [walk_references(item, rewrite) for item in value]
    return value


def codings(concept: object) -> list[dict[str, Any]]:
    if isinstance(concept, dict):
        return [c for c in concept.get("coding", []) if isinstance(c, dict)]
    return []
