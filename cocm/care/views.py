import re
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cocm.accounts.audit import record_access
from cocm.accounts.models import User
from cocm.accounts.permissions import can, requires
from cocm.accounts.scoping import visible_episodes
from cocm.care import export, review, services
from cocm.care import tasks as care_tasks
from cocm.care.caseload import column_order, organization_caseload_rows
from cocm.care.caseload_table import caseload_table
from cocm.care.forms import (
    ContactEditForm,
    ContactForm,
    FollowUpDoneForm,
    FollowUpForm,
    RecommendationFormSet,
    RelapsePlanForm,
    ResponseForm,
    ReviewAnswersForm,
    ReviewForm,
    ReviewRequestForm,
)
from cocm.care.models import Activity, CaseReview, Contact, FollowUp, Mode
from cocm.errors import InvalidRequest
from cocm.pages import Audit, form_error, post_action, post_form, visible_episode
from cocm.queryparams import page_param
from cocm.registry.models import Episode
from cocm.spreadsheets import FORMATS, spreadsheet_response


@requires("view_referrals")
def pcp_patients(request: HttpRequest) -> HttpResponse:
    """The PCP's landing page: clinical status of the patients they referred, not billing."""
    user = request.user
    episodes = visible_episodes(user, Episode.objects).filter(referring_pcp=user).open()
    rows = organization_caseload_rows(user.organization, episodes).order_by(
        *column_order("patient_name")
    )
    page = Paginator(rows, PCP_PAGE_ROWS).get_page(page_param(request.GET))
    record_access(request, "view", "pcp referrals", patient_id=None)
    return render(request, "registry/pcp_patients.html", review.pcp_context(user, episodes, page))


# A care manager's whole caseload fits one page; a clinic or organization view is paged
# (tens of thousands of rows would be megabytes of HTML). Exports hold every row.
CASELOAD_PAGE_ROWS = 250
PCP_PAGE_ROWS = 100
AGENDA_PAGE_ROWS = 100


@requires("view_caseload")
def caseload(request: HttpRequest) -> HttpResponseBase:
    """The live caseload tracker: per care manager, clinic or organization."""
    user = request.user
    table = caseload_table(user, request.GET)
    for message in table.ignored:
        messages.warning(request, message)
    export_format = request.GET.get("export")
    if export_format in FORMATS and can(user, "export_caseload"):
        record_access(request, "export", f"caseload {export_format}", patient_id=None)
        name = f"caseload-{user.organization.today().isoformat()}"
        return spreadsheet_response(export.caseload_sheet(table.rows), export_format, name)
    page = table.page(page_param(request.GET), CASELOAD_PAGE_ROWS)
    record_access(request, "view", "caseload", patient_id=None)
    return render(request, "care/caseload.html", table.context(page))


@requires("record_contact")
def edit_contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Correct a logged contact (with the version the page showed)."""
    contact = get_object_or_404(
        Contact.objects.filter(
            episode__in=visible_episodes(request.user, Episode.objects)
        ).select_related("episode__patient", "staff"),
        id=contact_id,
    )
    fields = [name for name in ContactEditForm.base_fields if name != "version"]
    initial = {name: getattr(contact, name) for name in fields} | {"version": contact.version}
    form = ContactEditForm(request.POST or None, initial=initial)
    done = post_form(
        request,
        form,
        lambda data: services.edit_contact(
            contact,
            services.ContactChange(**{name: data[name] for name in fields}),
            version=data["version"],
            as_of=request.user.organization.today(),
        ),
        audit=Audit("update", "contact", contact.episode.patient_id, contact.id),
        message="Contact saved.",
        then=lambda _: redirect("patient_chart", patient_id=contact.episode.patient_id),
    )
    return done or render(
        request, "care/contact_edit_form.html", {"form": form, "contact": contact}
    )


@requires("record_contact")
def new_contact(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    user, today = request.user, request.user.organization.today()
    initial = {"occurred_on": today, "mode": Mode.PHONE, "activity": Activity.FOLLOW_UP}
    form = ContactForm(
        request.POST or None, initial={**initial, "role": services.suggested_time_role(user)}
    )
    done = post_form(
        request,
        form,
        lambda data: services.record_contact(episode, staff=user, by=user, as_of=today, **data),
        audit=Audit("create", "contact", episode.patient_id, lambda contact: contact.id),
        message=contact_logged,
        then=lambda _: redirect("patient_chart", patient_id=episode.patient_id),
    )
    return done or render(request, "care/contact_form.html", {"form": form, "episode": episode})


def contact_logged(contact: Contact) -> str:
    if contact.no_show:
        return f"No-show logged ({contact.minutes} minutes, not counted)."
    return f"Contact logged: {contact.minutes} minutes."


@require_POST
@requires("request_review")
def request_review(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    return post_action(
        request,
        ReviewRequestForm(request.POST),
        lambda data: services.request_review(episode, reason=data["reason"], by=request.user),
        audit=Audit("create", "review request", episode.patient_id, episode.id),
        message="Added to the psychiatric consultant's review agenda.",
        back=redirect("patient_chart", patient_id=episode.patient_id),
    )


@requires("run_caseload_review")
def review_agenda(request: HttpRequest) -> HttpResponse:
    """The consultant's prioritized agenda: flagged patients and requested discussions."""
    scope = "all" if request.GET.get("scope") == "all" else "mine"
    agenda, total = review.agenda_rows(request.user, scope)
    page = Paginator(agenda, AGENDA_PAGE_ROWS).get_page(page_param(request.GET))
    record_access(request, "view", "review agenda", patient_id=None)
    return render(
        request,
        "care/review_agenda.html",
        {
            "agenda": page.object_list,
            "entries": [(row, review.plain_flags(row.flags)) for row in page.object_list],
            "page": page,
            "page_query": "scope=all" if scope == "all" else "",
            "scope": scope,
            "total": total,
        },
    )


