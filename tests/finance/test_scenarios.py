import pytest

from cocm.errors import InvalidRequest
from cocm.finance import services
from cocm.finance.models import Scenario
from tests import factories
from tests.finance.conftest import TODAY


def inputs(**given):
    return services.resolve_inputs(given, as_of=TODAY)


def test_it_saves_only_what_differs_from_the_defaults(clinic, billing_user):
    scenario = services.save_scenario(
        clinic.organization,
        "  Hire a  second care manager ",
        inputs(care_manager_fte="2"),
        by=billing_user,
    )

    scenario.refresh_from_db()
    assert scenario.name == "Hire a second care manager"
    assert scenario.inputs == {"care_manager_fte": {"value": "2", "source": "given", "note": ""}}
    reopened = services.scenario_inputs(scenario, as_of=TODAY)
    assert reopened.values["care_manager_fte"] == 2
    assert reopened.sources["care_manager_fte"] == "given"
    assert reopened.sources["caseload_per_fte"] == "default"


def test_saving_under_an_existing_name_replaces_that_scenario(clinic, billing_user):
    org = clinic.organization
    services.save_scenario(org, "Growth", inputs(caseload_per_fte="60"), by=billing_user)

    services.save_scenario(org, "Growth", inputs(caseload_per_fte="80"), by=billing_user)

    assert Scenario.objects.count() == 1
    assert Scenario.objects.get().inputs["caseload_per_fte"]["value"] == "80"


@pytest.mark.parametrize(
    ("name", "given", "field"),
    [
        ("", {}, "name"),
        ("x" * 101, {}, "name"),
        ("Too many", {"caseload_per_fte": "10000"}, "caseload_per_fte"),
    ],
)
def test_it_refuses_a_scenario_without_a_name_or_that_cannot_run(
    clinic, billing_user, name, given, field
):
    with pytest.raises(InvalidRequest) as refused:
        services.save_scenario(clinic.organization, name, inputs(**given), by=billing_user)

    assert refused.value.field == field
    assert not Scenario.objects.exists()


def test_it_compares_two_or_three_scenarios_of_the_organization(clinic, billing_user):
    org = clinic.organization
    today = services.save_scenario(org, "Today", inputs(caseload_per_fte="60"), by=billing_user)
    grown = services.save_scenario(
        org, "Caseload 80", inputs(caseload_per_fte="80"), by=billing_user
    )
    medicaid = services.save_scenario(
        org,
        "Medicaid adds CoCM",
        inputs(share_medicare="50%", share_medicaid="50%", caseload_per_fte="60"),
        by=billing_user,
    )

    compared = services.compare(org, [today.pk, grown.pk, medicaid.pk], as_of=TODAY)

    capacities = [e.result.value("caseload_capacity") for _, e in compared]
    assert [s.name for s, _ in compared] == ["Today", "Caseload 80", "Medicaid adds CoCM"]
    assert capacities == [60, 80, 60]
    assert services.differing_inputs(compared) == [
        "caseload_per_fte",
        "share_medicare",
        "share_medicaid",
    ]


def test_it_refuses_to_compare_one_scenario_or_another_organizations(clinic, billing_user):
    org = clinic.organization
    mine = services.save_scenario(org, "Mine", inputs(), by=billing_user)
    elsewhere = factories.clinic(factories.organization("Elsewhere"))
    theirs_user = factories.user("billing", elsewhere)
    theirs = services.save_scenario(elsewhere.organization, "Theirs", inputs(), by=theirs_user)

    with pytest.raises(InvalidRequest):
        services.compare(org, [mine.pk], as_of=TODAY)
    with pytest.raises(InvalidRequest):
        services.compare(org, [mine.pk, theirs.pk], as_of=TODAY)
