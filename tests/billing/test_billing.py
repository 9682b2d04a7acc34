from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from cocm.accounts.models import ApiToken, ClinicSetting, Role
from cocm.billing import fees, services
from cocm.billing.models import BillingSettings, ClaimLine, FeeSchedule, PayerRule
from cocm.care import services as care
from cocm.care.models import Contact
from cocm.domain.coding import Month
from cocm.errors import InvalidRequest
from cocm.registry.models import Coverage, Episode
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY
OCTOBER = Month(2026, 10)


@pytest.fixture
def billing_user(clinic):
    return factories.user(Role.BILLING, clinic, username="biller")


def episode_with(
    clinic,
    care_manager,
    consultant,
    *,
    payer="medicare",
    consent_on=date(2026, 9, 1),
    initiating_visit_on=date(2026, 8, 15),
    minutes=(),
):
    episode = factories.episode(
        clinic,
        care_manager,
        referred_on=date(2026, 9, 1),
        consent_on=consent_on,
        psychiatric_consultant=consultant,
    )
    episode.initiating_visit_on = initiating_visit_on
    episode.save()
    Coverage.objects.create(patient=episode.patient, payer_kind=payer, starts_on=date(2020, 1, 1))
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


def lines_for(clinic, month=OCTOBER):
    return services.month_lines(clinic.organization, Episode.objects.all(), month)


def test_a_subsequent_month_with_80_minutes_bills_99493_and_one_99494(
    clinic, care_manager, consultant
):
    episode_with(
        clinic,
        care_manager,
        consultant,
        minutes=[(date(2026, 9, 10), 40), (date(2026, 10, 5), 50), (date(2026, 10, 20), 30)],
    )

    (line,) = lines_for(clinic)

    assert line.result.month_type == "subsequent"
    assert [(str(c.code), c.units) for c in line.result.codes] == [("99493", 1), ("99494", 1)]
    assert line.date_of_service == date(2026, 10, 31)
    assert line.expected_amount is None  # no 2026 Medicare fees are shipped
    assert line.missing_fees == ["99493", "99494"]


def test_expected_amount_from_the_fee_schedule(clinic, care_manager, consultant):
    FeeSchedule.objects.create(year=2026, payer_kind="medicare", code="99492", amount="150.00")
    episode_with(clinic, care_manager, consultant, minutes=[(date(2026, 10, 5), 40)])

    (line,) = lines_for(clinic)

    assert [str(c.code) for c in line.result.codes] == ["99492"]
    assert line.expected_amount == Decimal("150.00")


def test_the_threshold_day_can_be_the_date_of_service(clinic, care_manager, consultant):
    BillingSettings.objects.create(
        organization=clinic.organization, date_of_service="threshold_day"
    )
    episode_with(
        clinic,
        care_manager,
        consultant,
        minutes=[(date(2026, 10, 5), 20), (date(2026, 10, 12), 20), (date(2026, 10, 28), 10)],
    )

    (line,) = lines_for(clinic)

    assert line.date_of_service == date(2026, 10, 12)


def test_minutes_before_consent_do_not_count_and_block_when_alone(clinic, care_manager, consultant):
    episode = episode_with(
        clinic, care_manager, consultant, consent_on=None, minutes=[(date(2026, 10, 5), 45)]
    )
    episode.consent_on, episode.consent_method = date(2026, 10, 10), "verbal"
    episode.save()

    (line,) = lines_for(clinic)

    assert line.status == "blocked"
    assert "no documented consent before 2026-10-05" in line.result.blocked_reasons
    assert line.result.excluded[0].reason == "before consent on 2026-10-10"


def test_missing_initiating_visit_blocks(clinic, care_manager, consultant):
    episode_with(
        clinic,
        care_manager,
        consultant,
        initiating_visit_on=None,
        minutes=[(date(2026, 10, 5), 45)],
    )

    (line,) = lines_for(clinic)

    assert line.status == "blocked"
    assert line.result.blocked_reasons[0].startswith("no initiating visit within 12 months")


