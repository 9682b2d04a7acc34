import io
import re

import pytest
from django.test import Client
from django.utils.http import urlencode
from openpyxl import load_workbook

from cocm.accounts.models import ApiToken, AuditEvent
from tests.reports.conftest import NOVEMBER, D

QUERY = urlencode(NOVEMBER)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def row_of(html: str, key: str) -> str:
    match = re.search(rf'<tr id="indicator-{key}">(.*?)</tr>', html, re.S)
    assert match, key
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_the_dashboard_shows_each_indicator_with_numerator_and_denominator(registry):
    response = signed_in(registry.admin).get(f"/reports/?{QUERY}")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Program indicators" in html
    assert row_of(html, "active_caseload").startswith(
        "Active caseload (end of period) 4 4 patients"
    )
    assert "50% 2 of 4" in row_of(html, "contacted_last_30_days_pct")
    assert "50% 1 of 2" in row_of(html, "psychiatric_review_of_non_improvers_pct")
    assert "40% 2 of 5" in row_of(html, "billing_capture_any_pct")
    assert "3.85 h 0.5 h over 0.13 hundred patient-weeks (within guidance)" in row_of(
        html, "psychiatric_consultant_hours_per_100"
    )


def test_the_dashboard_has_five_charts_each_saying_what_it_counts(registry):
    html = signed_in(registry.admin).get(f"/reports/?{QUERY}").content.decode()

    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"') == 5
    for title in (
        "Caseload and enrollments by month",
        "Response and remission by enrollment month",
        "Weeks to first response",
        "Care managers compared",
        "Billing capture by month",
    ):
        assert f"<h2>{title}</h2>" in html
    assert "Patients on the caseload on the last day of each month" in html
    assert "<script" not in html.split("<main", 1)[1]
    assert " style=" not in html


def test_each_figure_links_to_its_patients_with_the_same_filters(registry):
    html = signed_in(registry.admin).get(f"/reports/?{QUERY}&clinic={registry.clinic_a.id}")

    link = (
        "/reports/patients/?indicator=contacted_last_30_days_pct&amp;from=2026-11-01"
        f"&amp;to=2026-11-23&amp;clinic={registry.clinic_a.id}"
    )
    assert link in html.content.decode()


def test_the_dashboard_shows_the_quality_measures_of_the_period(registry):
    html = signed_in(registry.admin).get(f"/reports/?{QUERY}").content.decode()

    assert "Quality measure rates by measurement period" in html
    assert "<td>CMS2 v0.4.001</td><td>MP 2026</td><td>0.0%</td><td>0 of 3</td>" in html


def test_a_bad_period_is_explained_and_the_default_period_shown(registry):
    response = signed_in(registry.admin).get("/reports/?from=2026-02-30")

    html = response.content.decode()
    assert response.status_code == 200
    assert "from: &#x27;2026-02-30&#x27; is not a date (YYYY-MM-DD)." in html
    assert "2025-11-24 to 2026-11-23" in html


def test_roles_without_the_capability_are_refused(registry):
    assert signed_in(registry.carla).get("/reports/").status_code == 403
    assert signed_in(registry.pcp).get("/reports/").status_code == 403
    assert signed_in(registry.consultant).get("/reports/").status_code == 200


def test_the_patient_list_names_each_patient_with_a_link_to_the_chart(registry):
    client = signed_in(registry.admin)
    before = AuditEvent.objects.count()

    response = client.get(f"/reports/patients/?indicator=contacted_last_30_days_pct&{QUERY}")

    html = response.content.decode()
    ann, ben = registry.episodes["ann"], registry.episodes["ben"]
    assert "Active caseload contacted in the last 30 days" in html
    assert "<strong>50%</strong> · 2 of 4" in html
    assert f'<a href="/patients/{ann.patient_id}/">Adams, Ann</a>' in html
    assert f'<a href="/patients/{ben.patient_id}/">Baker, Ben</a>' in html
    assert "Gray, Gus" not in html  # another clinic
    assert "Ford, Fay" not in html  # never enrolled
    event = AuditEvent.objects.order_by("-id").first()
    assert AuditEvent.objects.count() == before + 1
    assert event.what == "indicator contacted_last_30_days_pct patients"
    assert event.user == registry.admin


def test_the_patient_list_can_show_only_those_counted_or_not(registry):
    client = signed_in(registry.admin)
    url = f"/reports/patients/?indicator=contacted_last_30_days_pct&{QUERY}"

    counted = client.get(url + "&counted=yes").content.decode()
    not_counted = client.get(url + "&counted=no").content.decode()

    assert "Adams, Ann" in counted and "Cruz, Cara" in counted and "Baker, Ben" not in counted
    assert "Baker, Ben" in not_counted and "Diaz, Dan" in not_counted
    assert "Adams, Ann" not in not_counted


