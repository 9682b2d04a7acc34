import re

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from cocm.accounts.audit import record_access
from cocm.accounts.models import Role
from cocm.accounts.permissions import can, requires
from cocm.care import export, review, services
from cocm.care import tasks as care_tasks
from cocm.care.caseload import column_order, organization_caseload_rows
from cocm.care.caseload_table import caseload_table
from cocm.care.forms import (
    ContactForm,
    FollowUpForm,
    RecommendationFormSet,
    RelapsePlanForm,
    ResponseForm,
    ReviewAnswerForm,
    ReviewForm,
    ReviewRequestForm,
)
from cocm.care.models import CaseReview, FollowUp, Recommendation
from cocm.errors import InvalidRequest
from cocm.pages import form_error, visible_episode
from cocm.queryparams import page_param
from cocm.registry.services import visible_episodes
from cocm.spreadsheets import FORMATS, spreadsheet_response


@requires("view_referrals")
def pcp_patients(request: HttpRequest) -> HttpResponse:
    """The PCP's landing page: clinical status of the patients they referred, not billing."""
    user = request.user
    episodes = visible_episodes(user).filter(referring_pcp=user).open()
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
def new_contact(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    user = request.user
    today = user.organization.today()
    role = {Role.PSYCHIATRIC_CONSULTANT: "psychiatric_consultant", Role.PCP: "billing_practitioner"}
    default_role = next(
        (r for k, r in role.items() if user.has_role(k) and not user.has_role(Role.CARE_MANAGER)),
        "care_manager",
    )
    form = ContactForm(
        request.POST or None,
        initial={
            "occurred_on": today,
            "mode": "phone",
            "activity": "follow_up",
            "role": default_role,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                contact = services.record_contact(
                    episode,
                    occurred_on=data["occurred_on"],
                    minutes=data["minutes"],
                    mode=data["mode"],
                    activity=data["activity"],
                    staff=user,
                    by=user,
                    as_of=today,
                    role=data["role"],
                    separately_billed=data["separately_billed"],
                    no_show=data["no_show"],
                    note=data["note"],
                    started_at=data["started_at"],
                    next_contact_on=data["next_contact_on"],
                )
                record_access(
                    request,
                    "create",
                    "contact",
                    patient_id=episode.patient_id,
                    object_id=contact.id,
                )
        except InvalidRequest as error:
            form_error(form, error)
        else:
            if contact.no_show:
                messages.success(
                    request, f"No-show logged ({contact.minutes} minutes, not counted)."
                )
            else:
                messages.success(request, f"Contact logged: {contact.minutes} minutes.")
            return redirect("patient_chart", patient_id=episode.patient_id)
    return render(request, "care/contact_form.html", {"form": form, "episode": episode})


@require_POST
@requires("request_review")
def request_review(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    form = ReviewRequestForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                services.request_review(
                    episode, reason=form.cleaned_data["reason"], by=request.user
                )
                record_access(
                    request,
                    "create",
                    "review request",
                    patient_id=episode.patient_id,
                    object_id=episode.id,
                )
        except InvalidRequest as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Added to the psychiatric consultant's review agenda.")
    else:
        messages.error(request, "Say what you want to discuss.")
    return redirect("patient_chart", patient_id=episode.patient_id)


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
    user = request.user
    today = user.organization.today()
    scope = "all" if request.GET.get("scope") == "all" else "mine"
    agenda, _ = review.agenda_rows(user, scope)
    place = review.agenda_place(agenda, episode.id)
    following = place.following
    form = ReviewForm(request.POST or None, initial={"reviewed_on": today, "minutes": 10})
    formset = RecommendationFormSet(request.POST or None, prefix="rec")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        filled = recommendation_inputs(formset)
        try:
            with transaction.atomic():
                recorded = services.record_review(
                    episode,
                    consultant=user,
                    reviewed_on=form.cleaned_data["reviewed_on"],
                    minutes=form.cleaned_data["minutes"],
                    summary=form.cleaned_data["summary"],
                    recommendations=[item for _, item in filled],
                    as_of=today,
                    confirm_same_day=form.cleaned_data["confirm_same_day"],
                )
                record_access(
                    request,
                    "create",
                    "caseload review",
                    patient_id=episode.patient_id,
                    object_id=recorded.id,
                )
        except InvalidRequest as error:
            review_form_error(form, formset, [index for index, _ in filled], error)
        else:
            messages.success(
                request,
                f"Review of {episode.patient} recorded with {len(filled)} "
                f"recommendation{'s' if len(filled) != 1 else ''}.",
            )
            query = "?scope=all" if scope == "all" else ""
            if following is not None:
                return redirect(reverse("review_patient", args=[following.episode_id]) + query)
            return redirect(reverse("review_agenda") + query)
    row = organization_caseload_rows(
        user.organization, visible_episodes(user).filter(id=episode.id)
    )[0]
    record_access(
        request, "view", "review summary", patient_id=episode.patient_id, object_id=episode.id
    )
    return render(
        request,
        "care/review_patient.html",
        {
            "episode": episode,
            "row": row,
            "form": form,
            "formset": formset,
            "following": following,
            "scope": scope,
            "position": place.position,
            "agenda_length": place.length,
            **review.review_context(episode, row),
        },
    )


@requires("answer_recommendation")
def pcp_inbox(request: HttpRequest) -> HttpResponse:
    """Recommendations waiting for the PCP, one card per review with the patient's scores."""
    user = request.user
    pending = (
        Recommendation.objects.filter(
            pcp=user,
            status=Recommendation.Status.PENDING,
            episode__in=visible_episodes(user),
        )
        .select_related("episode__patient", "review__consultant")
        .order_by("created_at", "id")
    )
    answered = (
        Recommendation.objects.filter(pcp=user)
        .exclude(status=Recommendation.Status.PENDING)
        .select_related("episode__patient")
        .order_by("-responded_at")[:20]
    )
    record_access(request, "view", "recommendation inbox", patient_id=None)
    return render(
        request,
        "care/pcp_inbox.html",
        {
            "pending": pending,
            "groups": review.waiting_reviews(user, list(pending)),
            "answered": answered,
        },
    )


@requires("answer_recommendation")
def answer_review(request: HttpRequest, review_id: int) -> HttpResponse:
    """Every recommendation of one review answered on one screen, in one transaction."""
    user = request.user
    case_review = get_object_or_404(
        CaseReview.objects.filter(episode__in=visible_episodes(user)).select_related(
            "episode__patient", "consultant"
        ),
        id=review_id,
    )
    episode = case_review.episode
    pending = list(
        case_review.recommendations.filter(pcp=user, status=Recommendation.Status.PENDING).order_by(
            "id"
        )
    )
    forms_by_rec = [
        (rec, ReviewAnswerForm(request.POST or None, prefix=f"rec{rec.id}")) for rec in pending
    ]
    if request.method == "POST" and all(form.is_valid() for _, form in forms_by_rec):
        chosen = [(rec, form) for rec, form in forms_by_rec if form.cleaned_data["status"]]
        current = None
        try:
            with transaction.atomic():
                for rec, form in chosen:
                    current = form
                    services.respond(
                        rec,
                        status=form.cleaned_data["status"],
                        note=form.cleaned_data["note"],
                        by=user,
                        as_of=user.organization.today(),
                    )
                    record_access(
                        request,
                        "update",
                        "recommendation",
                        patient_id=episode.patient_id,
                        object_id=rec.id,
                    )
        except InvalidRequest as error:
            form_error(current, error)
        else:
            if chosen:
                messages.success(
                    request,
                    f"{len(chosen)} answer{'s' if len(chosen) != 1 else ''} sent for "
                    f"{episode.patient}.",
                )
                return redirect("pcp_inbox")
            messages.error(request, "Choose an answer for at least one recommendation.")
    row = organization_caseload_rows(
        user.organization, visible_episodes(user).filter(id=episode.id)
    )[0]
    record_access(
        request,
        "view",
        "review recommendations",
        patient_id=episode.patient_id,
        object_id=case_review.id,
    )
    return render(
        request,
        "care/answer_review.html",
        {
            "review": case_review,
            "episode": episode,
            "forms": forms_by_rec,
            "answered": case_review.recommendations.exclude(status=Recommendation.Status.PENDING),
            "trends": review.row_trends(row),
            "flags": review.plain_flags(row.flags),
            "last_measure_on": row.last_measure_on,
        },
    )


@require_POST
@requires("answer_recommendation")
def answer_recommendation(request: HttpRequest, recommendation_id: int) -> HttpResponse:
    recommendation = get_object_or_404(
        Recommendation.objects.filter(episode__in=visible_episodes(request.user)).select_related(
            "episode"
        ),
        id=recommendation_id,
    )
    form = ResponseForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                services.respond(
                    recommendation,
                    status=form.cleaned_data["status"],
                    note=form.cleaned_data["note"],
                    by=request.user,
                    as_of=request.user.organization.today(),
                )
                record_access(
                    request,
                    "update",
                    "recommendation",
                    patient_id=recommendation.episode.patient_id,
                    object_id=recommendation.id,
                )
        except InvalidRequest as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Answered: {recommendation.get_status_display()}.")
    else:
        messages.error(request, "Choose accept, modify or decline.")
    return redirect("pcp_inbox")


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
        Recommendation.objects.filter(episode__in=visible_episodes(request.user)).select_related(
            "episode", "pcp"
        ),
        id=recommendation_id,
    )
    try:
        with transaction.atomic():
            services.remind_pcp(recommendation, by=request.user)
            record_access(
                request,
                "update",
                "recommendation reminder",
                patient_id=recommendation.episode.patient_id,
                object_id=recommendation.id,
            )
    except InvalidRequest as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Reminder sent to {recommendation.pcp}.")
    return redirect("tasks")


@require_POST
@requires("manage_tasks")
def complete_follow_up(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    follow_up = get_object_or_404(
        FollowUp.objects.filter(episode__in=visible_episodes(request.user)), id=follow_up_id
    )
    services.complete_follow_up(follow_up)
    record_access(
        request,
        "update",
        "follow-up",
        patient_id=follow_up.episode.patient_id,
        object_id=follow_up.id,
    )
    return redirect("tasks")


@require_POST
@requires("manage_tasks")
def set_follow_up(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                services.set_follow_up(
                    episode,
                    due_on=form.cleaned_data["due_on"],
                    what=form.cleaned_data["what"],
                    by=request.user,
                    as_of=request.user.organization.today(),
                )
                record_access(
                    request,
                    "update",
                    "follow-up",
                    patient_id=episode.patient_id,
                    object_id=episode.id,
                )
        except InvalidRequest as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Next contact set.")
    else:
        messages.error(request, "Give the date the next contact is due.")
    return redirect("patient_chart", patient_id=episode.patient_id)


@requires("edit_relapse_plan")
def relapse_plan(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = visible_episode(request, episode_id)
    plan = getattr(episode, "relapse_prevention_plan", None)
    initial = (
        {
            "warning_signs": plan.warning_signs,
            "coping_steps": plan.coping_steps,
            "whom_to_call": plan.whom_to_call,
        }
        if plan
        else {}
    )
    form = RelapsePlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.save_relapse_plan(episode, by=request.user, **form.cleaned_data)
                record_access(
                    request,
                    "update",
                    "relapse-prevention plan",
                    patient_id=episode.patient_id,
                    object_id=episode.id,
                )
        except InvalidRequest as error:
            form_error(form, error)
        else:
            messages.success(request, "Relapse-prevention plan saved.")
            return redirect("patient_chart", patient_id=episode.patient_id)
    return render(request, "care/relapse_plan.html", {"form": form, "episode": episode})
