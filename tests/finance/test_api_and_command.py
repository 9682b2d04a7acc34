import io
import json

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from cocm.accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def api(client, user, **params):
    token = ApiToken.issue(user)[1]
    return client.get("/api/v1/finance/model", params, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_the_api_answers_the_contract_with_inputs_sources_and_outputs(client, billing_user):
    response = api(client, billing_user, care_manager_fte="2")

    body = response.json()
    assert response.status_code == 200
    assert body["inputs"]["care_manager_fte"] == {
        "value": 2.0,
        "source": "given",
        "note": "",
    }
    assert body["inputs"]["caseload_per_fte"]["source"] == "default"
    assert body["inputs"]["episode_months"]["value"] == 6
    for name in (
        "caseload_capacity",
        "patients_served_per_year",
        "gross_revenue_per_year",
        "net_revenue_per_year",
        "cost_per_year",
        "margin_per_year",
        "break_even_caseload",
        "psychiatric_consultant_hours_per_week",
    ):
        assert isinstance(body["outputs"][name], float), name
    assert body["outputs"]["caseload_capacity"] == 160
    assert body["outputs"]["psychiatric_consultant_hours_per_week"] == 6
    assert body["explanations"]["caseload_capacity"].startswith("the smaller of 160")
    assert body["outputs"]["billable_units_per_month"]["99492"] == pytest.approx(24)
    assert len(body["projection"]) == 24
    assert len(body["sensitivity"]) == 3


def test_the_api_calibrates_from_the_registry(client, billing_user, seeded):
    body = api(client, billing_user, calibrate="true", months="3").json()

    assert body["inputs"]["caseload_per_fte"] == {
        "value": 3.0,
        "source": "registry",
        "note": "3 open episodes ÷ 1 care manager on 2026-11-23",
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"care_manager_fte": "-1"}, "care_manager_fte"),
        ({"caseload_per_fte": "10000"}, "caseload_per_fte"),
        ({"collection_rate": "1.5"}, "collection_rate"),
        ({"fqhc_rhc": "yes", "year": "2025"}, "rate_medicare_G0512"),
        ({"bogus": "1"}, "bogus"),
        ({"calibrate": "true", "months": "99999999999999999999"}, "months"),
    ],
)
def test_the_api_refuses_bad_input_with_a_422_naming_it(client, billing_user, params, field):
    response = api(client, billing_user, **params)

    assert response.status_code == 422
    assert field in json.dumps(response.json())


def test_a_care_manager_is_refused_the_financial_model(client, care_manager):
    assert api(client, care_manager).status_code == 403


def test_the_command_prints_the_same_model_as_json(billing_user):
    out = io.StringIO()

    call_command("finance", "--format", "json", "--set", "care_manager_fte=2", stdout=out)

    body = json.loads(out.getvalue())
    assert body["inputs"]["care_manager_fte"]["source"] == "given"
    assert body["outputs"]["caseload_capacity"] == 160


def test_the_command_calibrates_and_writes_xlsx(tmp_path, clinic, seeded):
    target = tmp_path / "model.xlsx"

    call_command(
        "finance",
        "--calibrate",
        "--months",
        "3",
        "--as-of",
        "2026-11-23",
        "--format",
        "xlsx",
        "--output",
        str(target),
        stdout=io.StringIO(),
    )

    book = load_workbook(target)
    sources = {row[0]: row[4] for row in book["Inputs"].iter_rows(min_row=3, values_only=True)}
    assert sources["caseload_per_fte"] == "registry"
    assert book["Outputs"]["B2"].value.startswith("=")


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        (
            "collection_rate=150%",
            "collection_rate: Collection rate (collection_rate) must be at most 100%",
        ),
        ("caseload_per_fte=0", "caseload_per_fte:"),
        ("care_manager_fte", "--set needs NAME=VALUE"),
    ],
)
def test_the_command_refuses_bad_input_naming_it(billing_user, assignment, message):
    with pytest.raises(CommandError) as refused:
        call_command("finance", "--format", "json", "--set", assignment, stdout=io.StringIO())

    assert message in str(refused.value)
