import re
from datetime import date

from django import forms
from django.core.paginator import Paginator
from django.db.models import Q
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cocm.accounts.audit import record_access
from cocm.accounts.models import Clinic, Role, User, staff_name
from cocm.accounts.permissions import can, requires
from cocm.care import export, review, services
from cocm.care import tasks as care_tasks
from cocm.care.billing_figures import month_figures
from cocm.care.caseload import caseload_rows, on_caseload, organization_caseload_rows
from cocm.care.forms import (
    ContactForm,
    FollowUpForm,
    RecommendationFormSet,
    RelapsePlanForm,
    ResponseForm,
    ReviewAnswersForm,
    ReviewForm,
    ReviewRequestForm,
)
from cocm.care.models import Activity, CaseReview, Contact, FollowUp, Mode
from cocm.care.tracker import COLUMNS, TrackerRow, flag_rules, table_context
from cocm.domain.episodes import EpisodeStatus
from cocm.domain.flags import FlagCode, flag_labels
from cocm.errors import InvalidRequest
from cocm.pages import Audit, form_error, post_action, post_form, visible_episode
from cocm.queryparams import int_filter, page_param
from cocm.registry.models import Episode, PayerKind
from cocm.registry.services import visible_episodes
from cocm.spreadsheets import spreadsheet_response

SORTABLE = {key for key, _ in COLUMNS if key != "flags"}


def sort_rows(rows: list[TrackerRow], key: str, descending: bool) -> list[TrackerRow]:
    # Empty values last whatever the direction; safety alerts stay on top.
    present = [row for row in rows if getattr(row, key) not in (None, "")]
    missing = [row for row in rows if getattr(row, key) in (None, "")]
    present.sort(key=lambda row: getattr(row, key), reverse=descending)
    ordered = present + missing
    return sorted(ordered, key=lambda row: not row.open_alert)


@requires("view_referrals")
def pcp_patients(request: HttpRequest) -> HttpResponse:
    """The PCP's landing page: clinical status of the patients they referred, not billing."""
    user = request.user
    episodes = visible_episodes(user).filter(referring_pcp=user).open()
    rows = organization_caseload_rows(user.organization, episodes)
    rows.sort(key=lambda row: (not row.open_alert, row.patient_name))
    waiting = review.pending_by_episode(user, episodes)
    record_access(request, "view", "pcp referrals", patient_id=None)
    return render(
        request,
        "registry/pcp_patients.html",
        {
            "rows": [
                (
                    row,
                    review.row_trends(row),
                    review.plain_flags(row.flags),
                    waiting.get(row.episode_id),
                )
                for row in rows
            ],
            "waiting_total": sum(len(w.recommendations) for w in waiting.values()),
        },
    )


# A care manager's whole caseload fits one page; a clinic or organization view is paged
# (tens of thousands of rows would be megabytes of HTML). Exports hold every row.
CASELOAD_PAGE_ROWS = 250


@requires("view_caseload")
def caseload(request: HttpRequest) -> HttpResponse:
    """The live caseload tracker: per care manager, clinic or organization."""
    user = request.user
    query = request.GET
    episodes = on_caseload(visible_episodes(user))
    selected_cm = query.get("care_manager", "me" if user.has_role(Role.CARE_MANAGER) else "")
    if selected_cm == "me":
        episodes = episodes.filter(care_manager=user)
    elif selected_cm:
        care_manager_id = int_filter(request, "care_manager")
        if care_manager_id is not None:
            episodes = episodes.filter(care_manager_id=care_manager_id)
    clinic_id = int_filter(request, "clinic")
    if clinic_id is not None:
        episodes = episodes.filter(clinic_id=clinic_id)
    if query.get("status") in {s.value for s in EpisodeStatus}:
        episodes = episodes.filter(status=query["status"])
    today = user.organization.today()
    if query.get("payer") in PayerKind.values:
        episodes = episodes.filter(
            Q(patient__coverages__payer_kind=query["payer"]),
            Q(patient__coverages__starts_on__lte=today),
            Q(patient__coverages__ends_on__isnull=True) | Q(patient__coverages__ends_on__gte=today),
        ).distinct()
    rules = flag_rules(user.organization)
    rows = caseload_rows(episodes, today, rules, month_figures(user.organization))
    flag = query.get("flag", "")
    if flag in {code.value for code in FlagCode}:
        rows = [row for row in rows if any(f.code == flag for f in row.flags)]
    sort = query.get("sort", "patient_name")
    if sort in SORTABLE:
        rows = sort_rows(rows, sort, query.get("dir") == "desc")
    export_format = query.get("export")
    if export_format in ("csv", "xlsx") and can(user, "export_caseload"):
        record_access(request, "export", f"caseload {export_format}", patient_id=None)
        return export_response(rows, export_format, today)
    record_access(request, "view", "caseload", patient_id=None)
    clinics = Clinic.objects.filter(id__in=user.clinic_ids)
    care_managers = [
        (str(user_id), staff_name(username, first, last, credentials))
        for user_id, username, first, last, credentials in User.objects.filter(
            memberships__role=Role.CARE_MANAGER, memberships__clinic_id__in=user.clinic_ids
        )
        .distinct()
        .order_by("last_name", "first_name")
        .values_list("id", "username", "first_name", "last_name", "credentials")
    ]
    params = query.copy()
    for name in ("sort", "dir", "export", "page"):
        params.pop(name, None)
    page = Paginator(rows, CASELOAD_PAGE_ROWS).get_page(page_param(query))
    labels = flag_labels(rules)
    page_query = query.copy()
    for name in ("export", "page"):
        page_query.pop(name, None)
    return render(
        request,
        "care/caseload.html",
        {
            "rows": page.object_list,
            "labelled": [(row, labelled_flags(row, labels)) for row in page.object_list],
            "action_today": action_today(rows, labels),
            "total": len(rows),
            "page": page,
            "page_query": page_query.urlencode(),
            "clinics": clinics,
            "care_managers": care_managers,
            "selected": {
                **{k: query.get(k, "") for k in ("clinic", "status", "payer", "flag")},
                "care_manager": selected_cm,
            },
            "statuses": [s for s in EpisodeStatus if s is not EpisodeStatus.DISCHARGED],
            "payers": PayerKind.choices,
            "flag_choices": list(flag_labels(rules).items()),
            "sort": sort,
            "dir": query.get("dir", "asc"),
            "filter_query": params.urlencode(),
            "can_export": can(user, "export_caseload"),
            **table_context(),
            "columns": CASELOAD_COLUMNS,
        },
    )


