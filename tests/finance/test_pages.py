import io
import re
from html import unescape

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cocm.accounts.models import AuditEvent
from cocm.finance import export, services
from cocm.finance.models import Scenario
from tests.finance.conftest import TODAY
from tests.finance.formulas import Workbook

pytestmark = pytest.mark.django_db


def text_of(response):
    return unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def signed_in(client, billing_user):
    client.force_login(billing_user)
    return client


def test_a_billing_lead_sees_every_output_with_how_it_was_computed(signed_in):
    response = signed_in.get(reverse("finance_model"))

    page = text_of(response)
    assert response.status_code == 200
    assert "Margin per year" in page
    assert "Break-even caseload" in page
    assert "1 FTE × 80 patients per FTE = 80" in page
    assert "$118,108.96 gross × 95% collection rate = $112,203.51" in page
    assert "Medicare national non-facility 2025, the shipped fee schedule" in page
    assert page.count("default") > 50  # a source beside every input
    content = response.content.decode()
    assert 'class="finance-chart projection"' in content
    assert 'class="finance-chart tornado"' in content
    assert "style=" not in content.split('id="projection-chart"')[1].split("</figure>")[0]
    assert "Download XLSX (with formulas)" in page


def test_an_organization_admin_sees_the_model_and_a_care_manager_does_not(
    client, admin_user, care_manager
):
    client.force_login(admin_user)
    assert "Financial model" in text_of(client.get(reverse("finance_model")))

    client.force_login(care_manager)
    assert client.get(reverse("finance_model")).status_code == 403
    assert "Financial model" not in text_of(client.get(reverse("caseload")))


def test_an_edited_input_changes_the_outputs_and_is_marked_entered(signed_in):
    response = signed_in.get(reverse("finance_model"), {"caseload_per_fte": "100"})

    page = text_of(response)
    assert "1 FTE × 100 patients per FTE = 100" in page
    assert re.search(r"Caseload per 1.0 FTE care manager.*?entered", page, re.S)


def test_an_unchanged_field_keeps_its_default_source(signed_in):
    response = signed_in.get(reverse("finance_model"), {"caseload_per_fte": "80"})

    assert response.context["evaluation"].inputs.sources["caseload_per_fte"] == "default"


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("care_manager_fte", "-1", "Care managers (FTE) (care_manager_fte) must be more than 0"),
        ("caseload_per_fte", "0", "(caseload_per_fte) must be at least 1"),
        ("caseload_per_fte", "10000", "(caseload_per_fte) must be at most 250"),
        ("collection_rate", "150%", "(collection_rate) must be at most 100%; got 150%"),
        ("fqhc_rhc", "yes", "No fee on file for G0512"),
    ],
)
def test_bad_input_is_named_on_the_page_never_a_server_error(signed_in, field, text, message):
    query = {field: text, **({"year": "2025"} if field == "fqhc_rhc" else {})}

    response = signed_in.get(reverse("finance_model"), query)

    assert response.status_code == 200
    assert message in text_of(response)
    assert "Check this input" in text_of(response)


def test_fill_from_the_registry_marks_the_inputs_it_filled(signed_in, clinic, seeded):
    response = signed_in.get(reverse("finance_model"), {"calibrate": "1", "months": "3"})

    page = text_of(response)
    inputs = response.context["evaluation"].inputs
    assert inputs.sources["caseload_per_fte"] == "registry"
    assert "3 open episodes ÷ 1 care manager on 2026-11-23" in page
    assert "from the registry" in page
    assert AuditEvent.objects.filter(what="finance calibration").exists()


def test_the_registry_marks_survive_a_recalculation_and_cannot_be_forged(signed_in, seeded):
    calibrated = signed_in.get(reverse("finance_model"), {"calibrate": "1", "months": "3"})
    base = calibrated.context["base_token"]

    again = signed_in.get(reverse("finance_model"), {"base": base, "collection_rate": "90%"})
    forged = signed_in.get(reverse("finance_model"), {"base": base[:-2] + "xx"})

    sources = again.context["evaluation"].inputs.sources
    assert sources["caseload_per_fte"] == "registry"
    assert sources["collection_rate"] == "given"
    assert "expired or was altered" in text_of(forged)


def test_a_saved_scenario_reopens_and_is_listed(signed_in, clinic):
    page = signed_in.get(reverse("finance_model"), {"care_manager_fte": "2"})

    response = signed_in.post(
        reverse("finance_save"),
        {"name": "Second care manager", "state": page.context["state_token"]},
    )

    scenario = Scenario.objects.get(name="Second care manager")
    assert scenario.organization == clinic.organization
    assert response.url == f"{reverse('finance_model')}?scenario={scenario.pk}"
    reopened = signed_in.get(response.url)
    assert "Financial model: Second care manager" in text_of(reopened)
    assert "2 FTE × 80 patients per FTE = 160" in text_of(reopened)
    listing = text_of(signed_in.get(reverse("finance_scenarios")))
    assert "Second care manager" in listing
    assert "160 patients" in listing


def test_saving_without_a_name_says_so(signed_in):
    response = signed_in.post(reverse("finance_save"), {"name": ""}, follow=True)

    assert "Not saved: Give the scenario a name." in text_of(response)
    assert not Scenario.objects.exists()


