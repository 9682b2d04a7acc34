"""The month worklist's filters, sorting and paging (what the billing page reads of a query).

Clinic and care manager narrow the episodes before the month is computed; payer, status
and "has a blocking reason" narrow its lines; any column sorts, empty values last.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict

from cocm.accounts.models import Organization
from cocm.billing import services
from cocm.billing.models import ClaimLine, ClosedMonth
from cocm.billing.months import shift
from cocm.billing.services import BillingLine
from cocm.domain import coding
from cocm.queryparams import int_filter, page_param
from cocm.registry.models import Episode, PayerKind
from cocm.replica import replica_reads

PAGE_LINES = 100
GROUPS = tuple(ClaimLine.Status.choices)
NO_COVERAGE = "none"

# (key, heading, sort key); a sort key returning None sorts last whatever the direction.
COLUMNS: tuple[tuple[str, str, Callable[[BillingLine], Any]], ...] = (
    ("patient", "Patient", lambda line: line.episode.patient.lower()),
    ("mrn", "MRN", lambda line: line.episode.mrn),
    ("clinic", "Clinic", lambda line: line.episode.clinic),
    ("payer", "Payer · member ID", lambda line: line.payer_label or None),
    ("month_type", "Month", lambda line: str(line.result.month_type)),
    ("minutes", "Minutes", lambda line: line.result.minutes_counted),
    ("to_next", "To next", lambda line: line.result.minutes_to_next_threshold),
    ("codes", "Codes", lambda line: " ".join(c.code for c in line.claim_codes) or None),
    ("expected", "Expected", lambda line: line.amount if line.claim_codes else None),
    ("date_of_service", "Date of service", lambda line: line.service_date),
    ("decision", "Decision · not counted", lambda line: line.result.decision),
    ("review", "Review", lambda line: review_rank(line)),
)
SORT_KEYS = {key: sort_key for key, _, sort_key in COLUMNS}
NUMERIC = frozenset({"minutes", "to_next", "expected"})


def review_rank(line: BillingLine) -> int:
    saved = line.saved
    if saved is None or not (saved.reviewed_at or saved.submitted_at):
        return 0
    return 2 if saved.submitted_at else 1


@dataclass(frozen=True)
class Filters:
    clinic: int | None = None
    care_manager: int | None = None
    payer: str = ""
    status: str = ""
    blocking: bool = False
    sort: str = "patient"
    descending: bool = False

    def episodes(self, scope: QuerySet[Episode]) -> QuerySet[Episode]:
        if self.clinic is not None:
            scope = scope.filter(clinic_id=self.clinic)
        if self.care_manager is not None:
            scope = scope.filter(care_manager_id=self.care_manager)
        return scope

    def lines(self, lines: Sequence[BillingLine]) -> list[BillingLine]:
        chosen = list(lines)
        if self.payer == NO_COVERAGE:
            chosen = [line for line in chosen if not line.payer]
        elif self.payer:
            chosen = [line for line in chosen if line.payer == self.payer]
        if self.status:
            chosen = [line for line in chosen if line.status == self.status]
        if self.blocking:
            chosen = [line for line in chosen if blocking_reasons(line)]
        return sort_lines(chosen, self.sort, self.descending)

    @property
    def groups(self) -> list[tuple[str, str]]:
        return [group for group in GROUPS if not self.status or group[0] == self.status]


def blocking_reasons(line: BillingLine) -> list[str]:
    if line.saved is not None and line.saved.frozen:
        return list(line.saved.blocked_reasons)
    return list(line.result.blocked_reasons)


def parse_filters(request: HttpRequest) -> Filters:
    """The worklist's filters from the query; an id that is not one is ignored, and said."""
    query = request.GET
    payer = query.get("payer", "")
    status = query.get("status", "")
    sort = query.get("sort", "patient")
    return Filters(
        clinic=int_filter(request, "clinic"),
        care_manager=int_filter(request, "care_manager"),
        payer=payer if payer in (*PayerKind.values, NO_COVERAGE) else "",
        status=status if status in {key for key, _ in GROUPS} else "",
        blocking=query.get("blocking") == "1",
        sort=sort if sort in SORT_KEYS else "patient",
        descending=query.get("dir") == "desc",
    )


