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
from cocm.accounts.models import Role, User, staff_name
from cocm.errors import InvalidRequest
from cocm.registry.models import Episode, Patient
from cocm.registry.services import visible_episodes, visible_patients

T = TypeVar("T")


def form_error(form: forms.BaseForm, error: InvalidRequest) -> None:
    """Attach a service error to the form field it names, else to the whole form."""
    field = form.fields.get(error.field)
    form.add_error(error.field if field and not field.widget.is_hidden else None, error.message)


def care_manager_choices(user: User) -> list[tuple[str, str]]:
    """(id, name) of the care managers of the user's clinics, by name: a list page's care
    manager filter."""
    return [
        (str(user_id), staff_name(username, first, last, credentials))
        for user_id, username, first, last, credentials in User.objects.filter(
            memberships__role=Role.CARE_MANAGER, memberships__clinic_id__in=user.clinic_ids
        )
        .distinct()
        .order_by("last_name", "first_name")
        .values_list("id", "username", "first_name", "last_name", "credentials")
    ]


def visible_patient(request: HttpRequest, patient_id: int) -> Patient:
    """The patient, if the user's clinics (or a break-glass grant) allow it; else 404."""
    return get_object_or_404(visible_patients(request.user), id=patient_id)  # type: ignore[arg-type]


def visible_episode(request: HttpRequest, episode_id: int) -> Episode:
    """The episode with its patient, if the user's clinics allow it; else 404."""
    return get_object_or_404(
        visible_episodes(request.user).select_related("patient"),  # type: ignore[arg-type]
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

    def record(self, request: HttpRequest, result: T) -> None:
        patient_id = self.patient_id(result) if callable(self.patient_id) else self.patient_id
        object_id = self.object_id(result) if callable(self.object_id) else self.object_id
        record_access(request, self.action, self.what, patient_id=patient_id, object_id=object_id)


def post_form(
    request: HttpRequest,
    form: forms.BaseForm,
    save: Callable[[dict[str, Any]], T],
    *,
    audit: Audit[T] | None,
    message: str | Callable[[T], str],
    then: Callable[[T], HttpResponse],
) -> HttpResponse | None:
    """The POST skeleton. On a valid POST: `save(cleaned_data)` and the audit event in one
    transaction, the success message, then the response `then` gives. A service refusal
    (InvalidRequest) rolls back and goes onto the form field it names. Returns None when the
    page should (re-)render the form."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        with transaction.atomic():
            result = save(form.cleaned_data)
            if audit is not None:
                audit.record(request, result)
    except InvalidRequest as error:
        form_error(form, error)
        return None
    messages.success(request, message(result) if callable(message) else message)
    return then(result)
