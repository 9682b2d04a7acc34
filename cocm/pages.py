"""What every page shares: the record a user may open, service errors on the form, and the
POST skeleton (one transaction around the service call and its audit event, a message, the
errors back to the form).

A page view reads: parse (the form), authorize (`@requires` and `visible_*`), call one
service through `post_form`, render. Pages of every app import from here, never from
another app's views."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from cocm.accounts.audit import record_access
from cocm.accounts.scoping import visible_episodes, visible_patients
from cocm.errors import InvalidRequest
from cocm.registry.models import Episode, Patient

T = TypeVar("T")


def form_error(form: forms.BaseForm, error: InvalidRequest) -> None:
    """Attach a service error to the form field it names, else to the whole form."""
    field = form.fields.get(error.field)
    form.add_error(error.field if field and not field.widget.is_hidden else None, error.message)


def visible_patient(request: HttpRequest, patient_id: int) -> Patient:
    """The patient, if the user's clinics (or a break-glass grant) allow it; else 404."""
    return get_object_or_404(visible_patients(request.user, Patient.objects), id=patient_id)  # type: ignore[arg-type]


def visible_episode(request: HttpRequest, episode_id: int) -> Episode:
    """The episode with its patient, if the user's clinics allow it; else 404."""
    return get_object_or_404(
        visible_episodes(request.user, Episode.objects).select_related("patient"),  # type: ignore[arg-type]
        id=episode_id,
    )


@dataclass(frozen=True)
class Audit(Generic[T]):
    """The audit event a successful POST writes: action, what, and the patient and object
    (given, or taken from the service's result)."""

    action: str
    what: str
    patient_id: int | Callable[[T], int | None] | None = None
    object_id: int | Callable[[T], int | None] | None = None

    def record(self, request: HttpRequest, result: T, *, channel: str = "web") -> None:
        patient_id = self.patient_id(result) if callable(self.patient_id) else self.patient_id
        object_id = self.object_id(result) if callable(self.object_id) else self.object_id
        record_access(
            request,
            self.action,
            self.what,
            patient_id=patient_id,
            object_id=object_id,
            channel=channel,
            # An API request is authenticated by its token (`request.auth`), not a session.
            user=getattr(request, "auth", None),
        )


def post_form(
    request: HttpRequest,
    form: forms.BaseForm,
    save: Callable[[dict[str, Any]], T],
    *,
    audit: Audit[T] | None,
    message: str | Callable[[T], str] | None,
    then: Callable[[T], HttpResponse],
    refused: Callable[[InvalidRequest], None] | None = None,
) -> HttpResponse | None:
    """The POST skeleton. On a valid POST: `save(cleaned_data)` and the audit event in one
    transaction, the success message (if any), then the response `then` gives. A service refusal
    (InvalidRequest) rolls back and goes onto the form field it names (or to `refused`, for
    a page whose fields live in several forms). Returns None when the page should
    (re-)render the form."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        with transaction.atomic():
            result = save(form.cleaned_data)
            if audit is not None:
                audit.record(request, result)
    except InvalidRequest as error:
        (refused or (lambda refusal: form_error(form, refusal)))(error)
        return None
    if message is not None:
        messages.success(request, message(result) if callable(message) else message)
    return then(result)


def first_error(form: forms.BaseForm) -> str:
    """The form's first error (its fields' messages say what is missing)."""
    return next((str(errors[0]) for errors in form.errors.values()), "Nothing was saved.")


def field_errors(form: forms.BaseForm) -> str:
    """The form's errors in one line, each field named by its label."""
    labels = {name: str(field.label or name) for name, field in form.fields.items()}
    return "; ".join(
        f"{labels.get(name, name)}: {' '.join(errors)}" for name, errors in form.errors.items()
    )


def post_action(
    request: HttpRequest,
    form: forms.BaseForm,
    save: Callable[[dict[str, Any]], T],
    *,
    audit: Audit[T] | None,
    message: str | Callable[[T], str],
    back: HttpResponse,
    invalid: Callable[[forms.BaseForm], str] = field_errors,
) -> HttpResponse:
    """The POST skeleton for a small form posted from another page (the chart's inline
    forms): as `post_form`, but the page does not re-render the form: a bad field
    (`invalid` says which) or a service refusal goes into the messages, and every outcome
    returns to `back`."""
    valid = form.is_valid()
    done = post_form(request, form, save, audit=audit, message=message, then=lambda _: back)
    if done is None:
        refusal = " ".join(" ".join(errors) for errors in form.errors.values())
        messages.error(request, refusal if valid else invalid(form))
    return back