def recommendation_inputs(formset) -> list[tuple[int, services.RecommendationInput]]:  # type: ignore[no-untyped-def]
    """(form index, input) of every recommendation form the consultant filled in at all."""
    inputs = [
        (
            index,
            services.RecommendationInput(
                **{k: f.cleaned_data.get(k, "") for k in ("kind", "medication", "dose", "text")}
            ),
        )
        for index, f in enumerate(formset)
    ]
    return [(index, item) for index, item in inputs if not item.is_blank]


RECOMMENDATION_FIELD = re.compile(r"^recommendations\[(\d+)\]\.(\w+)$")


def review_form_error(form, formset, indexes: list[int], error: InvalidRequest) -> None:  # type: ignore[no-untyped-def]
    """Put a service error on the recommendation form and field it names, else on the form."""
    match = RECOMMENDATION_FIELD.match(error.field)
    if match and int(match.group(1)) < len(indexes):
        formset[indexes[int(match.group(1))]].add_error(match.group(2), error.message)
        return
    if error.field == "confirm_same_day":
        form.fields["confirm_same_day"].widget = forms.CheckboxInput()
    form_error(form, error)


@requires("run_caseload_review")
def review_patient(request: HttpRequest, episode_id: int) -> HttpResponse:
    """One screen to decide from: trajectories, item answers, treatment, earlier
    recommendations and answers, contacts, the care manager's question, the review form."""
    episode = visible_episode(request, episode_id)
    scope = "all" if request.GET.get("scope") == "all" else "mine"
    agenda = review.Agenda.of(request.user, scope, episode)
    form = ReviewForm(
        request.POST or None,
        initial={"reviewed_on": agenda.today, "minutes": 10, "version": episode.version},
    )
    formset = RecommendationFormSet(request.POST or None, prefix="rec")
    filled = recommendation_inputs(formset) if formset.is_bound and formset.is_valid() else None
    done = filled is not None and post_form(
        request,
        form,
        lambda data: services.record_review(
            episode,
            consultant=request.user,
            recommendations=[i for _, i in filled],
            as_of=agenda.today,
            **data,
        ),
        audit=Audit("create", "caseload review", episode.patient_id, lambda recorded: recorded.id),
        message=lambda _: review_recorded(episode, len(filled)),
        then=lambda _: redirect(agenda.after_review_url()),
        refused=lambda error: review_form_error(form, formset, [i for i, _ in filled], error),
    )
    if done:
        return done
    Audit("view", "review summary", episode.patient_id, episode.id).record(request, episode)
    context = {"episode": episode, "form": form, "formset": formset, "scope": scope}
    return render(request, "care/review_patient.html", {**context, **agenda.context(episode)})


def review_recorded(episode: Episode, recommendations: int) -> str:
    plural = "s" if recommendations != 1 else ""
    return f"Review of {episode.patient} recorded with {recommendations} recommendation{plural}."


@requires("answer_recommendation")
def pcp_inbox(request: HttpRequest) -> HttpResponse:
    """Recommendations waiting for the PCP, one card per review with the patient's scores."""
    pending = review.pending_recommendations(request.user)
    record_access(request, "view", "recommendation inbox", patient_id=None)
    context = {
        "pending": pending,
        "groups": review.waiting_reviews(request.user, list(pending)),
        "answered": review.answered_recommendations(request.user)[:20],
    }
    return render(request, "care/pcp_inbox.html", context)