def test_a_medicaid_cap_limits_99494_units(clinic, care_manager, consultant):
    PayerRule.objects.create(
        organization=clinic.organization, payer_kind="medicaid", max_99494_units=1
    )
    episode_with(
        clinic,
        care_manager,
        consultant,
        payer="medicaid",
        minutes=[(date(2026, 9, 10), 30), (date(2026, 10, 5), 120)],
    )

    (line,) = lines_for(clinic)

    assert [(str(c.code), c.units) for c in line.result.codes] == [("99493", 1), ("99494", 1)]
    assert "capped at 1 units by payer rule" in line.result.decision


def test_fqhc_bills_cpt_codes_from_2026(care_manager, consultant):
    fqhc = factories.clinic(setting=ClinicSetting.FQHC)
    cm = factories.user(Role.CARE_MANAGER, fqhc)
    psych = factories.user(Role.PSYCHIATRIC_CONSULTANT, fqhc)
    episode_with(fqhc, cm, psych, minutes=[(date(2026, 10, 5), 65)])

    (line,) = lines_for(fqhc)

    assert [str(c.code) for c in line.result.codes] == ["99492"]


def test_marking_and_closing_a_month_freezes_lines_and_flags_later_changes(
    clinic, care_manager, consultant, billing_user
):
    episode = episode_with(
        clinic, care_manager, consultant, minutes=[(date(2026, 9, 10), 40), (date(2026, 10, 5), 35)]
    )
    (line,) = lines_for(clinic)
    services.mark(line, OCTOBER, action="submitted", by=billing_user)

    services.close_month(
        clinic.organization, Episode.objects.all(), OCTOBER, by=billing_user, today=TODAY
    )
    care.record_contact(
        episode,
        occurred_on=date(2026, 10, 30),
        minutes=50,
        mode="phone",
        activity="follow_up",
        staff=care_manager,
        by=care_manager,
        as_of=TODAY,
    )
    (after,) = lines_for(clinic)

    claim = ClaimLine.objects.get()
    assert (claim.frozen, claim.minutes, claim.codes) == (True, 35, [{"code": "99493", "units": 1}])
    assert claim.submitted_by == billing_user
    assert after.changed_since_close
    assert after.result.minutes_counted == 85
    with pytest.raises(InvalidRequest, match="already closed"):
        services.close_month(
            clinic.organization, Episode.objects.all(), OCTOBER, by=billing_user, today=TODAY
        )


def test_closing_a_month_stores_each_line_once_frozen_with_its_decision(
    clinic, care_manager, consultant, billing_user
):
    marked = episode_with(clinic, care_manager, consultant, minutes=[(date(2026, 10, 5), 20)])
    for minutes in (10, 75):
        episode_with(clinic, care_manager, consultant, minutes=[(date(2026, 10, 6), minutes)])
    line = next(line for line in lines_for(clinic) if line.episode.id == marked.id)
    services.mark(line, OCTOBER, action="reviewed", by=billing_user)

    lines = services.close_month(
        clinic.organization, Episode.objects.all(), OCTOBER, by=billing_user, today=TODAY
    )

    stored = {claim.episode_id: claim for claim in ClaimLine.objects.all()}
    assert sorted(stored) == sorted(line.episode.id for line in lines)
    assert all(claim.frozen for claim in stored.values())
    assert {line.episode.id: line.saved.pk for line in lines} == {
        episode_id: claim.pk for episode_id, claim in stored.items()
    }
    assert sorted((claim.minutes, claim.status, claim.codes) for claim in stored.values()) == [
        (10, "not_billable", []),
        (20, "ready", [{"code": "G2214", "units": 1}]),
        (75, "ready", [{"code": "99492", "units": 1}]),
    ]
    assert stored[marked.id].reviewed_by == billing_user


def test_the_current_month_cannot_be_closed(clinic, billing_user):
    with pytest.raises(InvalidRequest, match="is not over yet"):
        services.close_month(
            clinic.organization,
            Episode.objects.all(),
            Month(2026, 11),
            by=billing_user,
            today=TODAY,
        )


