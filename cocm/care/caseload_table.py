"""The caseload tracker page (`/caseload/`): its filters and sort, declared with django-filter,
and what the page shows, all read in the database.

Two steps, because a filter on a stored value must read a current row:
1. `CaseloadScope` narrows the episodes (care manager, clinic, status, payer); the stale rows
   of those episodes are computed first (`caseload.current_caseload`);
2. `CaseloadRowFilter` filters their stored rows by flag and sorts them by any column.
A page then reads only its rows, the "Needs action today" section counts in one query, and
an export iterates every row in chunks. A filter value that is not valid is ignored and the
page says so (`CaseloadTable.ignored`), as it did when the query string was parsed by hand.
"""

from dataclasses import dataclass
from datetime import date
from functools import cached_property, reduce
from operator import or_
from typing import Any

import django_filters
from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import QueryDict

from cocm.accounts.models import Clinic, Role, User
from cocm.accounts.permissions import can
from cocm.accounts.scoping import visible_episodes
from cocm.accounts.services import care_manager_choices
from cocm.care.caseload import (
    FLAG_COLUMNS,
    SORTABLE,
    CaseloadRows,
    alerts_first,
    column_order,
    on_caseload,
    organization_caseload_rows,
)
from cocm.care.models import CaseloadRow
from cocm.care.tracker import TrackerRow, flag_rules, table_context
from cocm.domain.episodes import EpisodeStatus
from cocm.domain.flags import FlagCode, flag_labels
from cocm.queryparams import BadQueryParameter, whole_number
from cocm.registry.models import Coverage, Episode, PayerKind


class IdField(forms.CharField):
    """An id in the query string, refused (with the message of `cocm.queryparams`) when it is
    not a whole number a database can hold; `me` too where `accept_me`."""

    def __init__(self, *, parameter: str, accept_me: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.parameter = parameter
        self.accept_me = accept_me

    def clean(self, value: Any) -> int | str | None:
        if self.accept_me and value == "me":
            return "me"
        try:
            return whole_number(value, self.parameter)
        except BadQueryParameter as error:
            raise forms.ValidationError(error.message) from error


class IdFilter(django_filters.Filter):
    field_class = IdField


def one_of(name: str) -> dict[str, dict[str, str]]:
    return {"error_messages": {"invalid_choice": f"'{name}' has no value '%(value)s'."}}


class CaseloadScope(django_filters.FilterSet):
    """Which episodes the caseload lists (filters on the episodes themselves)."""

    care_manager = IdFilter(parameter="care_manager", accept_me=True, method="managed_by")
    clinic = IdFilter(field_name="clinic_id", parameter="clinic")
    status = django_filters.ChoiceFilter(
        choices=[(s.value, s.label) for s in EpisodeStatus], **one_of("status")
    )
    payer = django_filters.ChoiceFilter(
        choices=PayerKind.choices, method="covered_by", **one_of("payer")
    )

    def __init__(self, data: QueryDict, episodes: QuerySet[Episode], user: User, today: date):
        super().__init__(data, queryset=episodes)
        self.user = user
        self.today = today

    def managed_by(self, episodes: QuerySet[Episode], name: str, value: int | str) -> Any:
        return episodes.filter(care_manager=self.user if value == "me" else value)

    def covered_by(self, episodes: QuerySet[Episode], name: str, kind: str) -> Any:
        """Episodes whose patient has a coverage of this kind today."""
        coverage = Coverage.objects.filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=self.today),
            patient_id=OuterRef("patient_id"),
            payer_kind=kind,
            starts_on__lte=self.today,
        )
        return episodes.filter(Exists(coverage))


class CaseloadRowFilter(django_filters.FilterSet):
    """The stored rows shown: one flag (as in docs/care.md: one flag per cause), sorted by any
    column either way, safety alerts always first."""

    flag = django_filters.ChoiceFilter(
        choices=[(code.value, code.value) for code in FlagCode], method="flagged", **one_of("flag")
    )
    sort = django_filters.ChoiceFilter(
        choices=[(key, key) for key in sorted(SORTABLE)], method="sorted_by", **one_of("sort")
    )
    dir = django_filters.ChoiceFilter(
        choices=[("asc", "asc"), ("desc", "desc")], method="unchanged", **one_of("dir")
    )

    class Meta:
        model = CaseloadRow
        fields: list[str] = []

    def flagged(self, rows: QuerySet[CaseloadRow], name: str, code: str) -> Any:
        return rows.filter(**{FLAG_COLUMNS[FlagCode(code)]: True})

    def sorted_by(self, rows: QuerySet[CaseloadRow], name: str, key: str) -> Any:
        descending = self.form.cleaned_data.get("dir") == "desc"
        return rows.order_by(*alerts_first(*column_order(key, descending)))

    def unchanged(self, rows: QuerySet[CaseloadRow], name: str, value: str) -> Any:
        return rows  # the direction is read by `sorted_by`


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
# Patients named per cause in that section ("and n more" after them), out of the first
# rows read with any of its causes.
ACTION_TODAY_NAMED = 6
ACTION_TODAY_READ = 250


