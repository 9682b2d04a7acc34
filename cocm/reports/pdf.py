"""The printable monthly program report: the indicators and the charts, as a PDF.

WeasyPrint lays out an HTML template (`reports/program_report.html`) with the same SVG charts
as the dashboard; it needs Pango (`make pdf-libraries`).
"""

from datetime import date

from django.template.loader import render_to_string
from django.utils import timezone

from cocm.accounts.models import User
from cocm.reports import program
from cocm.reports.charts import report_charts


def program_html(user: User, filters: program.Filters, *, today: date) -> str:
    report = program.program_report(user, filters, today=today)
    rows = [
        {
            "indicator": indicator,
            "value": program.display_value(indicator),
            "fraction": program.display_fraction(indicator),
        }
        for indicator in report.ordered()
    ]
    return render_to_string(
        "reports/program_report.html",
        {
            "organization": user.organization,
            "report": report,
            "month": filters.period.start.strftime("%B %Y"),
            "rows": rows,
            "charts": report_charts(report),
            "measure_rates": program.measure_rates_by_quarter(user, filters),
            "generated_at": timezone.localtime(timezone=user.organization.tz),
        },
    )


def program_pdf(user: User, filters: program.Filters, *, today: date) -> bytes:
    """The report as PDF bytes."""
    # Imported here: WeasyPrint loads Pango when imported, which only the PDF needs.
    from weasyprint import HTML

    return HTML(string=program_html(user, filters, today=today)).write_pdf()
