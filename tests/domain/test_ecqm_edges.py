"""CMS159 and CMS2 at the edges the main tables do not reach: abatement, exclusions by
inpatient discharge, hospice and palliative diagnoses, screenings without a result, and the
defines read on their own for a patient outside the population."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from cocm.domain import cql, ecqm
from cocm.domain.clinical import (
    ICD10CM,
    LOINC,
    SNOMEDCT,
    Coding,
    Condition,
    Dosage,
    Encounter,
    Observation,
    Period,
    Procedure,
)
from cocm.reports.valuesets import package_valuesets
from tests.domain.test_ecqm import (
    CPT,
    POSITIVE,
    PROBLEM,
    at,
    cms2_patient,
    cms159_patient,
    fluoxetine,
    office_visit,
    run2,
    run159,
    screening,
    with_follow_up,
)


def cms159_of(patient, year=2025):
    version = ecqm.measure_version("CMS159", year)
    return ecqm.Cms159(patient, version, package_valuesets(version.package))


def cms2_of(patient, year=2025):
    version = ecqm.measure_version("CMS2", year)
    return ecqm.Cms2(patient, version, package_valuesets(version.package))


def condition(code: Coding, clinical="active", verification="confirmed", abatement=None):
    onset = at("2024-06-01T10:00")
    return Condition(
        "c", (code,), (PROBLEM,), clinical, verification, Period(onset, onset), abatement
    )


NO_INDEX = cms159_patient(observations=())

# --- QICoreCommon helpers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("abatement", "end"),
    [
        (None, None),
        (Period(at("2024-09-01T08:00"), at("2024-09-01T08:00")), at("2024-09-01T08:00")),
        (Period(at("2024-09-01T08:00"), None), None),
        (
            Period(at("2024-09-01T08:00"), at("2024-09-30T00:00")),
            datetime(2024, 9, 29, 23, 59, 59, 999000, tzinfo=UTC),
        ),
    ],
)
def test_the_abatement_end_is_the_instant_or_a_millisecond_before_the_period_end(abatement, end):
    assert ecqm.abatement_end(condition(Coding(ICD10CM, "F32.1"), abatement=abatement)) == end


@pytest.mark.parametrize(
    ("clinical", "abatement", "expected"),
    [
        ("resolved", None, cql.Interval(at("2024-06-01T10:00"), None)),
        (
            "resolved",
            Period(at("2024-09-01T08:00"), at("2024-09-01T08:00")),
            cql.Interval(at("2024-06-01T10:00"), at("2024-09-01T08:00")),
        ),
        ("active", None, cql.Interval(at("2024-06-01T10:00"), cql.MAX_DATETIME)),
    ],
)
def test_an_inactive_condition_without_abatement_has_an_unknown_end(clinical, abatement, expected):
    c = condition(Coding(ICD10CM, "F32.1"), clinical, abatement=abatement)

    assert ecqm.prevalence_interval(c) == expected


@pytest.mark.parametrize(
    ("point", "key"),
    [
        (None, cql.MIN_DATETIME),
        (date(2025, 1, 1), datetime(2025, 1, 1, tzinfo=UTC)),
        (
            datetime(2025, 1, 1, 1, 0, tzinfo=UTC) + timedelta(hours=1),
            datetime(2025, 1, 1, 2, 0, tzinfo=UTC),
        ),
    ],
)
def test_assessments_sort_by_start_an_unknown_start_first_and_a_date_at_midnight_utc(point, key):
    assert ecqm._sort_key(point) == key


# --- CMS159 ---------------------------------------------------------------------------


def test_cms159_an_assessment_without_an_effective_time_is_never_the_index():
    timeless = Observation("timeless", (Coding(LOINC, "44261-6"),), "final", None, 15)

    assert run159(cms159_patient(observations=(timeless,))).initial_population is False


def test_cms159_the_numerator_read_alone_is_false_without_an_index_assessment():
    measure = cms159_of(NO_INDEX)

    assert (measure.measure_assessment_period, measure.numerator()) == (None, False)


def test_cms159_the_exclusions_read_alone_are_none_outside_the_denominator():
    assert cms159_of(NO_INDEX).denominator_exclusion_reasons() == ()


def inpatient_stay(end: str, disposition: str) -> Encounter:
    return Encounter(
        "stay",
        (Coding(SNOMEDCT, "183452005"),),
        "finished",
        Period(at("2025-04-20T10:00"), at(end)),
        discharge_disposition=(Coding(SNOMEDCT, disposition),),
    )


@pytest.mark.parametrize(
    ("end", "disposition", "reasons"),
    [
        ("2025-04-30T23:00", "428361000124107", ("hospice",)),  # discharged to hospice at home
        ("2025-04-30T23:00", "428371000124100", ("hospice",)),  # to a hospice facility
        ("2025-05-01T00:00", "428361000124107", ()),  # after the end of the MAP
        ("2025-04-30T23:00", "306689006", ()),  # discharged home
    ],
)
def test_cms159_an_inpatient_stay_discharged_to_hospice_in_the_period_excludes(
    end, disposition, reasons
):
    patient = cms159_patient()
    patient = replace(patient, encounters=(*patient.encounters, inpatient_stay(end, disposition)))

    assert run159(patient).exclusion_reasons == reasons


@pytest.mark.parametrize(("status", "reasons"), [("completed", ("hospice",)), ("not-done", ())])
def test_cms159_a_hospice_care_procedure_in_the_period_excludes(status, reasons):
    t = at("2024-06-01T10:00")
    hospice = Procedure("h", (Coding(CPT, "99377"),), status, Period(t, t))

    assert run159(cms159_patient(procedures=(hospice,))).exclusion_reasons == reasons


@pytest.mark.parametrize(
    ("code", "verification", "reasons"),
    [
        (Coding(SNOMEDCT, "170935008"), "confirmed", ("hospice",)),
        (Coding(SNOMEDCT, "170935008"), "provisional", ()),
        (Coding(ICD10CM, "Z51.5"), "confirmed", ("palliative care",)),
        (Coding(ICD10CM, "Z51.5"), "provisional", ()),
    ],
)
def test_cms159_a_confirmed_active_hospice_or_palliative_diagnosis_excludes(
    code, verification, reasons
):
    patient = cms159_patient()
    diagnosis = condition(code, verification=verification)
    patient = replace(patient, conditions=(*patient.conditions, diagnosis))

    assert run159(patient).exclusion_reasons == reasons


def test_cms159_a_last_assessment_without_a_value_is_not_remission_and_shows_no_value():
    t = at("2025-03-01T09:00")
    empty = Observation("last", (Coding(LOINC, "44261-6"),), "final", Period(t, t))

    result = run159(with_follow_up(empty))

    assert (result.numerator, result.deciding_observation, result.deciding_value) == (
        False,
        "last",
        None,
    )


# --- CMS2 -----------------------------------------------------------------------------


def test_cms2_a_patient_without_a_birth_date_is_not_in_the_population():
    assert run2(cms2_patient(birth_date=None)).initial_population is False


def test_cms2_the_denominator_read_alone_is_the_initial_population():
    assert (cms2_of(cms2_patient()).denominator(), cms2_of(NO_INDEX).denominator()) == (
        True,
        False,
    )


def test_cms2_a_problem_list_diagnosis_other_than_bipolar_does_not_exclude():
    patient = cms2_patient(conditions=(condition(Coding(ICD10CM, "F32.1")),))

    assert run2(patient).denominator_exclusion is False


def test_cms2_a_screening_without_a_result_is_not_a_screening():
    t = at("2025-06-01T10:05")
    blank = Observation("blank", (Coding(LOINC, "73832-8"),), "final", Period(t, t))

    assert run2(cms2_patient(observations=(blank,))).numerator is False


def test_cms2_a_screening_scored_without_a_positive_or_negative_result_is_not_in_the_numerator():
    t = at("2025-06-01T10:05")
    scored = Observation("scored", (Coding(LOINC, "73832-8"),), "final", Period(t, t), 12)

    assert run2(cms2_patient(observations=(scored,))).numerator is False


@pytest.mark.parametrize(("status", "in_numerator"), [("completed", True), ("stopped", False)])
def test_cms2_a_medication_order_is_follow_up_only_when_active_or_completed(status, in_numerator):
    patient = cms2_patient(
        observations=(screening("2025-06-01T10:05", result=POSITIVE),),
        medication_requests=(replace(fluoxetine(), status=status),),
    )

    assert run2(patient).numerator is in_numerator


def thirty_days_at_the_2026_visit():
    thirty_days = fluoxetine(Dosage(expected_supply_days=30))
    return replace(thirty_days, authored_on=at("2026-06-01T10:20"))


def test_cms2_2026_a_medication_order_is_no_follow_up_of_a_negative_screening():
    patient = cms2_patient(
        encounters=(office_visit("2026-06-01T10:00", "2026-06-01T10:30"),),
        observations=(screening("2026-06-01T10:05"),),
        medication_requests=(thirty_days_at_the_2026_visit(),),
    )

    assert cms2_of(patient, 2026).follow_up_interventions("adult") == []


def test_cms2_2026_a_later_visit_without_the_screening_does_not_hide_the_follow_up_at_the_visit():
    patient = cms2_patient(
        encounters=(
            office_visit("2026-09-01T10:00", "2026-09-01T10:30", ident="later"),
            office_visit("2026-06-01T10:00", "2026-06-01T10:30", ident="screened"),
        ),
        observations=(screening("2026-06-01T10:05", result=POSITIVE),),
        medication_requests=(thirty_days_at_the_2026_visit(),),
    )

    assert run2(patient, 2026).numerator is True


def test_cms2_the_numerator_read_alone_is_false_under_age_12():
    patient = cms2_patient(birth_date=date(2014, 1, 1))

    assert (cms2_of(patient).age_at_start, cms2_of(patient).numerator()) == (11, False)


@pytest.mark.parametrize(
    ("dosage", "authored_on", "expected"),
    [
        (Dosage(), None, None),  # no bounds, authoredOn or validity start
        (
            Dosage(bounds=Period(at("2025-06-02T08:00"), at("2025-06-20T08:00"))),
            at("2025-06-01T10:20"),
            cql.Interval(date(2025, 6, 2), date(2025, 6, 20)),
        ),
        (Dosage(bounds=Period(at("2025-06-02T08:00"), None)), None, None),
    ],
)
def test_medication_request_period_without_a_supply_runs_to_the_bounds_end(
    dosage, authored_on, expected
):
    request = replace(fluoxetine(dosage), authored_on=authored_on)

    assert ecqm.medication_request_period(request) == expected
