"""What the program dashboard shows: each indicator's row, and the care managers compared,
each figure linked to the patients behind it."""

from typing import Any

from django.utils.http import urlencode

from cocm.accounts.models import User
from cocm.reports import exports, program
from cocm.reports.charts import report_charts


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
