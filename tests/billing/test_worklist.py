"""The billing lead's month worklist page, its exports and the fee-schedule page."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from cocm.accounts.models import AuditEvent, Role
from cocm.billing import export, fees, services
from cocm.billing.models import ClaimLine, FeeSchedule
from cocm.care import services as care
from cocm.domain.coding import Month
from cocm.registry.models import Coverage, Diagnosis, Episode
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY
OCTOBER = Month(2026, 10)
PAGE = reverse("billing_month", args=["2026-10"])


@pytest.fixture
def biller(client, clinic):
    user = factories.user(Role.BILLING, clinic, username="biller")
    client.force_login(user)
    return user


def month_of(
    clinic,
    care_manager,
    consultant,
    *,
    given="Alex",
    family="Rivera",
    payer="medicare",
    member_id="1EG4-TE5-MK72",
    consent_on=date(2026, 9, 1),
    minutes=((date(2026, 10, 5), 40),),
    diagnoses=("F33.1", "F41.1"),
):
    episode = factories.episode(
        clinic,
        care_manager,
        the_patient=factories.patient(
            clinic.organization, given_name=given, family_name=family, birth_date=date(1961, 3, 4)
        ),
        referred_on=date(2026, 9, 1),
        consent_on=consent_on,
        psychiatric_consultant=consultant,
        diagnoses=diagnoses,
    )
    episode.initiating_visit_on = date(2026, 8, 15)
    episode.save()
    if payer:
        Coverage.objects.create(
            patient=episode.patient,
            payer_kind=payer,
            payer_name="",
            member_id=member_id,
            starts_on=date(2020, 1, 1),
        )
    for on, count in minutes:
        care.record_contact(
            episode,
            occurred_on=on,
            minutes=count,
            mode="phone",
            activity="follow_up",
            staff=care_manager,
            by=care_manager,
            as_of=TODAY,
        )
    return episode


def fee(code, amount, payer="medicare", year=2026):
    FeeSchedule.objects.create(year=year, payer_kind=payer, code=code, amount=Decimal(amount))


def read_csv(response):
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def lines():
    organization = Episode.objects.first().clinic.organization
    return services.month_lines(organization, Episode.objects.all(), OCTOBER)


# ------------------------------------------------------------------------- the page


def test_every_group_lists_its_lines_with_what_a_biller_needs(
    client, clinic, care_manager, consultant, biller
):
    fee("99492", "150.00")
    fee("99494", "60.00")
    month_of(
        clinic,
        care_manager,
        consultant,
        given="Maria",
        family="Lopez",
        minutes=[(date(2026, 10, 5), 60), (date(2026, 10, 20), 30)],
    )
    month_of(clinic, care_manager, consultant, given="James", family="Wright", consent_on=None)
    month_of(
        clinic,
        care_manager,
        consultant,
        given="Ana",
        family="Diaz",
        minutes=[(date(2026, 10, 5), 10)],
    )

    page = client.get(PAGE)
    text = page.content.decode()

    assert page.status_code == 200
    ready, blocked, not_billable = page.context["groups"]
    assert [g.title for g in (ready, blocked, not_billable)] == [
        "Ready to bill",
        "Blocked",
        "Not billable",
    ]
    assert [line.episode.patient for line in ready.page] == ["Lopez, Maria"]
    assert [line.episode.patient for line in blocked.page] == ["Wright, James"]
    assert [line.episode.patient for line in not_billable.page] == ["Diaz, Ana"]
    for name in ("Lopez, Maria", "Wright, James", "Diaz, Ana", "Riverside Family Medicine"):
        assert name in text
    assert "ID 1EG4-TE5-MK72" in text
    assert "99492</span> ×1" in text and "99494</span> ×1" in text
    assert "$210.00" in text  # 150 + 60
    assert "2026-10-31" in text  # date of service: the last day of the month
    assert "99492 x1 + 99494 x1: 90 counted minutes in an initial month" in text
    assert "G2214 needs 16 (6 more)" in text  # Diaz, not billable, and what is missing
    # The blocked line says what to record and links to the place in the chart.
    wright = Episode.objects.get(patient__family_name="Wright")
    assert "Document the patient&#x27;s consent (date and method)." in text
    assert f'href="/patients/{wright.patient_id}/#consent"' in text
    assert 'hx-post="/billing/2026-10/episodes/' in text
    assert ">Reviewed</button>" in text and ">Submitted</button>" in text


def test_the_chart_has_the_places_the_fixes_link_to(client, clinic, care_manager, consultant):
    episode = month_of(clinic, care_manager, consultant, consent_on=None)
    client.force_login(care_manager)

    text = client.get(reverse("patient_chart", args=[episode.patient_id])).content.decode()

    for anchor in ("consent", "initiating-visit", "consultant", "program", "coverage"):
        assert f'id="{anchor}"' in text
    line = lines()[0]
    assert {fix.anchor for fix in line.fixes} == {"consent"}


def test_lines_are_paged_100_per_group_with_page_links(
    client, clinic, care_manager, consultant, biller
):
    for number in range(101):
        month_of(
            clinic,
            care_manager,
            consultant,
            family=f"Patient{number:03d}",
            minutes=[(date(2026, 10, 5), 5)],
        )

    first = client.get(PAGE)
    second = client.get(PAGE, {"not_billable_page": "2"})

    (group,) = [g for g in first.context["groups"] if g.key == "not_billable"]
    assert len(group.page.object_list) == 100
    assert "not_billable_page=2#group-not_billable" in first.content.decode()
    assert "lines 1–100 of 101" in first.content.decode()
    (group,) = [g for g in second.context["groups"] if g.key == "not_billable"]
    assert [line.episode.patient for line in group.page] == ["Patient100, Alex"]
    assert "Show all" not in first.content.decode()


def test_filters_narrow_the_lines(client, clinic, care_manager, consultant, biller):
    other_clinic = factories.clinic(clinic.organization, name="Hillside")
    factories.add_role(biller, Role.BILLING, other_clinic)
    other_cm = factories.user(Role.CARE_MANAGER, other_clinic)
    factories.add_role(consultant, Role.PSYCHIATRIC_CONSULTANT, other_clinic)
    month_of(clinic, care_manager, consultant, family="Medicare")
    month_of(clinic, care_manager, consultant, family="Medicaid", payer="medicaid")
    month_of(clinic, care_manager, consultant, family="Blocked", consent_on=None)
    month_of(other_clinic, other_cm, consultant, family="Elsewhere")

    def names(**query):
        response = client.get(PAGE, query)
        return sorted(line.episode.patient for g in response.context["groups"] for line in g.page)

    assert names(clinic=other_clinic.id) == ["Elsewhere, Alex"]
    assert names(care_manager=other_cm.id) == ["Elsewhere, Alex"]
    assert names(payer="medicaid") == ["Medicaid, Alex"]
    assert names(status="blocked") == ["Blocked, Alex"]
    assert names(blocking="1") == ["Blocked, Alex"]
    only_blocked = client.get(PAGE, {"status": "blocked"})
    assert [g.key for g in only_blocked.context["groups"]] == ["blocked"]


@pytest.mark.parametrize("column", ["patient", "minutes", "expected", "date_of_service", "review"])
def test_every_column_sorts_both_ways(client, clinic, care_manager, consultant, biller, column):
    month_of(clinic, care_manager, consultant, family="Abbott", minutes=[(date(2026, 10, 5), 40)])
    month_of(clinic, care_manager, consultant, family="Zeller", minutes=[(date(2026, 10, 5), 90)])
    fee("99492", "150.00")
    fee("99494", "60.00")

    def order(direction):
        response = client.get(PAGE, {"sort": column, "dir": direction})
        (ready, *_) = response.context["groups"]
        return [line.episode.patient for line in ready.page]

    ascending, descending = order("asc"), order("desc")
    assert sorted(ascending) == ["Abbott, Alex", "Zeller, Alex"]
    if column in ("patient", "minutes", "expected"):
        assert ascending == ["Abbott, Alex", "Zeller, Alex"]
        assert descending == ["Zeller, Alex", "Abbott, Alex"]


def test_a_line_without_a_fee_names_it_and_links_to_the_upload(
    client, clinic, care_manager, consultant, biller
):
    month_of(clinic, care_manager, consultant)

    text = client.get(PAGE).content.decode()

    assert "no fee on file" in text
    assert "2026 Medicare 99492" in text
    assert f'href="{reverse("fee_schedules")}"' in text


def test_marking_with_htmx_swaps_the_row_in_one_click_each(
    client, clinic, care_manager, consultant, biller
):
    episode = month_of(clinic, care_manager, consultant, given="Maria", family="Lopez")
    url = reverse("mark_line", args=["2026-10", episode.id])

    reviewed = client.post(url, {"action": "reviewed"}, HTTP_HX_REQUEST="true")
    submitted = client.post(url, {"action": "submitted"}, HTTP_HX_REQUEST="true")

    assert reviewed.status_code == 200
    assert reviewed.content.decode().lstrip().startswith(f'<tr id="line-{episode.id}"')
    assert "Reviewed 2026-11-23" in reviewed.content.decode()
    assert ">Reviewed</button>" not in reviewed.content.decode()
    assert "Submitted 2026-11-23" in submitted.content.decode()
    assert ">Submitted</button>" not in submitted.content.decode()
    claim = ClaimLine.objects.get(episode=episode, month="2026-10")
    assert claim.reviewed_by == biller and claim.submitted_by == biller
    assert AuditEvent.objects.filter(action="update", patient_id=episode.patient_id).count() == 2


def test_submitting_a_blocked_line_says_why_in_the_row(
    client, clinic, care_manager, consultant, biller
):
    episode = month_of(clinic, care_manager, consultant, consent_on=None)

    response = client.post(
        reverse("mark_line", args=["2026-10", episode.id]),
        {"action": "submitted"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    assert "Only a line that is ready to bill can be submitted." in response.content.decode()


# ----------------------------------------------------------------------------- exports


def test_claims_have_one_row_per_code_and_no_self_pay_months(clinic, care_manager, consultant):
    fee("99492", "150.00")
    fee("99494", "60.00")
    month_of(
        clinic,
        care_manager,
        consultant,
        given="Maria",
        family="Lopez",
        minutes=[(date(2026, 10, 5), 60), (date(2026, 10, 20), 30)],
    )
    month_of(clinic, care_manager, consultant, family="Selfpay", payer="self_pay")
    month_of(clinic, care_manager, consultant, family="Uninsured", payer=None)

    sheet = export.claims_sheet(lines(), "2026-10")
    rows = [dict(zip(sheet.headings, row, strict=True)) for row in sheet.rows]

    assert [(r["Patient"], r["Code"], r["Units"]) for r in rows] == [
        ("Lopez, Maria", "99492", 1),
        ("Lopez, Maria", "99494", 1),
    ]
    first = rows[0]
    assert first["Birth date"] == date(1961, 3, 4)
    assert first["Payer"] == "Medicare" and first["Member ID"] == "1EG4-TE5-MK72"
    assert first["Diagnosis 1 (ICD-10-CM, primary)"] == "F33.1"
    assert first["Diagnosis 2 (ICD-10-CM)"] == "F41.1"
    assert first["Date of service"] == date(2026, 10, 31)
    assert first["Place of service"] == "11"
    assert (rows[0]["Expected amount"], rows[1]["Expected amount"]) == (
        Decimal("150.00"),
        Decimal("60.00"),
    )
    assert first["Rendering/billing practitioner"] == ""  # no referring PCP in this test
    self_pay = export.self_pay_sheet(lines(), "2026-10")
    assert sorted((r[1], r[4]) for r in self_pay.rows) == [
        ("Selfpay, Alex", "Self-pay"),
        ("Uninsured, Alex", "no coverage on file"),
    ]


def test_units_of_99494_are_a_number_in_their_own_column(clinic, care_manager, consultant):
    month_of(clinic, care_manager, consultant, minutes=[(date(2026, 10, d), 40) for d in (1, 2, 3)])

    sheet = export.claims_sheet(lines(), "2026-10")
    codes = [
        (row[sheet.headings.index("Code")], row[sheet.headings.index("Units")])
        for row in sheet.rows
    ]

    assert codes == [("99492", 1), ("99494", 2)]  # 120 minutes: 99492 + 2 x 99494


def test_the_problems_export_lists_blocked_and_not_billable_lines_with_reasons(
    clinic, care_manager, consultant
):
    month_of(clinic, care_manager, consultant, family="Blocked", consent_on=None)
    month_of(clinic, care_manager, consultant, family="Short", minutes=[(date(2026, 10, 5), 10)])
    month_of(clinic, care_manager, consultant, family="Ready")

    sheet = export.problems_sheet(lines(), "2026-10")
    rows = {row[1]: dict(zip(sheet.headings, row, strict=True)) for row in sheet.rows}

    assert sorted(rows) == ["Blocked, Alex", "Short, Alex"]
    assert rows["Blocked, Alex"]["Blocking reasons"] == "no documented consent"
    assert "Document the patient's consent" in rows["Blocked, Alex"]["What to fix"]
    assert rows["Short, Alex"]["Status"] == "not billable"
    assert rows["Short, Alex"]["Minutes to next threshold"] == 6


def test_a_formula_in_a_patient_name_comes_out_as_text_in_csv_and_xlsx(
    client, clinic, care_manager, consultant, biller
):
    month_of(clinic, care_manager, consultant, given="x", family='=HYPERLINK("http://evil")')

    as_csv = read_csv(client.get(PAGE, {"export": "claims", "format": "csv"}))
    workbook = load_workbook(
        io.BytesIO(client.get(PAGE, {"export": "claims", "format": "xlsx"}).content)
    )

    assert as_csv[1][1] == '\'=HYPERLINK("http://evil"), x'
    cell = workbook.active["B2"]
    assert cell.value == '\'=HYPERLINK("http://evil"), x' and cell.data_type == "s"
    assert AuditEvent.objects.filter(action="export", what="billing claims 2026-10 csv").exists()


def test_the_page_offers_every_export_and_each_downloads(
    client, clinic, care_manager, consultant, biller
):
    month_of(clinic, care_manager, consultant, family="Selfpay", payer="self_pay")
    month_of(clinic, care_manager, consultant, family="Blocked", consent_on=None)
    text = client.get(PAGE).content.decode()

    for kind in ("claims", "self_pay", "problems"):
        assert f"export={kind}&amp;format=csv" in text
        response = client.get(PAGE, {"export": kind, "format": "csv"})
        assert response["Content-Disposition"] == (
            f'attachment; filename="{kind.replace("_", "-")}-2026-10.csv"'
        )
    assert [r[1] for r in read_csv(client.get(PAGE, {"export": "self_pay"}))[1:]] == [
        "Selfpay, Alex"
    ]
    assert [r[1] for r in read_csv(client.get(PAGE, {"export": "problems"}))[1:]] == [
        "Blocked, Alex"
    ]
    assert read_csv(client.get(PAGE, {"export": "claims"}))[1:] == []


def test_frozen_lines_export_the_codes_closed(clinic, care_manager, consultant):
    episode = month_of(clinic, care_manager, consultant)
    biller = factories.user(Role.BILLING, clinic)
    services.close_month(
        clinic.organization, Episode.objects.all(), OCTOBER, by=biller, today=TODAY
    )
    care.record_contact(
        episode,
        occurred_on=date(2026, 10, 6),
        minutes=60,
        mode="phone",
        activity="follow_up",
        staff=care_manager,
        by=care_manager,
        as_of=TODAY,
    )

    sheet = export.claims_sheet(lines(), "2026-10")

    assert [row[sheet.headings.index("Code")] for row in sheet.rows] == ["99492"]


def test_diagnoses_are_primary_first(clinic, care_manager, consultant):
    episode = month_of(clinic, care_manager, consultant, diagnoses=("F33.1",))
    Diagnosis.objects.create(episode=episode, code="F41.1")

    sheet = export.claims_sheet(lines(), "2026-10")
    (row,) = sheet.rows

    assert row[8:10] == ["F33.1", "F41.1"]


# ------------------------------------------------------------------------ fee schedules


def upload(client, text, name="fees.csv"):
    return client.post(
        reverse("fee_schedules"), {"file": SimpleUploadedFile(name, text.encode(), "text/csv")}
    )


def test_the_billing_lead_uploads_a_fee_schedule_and_sees_it_on_file(client, biller):
    response = upload(
        client,
        "year,payer_kind,code,amount,source\n2026,medicare,99493,140.10,MPFS 2026\n"
        "2026,medicare,99494,60.00,MPFS 2026\n",
    )
    page = client.get(reverse("fee_schedules")).content.decode()

    assert response.status_code == 302
    assert FeeSchedule.objects.get(year=2026, code="99493").amount == Decimal("140.10")
    assert "Loaded 2 fee(s) from fees.csv." in page
    assert "2026 · Medicare" in page and "$140.10" in page and "MPFS 2026" in page


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "year,payer_kind,code,amount\n2026,medicare,99493,1\n2026,ufo,99492,1\n",
            "Line 3: payer_kind &#x27;ufo&#x27; is not one of",
        ),
        (
            "year,payer_kind,code,amount\n2026,medicare,99493,abc\n",
            "Line 2: amount &#x27;abc&#x27; is not a number.",
        ),
        ("year,code,amount\n2026,99493,1\n", "The CSV lacks the column(s): payer_kind."),
    ],
)
def test_a_bad_row_is_named_and_nothing_is_loaded(client, biller, text, message):
    response = upload(client, text)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert "Nothing was loaded." in response.content.decode()
    assert not FeeSchedule.objects.filter(year=2026).exists()


def test_a_file_that_is_not_text_is_refused(client, biller):
    response = client.post(
        reverse("fee_schedules"),
        {"file": SimpleUploadedFile("fees.xlsx", b"\xff\xfe\x00PK\x03", "application/zip")},
    )

    assert response.status_code == 422
    assert "not UTF-8 text" in response.content.decode()


def test_only_the_billing_lead_and_the_admin_manage_fees(client, clinic):
    for role, status in ((Role.CARE_MANAGER, 403), (Role.ORG_ADMIN, 200), (Role.BILLING, 200)):
        client.force_login(factories.user(role, clinic))
        assert client.get(reverse("fee_schedules")).status_code == status


def test_illustrative_fees_fill_gaps_only_and_are_labelled(
    client, clinic, care_manager, consultant, biller
):
    fee("99492", "145.24", year=2026)
    added = fees.load_illustrative_fees([2026])
    month_of(clinic, care_manager, consultant, minutes=[(date(2026, 10, 5), 90)])

    text = client.get(PAGE).content.decode()
    on_file = client.get(reverse("fee_schedules")).content.decode()

    assert added == len(fees.ILLUSTRATIVE_AMOUNTS) * len(fees.ILLUSTRATIVE_PAYERS) - 1
    assert FeeSchedule.objects.get(year=2026, payer_kind="medicare", code="99492").amount == (
        Decimal("145.24")
    )
    assert FeeSchedule.objects.get(year=2026, payer_kind="medicare", code="99494").illustrative
    assert "$205.24" in text  # the real 99492 fee plus the illustrative 99494 fee
    assert "ILLUSTRATIVE demo fees — not Medicare's or any payer's" in text
    assert "ILLUSTRATIVE demo fees" in on_file


def test_loading_a_real_schedule_replaces_an_illustrative_fee():
    fees.load_illustrative_fees([2026])

    fees.load_fees("year,payer_kind,code,amount\n2026,medicare,99493,140.10\n")

    replaced = FeeSchedule.objects.get(year=2026, payer_kind="medicare", code="99493")
    assert (replaced.amount, replaced.illustrative) == (Decimal("140.10"), False)


# -------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("month", ["2026-13", "0000-01", "2026-00", "99999999999999999999"])
def test_a_month_that_is_not_a_month_is_not_found(client, biller, month):
    response = client.get(reverse("billing_month", args=[month]))

    assert response.status_code == 404
    assert "is not a month (YYYY-MM)" in response.content.decode()


@pytest.mark.parametrize("query", [{"ready_page": "99999999999999999999"}, {"blocked_page": "-1"}])
def test_a_page_number_out_of_range_is_a_404_naming_it(client, biller, query):
    response = client.get(PAGE, query)

    assert response.status_code == 404
    assert f"&#x27;{next(iter(query))}&#x27; must be" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"clinic": "99999999999999999999"},
        {"care_manager": "99999999999999999999"},
        {"clinic": "abc"},
        {"clinic": "-5"},
    ],
)
def test_an_id_filter_that_is_not_an_id_is_ignored_and_said(
    client, clinic, care_manager, consultant, biller, query
):
    month_of(clinic, care_manager, consultant, family="Shown")

    response = client.get(PAGE, query)

    assert response.status_code == 200
    text = response.content.decode()
    assert f"&#x27;{next(iter(query))}&#x27; must be" in text
    assert "That filter was ignored." in text
    assert "Shown, Alex" in text


def test_a_page_past_the_last_shows_the_last(client, clinic, care_manager, consultant, biller):
    month_of(clinic, care_manager, consultant)

    response = client.get(PAGE, {"ready_page": "999"})

    assert [len(g.page.object_list) for g in response.context["groups"]] == [1, 0, 0]


def test_a_closed_month_shows_frozen_lines_without_actions(
    client, clinic, care_manager, consultant, biller
):
    episode = month_of(clinic, care_manager, consultant, given="Maria", family="Lopez")
    client.post(reverse("close_month", args=["2026-10"]))
    care.record_contact(
        episode,
        occurred_on=date(2026, 10, 6),
        minutes=60,
        mode="phone",
        activity="follow_up",
        staff=care_manager,
        by=care_manager,
        as_of=TODAY,
    )

    text = client.get(PAGE).content.decode()

    assert "Lines are frozen." in text
    assert "Changed after the close" in text
    assert "Lopez, Maria" in text
    assert "99492</span> ×1" in text and "99494</span>" not in text  # the codes closed
    assert ">Reviewed</button>" not in text and ">Submitted</button>" not in text
