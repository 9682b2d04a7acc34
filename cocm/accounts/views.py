from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views import defaults

from cocm.accounts import services
from cocm.accounts.audit import record_access
from cocm.accounts.forms import AuditFilterForm, BreakGlassForm, TwoFactorRolesForm
from cocm.accounts.middleware import too_large
from cocm.accounts.models import (
    BreakGlassGrant,
    Clinic,
    Role,
    User,
)
from cocm.accounts.permissions import PERMISSIONS, requires
from cocm.errors import InvalidRequest
from cocm.queryparams import page_param
from cocm.spreadsheets import Sheet, spreadsheet_response

# Each role lands on its own home; a user with several roles lands on the first listed.
ROLE_HOMES = (
    (Role.CARE_MANAGER, "caseload"),
    (Role.PSYCHIATRIC_CONSULTANT, "caseload"),
    (Role.PCP, "pcp_patients"),
    (Role.BILLING, "billing_home"),
    (Role.ORG_ADMIN, "organization"),
)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    for role, url_name in ROLE_HOMES:
        if request.user.has_role(role):
            return redirect(url_name)
    return render(request, "accounts/no_role.html", status=403)


@requires("manage_organization")
def organization(request: HttpRequest) -> HttpResponse:
    org = request.user.organization
    clinics = Clinic.objects.filter(organization=org).order_by("name")
    users = (
        User.objects.filter(organization=org)
        .prefetch_related("memberships__clinic")
        .order_by("last_name", "first_name", "username")
    )
    return render(
        request,
        "accounts/organization.html",
        {
            "organization": org,
            "clinics": clinics,
            "users": users,
            "two_factor_roles": [Role(r).label for r in Role if r in org.two_factor_role_set],
        },
    )


@requires("manage_organization")
def organization_security(request: HttpRequest) -> HttpResponse:
    """The organization admin chooses which roles must sign in with a one-time code."""
    organization = request.user.organization
    form = TwoFactorRolesForm(request.POST or None, instance=organization)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            services.set_two_factor_roles(organization, form.cleaned_data["two_factor_roles"])
            roles = ", ".join(organization.two_factor_roles) or "none"
            record_access(request, "settings", f"two-factor roles: {roles}"[:100], patient_id=None)
        messages.success(request, "Two-factor sign-in settings saved.")
        return redirect("organization")
    return render(request, "accounts/security_settings.html", {"form": form})


@requires("view_audit_log")
def audit_log(request: HttpRequest) -> HttpResponse:
    """The log, newest first; the filter form is posted (names and MRNs stay out of URLs)."""
    organization = request.user.organization
    data = request.POST if request.method == "POST" else request.GET
    form = AuditFilterForm(data or None, organization=organization)
    events = services.audit_events(organization, form.cleaned_data if form.is_valid() else {})
    page = Paginator(events, 100).get_page(page_param(data))
    labels = services.patient_labels(request.user, {e.patient_id for e in page if e.patient_id})
    record_access(request, "view", "audit log", patient_id=None)
    filters = [
        (name, value)
        for name, value in data.items()
        if name in AuditFilterForm.base_fields and value
    ]
    return render(
        request,
        "accounts/audit_log.html",
        {
            "form": form,
            "rows": [(event, labels.get(event.patient_id)) for event in page],
            "page": page,
            "filters": filters,
        },
    )


@requires("view_audit_log")
def audit_export(request: HttpRequest) -> HttpResponseBase:
    """The filtered log as CSV; the export itself is an audited event."""
    organization = request.user.organization
    data = request.POST if request.method == "POST" else request.GET
    form = AuditFilterForm(data or None, organization=organization)
    if form.is_bound and not form.is_valid():
        # A filter that does not parse must not export the whole log instead.
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponse(
            f"The filter is not valid ({problems}).", status=400, content_type="text/plain"
        )
    events = services.audit_events(organization, form.cleaned_data if form.is_bound else {})
    patient_id = form.cleaned_data.get("patient_id") if form.is_bound else None
    record_access(request, "export", "audit log", patient_id=patient_id)
    sheet = Sheet("Audit log", services.AUDIT_HEADINGS, services.audit_rows(events))
    return spreadsheet_response(sheet, "csv", "audit-log")


