"""The program dashboard, the patients behind each figure, exports and the monthly PDF."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render

from cocm.accounts.audit import record_access
from cocm.accounts.models import Clinic, Role, User, staff_name
from cocm.accounts.permissions import requires
from cocm.errors import InvalidRequest
from cocm.replica import reads_from_replica
from cocm.reports import dashboard, exports, program
from cocm.reports.pdf import program_pdf
from cocm.spreadsheets import FORMATS, spreadsheet_response


def filters_or_default(request: HttpRequest) -> tuple[program.Filters, str | None]:
    """The filters asked for, or the defaults with the error to show."""
    user = request.user
    today = user.organization.today()
    try:
        return program.parse_filters(user, request.GET, today=today), None
    except InvalidRequest as error:
        return program.parse_filters(user, {}, today=today), f"{error.field}: {error.message}"


def filter_choices(user: User) -> dict:
    clinics = Clinic.objects.filter(id__in=user.clinic_ids).order_by("name")
    care_managers = [
        (username, staff_name(username, first, last, credentials))
        for username, first, last, credentials in User.objects.filter(
            memberships__role=Role.CARE_MANAGER, memberships__clinic_id__in=user.clinic_ids
        )
        .distinct()
        .order_by("last_name", "first_name")
        .values_list("username", "first_name", "last_name", "credentials")
    ]
    return {"clinics": clinics, "care_managers": care_managers}


@requires("view_program_indicators")
@reads_from_replica
def program_dashboard(request: HttpRequest) -> HttpResponseBase:
    """Program indicators with their numerators, denominators and charts (rules 4.4)."""
    user = request.user
    filters, error = filters_or_default(request)
    if error:
        messages.error(request, error)
    report = program.program_report(user, filters, today=user.organization.today())
    table = request.GET.get("table", "")
    export_format = request.GET.get("export", "")
    if export_format in FORMATS and table in exports.TABLES:
        record_access(request, "export", f"program {table} {export_format}", patient_id=None)
        sheet = exports.TABLES[table](report)
        return spreadsheet_response(sheet, export_format, f"program-{table}-{filters.period.end}")
    record_access(request, "view", "program dashboard", patient_id=None)
    context = dashboard.dashboard_context(user, filters, report) | filter_choices(user)
    return render(request, "reports/dashboard.html", context)


@requires("view_program_indicators")
@reads_from_replica
def indicator_patients(request: HttpRequest) -> HttpResponseBase:
    """The patients behind one figure, with the same filters as the dashboard."""
    filters, error = filters_or_default(request)
    if error:
        messages.error(request, error)
    key, export_format = request.GET.get("indicator", ""), request.GET.get("export", "")
    if not key:
        return redirect("program_dashboard")
    try:
        found = dashboard.patient_list(request.user, filters, key, request.GET.get("counted", ""))
    except dashboard.UnknownIndicator:
        raise Http404("No such indicator.") from None
    if export_format in FORMATS:
        record_access(request, "export", f"indicator {key} {export_format}", patient_id=None)
        return spreadsheet_response(found.sheet(), export_format, f"indicator-{key}")
    record_access(request, "view", f"indicator {key} patients", patient_id=None)
    return render(request, "reports/patients.html", found.context(request.GET.get("page")))


@requires("view_program_indicators")
@reads_from_replica
def program_report_pdf(request: HttpRequest) -> HttpResponse:
    """The printable monthly program report (`?month=YYYY-MM`, default this month)."""
    user = request.user
    today = user.organization.today()
    month = request.GET.get("month") or today.strftime("%Y-%m")
    try:
        filters = program.month_filters(user, month, today=today)
    except InvalidRequest as error:
        messages.error(request, f"{error.field}: {error.message}")
        return redirect("program_dashboard")
    record_access(request, "export", f"program report {month} pdf", patient_id=None)
    content = program_pdf(user, filters, today=today)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="program-report-{month}.pdf"'
    return response