def test_only_ready_lines_can_be_submitted(clinic, care_manager, consultant, billing_user):
    episode_with(clinic, care_manager, consultant, minutes=[(date(2026, 10, 5), 10)])
    (line,) = lines_for(clinic)

    with pytest.raises(InvalidRequest, match="Only a line that is ready"):
        services.mark(line, OCTOBER, action="submitted", by=billing_user)


def test_bad_month_in_the_url_is_not_found(client, billing_user):
    client.force_login(billing_user)

    assert client.get(reverse("billing_month", args=["2026-13"])).status_code == 404


def test_billing_api_returns_the_contract_rows(
    client, clinic, care_manager, consultant, billing_user
):
    episode = episode_with(clinic, care_manager, consultant, minutes=[(date(2026, 10, 5), 20)])
    _, raw = ApiToken.issue(billing_user)

    response = client.get("/api/v1/billing/2026-10", HTTP_AUTHORIZATION=f"Bearer {raw}")
    bad = client.get("/api/v1/billing/October", HTTP_AUTHORIZATION=f"Bearer {raw}")

    (row,) = response.json()
    assert row["episode_id"] == episode.id
    assert (row["month"], row["month_type"], row["minutes_counted"]) == ("2026-10", "initial", 20)
    assert row["codes"] == [{"code": "G2214", "units": 1}]
    assert row["minutes_to_next_threshold"] == 16
    assert row["blocked_reasons"] == []
    assert bad.status_code == 422


def test_close_from_the_command_line_writes_claims(
    tmp_path, clinic, care_manager, consultant, billing_user
):
    episode_with(clinic, care_manager, consultant, minutes=[(date(2026, 10, 5), 40)])
    out = StringIO()

    call_command(
        "billing",
        "close",
        "2026-10",
        "--user",
        "biller",
        "--export",
        str(tmp_path / "claims.csv"),
        stdout=out,
    )

    assert "2026-10 closed: 1 lines, 1 ready to bill." in out.getvalue()
    assert "99492" in (tmp_path / "claims.csv").read_text()


def test_fee_csv_is_loaded_and_bad_rows_are_named(tmp_path):
    good = tmp_path / "fees.csv"
    good.write_text("year,payer_kind,code,amount\n2026,medicare,99493,140.10\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("year,payer_kind,code,amount\n2026,medicare,99493,140.10\n2026,ufo,99492,1\n")

    call_command("fees", "load", str(good), stdout=StringIO())
    with pytest.raises(CommandError, match="Line 3: payer_kind 'ufo'"):
        call_command("fees", "load", str(bad), stdout=StringIO())

    assert FeeSchedule.objects.get(year=2026).amount == Decimal("140.10")


def test_the_shipped_2025_medicare_fees_are_installed():
    assert FeeSchedule.objects.get(year=2025, payer_kind="medicare", code="99492").amount == (
        Decimal("145.24")
    )
    assert fees.parse_fees(fees.SHIPPED.read_text())[0].code == "99492"


@pytest.mark.parametrize(
    ("earlier", "month_type"),
    [(date(2026, 4, 20), "subsequent"), (date(2026, 3, 20), "initial")],
)
def test_six_empty_months_start_a_new_initial_month_from_the_database(
    clinic, care_manager, consultant, earlier, month_type
):
    episode = episode_with(clinic, care_manager, consultant, minutes=[(date(2026, 10, 5), 40)])
    Contact.objects.create(
        episode=episode,
        occurred_on=earlier,
        minutes=20,
        mode="phone",
        activity="follow_up",
        staff=care_manager,
    )
    Contact.objects.create(
        episode=episode,
        occurred_on=date(2026, 1, 5),
        minutes=20,
        mode="phone",
        activity="follow_up",
        staff=care_manager,
    )

    (line,) = lines_for(clinic)

    assert line.result.month_type == month_type
