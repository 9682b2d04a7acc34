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
from cocm.pages import Audit, form_error, post_action, visible_episode
from cocm.spreadsheets import Sheet, spreadsheet_response
from cocm.toolkit import surveys
from cocm.toolkit.forms import (
    ResultsFilterForm,
    SendPatientSurveyForm,
    SendStaffSurveyForm,
    SurveyAnswersForm,
)


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
    headings, table = surveys.results_table(definition, clinics, periods)
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
    return post_action(
        request,
        SendStaffSurveyForm(request.POST, user=request.user),
        lambda data: surveys.send_staff_survey(
            data["survey"], data["clinic"], by=request.user, now=timezone.now()
        ),
        audit=Audit("create", "staff survey links"),
        message=lambda links: f"Survey links sent to {len(links)} staff members.",
        back=redirect("survey_results"),
        invalid=lambda _: "Choose a survey and a clinic.",
    )


@require_POST
@requires("send_self_report")
def send_patient_survey(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    return post_action(
        request,
        SendPatientSurveyForm(request.POST),
        lambda data: surveys.send_patient_survey(
            episode, channel=data["channel"], by=request.user, now=timezone.now()
        ),
        audit=Audit(
            "create",
            "satisfaction survey link",
            patient_id=episode.patient_id,
            object_id=lambda invitation: invitation.id,
        ),
        message="Satisfaction survey sent.",
        back=redirect("patient_chart", patient_id=episode.patient_id),
        invalid=lambda _: "Choose how to send the survey.",
    )


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
