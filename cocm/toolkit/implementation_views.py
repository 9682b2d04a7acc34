"""Implementation checklist pages: readiness per clinic and phase for the organization
admin, each clinic's tasks, and the organization's template."""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from cocm.accounts.audit import record_access
from cocm.accounts.models import Clinic
from cocm.accounts.permissions import can, requires
from cocm.errors import InvalidRequest
from cocm.pages import Audit, form_error, post_action
from cocm.toolkit import implementation
from cocm.toolkit.forms import TaskForm, TemplateTaskForm
from cocm.toolkit.models import ChecklistTask, ChecklistTemplateTask


def own_clinics(request: HttpRequest):  # type: ignore[no-untyped-def]
    return Clinic.objects.filter(id__in=request.user.clinic_ids).order_by("name")


def indicator_url(name: str) -> str:
    try:
        return reverse(name) if name else ""
    except NoReverseMatch:
        return ""


@requires("view_implementation")
def overview(request: HttpRequest) -> HttpResponse:
    clinics = [(clinic, implementation.phases(clinic)) for clinic in own_clinics(request)]
    record_access(request, "view", "implementation readiness", patient_id=None)
    return render(
        request,
        "toolkit/implementation_overview.html",
        {"clinics": clinics, "can_manage": can(request.user, "manage_implementation")},
    )


def checklist_url(clinic_id: int) -> str:
    return f"{reverse('clinic_checklist')}?clinic={clinic_id}"


@requires("view_implementation")
def clinic_checklist(request: HttpRequest) -> HttpResponse:
    """One clinic's checklist (`?clinic=ID`, else the user's first clinic): no patient data,
    so the clinic is a query parameter rather than a record path."""
    clinic = chosen_clinic(request)
    if clinic is None:
        return redirect("implementation")
    can_manage = can(request.user, "manage_implementation")
    if request.method == "POST" and can_manage:
        return post_action(
            request,
            forms.Form(request.POST),
            lambda _: implementation.start_checklist(clinic),
            audit=Audit("create", "implementation checklist"),
            message=f"Checklist started for {clinic.name}.",
            back=redirect(checklist_url(clinic.id)),
        )
    record_access(request, "view", "implementation checklist", patient_id=None)
    context = {"clinic": clinic, "rows": checklist_rows(clinic), "can_manage": can_manage}
    return render(
        request, "toolkit/clinic_checklist.html", context | {"started": clinic.checklist.exists()}
    )


def chosen_clinic(request: HttpRequest) -> Clinic | None:
    """The clinic `?clinic=ID` names among the user's own (404 if not one), else the first."""
    clinics = own_clinics(request)
    chosen = request.GET.get("clinic", "")
    if chosen.isdigit() and len(chosen) < 10:
        return get_object_or_404(clinics, id=int(chosen))
    return clinics.first()


def checklist_rows(clinic: Clinic) -> list[tuple[object, list[tuple[object, TaskForm, str]]]]:
    """Each phase with its tasks, each task with its inline form and its indicator's link."""
    return [
        (
            row,
            [
                (
                    task,
                    TaskForm(
                        clinic=clinic,
                        prefix=f"t{task.id}",
                        initial={
                            "owner": task.owner_id,
                            "due_on": task.due_on,
                            "status": task.status,
                        },
                    ),
                    indicator_url(task.indicator),
                )
                for task in row.tasks
            ],
        )
        for row in implementation.phases(clinic)
    ]


@require_POST
@requires("manage_implementation")
def update_task(request: HttpRequest, checklist_task_id: int) -> HttpResponse:
    task = get_object_or_404(
        ChecklistTask.objects.filter(clinic__in=own_clinics(request)).select_related("clinic"),
        id=checklist_task_id,
    )
    form = TaskForm(request.POST, clinic=task.clinic, prefix=f"t{task.id}")
    if form.is_valid():
        try:
            with transaction.atomic():
                implementation.update_task(
                    task,
                    owner=form.cleaned_data["owner"],
                    due_on=form.cleaned_data["due_on"],
                    status=form.cleaned_data["status"],
                )
                record_access(request, "update", "implementation task", patient_id=None)
        except InvalidRequest as error:
            messages.error(request, f"{task.title}: {error.message}")
        else:
            messages.success(request, f"Saved: {task.title}.")
    else:
        problems = "; ".join(f"{name}: {', '.join(errors)}" for name, errors in form.errors.items())
        messages.error(request, f"{task.title}: {problems}")
    return redirect(checklist_url(task.clinic_id))


@requires("manage_implementation")
def edit_template(request: HttpRequest) -> HttpResponse:
    organization = request.user.organization
    form = TemplateTaskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                implementation.add_template_task(
                    organization, form.cleaned_data["phase"], form.cleaned_data["title"]
                )
                record_access(request, "update", "implementation template", patient_id=None)
        except InvalidRequest as error:
            form_error(form, error)
        else:
            messages.success(request, "Task added to the template.")
            return redirect("implementation_template")
    return render(
        request,
        "toolkit/implementation_template.html",
        {"form": form, "tasks": list(implementation.template(organization))},
    )


@require_POST
@requires("manage_implementation")
def delete_template_task(request: HttpRequest, checklist_template_task_id: int) -> HttpResponse:
    task = get_object_or_404(
        ChecklistTemplateTask.objects.filter(organization=request.user.organization),
        id=checklist_template_task_id,
    )
    with transaction.atomic():
        implementation.remove_template_task(task)
        record_access(request, "update", "implementation template", patient_id=None)
    messages.success(request, f"Removed from the template: {task.title}.")
    return redirect("implementation_template")
