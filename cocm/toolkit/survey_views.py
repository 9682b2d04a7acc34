"""Survey pages: results with export, sending links, answering in the product or by link."""

from datetime import datetime

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from cocm.accounts.audit import record_access
from cocm.accounts.models import Clinic
from cocm.accounts.permissions import can, requires
from cocm.accounts.scoping import own_clinic
from cocm.domain.surveys import get_survey
from cocm.errors import InvalidRequest
from cocm.pages import Audit, form_error, post_action, post_form, visible_episode
from cocm.spreadsheets import Sheet, spreadsheet_response
from cocm.toolkit import surveys
from cocm.toolkit.forms import (
    ResultsFilterForm,
    SendPatientSurveyForm,
    SendStaffSurveyForm,
    SurveyAnswersForm,
)
from cocm.toolkit.models import SurveyInvitation


@requires("view_survey_results")
def survey_results(request: HttpRequest) -> HttpResponseBase:
    """Results per clinic and period with response rates (`?format=csv|xlsx` exports)."""
    month = surveys.period_of(request.user.organization.today())
    initial = {"survey": "patient-satisfaction", "start": month, "end": month}
    form = ResultsFilterForm(request.GET or None, initial=initial)
    data = form.cleaned_data if form.is_bound and form.is_valid() else form.initial
    definition = get_survey(data["survey"])
    periods = chosen_periods(form, data)
    clinics = list(Clinic.objects.filter(id__in=request.user.clinic_ids).order_by("name"))
    headings, table = surveys.results_table(definition, clinics, periods)
    record_access(request, "view", f"survey results {definition.code}", patient_id=None)
    export = request.GET.get("format")
    if export in ("csv", "xlsx"):
        sheet = Sheet(title=definition.name[:31], headings=headings, rows=table)
        return spreadsheet_response(sheet, export, f"survey-{definition.code}")
    context = {"form": form, "survey": definition, "headings": headings, "table": table}
    return render(request, "toolkit/survey_results.html", context | results_page(request, periods))


def chosen_periods(form: ResultsFilterForm, data: dict) -> list[str]:
    """The months from start to end; none (and the error on the form) when they are wrong."""
    try:
        return surveys.months(data["start"], data["end"])
    except InvalidRequest as error:
        form_error(form, error)
        return []


def results_page(request: HttpRequest, periods: list[str]) -> dict[str, object]:
    return {
        "periods": periods,
        "query": request.GET.urlencode(),
        "send_form": SendStaffSurveyForm(user=request.user),
        "can_send": can(request.user, "send_surveys"),
    }


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
    today = request.user.organization.today()
    done = post_form(
        request,
        form,
        lambda _: surveys.answer_in_product(
            code,
            own_clinic(request.user, clinic_id),
            form.answers(),
            user=request.user,
            as_of=today,
        ),
        audit=None,
        message="Thank you: your answers were recorded anonymously.",
        then=lambda _: redirect("home"),
    )
    context = {"form": form, "survey": definition, "clinics": clinics, "clinic_id": clinic_id}
    return done or render(request, "toolkit/survey_answer.html", context)


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
        context = {"language": language, "used": True}
        return render(request, "toolkit/survey_message.html", context, status=410)
    definition = get_survey(invitation.survey)
    form = SurveyAnswersForm(request.POST or None, survey=definition, language=language)
    done = post_form(
        request,
        form,
        lambda _: submit_by_link(request, invitation, form.answers(), now),
        audit=None,
        message=None,
        then=lambda _: render(
            request, "toolkit/survey_message.html", {"language": language, "used": False}
        ),
    )
    stem = definition.stem_es if language == "es" else definition.stem_en
    context = {"form": form, "survey": definition, "language": language, "stem": stem}
    return done or render(request, "toolkit/survey_link.html", context)


def submit_by_link(
    request: HttpRequest, invitation: SurveyInvitation, answers: list[int | None], now: datetime
) -> None:
    """Store the answers; a named patient's response is audited as the patient's own."""
    surveys.submit_by_link(invitation, answers, now=now)
    if invitation.episode_id:
        what = "satisfaction survey response"
        Audit("create", what, invitation.episode.patient_id).record(
            request, None, channel="patient"
        )