def sort_lines(lines: list[BillingLine], key: str, descending: bool) -> list[BillingLine]:
    sort_key = SORT_KEYS[key]
    keyed = [(sort_key(line), line) for line in lines]
    present = [pair for pair in keyed if pair[0] is not None]
    missing = [line for value, line in keyed if value is None]
    present.sort(key=lambda pair: pair[0], reverse=descending)
    return [line for _, line in present] + missing


@dataclass
class Group:
    key: str
    title: str
    total: int
    page: Page  # of BillingLine
    page_query: str  # the query without this group's page number, for its page links

    @property
    def page_name(self) -> str:
        return f"{self.key}_page"


def paged_groups(lines: list[BillingLine], filters: Filters, query: QueryDict) -> list[Group]:
    """Each group shown, its lines paged 100 at a time (a page number per group)."""
    groups = []
    for key, title in filters.groups:
        members = [line for line in lines if line.status == key]
        page = Paginator(members, PAGE_LINES).get_page(page_param(query, f"{key}_page"))
        others = query.copy()
        for name in (f"{key}_page", "export", "format"):
            others.pop(name, None)
        groups.append(Group(key, title, len(members), page, others.urlencode()))
    return groups


def totals(lines: Sequence[BillingLine]) -> dict[str, Any]:
    ready = [line for line in lines if line.status == ClaimLine.Status.READY]
    amounts = [line.amount for line in ready]
    return {
        "counts": {key: sum(1 for line in lines if line.status == key) for key, _ in GROUPS},
        "expected_total": sum((a for a in amounts if a is not None), Decimal("0.00")),
        "unpriced": sum(1 for a in amounts if a is None),
        "illustrative": any(line.illustrative_fee for line in ready),
        "self_pay": sum(1 for line in ready if not line.is_claim),
    }


@dataclass
class MonthWorklist:
    """The month's lines the user may see, and those the filters keep."""

    month: coding.Month
    closed: ClosedMonth | None
    all_lines: list[BillingLine]
    lines: list[BillingLine]
    filters: Filters

    @classmethod
    def load(
        cls,
        organization: Organization,
        scope: QuerySet[Episode],
        month: coding.Month,
        filters: Filters,
    ) -> MonthWorklist:
        closed = services.closed(organization, month)
        # Before the close the worklist (and its exports) may lag the primary by seconds: read
        # it from the replica when there is one (cocm/replica.py). A closed month reads its
        # frozen lines from the primary.
        with nullcontext() if closed else replica_reads():
            all_lines = services.month_lines(organization, filters.episodes(scope), month)
        return cls(month, closed, all_lines, filters.lines(all_lines), filters)

    def context(self, query: QueryDict) -> dict[str, Any]:
        """The worklist page's groups, totals, paging and filter links."""
        pages = tuple(f"{key}_page" for key, _ in GROUPS)
        return {
            "month": self.month,
            "previous": shift(self.month, -1),
            "next": shift(self.month, 1),
            "groups": paged_groups(self.lines, self.filters, query),
            **totals(self.lines),
            "filtered": len(self.lines) != len(self.all_lines),
            "all_count": len(self.all_lines),
            "closed": self.closed,
            "changed": [line for line in self.all_lines if line.changed_since_close],
            "filters": self.filters,
            "selected": {
                "clinic": "" if self.filters.clinic is None else str(self.filters.clinic),
                "care_manager": (
                    "" if self.filters.care_manager is None else str(self.filters.care_manager)
                ),
            },
            "payers": [*PayerKind.choices, (NO_COVERAGE, "No coverage on file")],
            "statuses": GROUPS,
            "columns": [(key, heading) for key, heading, _ in COLUMNS],
            "numeric": NUMERIC,
            "filter_query": without(query, "sort", "dir", "export", "format", *pages),
            "export_query": without(query, "export", "format", *pages),
        }


def without(query: QueryDict, *names: str) -> str:
    """The query, encoded, without these parameters."""
    kept = query.copy()
    for name in names:
        kept.pop(name, None)
    return kept.urlencode()
