from contextlib import nullcontext

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cocm.accounts.audit import record_access
from cocm.accounts.models import Clinic, Role, User, staff_name
from cocm.accounts.permissions import can, requires
from cocm.billing import export, fees, services, worklist
from cocm.billing.forms import FeeUploadForm
from cocm.billing.months import shift
from cocm.domain import coding
from cocm.errors import InvalidRequest
from cocm.registry.models import PayerKind
from cocm.registry.services import visible_episodes
from cocm.replica import replica_reads
from cocm.spreadsheets import FORMATS, spreadsheet_response


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


def care_manager_choices(user: User) -> list[tuple[str, str]]:
    return [
        (str(user_id), staff_name(username, first, last, credentials))
        for user_id, username, first, last, credentials in User.objects.filter(
            memberships__role=Role.CARE_MANAGER, memberships__clinic_id__in=user.clinic_ids
        )
        .distinct()
        .order_by("last_name", "first_name")
        .values_list("id", "username", "first_name", "last_name", "credentials")
    ]


@requires("view_billing")
def billing_month(request: HttpRequest, month: str) -> HttpResponseBase:
    """The month-close worklist: ready, blocked, not billable, each line with its reason."""
    target = month_or_404(month)
    user = request.user
    query = request.GET
    filters = worklist.parse_filters(request)
    closed = services.closed(user.organization, target)
    # Before the close the worklist (and its exports) may lag the primary by seconds: read it
    # from the replica when there is one (cocm/replica.py). A closed month reads its frozen
    # lines from the primary.
    with nullcontext() if closed else replica_reads():
        all_lines = services.month_lines(
            user.organization, filters.episodes(visible_episodes(user)), target
        )
    lines = filters.lines(all_lines)
    kind, export_format = query.get("export"), query.get("format", "csv")
    if kind in export.KINDS and export_format in FORMATS:
        record_access(
            request, "export", f"billing {kind} {target} {export_format}", patient_id=None
        )
        sheet = export.sheet(kind, lines, str(target))
        return spreadsheet_response(sheet, export_format, f"{kind.replace('_', '-')}-{target}")
    record_access(request, "view", f"billing {target}", patient_id=None)
    filter_query = query.copy()
    for name in ("sort", "dir", "export", "format", *(f"{k}_page" for k, _ in worklist.GROUPS)):
        filter_query.pop(name, None)
    export_query = query.copy()
    for name in ("export", "format", *(f"{k}_page" for k, _ in worklist.GROUPS)):
        export_query.pop(name, None)
    return render(
        request,
        "billing/month.html",
        {
            "month": target,
            "previous": shift(target, -1),
            "next": shift(target, 1),
            "groups": worklist.paged_groups(lines, filters, query),
            **worklist.totals(lines),
            "filtered": len(lines) != len(all_lines),
            "all_count": len(all_lines),
            "closed": closed,
            "changed": [line for line in all_lines if line.changed_since_close],
            "can_close": can(user, "close_billing_month"),
            "can_manage_fees": can(user, "manage_fee_schedules"),
            "filters": filters,
            "selected": {
                "clinic": "" if filters.clinic is None else str(filters.clinic),
                "care_manager": "" if filters.care_manager is None else str(filters.care_manager),
            },
            "clinics": Clinic.objects.filter(id__in=user.clinic_ids),
            "care_managers": care_manager_choices(user),
            "payers": [*PayerKind.choices, (worklist.NO_COVERAGE, "No coverage on file")],
            "statuses": worklist.GROUPS,
            "columns": [(key, heading) for key, heading, _ in worklist.COLUMNS],
            "numeric": worklist.NUMERIC,
            "filter_query": filter_query.urlencode(),
            "export_query": export_query.urlencode(),
        },
    )


@require_POST
@requires("view_billing")
def mark_line(request: HttpRequest, month: str, episode_id: int) -> HttpResponse:
    """Mark a line reviewed or submitted: one click; htmx swaps the line's row in place."""
    target = month_or_404(month)
    user = request.user
    lines = services.month_lines(
        user.organization, visible_episodes(user).filter(id=episode_id), target
    )
    if not lines:
        raise Http404("No activity for this episode in the month")
    line = lines[0]
    error = None
    try:
        with transaction.atomic():
            line.saved = services.mark(line, target, action=request.POST.get("action", ""), by=user)
            record_access(
                request,
                "update",
                f"claim line {target}",
                patient_id=line.episode.patient_id,
                object_id=episode_id,
            )
    except InvalidRequest as invalid:
        error = invalid.message
    if request.htmx:
        return render(
            request,
            "billing/_line.html",
            {
                "line": line,
                "month": target,
                "error": error,
                "can_manage_fees": can(user, "manage_fee_schedules"),
            },
            status=422 if error else 200,
        )
    if error:
        messages.error(request, error)
    return redirect("billing_month", month=str(target))


@require_POST
@requires("close_billing_month")
def close_month(request: HttpRequest, month: str) -> HttpResponse:
    target = month_or_404(month)
    user = request.user
    try:
        with transaction.atomic():
            lines = services.close_month(
                user.organization,
                visible_episodes(user),
                target,
                by=user,
                today=user.organization.today(),
            )
            record_access(request, "update", f"close billing month {target}", patient_id=None)
    except InvalidRequest as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{target} closed: {len(lines)} lines frozen.")
    return redirect("billing_month", month=str(target))


@requires("manage_fee_schedules")
def fee_schedules(request: HttpRequest) -> HttpResponse:
    """Fee schedules on file per year and payer, and the upload of a schedule CSV (the
    checks of `cocm fees load`: a bad row is named with its field and nothing is loaded)."""
    form = FeeUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                with transaction.atomic():
                    count = fees.load_fees(form.cleaned_data["text"])
                    record_access(request, "update", "fee schedule upload", patient_id=None)
            except InvalidRequest as error:
                form.add_error("file", f"{error.message} Nothing was loaded.")
            else:
                messages.success(request, f"Loaded {count} fee(s) from {form.file_name}.")
                return redirect("fee_schedules")
        status = 422
    return render(
        request,
        "billing/fees.html",
        {"form": form, "schedules": fees.schedules_on_file(), "columns": fees.REQUIRED},
        status=status,
    )
