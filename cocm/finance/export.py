"""A scenario as an XLSX workbook a finance person can follow: live formulas, not numbers.

Sheets: Inputs (every input, its source and note), Minutes (the minute distributions),
Billing (one row per payer × kind of month × bucket of minutes with the codes the billing
engine decided, and psychotherapy visits), Outputs (each output a formula over the cells
above, with the explanation in words) and Projection (24 months of caseload, revenue and
cost, each a formula). Change an input cell and the workbook recomputes.

`cocm.spreadsheets` neutralises every text that starts with "=", which is right for data
exports but would turn these formulas into text; this module writes formula cells itself
with openpyxl and passes every text that a user may have typed (the scenario name, notes)
through `cocm.spreadsheets.neutralised`.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from cocm.domain import finance
from cocm.finance.services import Evaluation, input_text
from cocm.spreadsheets import neutralised

BOLD = Font(bold=True)
MONEY = '"$"#,##0.00'
PERCENT = "0.0%"
NUMBER = "#,##0.00"


def _heading(sheet: Worksheet, *titles: str) -> None:
    sheet.append(list(titles))
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD
    # A coordinate string: asking the sheet for the cell would create an empty row.
    sheet.freeze_panes = f"A{sheet.max_row + 1}"


def _formats(spec: finance.InputSpec) -> str:
    if spec.kind is finance.Kind.FRACTION:
        return PERCENT
    if spec.kind is finance.Kind.MONEY:
        return MONEY
    return "General"


def as_xlsx(evaluation: Evaluation, *, title: str) -> bytes:
    """The workbook of one evaluated scenario (`title`: the scenario's name)."""
    book = Workbook()
    inputs_sheet = book.active
    inputs_sheet.title = "Inputs"
    inputs_sheet.append([neutralised(f"CoCM financial model: {title}")])
    inputs_sheet["A1"].font = BOLD
    _heading(inputs_sheet, "Input", "Description", "Value", "Unit", "Source", "Where from")
    cell: dict[str, str] = {}
    values = evaluation.inputs.values
    for name, spec in finance.SPECS.items():
        value = values[name]
        row = inputs_sheet.max_row + 1
        ref = f"Inputs!$C${row}"
        cell[name] = ref
        if isinstance(value, bool):
            written: object = "yes" if value else "no"
        elif isinstance(value, (tuple, str)):
            written = neutralised(input_text(name, value))
        elif value is None and name == "psychiatric_consultant_hours_per_week":
            written = (
                f"={finance.CONSULTANT_HOURS_PER_CARE_MANAGER_FTE:g}*{cell['care_manager_fte']}"
            )
        else:
            written = value
        inputs_sheet.append(
            [
                name,
                spec.label,
                written,
                spec.unit,
                evaluation.inputs.sources[name],
                neutralised(evaluation.inputs.notes.get(name, "")),
            ]
        )
        inputs_sheet.cell(row=row, column=3).number_format = _formats(spec)
    _widths(inputs_sheet, (34, 44, 16, 14, 10, 70))

    # Minutes: the distributions, one row per bucket, so averages are formulas.
    minutes_sheet = book.create_sheet("Minutes")
    _heading(minutes_sheet, "Kind of month", "Minutes", "Share of months")
    ranges: dict[str, tuple[int, int]] = {}
    for kind, name in (("initial", "initial_minutes"), ("subsequent", "subsequent_minutes")):
        first = minutes_sheet.max_row + 1
        distribution = values[name]
        assert isinstance(distribution, tuple)
        for minutes, share in distribution:
            minutes_sheet.append([kind, minutes, share])
            minutes_sheet.cell(row=minutes_sheet.max_row, column=3).number_format = PERCENT
        ranges[kind] = (first, minutes_sheet.max_row)
    _widths(minutes_sheet, (16, 10, 16))

    # Outputs are written before Billing refers to them; Billing rows are laid out first so
    # that the outputs' sums know their ranges.
    billing_sheet = book.create_sheet("Billing")
    outputs_sheet = book.create_sheet("Outputs")
    projection_sheet = book.create_sheet("Projection")
    out: dict[str, str] = {}
    output_rows: list[tuple[str, str, str, str]] = []  # name, label, formula, format

    def output(name: str, label: str, formula: str, number_format: str = NUMBER) -> str:
        ref = f"Outputs!$B${len(output_rows) + 2}"
        out[name] = ref
        output_rows.append((name, label, formula, number_format))
        return ref

    c = cell
    i0, i1 = ranges["initial"]
    s0, s1 = ranges["subsequent"]
    output(
        "countable_minutes_per_month",
        "Care-manager minutes that count toward CoCM codes, per month",
        f"={c['care_manager_fte']}*(({c['hours_initial_assessments']}+{c['hours_follow_ups']})"
        f"*(1-{c['no_show_rate']})+{c['hours_caseload_review']}+{c['hours_documentation']}"
        f"+{c['hours_outreach']})*60*52/12",
    )
    output(
        "average_initial_minutes",
        "Average minutes in an initial month",
        f"=SUMPRODUCT(Minutes!$B${i0}:$B${i1},Minutes!$C${i0}:$C${i1})",
    )
    output(
        "average_subsequent_minutes",
        "Average minutes in a subsequent month",
        f"=SUMPRODUCT(Minutes!$B${s0}:$B${s1},Minutes!$C${s0}:$C${s1})",
    )
    months = c["episode_months"]
    output(
        "average_minutes_per_patient_month",
        "Average minutes per patient-month",
        f"={out['average_initial_minutes']}/{months}"
        f"+{out['average_subsequent_minutes']}*({months}-1)/{months}",
    )
    output(
        "guidance_caseload",
        "Caseload by the caseload-per-FTE input",
        f"={c['care_manager_fte']}*{c['caseload_per_fte']}",
    )
    output(
        "time_limited_caseload",
        "Caseload the care-manager time allows",
        f"={out['countable_minutes_per_month']}/{out['average_minutes_per_patient_month']}",
    )
    capacity = output(
        "caseload_capacity",
        "Caseload capacity",
        f"=MIN({out['guidance_caseload']},{out['time_limited_caseload']})",
    )
    output("patient_months_per_year", "Patient-months per year", f"={capacity}*12")
    output(
        "patients_served_per_year",
        "Patients served per year",
        f"={out['patient_months_per_year']}/{months}",
    )

    # Billing rows.
    _heading(
        billing_sheet,
        "Payer",
        "Kind of month",
        "Minutes",
        "Share of these months",
        "Payer share",
        "Share billed this way",
        "Months of this kind per month",
        "Patient-months per month",
        "Code 1",
        "Units 1",
        "Fee 1",
        "Code 2",
        "Units 2",
        "Fee 2",
        "Gross revenue per month",
        "Billing engine's decision",
    )
    mixed = values["mixed_psychotherapy_share"]
    assert isinstance(mixed, float)
    first_billing = billing_sheet.max_row + 1
    for billing_row in evaluation.result.billing_rows:
        row = billing_sheet.max_row + 1
        payer = billing_row.payer
        route = finance.Route(str(values[finance.route_name(payer)]))
        cocm_share, _ = finance.route_split(route, mixed)
        months_of_kind = (
            f"={capacity}/{months}"
            if billing_row.month_type == "initial"
            else f"={capacity}*({months}-1)/{months}"
        )
        codes = list(billing_row.codes) + [None] * (2 - len(billing_row.codes))
        line: list[object] = [
            payer,
            str(billing_row.month_type),
            billing_row.minutes,
            billing_row.share,
            f"={c[finance.share_name(payer)]}",
            cocm_share,
            months_of_kind,
            f"=G{row}*D{row}*E{row}*F{row}",
        ]
        for code_line in codes:
            if code_line is None:
                line += ["", 0, 0]
            else:
                rate = c[finance.rate_name(payer, str(code_line.code))]
                line += [str(code_line.code), code_line.units, f"=N({rate})"]
        line += [f"=H{row}*(J{row}*K{row}+M{row}*N{row})", billing_row.decision]
        billing_sheet.append(line)
        for column in (4, 5, 6):
            billing_sheet.cell(row=row, column=column).number_format = PERCENT
        for column in (11, 14, 15):
            billing_sheet.cell(row=row, column=column).number_format = MONEY
    last_billing = billing_sheet.max_row
    billing_sheet.append([])
    billing_sheet.append(["Psychotherapy visits"])
    billing_sheet.cell(row=billing_sheet.max_row, column=1).font = BOLD
    billing_sheet.append(["Payer", "Code", "Visits per month", "Fee", "Gross revenue per month"])
    first_visit = billing_sheet.max_row + 1
    for visit in evaluation.result.visit_rows:
        row = billing_sheet.max_row + 1
        hours, length = (
            ("hours_initial_assessments", "initial_appointment_minutes")
            if visit.code == str(finance.PsychotherapyCode.CPT_90791)
            else ("hours_follow_ups", "follow_up_appointment_minutes")
        )
        route = finance.Route(str(values[finance.route_name(visit.payer)]))
        _, psychotherapy_share = finance.route_split(route, mixed)
        billing_sheet.append(
            [
                visit.payer,
                visit.code,
                f"={c['care_manager_fte']}*{c[hours]}*60/{c[length]}*(1-{c['no_show_rate']})"
                f"*52/12*{c[finance.share_name(visit.payer)]}*{psychotherapy_share}",
                f"=N({c[finance.rate_name(visit.payer, visit.code)]})",
                f"=C{row}*D{row}",
            ]
        )
    last_visit = max(billing_sheet.max_row, first_visit)
    _widths(billing_sheet, (12, 12, 9, 12, 11, 12, 14, 14, 8, 8, 10, 8, 8, 10, 14, 60))

    cocm_month = f"SUM(Billing!$O${first_billing}:$O${last_billing})"
    psychotherapy_month = f"SUM(Billing!$E${first_visit}:$E${last_visit})"
    gross = output(
        "gross_revenue_per_year",
        "Gross revenue per year",
        f"=({cocm_month}+{psychotherapy_month})*12",
        MONEY,
    )
    net = output(
        "net_revenue_per_year",
        "Net revenue per year (collected)",
        f"={gross}*{c['collection_rate']}",
        MONEY,
    )
    cm_cost = output(
        "care_manager_cost_per_year",
        "Care manager cost per year",
        f"={c['care_manager_fte']}*{c['care_manager_salary']}*(1+{c['benefits_rate']})",
        MONEY,
    )
    consultant_cost = output(
        "psychiatric_consultant_cost_per_year",
        "Psychiatric consultant cost per year",
        f"={c['psychiatric_consultant_hours_per_week']}*52*{c['psychiatric_consultant_hourly_rate']}",
        MONEY,
    )
    pcp_cost = output(
        "pcp_cost_per_year",
        "PCP time cost per year",
        f"={c['pcp_hours_per_week']}*52*{c['pcp_hourly_rate']}",
        MONEY,
    )
    cost = output(
        "cost_per_year",
        "Cost per year",
        f"={cm_cost}+{consultant_cost}+{pcp_cost}+{c['other_costs_per_year']}",
        MONEY,
    )
    output("margin_per_year", "Margin per year", f"={net}-{cost}", MONEY)
    per_pm = output(
        "net_revenue_per_patient_month",
        "Net revenue per patient-month",
        f"={net}/{out['patient_months_per_year']}",
        MONEY,
    )
    output(
        "break_even_caseload",
        "Break-even caseload",
        f'=IF({per_pm}>0,{cost}/({per_pm}*12),"never")',
    )
    output(
        "psychiatric_consultant_hours_per_week",
        "Psychiatric consultant hours needed per week",
        f"={finance.CONSULTANT_HOURS_PER_CARE_MANAGER_FTE:g}*{c['care_manager_fte']}",
    )
    output(
        "revenue_per_care_manager_hour",
        "Net revenue per care-manager hour",
        f"={net}/({c['care_manager_fte']}*{c['hours_per_fte_week']}*52)",
        MONEY,
    )
    initial_revenue = output(
        "revenue_per_initial_month",
        "Gross CoCM revenue per initial patient-month",
        f'=SUMIF(Billing!$B${first_billing}:$B${last_billing},"initial",'
        f"Billing!$O${first_billing}:$O${last_billing})/({capacity}/{months})",
        MONEY,
    )
    subsequent_revenue = output(
        "revenue_per_subsequent_month",
        "Gross CoCM revenue per subsequent patient-month",
        f'=IF({months}>1,SUMIF(Billing!$B${first_billing}:$B${last_billing},"subsequent",'
        f"Billing!$O${first_billing}:$O${last_billing})/({capacity}*({months}-1)/{months}),0)",
        MONEY,
    )
    psychotherapy = output(
        "psychotherapy_gross_per_month",
        "Gross psychotherapy revenue per month at full caseload",
        f"={psychotherapy_month}",
        MONEY,
    )

    explanations = {name: item.explanation for name, item in evaluation.result.outputs.items()}
    _heading(outputs_sheet, "Output", "Value", "How it is computed (with this scenario's numbers)")
    for name, label, formula, number_format in output_rows:
        outputs_sheet.append([label, formula, neutralised(explanations.get(name, ""))])
        outputs_sheet.cell(row=outputs_sheet.max_row, column=2).number_format = number_format
    _widths(outputs_sheet, (52, 16, 120))

    # Projection.
    _heading(
        projection_sheet,
        "Month",
        "Caseload",
        "Discharged",
        "New patients (initial months)",
        "Subsequent months",
        "Net revenue",
        "Cost",
        "Margin",
        "Cumulative margin",
    )
    start = f"MIN({c['starting_caseload']},{capacity})"
    ramp = c["ramp_up_months"]
    for month in range(1, len(evaluation.projection) + 1):
        row = projection_sheet.max_row + 1
        previous = start if month == 1 else f"B{row - 1}"
        projection_sheet.append(
            [
                month,
                f"=IF({ramp}<=0,{capacity},MIN({capacity},{start}+({capacity}-{start})*A{row}/{ramp}))",
                f"={previous}/{months}",
                f"=MAX(0,B{row}-{previous}+C{row})",
                f"=B{row}-D{row}",
                f"={c['collection_rate']}*(D{row}*{initial_revenue}+E{row}*{subsequent_revenue}"
                f"+B{row}/{capacity}*{psychotherapy})",
                f"={cost}/12",
                f"=F{row}-G{row}",
                f"=H{row}" if month == 1 else f"=I{row - 1}+H{row}",
            ]
        )
        for column in range(2, 6):
            projection_sheet.cell(row=row, column=column).number_format = NUMBER
        for column in range(6, 10):
            projection_sheet.cell(row=row, column=column).number_format = MONEY
    _widths(projection_sheet, (8, 12, 12, 16, 14, 14, 14, 14, 16))

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _widths(sheet: Worksheet, widths: tuple[int, ...]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