@requires("answer_recommendation")
def answer_review(request: HttpRequest, review_id: int) -> HttpResponse:
    """Every recommendation of one review answered on one screen, in one transaction."""
    user = request.user
    case_review = get_object_or_404(review.visible_reviews(user), id=review_id)
    form = ReviewAnswersForm(
        request.POST if request.method == "POST" else None,
        recommendations=review.waiting_for(case_review, user),
    )
    done = post_form(
        request,
        form,
        lambda _: send_answers(form, user),
        audit=Audit("update", "recommendations", case_review.episode.patient_id, case_review.id),
        message=lambda answers: answers_sent(case_review, len(answers)),
        then=lambda _: redirect("pcp_inbox"),
        refused=form.refused,
    )
    if done:
        return done
    seen = Audit("view", "review recommendations", case_review.episode.patient_id, case_review.id)
    seen.record(request, case_review)
    context = {"review": case_review, "episode": case_review.episode, "form": form}
    context |= review.answer_context(case_review, user)
    return render(request, "care/answer_review.html", context)


def send_answers(form: ReviewAnswersForm, user: User) -> list[Any]:
    """The PCP's answers to the recommendations she chose, all in one service call."""
    answers = [services.Answer(rec, **answer) for rec, answer in form.chosen()]
    return services.answer_review(answers, by=user, as_of=user.organization.today())


def answers_sent(case_review: CaseReview, answers: int) -> str:
    plural = "s" if answers != 1 else ""
    return f"{answers} answer{plural} sent for {case_review.episode.patient}."


@require_POST
@requires("answer_recommendation")
def answer_recommendation(request: HttpRequest, recommendation_id: int) -> HttpResponse:
    user = request.user
    recommendation = get_object_or_404(review.visible_recommendations(user), id=recommendation_id)
    return post_action(
        request,
        ResponseForm(request.POST),
        lambda data: services.respond(
            recommendation, by=user, as_of=user.organization.today(), **data
        ),
        audit=Audit(
            "update", "recommendation", recommendation.episode.patient_id, recommendation.id
        ),
        message=lambda _: f"Answered: {recommendation.get_status_display()}.",
        back=redirect("pcp_inbox"),
    )


@requires("manage_tasks")
def tasks(request: HttpRequest) -> HttpResponse:
    """The care manager's to-do list, most urgent first, each item one click from done."""
    today = request.user.organization.today()
    task_list = care_tasks.task_list(request.user, today)
    record_access(request, "view", "tasks", patient_id=None)
    return render(request, "care/tasks.html", {"tasks": task_list, "today": today})


@require_POST
@requires("manage_tasks")
def remind_pcp(request: HttpRequest, recommendation_id: int) -> HttpResponse:
    recommendation = get_object_or_404(
        review.visible_recommendations(request.user), id=recommendation_id
    )
    return post_action(
        request,
        forms.Form(request.POST),
        lambda _: services.remind_pcp(recommendation, by=request.user),
        audit=Audit(
            "update",
            "recommendation reminder",
            recommendation.episode.patient_id,
            recommendation.id,
        ),
        message=lambda _: f"Reminder sent to {recommendation.pcp}.",
        back=redirect("tasks"),
    )


@require_POST
@requires("manage_tasks")
def complete_follow_up(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    follow_up = get_object_or_404(
        FollowUp.objects.filter(
            episode__in=visible_episodes(request.user, Episode.objects)
        ).select_related("episode"),
        id=follow_up_id,
    )
    return post_action(
        request,
        FollowUpDoneForm(request.POST),
        lambda data: services.complete_follow_up(follow_up, version=data["version"]),
        audit=Audit("update", "follow-up", follow_up.episode.patient_id, follow_up.id),
        message="Follow-up done.",
        back=redirect("tasks"),
    )


@require_POST
@requires("manage_tasks")
def set_follow_up(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    return post_action(
        request,
        FollowUpForm(request.POST),
        lambda data: services.set_follow_up(
            episode, by=request.user, as_of=request.user.organization.today(), **data
        ),
        audit=Audit("update", "follow-up", episode.patient_id, episode.id),
        message="Next contact set.",
        back=redirect("patient_chart", patient_id=episode.patient_id),
    )


@requires("edit_relapse_plan")
def relapse_plan(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    plan = getattr(episode, "relapse_prevention_plan", None)
    form = RelapsePlanForm(request.POST or None, initial=model_to_dict(plan) if plan else {})
    done = post_form(
        request,
        form,
        lambda data: services.save_relapse_plan(episode, by=request.user, **data),
        audit=Audit("update", "relapse-prevention plan", episode.patient_id, episode.id),
        message="Relapse-prevention plan saved.",
        then=lambda _: redirect("patient_chart", patient_id=episode.patient_id),
    )
    return done or render(request, "care/relapse_plan.html", {"form": form, "episode": episode})
