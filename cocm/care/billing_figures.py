"""The billing figures care shows, without importing the billing app: the month's minutes
and the minutes to the next billable threshold on the caseload, the month's decision on the
chart.

Billing sits above care: it bills care's contacts (`Contact`). So care says here what it
needs (`MonthFigures`: the organization's billing rules, able to decide a month) and the
billing app supplies it when Django starts (`BillingConfig.ready` calls `supply`). The
caseload, the tracker and the chart ask `month_figures(organization)`.
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured

from cocm.accounts.models import Organization
from cocm.domain import coding
from cocm.registry.models import Episode


class MonthFigures(Protocol):
    """An organization's billing rules, as the caseload and the chart use them."""

    @property
    def key(self) -> str:
        """Changes whenever any rule does (stored caseload rows are computed under it)."""
        ...

    def decide(
        self, episodes: Sequence[Episode], as_of: date, payers: Mapping[int, str]
    ) -> dict[int, coding.MonthResult]:
        """The decision of each episode's month (the month of `as_of`), by episode id."""
        ...


Supplier = Callable[[Organization | None], MonthFigures]
_supplier: list[Supplier] = []


def supply(supplier: Supplier) -> None:
    """The billing app's figures for an organization (None: the default rules)."""
    _supplier[:] = [supplier]


def month_figures(organization: Organization | None = None) -> MonthFigures:
    """The organization's billing rules (the defaults without one)."""
    if not _supplier:
        raise ImproperlyConfigured(
            "Nothing supplies the billing figures: is cocm.billing in INSTALLED_APPS?"
        )
    return _supplier[0](organization)
