import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from cocm.spreadsheets import Sheet, as_csv, as_xlsx, neutralised, spreadsheet_response


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Rosa Wright", "Rosa Wright"),
        ("", ""),
        (-5, -5),
    ],
)
def test_formula_like_text_is_neutralised_and_other_values_are_kept(value, expected):
    assert neutralised(value) == expected


def sheet():
    return Sheet(
        title="Claims",
        headings=["Patient", "Born", "Units", "Amount", "Flag"],
        rows=[
            ['=HYPERLINK("x")', date(1960, 2, 3), 2, Decimal("55.10"), True],
            [None, None, -1, None, False],
        ],
    )


def test_it_writes_csv_with_text_neutralised_and_numbers_as_numbers():
    rows = list(csv.reader(io.StringIO(as_csv(sheet()))))

    assert rows == [
        ["Patient", "Born", "Units", "Amount", "Flag"],
        ['\'=HYPERLINK("x")', "1960-02-03", "2", "55.10", "yes"],
        ["", "", "-1", "", "no"],
    ]


def test_it_writes_xlsx_cells_as_text_dates_and_numbers():
    workbook = load_workbook(io.BytesIO(as_xlsx(sheet())))

    values = [[cell.value for cell in row] for row in workbook["Claims"].iter_rows()]
    assert values[1][0] == '\'=HYPERLINK("x")'
    assert values[1][1].date() == date(1960, 2, 3)
    assert values[1][2:] == [2, 55.1, "yes"]
    assert values[2] == [None, None, -1, None, "no"]


def test_the_response_is_an_attachment_of_the_asked_format():
    response = spreadsheet_response(sheet(), "csv", "claims-2026-11")

    assert response["Content-Disposition"] == 'attachment; filename="claims-2026-11.csv"'
    assert b"'=HYPERLINK" in b"".join(response.streaming_content)


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="pdf"):
        spreadsheet_response(sheet(), "pdf", "x")
