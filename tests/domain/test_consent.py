from dataclasses import replace
from datetime import date

import pytest

from cocm.domain.coding import (
    BillingStatus,
    ClinicSetting,
    Code,
    CodeLine,
    EpisodeFacts,
    Excluded,
    Month,
    Program,
    Role,
    TimeEntry,
    bill_month,
)
from cocm.domain.consent import (
    ConsentError,
    RevokedPeriod,
    check_disclosures,
    check_renewal,
    check_revocation,
    revoked_period_on,
)

MARCH = Month(2026, 3)
READY = EpisodeFacts(
    program=Program.COCM,
    clinic_setting=ClinicSetting.PRACTICE,
    consent_on=date(2026, 1, 5),
    initiating_visit_on=date(2025, 12, 15),
    psychiatric_consultant_assigned=True,
)


def march(day: int, minutes: int) -> TimeEntry:
    return TimeEntry(date(2026, 3, day), minutes, Role.CARE_MANAGER, 1)


@pytest.mark.parametrize(
    ("cost_sharing", "consultation", "field"),
    [
        (False, True, "cost_sharing_explained"),
        (True, False, "psychiatric_consultation_explained"),
        (False, False, "cost_sharing_explained"),
    ],
)
def test_consent_needs_both_medicare_disclosures(cost_sharing, consultation, field):
    with pytest.raises(ConsentError) as error:
        check_disclosures(
            cost_sharing_explained=cost_sharing, psychiatric_consultation_explained=consultation
        )

    assert error.value.field == field


def test_consent_with_both_disclosures_passes():
    check_disclosures(cost_sharing_explained=True, psychiatric_consultation_explained=True)


@pytest.mark.parametrize(
    ("consent_on", "revoked_on", "open_on", "message"),
    [
        (date(2026, 3, 10), date(2026, 3, 9), None, "before the consent (2026-03-10)"),
        (date(2026, 3, 10), date(2026, 3, 21), None, "2026-03-21 is in the future"),
        (None, date(2026, 3, 12), None, "no documented consent"),
        (date(2026, 3, 10), date(2026, 3, 12), date(2026, 3, 11), "already revoked on 2026-03-11"),
    ],
)
def test_a_revocation_follows_consent_and_is_not_in_the_future(
    consent_on, revoked_on, open_on, message
):
    with pytest.raises(ConsentError) as error:
        check_revocation(
            consent_on=consent_on,
            revoked_on=revoked_on,
            as_of=date(2026, 3, 20),
            open_revocation_on=open_on,
        )

    assert error.value.field == "on"
    assert message in error.value.message


@pytest.mark.parametrize("revoked_on", [date(2026, 3, 10), date(2026, 3, 20)])
def test_a_revocation_on_the_consent_day_or_today_is_accepted(revoked_on):
    check_revocation(
        consent_on=date(2026, 3, 10),
        revoked_on=revoked_on,
        as_of=date(2026, 3, 20),
        open_revocation_on=None,
    )


@pytest.mark.parametrize(
    ("revoked_on", "renewed_on", "message"),
    [
        (None, date(2026, 3, 15), "nothing to renew"),
        (date(2026, 3, 12), date(2026, 3, 11), "before the revocation (2026-03-12)"),
        (date(2026, 3, 12), date(2026, 3, 21), "in the future"),
    ],
)
def test_a_renewal_follows_the_revocation(revoked_on, renewed_on, message):
    with pytest.raises(ConsentError) as error:
        check_renewal(revoked_on=revoked_on, renewed_on=renewed_on, as_of=date(2026, 3, 20))

    assert error.value.field == "consent_on"
    assert message in error.value.message


@pytest.mark.parametrize(
    ("day", "revoked"),
    [
        (date(2026, 3, 9), False),
        (date(2026, 3, 10), True),
        (date(2026, 3, 14), True),
        (date(2026, 3, 15), False),
    ],
)
def test_a_revoked_period_runs_from_the_revocation_to_the_day_before_renewal(day, revoked):
    periods = (RevokedPeriod(date(2026, 3, 10), date(2026, 3, 15)),)

    assert (revoked_period_on(periods, day) is not None) is revoked


def test_no_minute_from_the_revocation_counts_and_the_explanation_says_so():
    facts = replace(READY, consent_revoked=(RevokedPeriod(date(2026, 3, 12)),))

    result = bill_month(MARCH, [march(3, 40), march(12, 30), march(20, 25)], facts, [])

    assert result.minutes_counted == 40
    assert result.codes == (CodeLine(Code.CPT_99492, 1),)
    assert result.excluded == (Excluded(55, "consent revoked on 2026-03-12"),)
    assert "consent revoked on 2026-03-12: no minute from then counts" in result.decision


def test_minutes_count_again_from_the_new_consent():
    facts = replace(READY, consent_revoked=(RevokedPeriod(date(2026, 3, 12), date(2026, 3, 18)),))

    result = bill_month(MARCH, [march(3, 20), march(12, 30), march(18, 25)], facts, [])

    assert result.minutes_counted == 45
    assert result.codes == (CodeLine(Code.CPT_99492, 1),)
    assert result.excluded == (Excluded(30, "consent revoked on 2026-03-12"),)
    assert "until consent was given again on 2026-03-18" in result.decision


def test_a_month_wholly_after_a_revocation_bills_nothing():
    facts = replace(READY, consent_revoked=(RevokedPeriod(date(2026, 2, 20)),))

    result = bill_month(MARCH, [march(3, 60)], facts, [])

    assert result.status is BillingStatus.NOT_BILLABLE
    assert result.minutes_counted == 0
    assert result.decision.startswith("nothing billable: 0 counted minutes")
    assert "consent revoked on 2026-02-20" in result.decision


def test_a_revocation_renewed_before_the_month_leaves_it_alone():
    facts = replace(READY, consent_revoked=(RevokedPeriod(date(2026, 2, 1), date(2026, 2, 10)),))

    result = bill_month(MARCH, [march(3, 40)], facts, [])

    assert result.minutes_counted == 40
    assert "revoked" not in result.decision


def test_a_revocation_after_the_month_leaves_it_alone():
    facts = replace(READY, consent_revoked=(RevokedPeriod(date(2026, 4, 2)),))

    result = bill_month(MARCH, [march(3, 40)], facts, [])

    assert result.minutes_counted == 40
    assert "revoked" not in result.decision
