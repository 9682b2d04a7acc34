from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cocm.accounts.audit import record_access
from cocm.accounts.permissions import can, requires
from cocm.billing import export, services
from cocm.domain import billing as engine
from cocm.registry.services import InvalidRequest, visible_episodes

LINES_SHOWN = 300


def month_or_404(text: str) -> engine.Month:
    try:
        return services.parse_month(text)
    except InvalidRequest as error:
        raise Http404(error.message) from error


@requires("view_billing")
def billing_home(request: HttpRequest) -> HttpResponse:
    today = request.user.organization.today()
    previous = services.shift(engine.Month.of(today), -1)
    return redirect("billing_month", month=str(previous))


@requires("view_billing")
def billing_month(request: HttpRequest, month: str) -> HttpResponse:
    """The month-close worklist: ready, blocked, not billable, each with its reason."""
    target = month_or_404(month)
    user = request.user
    lines = services.month_lines(user.organization, visible_episodes(user), target)
    export_format = request.GET.get("export")
    if export_format in ("csv", "xlsx"):
        record_access(request, "export", f"claims {target} {export_format}", patient_id=None)
        name = f"claims-{target}.{export_format}"
        if export_format == "csv":
            response = HttpResponse(export.as_csv(lines), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(
                export.as_xlsx(lines),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    record_access(request, "view", f"billing {target}", patient_id=None)
    groups = {
        status: [line for line in lines if line.status == status]
        for status in ("ready", "blocked", "not_billable")
    }
    expected = [line.expected_amount for line in groups["ready"]]
    return render(
        request,
        "billing/month.html",
        {
            "month": target,
            "previous": services.shift(target, -1),
            "next": services.shift(target, 1),
            "groups": groups,
            "expected_total": sum(a for a in expected if a is not None),
            "unpriced": sum(1 for a in expected if a is None),
            "closed": services.closed(user.organization, target),
            "changed": [line for line in lines if line.changed_since_close],
            "can_close": can(user, "close_billing_month"),
        },
    )


@require_POST
@requires("view_billing")
def mark_line(request: HttpRequest, month: str, episode_id: int) -> HttpResponse:
    target = month_or_404(month)
    user = request.user
    lines = services.month_lines(
        user.organization, visible_episodes(user).filter(id=episode_id), target
    )
    if not lines:
        raise Http404("No activity for this episode in the month")
    try:
        with transaction.atomic():
            services.mark(lines[0], target, action=request.POST.get("action", ""), by=user)
            record_access(
                request,
                "update",
                f"claim line {target}",
                patient_id=lines[0].episode.patient_id,
                object_id=episode_id,
            )
    except InvalidRequest as error:
        messages.error(request, error.message)
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
