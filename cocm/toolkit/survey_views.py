"""Survey pages: results with export, sending links, answering in the product or by link."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from cocm.accounts.audit import record_access
from cocm.accounts.models import Clinic
from cocm.accounts.permissions import can, requires
from cocm.domain.surveys import get_survey
from cocm.errors import InvalidRequest
from cocm.pages import form_error, visible_episode
from cocm.spreadsheets import Sheet, spreadsheet_response
from cocm.toolkit import surveys
from cocm.toolkit.forms import (
    ResultsFilterForm,
    SendPatientSurveyForm,
    SendStaffSurveyForm,
    SurveyAnswersForm,
)


def percent(value: object) -> str:
    return "—" if value is None else f"{float(value) * 100:.0f}%"  # type: ignore[arg-type]


def mean(value: object) -> str:
    return "—" if value is None else f"{float(value):.2f}"  # type: ignore[arg-type]


@requires("view_survey_results")
def survey_results(request: HttpRequest) -> HttpResponseBase:
    """Results per clinic and period with response rates (`?format=csv|xlsx` exports)."""
    month = surveys.period_of(request.user.organization.today())
    form = ResultsFilterForm(
        request.GET or None,
        initial={"survey": "patient-satisfaction", "start": month, "end": month},
    )
    data = form.cleaned_data if form.is_bound and form.is_valid() else form.initial
    definition = get_survey(data["survey"])
    clinics = list(Clinic.objects.filter(id__in=request.user.clinic_ids).order_by("name"))
    try:
        periods = surveys.months(data["start"], data["end"])
    except InvalidRequest as error:
        form_error(form, error)
        periods = []
    rows = surveys.survey_results(definition.code, clinics, periods) if periods else []
    table = [
        [
            row.clinic.name,
            row.result.invited,
            row.result.responses,
            percent(row.result.response_rate),
            *(
                ["withheld (fewer than 5 respondents)"] + [""] * (len(definition.questions) - 1)
                if row.result.withheld
                else [mean(m) for m in row.result.means]
            ),
        ]
        for row in rows
    ]
    headings = ["Clinic", "Invited", "Responses", "Response rate"] + [
        f"Q{q.number} mean (1-5)" for q in definition.questions
    ]
    record_access(request, "view", f"survey results {definition.code}", patient_id=None)
    export = request.GET.get("format")
    if export in ("csv", "xlsx"):
        sheet = Sheet(title=definition.name[:31], headings=headings, rows=table)
        return spreadsheet_response(sheet, export, f"survey-{definition.code}")
    return render(
        request,
        "toolkit/survey_results.html",
        {
            "form": form,
            "survey": definition,
            "headings": headings,
            "table": table,
            "periods": periods,
            "query": request.GET.urlencode(),
            "send_form": SendStaffSurveyForm(user=request.user),
            "can_send": can(request.user, "send_surveys"),
        },
    )


@require_POST
@requires("send_surveys")
def send_staff_survey(request: HttpRequest) -> HttpResponse:
    form = SendStaffSurveyForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            with transaction.atomic():
                links = surveys.send_staff_survey(
                    form.cleaned_data["survey"],
                    form.cleaned_data["clinic"],
                    by=request.user,
                    now=timezone.now(),
                )
                record_access(request, "create", "staff survey links", patient_id=None)
        except InvalidRequest as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Survey links sent to {len(links)} staff members.")
    else:
        messages.error(request, "Choose a survey and a clinic.")
    return redirect("survey_results")


@require_POST
@requires("send_self_report")
def send_patient_survey(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    form = SendPatientSurveyForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                invitation = surveys.send_patient_survey(
                    episode,
                    channel=form.cleaned_data["channel"],
                    by=request.user,
                    now=timezone.now(),
                )
                record_access(
                    request,
                    "create",
                    "satisfaction survey link",
                    patient_id=episode.patient_id,
                    object_id=invitation.id,
                )
        except InvalidRequest as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Satisfaction survey sent.")
    else:
        messages.error(request, "Choose how to send the survey.")
    return redirect("patient_chart", patient_id=episode.patient_id)


@requires("answer_staff_survey")
def answer_survey(request: HttpRequest) -> HttpResponse:
    """A staff member answers their role's anonymous survey in the product."""
    code = surveys.default_survey_for(request.user)
    definition = get_survey(code)
    clinics = Clinic.objects.filter(id__in=request.user.clinic_ids).order_by("name")
    form = SurveyAnswersForm(request.POST or None, survey=definition)
    clinic_id = request.POST.get("clinic") or (clinics[0].id if clinics else None)
    if request.method == "POST" and form.is_valid():
        clinic = clinics.filter(id=clinic_id).first() if str(clinic_id).isdigit() else None
        try:
            if clinic is None:
                raise InvalidRequest("Choose one of your clinics.", "clinic")
            with transaction.atomic():
                surveys.answer_in_product(
                    code,
                    clinic,
                    form.answers(),
                    user=request.user,
                    as_of=request.user.organization.today(),
                )
        except InvalidRequest as error:
            form_error(form, error)
        else:
            messages.success(request, "Thank you: your answers were recorded anonymously.")
            return redirect("home")
    return render(
        request,
        "toolkit/survey_answer.html",
        {"form": form, "survey": definition, "clinics": clinics, "clinic_id": clinic_id},
    )


def _rate(group: str, request: HttpRequest) -> str:
    from django.conf import settings

    return settings.COCM_SELF_REPORT_RATE


@ratelimit(key="ip", rate=_rate, block=True)
def survey_response(request: HttpRequest, token: str) -> HttpResponse:
    """The survey link's page: no account; the token is the credential."""
    invitation = surveys.find_invitation(token)
    now = timezone.now()
    language = invitation.language if invitation else "en"
    if invitation is None or not invitation.is_usable(now):
        return render(
            request,
            "toolkit/survey_message.html",
            {"language": language, "used": True},
            status=410,
        )
    definition = get_survey(invitation.survey)
    form = SurveyAnswersForm(request.POST or None, survey=definition, language=language)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                surveys.submit_by_link(invitation, form.answers(), now=now)
                if invitation.episode_id:
                    record_access(
                        request,
                        "create",
                        "satisfaction survey response",
                        patient_id=invitation.episode.patient_id,
                        channel="patient",
                        user=None,
                    )
        except InvalidRequest as error:
            form_error(form, error)
        else:
            return render(
                request, "toolkit/survey_message.html", {"language": language, "used": False}
            )
    return render(
        request,
        "toolkit/survey_link.html",
        {
            "form": form,
            "survey": definition,
            "language": language,
            "stem": definition.stem_es if language == "es" else definition.stem_en,
        },
    )