def test_an_unknown_indicator_is_not_found(registry):
    client = signed_in(registry.admin)

    assert client.get("/reports/patients/?indicator=nothing").status_code == 404
    assert client.get("/reports/patients/").status_code == 302


@pytest.mark.parametrize(
    "table", ["indicators", "months", "cohorts", "weeks_to_response", "care_managers"]
)
def test_every_table_exports_to_xlsx(registry, table):
    response = signed_in(registry.admin).get(f"/reports/?{QUERY}&table={table}&export=xlsx")

    workbook = load_workbook(io.BytesIO(response.content))
    assert response["Content-Disposition"].startswith(f'attachment; filename="program-{table}-')
    assert workbook.active.max_row >= 2


def test_the_indicator_table_exports_to_csv_with_numerators(registry):
    response = signed_in(registry.admin).get(f"/reports/?{QUERY}&table=indicators&export=csv")

    text = b"".join(response.streaming_content).decode()
    assert text.splitlines()[0].startswith("Indicator,Key,Value,Numerator,Denominator")
    assert "Active caseload contacted in the last 30 days,contacted_last_30_days_pct,50.0,2,4" in (
        text
    )


def test_the_patient_list_exports_to_csv(registry):
    response = signed_in(registry.admin).get(
        f"/reports/patients/?indicator=active_caseload&{QUERY}&export=csv"
    )

    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("Patient,MRN,Month,Clinic,Care manager")
    assert [line.split(",")[0] for line in lines[1:]] == [
        '"Adams',
        '"Baker',
        '"Cruz',
        '"Diaz',
    ]


# ------------------------------------------------------------------------------ API


def api(user):
    return Client(HTTP_AUTHORIZATION=f"Bearer {ApiToken.issue(user)[1]}")


def test_the_api_answers_the_contract_keys_with_numerators_and_patient_urls(registry):
    response = api(registry.admin).get(f"/api/v1/indicators?{QUERY}")

    body = response.json()
    assert response.status_code == 200
    for key in (
        "active_caseload",
        "new_enrollments",
        "baseline_measure_pct",
        "follow_up_within_4_weeks_pct",
        "contacted_last_30_days_pct",
        "response_10_12_weeks_pct",
        "remission_6_months_pct",
        "psychiatric_review_of_non_improvers_pct",
    ):
        assert {"value", "numerator", "denominator", "patients_url"} <= set(body[key])
    assert body["contacted_last_30_days_pct"]["value"] == 50.0
    assert body["contacted_last_30_days_pct"]["numerator"] == 2
    assert body["contacted_last_30_days_pct"]["denominator"] == 4
    assert body["active_caseload"] | {"patients_url": ""} == {
        "label": "Active caseload (end of period)",
        "kind": "count",
        "value": 4,
        "numerator": 4,
        "denominator": None,
        "patients_url": "",
        "source": "AIMS Center implementation guide, process measures",
    }
    assert body["remission_6_months_pct"]["value"] is None
    assert body["new_enrollments"]["patients_url"] == (
        "/reports/patients/?indicator=new_enrollments&from=2026-11-01&to=2026-11-23"
    )


def test_the_api_filters_by_clinic_and_care_manager(registry):
    client = api(registry.admin)

    clinic = client.get(f"/api/v1/indicators?{QUERY}&clinic={registry.clinic_b.id}").json()
    carla = client.get(f"/api/v1/indicators?{QUERY}&care_manager=carla").json()

    assert clinic["discharges"]["value"] == 1
    assert clinic["active_caseload"]["value"] == 0
    assert carla["active_caseload"]["value"] == 4
    assert "care_manager=carla" in carla["active_caseload"]["patients_url"]


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("from=2026-13-01", 422, "from"),
        ("to=2099-01-01", 422, "to"),
        ("clinic=99999999999999999999999", 404, None),
        ("care_manager=nobody", 404, None),
    ],
)
def test_the_api_refuses_bad_filters(registry, query, status, field):
    response = api(registry.admin).get(f"/api/v1/indicators?{query}")

    assert response.status_code == status
    if field:
        assert response.json()["detail"][0]["loc"][-1] == field


def test_the_api_refuses_roles_without_the_capability(registry):
    assert api(registry.carla).get("/api/v1/indicators").status_code == 403
    assert api(registry.consultant).get("/api/v1/indicators").status_code == 200