def test_two_scenarios_side_by_side(signed_in, clinic, billing_user):
    org = clinic.organization
    one = services.save_scenario(
        org,
        "Caseload 60",
        services.resolve_inputs({"caseload_per_fte": "60"}, as_of=TODAY),
        by=billing_user,
    )
    two = services.save_scenario(
        org, "Caseload 80", services.resolve_inputs({}, as_of=TODAY), by=billing_user
    )

    response = signed_in.get(reverse("finance_compare"), {"scenario": [one.pk, two.pk]})

    page = text_of(response)
    assert "Caseload 60" in page and "Caseload 80" in page
    assert re.search(r"Caseload capacity\s+60 patients\s+80 patients", page)
    assert re.search(r"Caseload per 1.0 FTE care manager\s+60\s+80", page)
    assert "Caseload 60: net revenue" in page  # the chart's legend


def test_comparing_one_scenario_asks_for_two_or_three(signed_in):
    response = signed_in.get(reverse("finance_compare"))

    assert "Choose two or three scenarios to compare." in text_of(response)


def test_a_scenario_from_another_organization_is_not_found(client, clinic, billing_user):
    from tests import factories

    scenario = services.save_scenario(
        clinic.organization, "Ours", services.resolve_inputs({}, as_of=TODAY), by=billing_user
    )
    outsider = factories.user("billing", factories.clinic(factories.organization("Other")))
    client.force_login(outsider)

    assert client.get(reverse("finance_model"), {"scenario": scenario.pk}).status_code == 404
    assert client.post(reverse("finance_delete", args=[scenario.pk])).status_code == 404
    assert client.get(reverse("finance_model"), {"scenario": "9" * 30}).status_code == 404


def test_a_scenario_is_deleted(signed_in, clinic, billing_user):
    scenario = services.save_scenario(
        clinic.organization, "Old", services.resolve_inputs({}, as_of=TODAY), by=billing_user
    )

    signed_in.post(reverse("finance_delete", args=[scenario.pk]))

    assert not Scenario.objects.exists()


def test_the_xlsx_has_inputs_outputs_and_projection_with_formulas(signed_in, clinic, billing_user):
    scenario = services.save_scenario(
        clinic.organization,
        '=HYPERLINK("http://evil")',
        services.resolve_inputs({"caseload_per_fte": "60"}, as_of=TODAY),
        by=billing_user,
    )

    response = signed_in.get(reverse("finance_export"), {"scenario": scenario.pk})

    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Inputs", "Minutes", "Billing", "Outputs", "Projection"]
    inputs, outputs, projection = book["Inputs"], book["Outputs"], book["Projection"]
    assert inputs["A1"].value == 'CoCM financial model: =HYPERLINK("http://evil")'
    assert inputs["A1"].data_type == "s"  # text, never a formula
    rows = {row[0]: row for row in inputs.iter_rows(min_row=3, values_only=True)}
    assert rows["caseload_per_fte"][2] == 60
    assert rows["caseload_per_fte"][4] == "given"
    assert rows["collection_rate"][4] == "default"
    labels = {row[0].value: row[1].value for row in outputs.iter_rows(min_row=2)}
    assert labels["Caseload capacity"].startswith("=MIN(")
    assert labels["Margin per year"] == "=Outputs!$B$12-Outputs!$B$16"
    assert labels["Cost per year"].startswith("=Outputs!$B$13+")
    assert str(projection["B2"].value).startswith("=IF(Inputs!")
    assert projection["I3"].value == "=I2+H3"
    assert projection.max_row == 25  # heading + 24 months
    assert (
        response["Content-Disposition"] == f'attachment; filename="cocm-finance-{scenario.pk}.xlsx"'
    )


@pytest.mark.parametrize(
    "given",
    [
        {"caseload_per_fte": "60"},
        {"fqhc_rhc": "yes", "year": "2025", "rate_medicare_G0512": "150"},
        {
            "share_medicare": "50%",
            "share_medicaid": "30%",
            "share_commercial": "20%",
            "route_medicaid": "mixed",
            "rate_medicaid_90791": "120",
            "rate_medicaid_90832": "60",
            "starting_caseload": "20",
        },
    ],
)
def test_the_workbooks_formulas_compute_what_the_model_computes(given):
    evaluation = services.evaluate(services.resolve_inputs(given, as_of=TODAY))
    book = Workbook(load_workbook(io.BytesIO(export.as_xlsx(evaluation, title="Check"))))
    rows = {row[0].value: row[1].coordinate for row in book.book["Outputs"].iter_rows(min_row=2)}
    outputs = evaluation.result.outputs

    for name in (
        "caseload_capacity",
        "patients_served_per_year",
        "gross_revenue_per_year",
        "net_revenue_per_year",
        "cost_per_year",
        "margin_per_year",
        "break_even_caseload",
        "revenue_per_care_manager_hour",
    ):
        computed = book.value("Outputs", rows[outputs[name].label])
        assert computed == pytest.approx(outputs[name].value), name
    for row in evaluation.projection:
        assert book.value("Projection", f"F{row.month + 1}") == pytest.approx(row.revenue)
        assert book.value("Projection", f"I{row.month + 1}") == pytest.approx(row.cumulative_margin)