@dataclass
class CaseloadTable:
    """The caseload a user asked for: its rows filtered and sorted, not read yet."""

    user: User
    query: QueryDict  # as given (links keep it)
    asked: QueryDict  # with the defaults filled in
    rows: CaseloadRows
    labels: dict[FlagCode, str]
    ignored: list[str]  # one message per filter value ignored

    @cached_property
    def counts(self) -> dict[str, int]:
        """How many rows, and how many with each flag that needs action today, in one
        query."""
        return self.rows.rows.aggregate(
            total=Count("pk"),
            **{
                code.value: Count("pk", filter=Q(**{FLAG_COLUMNS[code]: True}))
                for code in ACTION_TODAY
            },
        )

    def page(self, number: int, rows: int) -> Page:  # type: ignore[type-arg]
        """One page of the rows: only its rows are read (the count is `counts`)."""
        counted = CaseloadRows(self.rows.rows, self.counts["total"])
        return Paginator(counted, rows).get_page(number)

    def context(self, page: Page) -> dict[str, Any]:  # type: ignore[type-arg]
        """What `care/caseload.html` shows of one page."""
        user, query, asked = self.user, self.query, self.asked
        return {
            "rows": page.object_list,
            "labelled": [(row, labelled_flags(row, self.labels)) for row in page.object_list],
            "action_today": action_today(self.rows, self.labels, self.counts),
            "total": page.paginator.count,
            "page": page,
            "page_query": _without(query, "export", "page").urlencode(),
            "clinics": Clinic.objects.filter(id__in=user.clinic_ids),
            "care_managers": care_manager_choices(user),
            "selected": {
                name: asked.get(name, "")
                for name in ("care_manager", "clinic", "status", "payer", "flag")
            },
            "statuses": [s for s in EpisodeStatus if s is not EpisodeStatus.DISCHARGED],
            "payers": PayerKind.choices,
            "flag_choices": list(self.labels.items()),
            "sort": asked["sort"],
            "dir": asked.get("dir", "asc"),
            "filter_query": _without(query, "sort", "dir", "export", "page").urlencode(),
            "can_export": can(user, "export_caseload"),
            **table_context(),
            "columns": CASELOAD_COLUMNS,
        }


def caseload_table(user: User, query: QueryDict) -> CaseloadTable:
    """The caseload of the query string (`care_manager` defaults to "me" for a care
    manager; `sort` to the patient's name), its stale rows computed."""
    organization = user.organization
    today = organization.today()
    asked = query.copy()
    asked.setdefault("care_manager", "me" if user.has_role(Role.CARE_MANAGER) else "")
    asked.setdefault("sort", "patient_name")
    scope = CaseloadScope(asked, on_caseload(visible_episodes(user, Episode.objects)), user, today)
    stored = organization_caseload_rows(organization, scope.qs)
    shown = CaseloadRowFilter(asked, queryset=stored.rows)
    ignored = [
        f"{message} That filter was ignored."
        for filterset in (scope, shown)
        for messages in filterset.errors.values()
        for message in messages
    ]
    labels = flag_labels(flag_rules(organization))
    return CaseloadTable(user, query, asked, CaseloadRows(shown.qs), labels, ignored)


def labelled_flags(row: TrackerRow, labels: dict[FlagCode, str]) -> list[tuple[object, str]]:
    return [(flag, labels[flag.code]) for flag in row.flags]


def action_today(
    rows: CaseloadRows, labels: dict[FlagCode, str], counts: dict[str, int]
) -> list[dict[str, object]]:
    """Per cause that needs action today: its label, how many patients (`counts`) and the
    first few of them (safety alerts, then the longest on the registry), named from one
    read of the first rows with any of these causes, in an order the database does not
    have to sort names for (a rare cause deep in a long list may name fewer; "and n more"
    counts the rest)."""
    due = [code for code in ACTION_TODAY if counts[code.value]]
    if not due:
        return []
    named: dict[FlagCode, list[TrackerRow]] = {code: [] for code in due}
    flagged = reduce(or_, (Q(**{FLAG_COLUMNS[code]: True}) for code in due))
    for row in rows.filter(flagged).order_by()[:ACTION_TODAY_READ]:
        for flag in row.flags:
            if flag.code in named and len(named[flag.code]) < ACTION_TODAY_NAMED:
                named[flag.code].append(row)
    return [
        {
            "code": code.value,
            "label": labels[code],
            "count": counts[code.value],
            "rows": named[code],
            "more": counts[code.value] - len(named[code]),
        }
        for code in due
    ]


def _without(query: QueryDict, *names: str) -> QueryDict:
    kept = query.copy()
    for name in names:
        kept.pop(name, None)
    return kept