def test_the_dashboard_shows_each_survey_and_hides_small_anonymous_counts(registry):
    html = signed_in(registry.admin).get(f"/reports/?{QUERY}").content.decode()

    assert "Surveys in the period" in html
    assert (
        "<td>Patient satisfaction with collaborative care</td><td>0</td><td>0</td><td>—</td>"
        in html
    )
    assert "<td>Primary care provider satisfaction</td>" in html
    assert "<td>fewer than 5</td>" in html  # anonymous, no respondent yet


def bar_links(html: str) -> dict[str, str]:
    """Each chart bar's link as the user meets it: its tooltip → its target."""
    return {
        title: href.replace("&amp;", "&")
        for href, title in re.findall(
            r'<a class="bar-link" href="([^"]+)"><title>([^<]+)</title>', html
        )
    }


def listed(client: Client, url: str) -> list[str]:
    """The patients a drill-down page lists, with whether each is counted."""
    html = client.get(url).content.decode()
    table = html.split('<table class="patients"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]
    return sorted(cells)


def test_each_chart_bar_links_to_the_patients_it_stands_for(registry):
    client = signed_in(registry.admin)
    links = bar_links(client.get(f"/reports/?{QUERY}").content.decode())

    caseload = links["Nov 26, Active caseload: 4, show the patients"]
    assert caseload == f"/reports/patients/?indicator=caseload%3A2026-11&{QUERY}"
    assert [row.split(" ")[0] for row in listed(client, caseload)] == [
        "Adams,", "Baker,", "Cruz,", "Diaz,",
    ]  # fmt: skip
    enrolled = listed(client, links["Nov 26, New enrollments: 2, show the patients"])
    assert [" ".join(row.split(" ")[:2]) for row in enrolled] == ["Cruz, Cara", "Diaz, Dan"]
    october = listed(client, links["Oct 26, Active caseload: 3, show the patients"])
    assert [" ".join(row.split(" ")[:2]) for row in october] == [
        "Adams, Ann", "Baker, Ben", "Evans, Eve",
    ]  # fmt: skip
    # A rate's bar lists its denominator, each patient saying whether it is counted.
    remission = links["Jan 26 n=1, Remission: 100%, show the patients"]
    assert remission == f"/reports/patients/?indicator=cohort_remission%3A2026-01&{QUERY}"
    (ann,) = listed(client, remission)
    assert ann.startswith("Adams, Ann") and ann.endswith("Yes")
    august = listed(client, links["Aug 26 n=2, Response: 0%, show the patients"])
    assert [(row[:10], row.endswith("No")) for row in august] == [
        ("Baker, Ben", True), ("Evans, Eve", True),
    ]  # fmt: skip
    billed = links["Nov 26, Patient-months with a code: 40%, show the patients"]
    assert len(listed(client, billed)) == 5
    assert len(listed(client, billed + "&counted=yes")) == 2
    assert "0-4 wk, Patients: 0, show the patients" in links


def test_a_care_managers_bars_list_that_care_managers_patients(registry):
    client = signed_in(registry.admin)
    links = bar_links(client.get(f"/reports/?{QUERY}").content.decode())

    carla = links["Carla Mendes, Contacted 30 d: 50%, show the patients"]
    rows = listed(client, carla)
    assert [(" ".join(row.split(" ")[:2]), row.endswith("Yes")) for row in rows] == [
        ("Adams, Ann", True), ("Baker, Ben", False), ("Cruz, Cara", True), ("Diaz, Dan", False),
    ]  # fmt: skip
    # Bea has no one on her caseload at the end of the period (Eve left on Nov 20): her
    # rate is "—", with no bar and nothing to list.
    assert not any(title.startswith("Bea Okafor, Contacted 30 d") for title in links)
    assert "Bea Okafor, Response 10-12 wk: 0%, show the patients" in links


def test_the_chart_links_keep_the_clinic_filter(registry):
    client = signed_in(registry.admin)
    query = f"{QUERY}&clinic={registry.clinic_b.id}"
    links = bar_links(client.get(f"/reports/?{query}").content.decode())

    october = links["Oct 26, Active caseload: 1, show the patients"]
    assert october == f"/reports/patients/?indicator=caseload%3A2026-10&{query}"
    assert [" ".join(row.split(" ")[:2]) for row in listed(client, october)] == ["Evans, Eve"]


def test_the_printed_charts_have_no_links(registry):
    from cocm.reports import program
    from cocm.reports.charts import report_charts

    filters = program.parse_filters(registry.admin, NOVEMBER, today=D(2026, 11, 23))
    report = program.compute_report(registry.admin, filters)

    assert all("<a " not in chart.svg for chart in report_charts(report))
    assert report.figure("caseload:2026-11").value == 4
    assert report.figure("no-such-bar") is None
