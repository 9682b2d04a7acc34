"""What the program dashboard shows: each indicator's row, and the care managers compared,
each figure linked to the patients behind it."""

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.utils.http import urlencode

from cocm.accounts.models import User
from cocm.domain.indicators import Indicator
from cocm.reports import exports, program
from cocm.reports.charts import report_charts
from cocm.spreadsheets import Sheet

PATIENT_PAGE_ROWS = 100


def dashboard_context(
    user: User, filters: program.Filters, report: program.ProgramReport
) -> dict[str, Any]:
    """Everything the dashboard template reads but the filter choices."""
    query = filters.query()
    return {
        "report": report,
        "rows": indicator_rows(filters, report),
        "compared": compared_rows(filters, report),
        "compared_labels": [report.indicators[key].label for key in program.COMPARED],
        "charts": report_charts(report, link=lambda key: program.patients_url(filters, key)),
        "measure_rates": program.measure_rates_by_quarter(user, filters),
        "surveys": program.survey_summaries(user, filters),
        # Every filter named, set or not: templates read no undefined variable.
        "selected": {"clinic": "", "care_manager": "", **query},
        "filter_query": urlencode(query),
        "tables": exports.TABLE_LABELS,
    }


def indicator_rows(filters: program.Filters, report: program.ProgramReport) -> list[dict]:
    """Each indicator: its value, its fraction and the link to its patients."""
    return [
        {
            "indicator": indicator,
            "value": program.display_value(indicator),
            "fraction": program.display_fraction(indicator),
            "url": program.patients_url(filters, indicator.key),
        }
        for indicator in report.ordered()
    ]


def compared_rows(filters: program.Filters, report: program.ProgramReport) -> list[dict]:
    """The care managers side by side, each figure linked to that care manager's patients."""
    staff = User.objects.in_bulk(
        [r.care_manager_id for r in report.care_managers if r.care_manager_id]
    )
    return [
        {
            "name": row.name,
            "cells": [
                {
                    "value": program.display_value(row.indicators[key]),
                    "fraction": program.display_fraction(row.indicators[key]),
                    "url": program.patients_url(
                        program.Filters(filters.period, filters.clinic, staff[row.care_manager_id])
                        if row.care_manager_id in staff
                        else filters,
                        key,
                    ),
                }
                for key in program.COMPARED
            ],
        }
        for row in report.care_managers
    ]


class UnknownIndicator(LookupError):
    """No figure of the report has that key."""


@dataclass(frozen=True)
class PatientList:
    """The patients behind one figure of the report, with the filters that produced it;
    `side` is "yes" or "no" to keep only those counted or not counted ("" for all)."""

    indicator: Indicator
    rows: list[program.PatientRow]
    filters: program.Filters
    side: str

    def sheet(self) -> Sheet:
        return exports.patients_sheet(self.indicator, self.rows)

    def context(self, page: str | None) -> dict[str, Any]:
        """Everything the patients template reads, for one page of `PATIENT_PAGE_ROWS`."""
        indicator, filters = self.indicator, self.filters
        base = {"indicator": indicator.key, **filters.query()}
        return {
            "indicator": indicator,
            "value": program.display_value(indicator),
            "fraction": program.display_fraction(indicator),
            "page": Paginator(self.rows, PATIENT_PAGE_ROWS).get_page(page),
            "level": filters.level,
            "period": filters.period,
            "side": self.side,
            "not_counted": len(indicator.population) - len(indicator.counted),
            "monthly": any(row.month for row in self.rows),
            "base_query": urlencode(base),
            "side_query": urlencode({**base, "counted": self.side}),
            "dashboard_query": urlencode(filters.query()),
        }


def patient_list(user: User, filters: program.Filters, key: str, side: str) -> PatientList:
    """The patients behind the figure `key` of the user's (day's) report for these filters;
    UnknownIndicator when the report has no such figure."""
    report = program.program_report(user, filters, today=user.organization.today())
    indicator = report.figure(key)
    if indicator is None:
        raise UnknownIndicator(key)
    rows = program.drill_down(indicator, {"yes": True, "no": False}.get(side))
    return PatientList(indicator, rows, filters, side)