# The caseload page's columns: the flags beside the name, so a row reads at a glance.
CASELOAD_COLUMNS = (
    ("patient_name", "Patient"),
    ("flags", "Flags"),
    ("status_label", "Status / payer"),
    ("weeks_in_treatment", "Weeks"),
    ("last_contact_on", "Last contact"),
    ("phq9_change", "PHQ-9 first → last"),
    ("gad7_change", "GAD-7 first → last"),
    ("last_measure_on", "Last measure"),
    ("last_review_on", "Last psych. review"),
    ("minutes_this_month", "Minutes this month"),
    ("contacts", "Contacts"),
    ("enrolled_on", "Enrolled"),
)

# The causes a care manager acts on today, in the caseload's top section.
ACTION_TODAY = (
    FlagCode.SAFETY_ALERT,
    FlagCode.SEVERE,
    FlagCode.NO_CONTACT,
    FlagCode.NO_BASELINE,
    FlagCode.NO_MEASURE,
    FlagCode.NO_CONSULTANT,
)


def labelled_flags(row: TrackerRow, labels: dict[FlagCode, str]) -> list[tuple[object, str]]:
    return [(flag, labels[flag.code]) for flag in row.flags]


def action_today(rows: list[TrackerRow], labels: dict[FlagCode, str]) -> list[dict[str, object]]:
    """Per cause that needs action today: its label, how many and which patients."""
    groups = []
    for code in ACTION_TODAY:
        flagged = [row for row in rows if any(flag.code == code for flag in row.flags)]
        if flagged:
            groups.append({"code": code.value, "label": labels[code], "rows": flagged})
    return groups


def export_response(rows: list[TrackerRow], export_format: str, today: date) -> HttpResponseBase:
    return spreadsheet_response(
        export.caseload_sheet(rows), export_format, f"caseload-{today.isoformat()}"
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
    record_access(request, "view", "review agenda", patient_id=None)
    return render(
        request,
        "care/review_agenda.html",
        {
            "agenda": agenda,
            "entries": [(row, review.plain_flags(row.flags)) for row in agenda],
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
    form = ReviewForm(request.POST or None, initial={"reviewed_on": agenda.today, "minutes": 10})
    formset = RecommendationFormSet(request.POST or None, prefix="rec")
    filled = recommendation_inputs(formset) if formset.is_bound and formset.is_valid() else None
    done = filled is not None and post_form(
        request,
        form,
        lambda data: services.record_review(
            episode,
            consultant=request.user,
            recommendations=[item for _, item in filled],
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
    record_access(
        request, "view", "review summary", patient_id=episode.patient_id, object_id=episode.id
    )
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
        lambda _: services.answer_review(
            [services.Answer(rec, **answer) for rec, answer in form.chosen()],
            by=user,
            as_of=user.organization.today(),
        ),
        audit=Audit("update", "recommendations", case_review.episode.patient_id, case_review.id),
        message=lambda answers: answers_sent(case_review, len(answers)),
        then=lambda _: redirect("pcp_inbox"),
        refused=form.refused,
    )
    if done:
        return done
    record_access(
        request,
        "view",
        "review recommendations",
        patient_id=case_review.episode.patient_id,
        object_id=case_review.id,
    )
    context = {"review": case_review, "episode": case_review.episode, "form": form}
    return render(
        request, "care/answer_review.html", {**context, **review.answer_context(case_review, user)}
    )


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
        FollowUp.objects.filter(episode__in=visible_episodes(request.user)).select_related(
            "episode"
        ),
        id=follow_up_id,
    )
    return post_action(
        request,
        forms.Form(request.POST),
        lambda _: services.complete_follow_up(follow_up),
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
