import pytest

from cocm.domain.coding import MonthType
from cocm.errors import InvalidRequest
from cocm.finance import services
from cocm.finance.calibration import calibrate, minutes_distribution
from tests.finance.conftest import TODAY


def test_calibration_reads_the_registrys_last_months_with_known_answers(clinic, seeded):
    found = calibrate(clinic.organization, as_of=TODAY, months=3)

    values = {name: entry["value"] for name, entry in found.items()}
    assert values["initial_minutes"] == "20: 33.34%, 50: 33.33%, 100: 33.33%"
    # 45 and 40 minutes bill the same codes (99493; nothing as G0512): one bucket, mean 42.5.
    assert values["subsequent_minutes"] == "42: 100%"
    assert values["share_medicare"] == "60%"
    assert values["share_medicaid"] == "40%"
    assert values["share_commercial"] == "0%"
    assert values["episode_months"] == "3"
    assert values["care_manager_fte"] == "1"
    assert values["caseload_per_fte"] == "3"
    assert values["starting_caseload"] == "3"
    assert values["no_show_rate"] == "16.66666667%"
    assert values["rate_medicare_99492"] == "150"
    assert {entry["source"] for entry in found.values()} == {"registry"}
    assert found["share_medicare"]["note"] == "3 of 5 CoCM patient-months in 2026-08..2026-10"
    assert found["no_show_rate"]["note"] == (
        "1 no-show of 6 care-manager contacts in 2026-08..2026-10"
    )


def test_calibrated_inputs_are_marked_registry_and_the_rest_keep_their_source(clinic, seeded):
    calibrated = calibrate(clinic.organization, as_of=TODAY, months=3)

    inputs = services.resolve_inputs(
        {"care_manager_salary": "70000"}, as_of=TODAY, calibration=calibrated
    )

    assert inputs.sources["caseload_per_fte"] == "registry"
    assert inputs.values["caseload_per_fte"] == 3
    assert inputs.sources["care_manager_salary"] == "given"
    assert inputs.sources["collection_rate"] == "default"
    assert inputs.sources["rate_medicare_99492"] == "registry"


def test_an_empty_registry_calibrates_only_the_fees_on_file(clinic):
    found = calibrate(clinic.organization, as_of=TODAY, months=12)

    # The shipped 2025 Medicare schedule is loaded with the database.
    assert sorted(found) == ["rate_medicare_99492", "rate_medicare_99493", "rate_medicare_99494"]
    assert found["rate_medicare_99494"]["value"] == "55.96"


def test_calibration_takes_one_to_36_months(clinic):
    with pytest.raises(InvalidRequest) as refused:
        calibrate(clinic.organization, as_of=TODAY, months=0)

    assert refused.value.field == "months"


def test_calibration_runs_a_bounded_number_of_queries(
    clinic, seeded, django_assert_max_num_queries
):
    # Whatever the number of patients: the month worklists (with their consent revocations),
    # one aggregate each for contacts, episodes and fee schedules.
    with django_assert_max_num_queries(41):
        calibrate(clinic.organization, as_of=TODAY, months=3)


@pytest.mark.parametrize(
    ("observed", "kind", "expected"),
    [
        # 36-59 bills 99492 but no G0512; 60-85 bills both: two buckets.
        ([40, 50, 60, 80], MonthType.INITIAL, ((45, 0.5), (70, 0.5))),
        ([10, 12, 100], MonthType.SUBSEQUENT, ((11, 0.6667), (100, 0.3333))),
    ],
)
def test_observed_minutes_are_grouped_where_the_engines_codes_change(observed, kind, expected):
    assert minutes_distribution(observed, kind) == expected