@requires("break_glass")
def break_glass(request: HttpRequest) -> HttpResponse:
    """Emergency access to a patient outside the user's clinics, for a stated reason.

    The MRN is posted, never put in a URL. The grant lasts COCM_BREAK_GLASS_HOURS, is an
    audit event of its own and is listed in the organization admin's report.
    """
    form = BreakGlassForm(request.POST or None)
    granted = grant_access(request, form) if request.method == "POST" and form.is_valid() else None
    if granted is not None:
        return to_the_chart(request, *granted)
    context = {"form": form, "hours": settings.COCM_BREAK_GLASS_HOURS}
    return render(request, "accounts/break_glass.html", context)


def grant_access(
    request: HttpRequest, form: BreakGlassForm
) -> tuple[int, BreakGlassGrant | None] | None:
    """A new grant is an audit event of its own (access the user already has is not); a refusal
    goes onto the form and returns None. (Accounts sits below cocm.pages and its post_form.)"""
    try:
        with transaction.atomic():
            patient_id, grant = services.break_glass(request.user, **form.cleaned_data)
            if grant is not None:
                what = "break-glass access"
                record_access(request, "emergency", what, patient_id=patient_id, object_id=grant.id)
    except InvalidRequest as error:
        form.add_error(error.field, error.message)
        return None
    return patient_id, grant


def to_the_chart(
    request: HttpRequest, patient_id: int, grant: BreakGlassGrant | None
) -> HttpResponse:
    if grant is None:
        messages.info(request, "You already have access to this patient.")
    else:
        messages.warning(request, break_glass_message(grant))
    return redirect("patient_chart", patient_id=patient_id)


def break_glass_message(grant: BreakGlassGrant) -> str:
    until = timezone.localtime(grant.expires_at)
    return f"Emergency access until {until:%H:%M}. Your reason is recorded and will be reviewed."


@requires("view_audit_log")
def break_glass_report(request: HttpRequest) -> HttpResponse:
    grants = (
        BreakGlassGrant.objects.filter(patient__organization=request.user.organization)
        .select_related("user", "patient")
        .order_by("-granted_at")[:500]
    )
    record_access(request, "view", "break-glass report", patient_id=None)
    return render(
        request, "accounts/break_glass_report.html", {"grants": grants, "now": timezone.now()}
    )


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 403 handler: in the product's layout, who may open the page, and what the
    user's own roles can do instead (the menu, and their home)."""
    capability = getattr(request, "denied_capability", None)
    allowed = PERMISSIONS.get(capability, frozenset()) if capability else frozenset()
    user = request.user
    roles = [Role(r).label for r in Role if user.is_authenticated and user.has_role(r)]
    return render(
        request,
        "403.html",
        {
            "allowed_roles": [Role(r).label for r in Role if r in allowed],
            "your_roles": roles,
        },
        status=403,
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 handler, in the product's layout. It repeats the message a view gave (e.g.
    "2026-13 is not a month"), never the path, which may hold an id."""
    message = exception.args[0] if exception.args and isinstance(exception.args[0], str) else ""
    return render(request, "404.html", {"message": message}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler: the layout if it can be drawn, plain text if even that fails."""
    try:
        return render(request, "500.html", status=500)
    except Exception:  # the error page must not fail in turn
        return HttpResponse(
            "Something went wrong on our side; it has been logged. Try again in a moment.",
            content_type="text/plain",
            status=500,
        )


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers (and the Django admin's pages) ask for /favicon.ico."""
    return redirect(static("cocm/favicon.svg"), permanent=True)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 handler; a body over the size limit gets a 413 that says so."""
    if isinstance(exception, RequestDataTooBig):
        return too_large(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return defaults.bad_request(request, exception)


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """django-axes calls this when a username and address are locked out."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
