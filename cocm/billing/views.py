from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cocm.accounts.audit import record_access
from cocm.accounts.models import Clinic, User
from cocm.accounts.permissions import can, requires
from cocm.accounts.scoping import visible_episodes
from cocm.accounts.services import care_manager_choices
from cocm.billing import export, fees, services, worklist
from cocm.billing.forms import FeeUploadForm
from cocm.billing.months import shift
from cocm.domain import coding
from cocm.errors import InvalidRequest
from cocm.pages import Audit, first_error, post_action, post_form
from cocm.registry.models import Episode
from cocm.spreadsheets import FORMATS


def month_or_404(text: str) -> coding.Month:
    try:
        return services.parse_month(text)
    except InvalidRequest as error:
        raise Http404(error.message) from error


@requires("view_billing")
def billing_home(request: HttpRequest) -> HttpResponse:
    today = request.user.organization.today()
    previous = shift(coding.Month.of(today), -1)
    return redirect("billing_month", month=str(previous))


@requires("view_billing")
def billing_month(request: HttpRequest, month: str) -> HttpResponseBase:
    """The month-close worklist: ready, blocked, not billable, each line with its reason."""
    target, user, query = month_or_404(month), request.user, request.GET
    filters = worklist.parse_filters(request)
    found = worklist.MonthWorklist.load(
        user.organization, visible_episodes(user, Episode.objects), target, filters
    )
    kind, export_format = query.get("export"), query.get("format", "csv")
    if kind in export.KINDS and export_format in FORMATS:
        what = f"billing {kind} {target} {export_format}"
        record_access(request, "export", what, patient_id=None)
        return export.response(kind, found.lines, target, export_format)
    record_access(request, "view", f"billing {target}", patient_id=None)
    return render(request, "billing/month.html", {**found.context(query), **choices(user)})


def choices(user: User) -> dict[str, object]:
    """What this user may choose from and do on the worklist page."""
    return {
        "can_close": can(user, "close_billing_month"),
        "can_manage_fees": can(user, "manage_fee_schedules"),
        "clinics": Clinic.objects.filter(id__in=user.clinic_ids),
        "care_managers": care_manager_choices(user),
    }


@require_POST
@requires("view_billing")
def mark_line(request: HttpRequest, month: str, episode_id: int) -> HttpResponse:
    """Mark a line reviewed or submitted: one click; htmx swaps the line's row in place."""
    target, user = month_or_404(month), request.user
    line = services.episode_line(
        user.organization, visible_episodes(user, Episode.objects), target, episode_id
    )
    if line is None:
        raise Http404("No activity for this episode in the month")
    form = forms.Form(request.POST)
    action = request.POST.get("action", "")
    audit = Audit("update", f"claim line {target}", line.episode.patient_id, episode_id)
    seen = request.POST.get("version", "")  # the line's version the page showed
    version = int(seen) if seen.isdigit() else None
    save = lambda _: services.mark(line, target, action=action, by=user, version=version)  # noqa: E731
    back = redirect("billing_month", month=str(target))
    if not request.htmx:
        return post_action(request, form, save, audit=audit, message="Line marked.", back=back)
    post_form(request, form, save, audit=audit, message=None, then=lambda _: HttpResponse())
    context = {"line": line, "month": target, "error": first_error(form) if form.errors else None}
    context["can_manage_fees"] = can(user, "manage_fee_schedules")
    return render(request, "billing/_line.html", context, status=422 if form.errors else 200)


@require_POST
@requires("close_billing_month")
def close_month(request: HttpRequest, month: str) -> HttpResponse:
    target, user = month_or_404(month), request.user
    return post_action(
        request,
        forms.Form(request.POST),
        lambda _: services.close_month(
            user.organization,
            visible_episodes(user, Episode.objects),
            target,
            by=user,
            today=user.organization.today(),
        ),
        audit=Audit("update", f"close billing month {target}"),
        message=lambda lines: f"{target} closed: {len(lines)} lines frozen.",
        back=redirect("billing_month", month=str(target)),
    )


@requires("manage_fee_schedules")
def fee_schedules(request: HttpRequest) -> HttpResponse:
    """Fee schedules on file per year and payer, and the upload of a schedule CSV (the
    checks of `cocm fees load`: a bad row is named with its field and nothing is loaded)."""
    form = FeeUploadForm(request.POST or None, request.FILES or None)
    done = post_form(
        request,
        form,
        lambda data: fees.load_fees(data["text"]),
        audit=Audit("update", "fee schedule upload"),
        message=lambda count: f"Loaded {count} fee(s) from {form.file_name}.",
        then=lambda _: redirect("fee_schedules"),
        refused=lambda error: form.add_error("file", f"{error.message} Nothing was loaded."),
    )
    context = {"form": form, "schedules": fees.schedules_on_file(), "columns": fees.REQUIRED}
    return done or render(request, "billing/fees.html", context, status=422 if form.errors else 200)
