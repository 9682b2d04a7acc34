"""CMS159 and CMS2 at every date edge, for both versions, with literal expected results."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from cocm.domain import cql, ecqm
from cocm.domain.clinical import (
    CONDITION_CATEGORY,
    ICD10CM,
    LOINC,
    SNOMEDCT,
    US_CORE_CONDITION_CATEGORY,
    Coding,
    Condition,
    Dosage,
    Encounter,
    MedicationRequest,
    Observation,
    PatientFacts,
    Period,
    Procedure,
    ServiceRequest,
    age_in_years,
)
from cocm.reports.valuesets import package_valuesets

CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "http://www.nlm.nih.gov/research/umls/hcpcs"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
PROBLEM = Coding(CONDITION_CATEGORY, "problem-list-item")
ENCOUNTER_DX = Coding(CONDITION_CATEGORY, "encounter-diagnosis")


def at(text: str) -> datetime:
    """An instant written as 2024-03-01T10:00 (UTC)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def run159(patient: PatientFacts, year: int = 2025) -> ecqm.MeasureResult:
    version = ecqm.measure_version("CMS159", year)
    return ecqm.cms159(patient, version, package_valuesets(version.package))


def run2(patient: PatientFacts, year: int = 2025) -> ecqm.MeasureResult:
    version = ecqm.measure_version("CMS2", year)
    return ecqm.cms2(patient, version, package_valuesets(version.package))


def phq9(when: str, value: float, status: str = "final", ident: str = "") -> Observation:
    t = at(when)
    return Observation(
        ident or f"phq9-{when}", (Coding(LOINC, "44261-6"),), status, Period(t, t), value
    )


def office_visit(start: str, end: str, status: str = "finished", ident: str = "enc") -> Encounter:
    return Encounter(ident, (Coding(CPT, "99213"),), status, Period(at(start), at(end)))


def depression(
    onset: str = "2024-01-01T00:00",
    clinical: str = "active",
    verification: str = "confirmed",
    category: Coding = PROBLEM,
) -> Condition:
    t = at(onset)
    return Condition(
        "dx", (Coding(ICD10CM, "F32.1"),), (category,), clinical, verification, Period(t, t)
    )


def cms159_patient(**changes: object) -> PatientFacts:
    """Index PHQ-9 15 on 2024-03-01 at a depression visit; MAP 2024-12-31 … 2025-04-30."""
    base = PatientFacts(
        id="p",
        birth_date=date(1990, 1, 1),
        encounters=(office_visit("2024-03-01T10:00", "2024-03-01T10:30"),),
        conditions=(depression(),),
        observations=(phq9("2024-03-01T10:10", 15, ident="index"),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def with_follow_up(*observations: Observation, **changes: object) -> PatientFacts:
    return cms159_patient(
        observations=(phq9("2024-03-01T10:10", 15, ident="index"), *observations), **changes
    )


# --- CMS159 ---------------------------------------------------------------------------


def test_cms159_remission_at_twelve_months_is_in_the_numerator():
    result = run159(with_follow_up(phq9("2025-03-01T09:00", 3, ident="last")))

    assert (result.initial_population, result.denominator, result.numerator) == (True, True, True)
    assert result.index_date == date(2024, 3, 1)
    assert (result.index_observation, result.deciding_observation) == ("index", "last")
    assert result.deciding_value == "3"


@pytest.mark.parametrize(
    ("encounter_end", "in_population"),
    [
        ("2023-11-01T00:00", True),  # DIP start, closed
        ("2023-10-31T23:59", False),
        ("2024-10-31T23:59", True),
        ("2024-11-01T00:00", False),  # DIP end, open
    ],
)
def test_cms159_2025_the_encounter_ends_during_the_identification_period(
    encounter_end, in_population
):
    start = encounter_end[:10] + "T00:00"
    patient = cms159_patient(
        encounters=(office_visit(start, encounter_end),),
        observations=(phq9(start, 15),),
        conditions=(depression("2023-01-01T00:00"),),
    )

    assert run159(patient).initial_population is in_population


@pytest.mark.parametrize(
    ("encounter_end", "in_population"),
    [
        ("2024-11-01T00:00", True),
        ("2024-10-31T23:59", False),
        ("2025-10-31T23:59", True),  # "during day of" [2024-11-01, 2025-11-01)
        ("2025-11-01T00:00", False),
    ],
)
def test_cms159_2026_the_identification_period_is_a_year_earlier_at_day_precision(
    encounter_end, in_population
):
    start = encounter_end[:10] + "T00:00"
    patient = cms159_patient(
        encounters=(office_visit(start, encounter_end),),
        observations=(phq9(start, 15),),
        conditions=(depression("2023-01-01T00:00"),),
    )

    assert run159(patient, 2026).initial_population is in_population


@pytest.mark.parametrize(
    ("taken", "is_index"),
    [
        ("2024-02-23T00:00", True),  # encounter start − 7 days
        ("2024-02-22T23:59", False),
        ("2024-03-01T23:59", True),  # after the encounter ends, same day ("day of")
        ("2024-03-02T00:00", False),
    ],
)
def test_cms159_the_index_assessment_is_taken_within_seven_days_before_to_the_encounter_end(
    taken, is_index
):
    patient = cms159_patient(observations=(phq9(taken, 15),))

    assert run159(patient).initial_population is is_index


@pytest.mark.parametrize(("score", "is_index"), [(9, False), (10, True)])
def test_cms159_the_index_assessment_is_greater_than_9(score, is_index):
    patient = cms159_patient(observations=(phq9("2024-03-01T10:10", score),))

    assert run159(patient).initial_population is is_index


@pytest.mark.parametrize(
    ("birth", "in_population"), [(date(2012, 3, 1), True), (date(2012, 3, 2), False)]
)
def test_cms159_age_12_at_the_index_assessment(birth, in_population):
    assert run159(cms159_patient(birth_date=birth)).initial_population is in_population


def test_cms159_the_first_qualifying_assessment_is_the_index():
    patient = cms159_patient(
        encounters=(
            office_visit("2024-03-01T10:00", "2024-03-01T10:30", ident="a"),
            office_visit("2024-05-01T10:00", "2024-05-01T10:30", ident="b"),
        ),
        observations=(phq9("2024-05-01T10:10", 20, ident="later"), phq9("2024-03-01T10:10", 12)),
    )

    assert run159(patient).index_date == date(2024, 3, 1)


@pytest.mark.parametrize(
    ("status", "in_population"),
    [("final", True), ("amended", True), ("corrected", True), ("preliminary", False)],
)
def test_cms159_index_assessment_statuses(status, in_population):
    patient = cms159_patient(observations=(phq9("2024-03-01T10:10", 15, status),))

    assert run159(patient).initial_population is in_population


@pytest.mark.parametrize(
    ("condition", "in_population"),
    [
        (depression(), True),
        (depression(clinical="recurrence"), True),
        (depression(clinical="resolved"), False),
        (depression(verification="provisional"), False),
        (depression(onset="2024-03-01T10:31"), False),  # starts after the visit ends
    ],
)
def test_cms159_the_encounter_overlaps_a_confirmed_active_depression_diagnosis(
    condition, in_population
):
    assert run159(cms159_patient(conditions=(condition,))).initial_population is in_population


def test_cms159_an_unfinished_encounter_is_not_a_depression_encounter():
    patient = cms159_patient(
        encounters=(office_visit("2024-03-01T10:00", "2024-03-01T10:30", "in-progress"),)
    )

    assert run159(patient).initial_population is False


def test_cms159_2026_reads_only_problem_list_health_concern_or_encounter_diagnoses():
    uncategorised = replace(depression(), categories=())
    in_2026_dip = {
        "encounters": (office_visit("2025-03-01T10:00", "2025-03-01T10:30"),),
        "observations": (phq9("2025-03-01T10:10", 15),),
    }

    assert run159(cms159_patient(conditions=(uncategorised,)), 2025).initial_population is True
    patient = cms159_patient(conditions=(uncategorised,), **in_2026_dip)
    assert run159(patient, 2026).initial_population is False
    for category in (PROBLEM, ENCOUNTER_DX, Coding(US_CORE_CONDITION_CATEGORY, "health-concern")):
        patient = cms159_patient(conditions=(depression(category=category),), **in_2026_dip)
        assert run159(patient, 2026).initial_population is True


@pytest.mark.parametrize(
    ("taken", "in_numerator"),
    [
        ("2024-12-30T12:00", False),
        ("2024-12-31T00:00", True),  # index + 12 months − 60 days
        ("2025-04-30T23:59", True),  # index + 12 months + 60 days
        ("2025-05-01T00:00", False),
    ],
)
def test_cms159_the_follow_up_is_taken_in_the_measure_assessment_period(taken, in_numerator):
    assert run159(with_follow_up(phq9(taken, 2))).numerator is in_numerator


def test_cms159_the_assessment_period_of_a_leap_day_index_starts_from_february_28():
    patient = cms159_patient(
        encounters=(office_visit("2024-02-29T10:00", "2024-02-29T10:30"),),
        observations=(phq9("2024-02-29T10:10", 15), phq9("2024-12-30T08:00", 2)),
    )

    # 2024-02-29 + 12 months = 2025-02-28; − 60 days = 2024-12-30
    assert run159(patient).numerator is True


@pytest.mark.parametrize(
    ("first", "second", "in_numerator"),
    [(3, 7, False), (7, 3, True), (4, 4, True), (5, 5, False)],
)
def test_cms159_the_last_assessment_in_the_period_decides(first, second, in_numerator):
    patient = with_follow_up(phq9("2025-01-10T10:00", first), phq9("2025-04-01T10:00", second))

    assert run159(patient).numerator is in_numerator


@pytest.mark.parametrize(
    ("status", "in_numerator"),
    [("final", True), ("amended", True), ("corrected", True), ("preliminary", False)],
)
def test_cms159_follow_up_statuses(status, in_numerator):
    assert run159(with_follow_up(phq9("2025-03-01T10:00", 2, status))).numerator is in_numerator


def test_cms159_no_assessment_in_the_period_is_not_remission():
    result = run159(cms159_patient())

    assert (result.denominator, result.numerator, result.deciding_observation) == (
        True,
        False,
        None,
    )


def hospice_encounter(start: str, end: str, status: str = "finished") -> Encounter:
    return Encounter("hospice", (Coding(HCPCS, "G9473"),), status, Period(at(start), at(end)))


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"deceased": at("2025-04-30T23:00")}, "expired"),
        (
            {"encounters_add": hospice_encounter("2025-04-30T10:00", "2025-05-02T10:00")},
            "hospice",
        ),
        (
            {
                "encounters_add": Encounter(
                    "pal",
                    (Coding(HCPCS, "M1017"),),
                    "finished",
                    Period(at("2024-06-01T10:00"), at("2024-06-01T11:00")),
                )
            },
            "palliative care",
        ),
        (
            {
                "conditions_add": Condition(
                    "bp",
                    (Coding(ICD10CM, "F30.10"),),
                    (PROBLEM,),
                    "active",
                    "confirmed",
                    Period(at("2025-04-30T12:00"), at("2025-04-30T12:00")),
                )
            },
            "mental health disorder",
        ),
        (
            {
                "service_requests": (
                    ServiceRequest(
                        "order", (Coding(CPT, "99377"),), "active", "order", at("2024-06-01T10:00")
                    ),
                )
            },
            "hospice",
        ),
        (
            {
                "procedures": (
                    Procedure(
                        "pal-proc",
                        (Coding(SNOMEDCT, "103735009"),),
                        "completed",
                        Period(at("2024-06-01T10:00"), at("2024-06-01T10:00")),
                    ),
                )
            },
            "palliative care",
        ),
        (
            {
                "observations_add": Observation(
                    "mds",
                    (Coding(LOINC, "45755-6"),),
                    "final",
                    Period(at("2024-06-01T10:00"), at("2024-06-01T10:00")),
                    value_codes=(Coding(SNOMEDCT, "373066001"),),
                )
            },
            "hospice",
        ),
    ],
)
def test_cms159_each_exclusion(extra, reason):
    patient = cms159_patient()
    changes = {}
    for key, value in extra.items():
        if key.endswith("_add"):
            field = key.removesuffix("_add")
            changes[field] = (*getattr(patient, field), value)
        else:
            changes[key] = value

    result = run159(replace(patient, **changes))

    assert result.denominator_exclusion is True
    assert result.exclusion_reasons == (reason,)
    assert result.numerator is False


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({"deceased": at("2025-05-01T00:00")}, "died after the MAP"),
        ({"deceased": True}, "deceasedBoolean has no date"),
        (
            {"encounters": (hospice_encounter("2025-05-01T00:00", "2025-05-02T00:00"),)},
            "hospice after the MAP",
        ),
        (
            {
                "encounters": (
                    hospice_encounter("2024-06-01T00:00", "2024-06-02T00:00", "cancelled"),
                )
            },
            "cancelled hospice encounter",
        ),
        (
            {
                "service_requests": (
                    ServiceRequest(
                        "order",
                        (Coding(CPT, "99377"),),
                        "active",
                        "order",
                        at("2024-06-01T10:00"),
                        do_not_perform=True,
                    ),
                )
            },
            "hospice order not to perform",
        ),
        (
            {
                "procedures": (
                    Procedure(
                        "h",
                        (Coding(CPT, "99377"),),
                        "unknown",
                        Period(at("2024-06-01T10:00"), at("2024-06-01T10:00")),
                    ),
                )
            },
            "hospice procedure of unknown status",
        ),
        (
            {
                "conditions": (
                    depression(),
                    Condition(
                        "bp",
                        (Coding(ICD10CM, "F30.10"),),
                        (PROBLEM,),
                        "active",
                        "confirmed",
                        Period(at("2025-05-01T00:00"), at("2025-05-01T00:00")),
                    ),
                )
            },
            "bipolar onset after the MAP",
        ),
    ],
)
def test_cms159_no_exclusion_at_the_edges(extra, why):
    patient = replace(cms159_patient(), **extra)

    result = run159(patient)

    assert result.denominator_exclusion is False, why


def test_cms159_encounters_keep_their_own_list_when_a_hospice_encounter_is_added():
    patient = replace(
        cms159_patient(),
        encounters=(
            office_visit("2024-03-01T10:00", "2024-03-01T10:30"),
            hospice_encounter("2024-06-01T00:00", "2024-06-02T00:00"),
        ),
    )

    assert run159(patient).exclusion_reasons == ("hospice",)


def facit_pal_on_the_last_map_day() -> PatientFacts:
    t = at("2025-04-30T10:00")
    facit = Observation("facit", (Coding(LOINC, "71007-9"),), "final", Period(t, t), 40)
    return with_follow_up(facit)


def test_cms159_2025_a_palliative_assessment_on_the_last_map_day_is_unknown_without_precision():
    # v0.2.000 compares an instant with the MAP's end (a Date) with no precision: on that
    # date the comparison is uncertain (null), so the exclusion does not hold.
    assert run159(facit_pal_on_the_last_map_day(), 2025).denominator_exclusion is False


def test_cms159_2026_a_palliative_assessment_on_the_last_map_day_excludes_overlaps_day_of():
    t = at("2026-04-30T10:00")  # index 2025-03-01: MAP 2025-12-31 … 2026-04-30
    patient = cms159_patient(
        encounters=(office_visit("2025-03-01T10:00", "2025-03-01T10:30"),),
        observations=(
            phq9("2025-03-01T10:10", 15, ident="index"),
            Observation("facit", (Coding(LOINC, "71007-9"),), "final", Period(t, t), 40),
        ),
    )

    assert run159(patient, 2026).exclusion_reasons == ("palliative care",)


def test_cms159_versions_name_their_library_and_value_sets():
    v2025 = ecqm.measure_version("CMS159", 2025)
    v2026 = ecqm.measure_version("CMS159", 2026)

    assert v2025.title == "CMS159 DepressionRemissionatTwelveMonthsFHIR v0.2.000"
    assert v2026.title == "CMS159 CMS159FHIRDepressionRemissionatTwelveMonths v0.3.000"
    assert (v2025.package, v2026.package) == ("mp2025", "mp2026")
    with pytest.raises(ecqm.UnknownMeasureVersion, match="2024"):
        ecqm.measure_version("CMS159", 2024)


def test_value_sets_are_loaded_whole_by_canonical_url():
    mp2025, mp2026 = package_valuesets("mp2025"), package_valuesets("mp2026")
    pdd = ecqm.CMS159_VALUESETS["Pervasive Developmental Disorder"]

    assert (len(mp2025[pdd]), len(mp2026[pdd])) == (14, 49)
    assert "http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.113883.3.67.1.101.3.2444" in mp2025
    assert set(ecqm.CMS159_VALUESETS.values()) | set(ecqm.CMS2_VALUESETS.values()) <= set(mp2025)
    assert set(ecqm.CMS159_VALUESETS.values()) | set(ecqm.CMS2_VALUESETS.values()) <= set(mp2026)


# --- CMS2 -----------------------------------------------------------------------------

ADULT = "73832-8"
ADOLESCENT = "73831-0"
NEGATIVE = Coding(SNOMEDCT, "428171000124102")
POSITIVE = Coding(SNOMEDCT, "428181000124104")


def screening(when: str, tool: str = ADULT, result: Coding = NEGATIVE, status: str = "final"):
    t = at(when)
    return Observation(
        f"screen-{when}",
        (Coding(LOINC, tool),),
        status,
        Period(t, t),
        result.code,
        value_codes=(result,),
    )


def cms2_patient(**changes: object) -> PatientFacts:
    """A visit on 2025-06-01 10:00–10:30; screened negative at the visit."""
    base = PatientFacts(
        id="p",
        birth_date=date(1990, 1, 1),
        encounters=(office_visit("2025-06-01T10:00", "2025-06-01T10:30"),),
        observations=(screening("2025-06-01T10:05"),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_cms2_a_negative_screening_at_the_visit_is_in_the_numerator():
    result = run2(cms2_patient())

    assert (result.initial_population, result.numerator, result.denominator_exclusion) == (
        True,
        True,
        False,
    )
    assert result.index_date == date(2025, 6, 1)


@pytest.mark.parametrize(
    ("birth", "in_population"), [(date(2013, 1, 1), True), (date(2013, 1, 2), False)]
)
def test_cms2_age_12_at_the_start_of_the_measurement_period(birth, in_population):
    patient = cms2_patient(
        birth_date=birth, observations=(screening("2025-06-01T10:05", ADOLESCENT),)
    )

    assert run2(patient).initial_population is in_population


@pytest.mark.parametrize(
    ("birth", "tool", "in_numerator"),
    [
        (date(2009, 1, 1), ADOLESCENT, True),  # 16
        (date(2009, 1, 1), ADULT, False),
        (date(2008, 1, 1), ADOLESCENT, True),  # 17: either tool
        (date(2008, 1, 1), ADULT, True),
        (date(2007, 1, 1), ADOLESCENT, False),  # 18: the adult tool
        (date(2007, 1, 1), ADULT, True),
    ],
)
def test_cms2_the_tool_that_counts_depends_on_age(birth, tool, in_numerator):
    patient = cms2_patient(birth_date=birth, observations=(screening("2025-06-01T10:05", tool),))

    assert run2(patient).numerator is in_numerator


@pytest.mark.parametrize(
    ("screened", "in_numerator"),
    [
        ("2025-05-18T00:00", True),  # 14 days before the visit day
        ("2025-05-17T23:59", False),
        ("2025-06-01T23:00", True),  # later the same day ("day of")
        ("2025-06-02T00:00", False),
    ],
)
def test_cms2_the_screening_is_within_14_days_on_or_before_the_visit(screened, in_numerator):
    assert run2(cms2_patient(observations=(screening(screened),))).numerator is in_numerator


def test_cms2_the_most_recent_screening_decides():
    patient = cms2_patient(
        observations=(screening("2025-05-20T10:00"), screening("2025-06-01T10:05", result=POSITIVE))
    )

    assert run2(patient).numerator is False


def referral(when: str) -> ServiceRequest:
    return ServiceRequest("ref", (Coding(SNOMEDCT, "183524004"),), "active", "order", at(when))


@pytest.mark.parametrize(
    ("authored", "in_numerator"),
    [
        ("2025-06-01T10:20", True),
        ("2025-06-03T23:59", True),  # 2 days after the visit ends
        ("2025-06-04T00:00", False),
    ],
)
def test_cms2_a_positive_screening_with_a_referral_within_2_days(authored, in_numerator):
    patient = cms2_patient(
        observations=(screening("2025-06-01T10:05", result=POSITIVE),),
        service_requests=(referral(authored),),
    )

    assert run2(patient).numerator is in_numerator


def test_cms2_a_positive_screening_with_a_follow_up_procedure_during_the_visit():
    t = at("2025-06-01T10:15")
    procedure = Procedure("fu", (Coding(SNOMEDCT, "108313002"),), "completed", Period(t, t))
    patient = cms2_patient(
        observations=(screening("2025-06-01T10:05", result=POSITIVE),), procedures=(procedure,)
    )

    assert run2(patient).numerator is True
    assert (
        run2(replace(patient, procedures=(replace(procedure, status="in-progress"),))).numerator
        is False
    )


def test_cms2_a_positive_screening_without_follow_up_is_not_in_the_numerator():
    patient = cms2_patient(observations=(screening("2025-06-01T10:05", result=POSITIVE),))

    assert run2(patient).numerator is False


def fluoxetine(dosage: Dosage | None = None, intent: str = "order") -> MedicationRequest:
    return MedicationRequest(
        "rx",
        (Coding(RXNORM, "1190110"),),
        "active",
        intent,
        at("2025-06-01T10:20"),
        dosage or Dosage(),
    )


def test_cms2_2025_a_medication_order_is_follow_up():
    patient = cms2_patient(
        observations=(screening("2025-06-01T10:05", result=POSITIVE),),
        medication_requests=(fluoxetine(),),
    )

    assert run2(patient, 2025).numerator is True
    assert (
        run2(replace(patient, medication_requests=(fluoxetine(intent="plan"),))).numerator is False
    )


def cms2_2026_patient(*medications: MedicationRequest) -> PatientFacts:
    return cms2_patient(
        encounters=(office_visit("2026-06-01T10:00", "2026-06-01T10:30"),),
        observations=(screening("2026-06-01T10:05", result=POSITIVE),),
        medication_requests=tuple(
            replace(m, authored_on=at("2026-06-01T10:20")) for m in medications
        ),
    )


def test_cms2_2026_a_medication_order_needs_a_period_lasting_past_the_visit():
    # v0.4.001: medicationRequestPeriod() overlaps after day of the visit; with no supply
    # or bounds it is null.
    assert run2(cms2_2026_patient(fluoxetine()), 2026).numerator is False
    thirty_days = fluoxetine(Dosage(expected_supply_days=30))
    assert run2(cms2_2026_patient(thirty_days), 2026).numerator is True
    one_day = fluoxetine(Dosage(expected_supply_days=1))
    assert run2(cms2_2026_patient(one_day), 2026).numerator is False
    original = fluoxetine(Dosage(expected_supply_days=30), intent="original-order")
    assert run2(cms2_2026_patient(original), 2026).numerator is True


def test_medication_request_period_from_quantity_dose_and_frequency():
    dosage = Dosage(frequency=2, period=1, period_unit="d", dose=1, quantity=60, refills=1)

    period = ecqm.medication_request_period(fluoxetine(dosage))

    # 60 / (1 × 2 a day) = 30 days, × (1 + 1 refill) = 60 days from 2025-06-01
    assert period == cql.Interval(date(2025, 6, 1), date(2025, 7, 30))


@pytest.mark.parametrize(
    ("status", "y2025", "y2026"),
    [("final", True, True), ("corrected", False, True), ("amended", False, False)],
)
def test_cms2_screening_statuses_by_version(status, y2025, y2026):
    p2025 = cms2_patient(observations=(screening("2025-06-01T10:05", status=status),))
    p2026 = cms2_patient(
        encounters=(office_visit("2026-06-01T10:00", "2026-06-01T10:30"),),
        observations=(screening("2026-06-01T10:05", status=status),),
    )

    assert (run2(p2025, 2025).numerator, run2(p2026, 2026).numerator) == (y2025, y2026)


@pytest.mark.parametrize(
    ("encounter", "in_population"),
    [
        (office_visit("2025-01-01T00:00", "2025-01-01T00:30"), True),
        (office_visit("2025-12-31T23:00", "2026-01-01T00:30"), False),  # ends after the MP
        (office_visit("2025-06-01T10:00", "2025-06-01T10:30", "cancelled"), False),
        (
            Encounter(
                "tel",
                (Coding(CPT, "98966"),),
                "finished",
                Period(at("2025-06-01T10:00"), at("2025-06-01T10:10")),
            ),
            True,
        ),
    ],
)
def test_cms2_the_qualifying_encounter(encounter, in_population):
    assert run2(cms2_patient(encounters=(encounter,))).initial_population is in_population


def bipolar(onset: str, category: Coding = PROBLEM) -> Condition:
    t = at(onset)
    return Condition("bp", (Coding(ICD10CM, "F31.0"),), (category,), "active", None, Period(t, t))


@pytest.mark.parametrize(
    ("condition", "y2025", "y2026"),
    [
        (bipolar("2025-05-31T10:00"), True, True),
        (bipolar("2025-06-01T09:00"), True, False),  # 2026: "before day of" the visit
        (bipolar("2025-06-01T10:00"), False, False),  # not before the visit's start
        (bipolar("2025-05-01T10:00", ENCOUNTER_DX), False, False),
        (
            bipolar("2025-05-01T10:00", Coding(US_CORE_CONDITION_CATEGORY, "health-concern")),
            True,
            True,
        ),
    ],
)
def test_cms2_bipolar_history_before_the_visit_excludes(condition, y2025, y2026):
    def shifted(c: Condition, year: int) -> Condition:
        assert c.onset is not None and c.onset.start is not None
        t = c.onset.start.replace(year=year)
        return replace(c, onset=Period(t, t))

    p2025 = cms2_patient(conditions=(condition,))
    p2026 = cms2_patient(
        encounters=(office_visit("2026-06-01T10:00", "2026-06-01T10:30"),),
        observations=(screening("2026-06-01T10:05"),),
        conditions=(shifted(condition, 2026),),
    )

    result = run2(p2025, 2025)
    assert (result.denominator_exclusion, run2(p2026, 2026).denominator_exclusion) == (y2025, y2026)
    assert result.numerator is (not y2025)


def not_done(issued: str, reason: Coding, tool: str = ADULT) -> Observation:
    return Observation(
        "nd", (Coding(LOINC, tool),), "cancelled", issued=at(issued), not_done_reason=(reason,)
    )


DECLINED = Coding(SNOMEDCT, "720834000")
CONTRAINDICATED = Coding(SNOMEDCT, "183932001")


@pytest.mark.parametrize(
    ("observations", "exception", "reasons"),
    [
        ((not_done("2025-06-01T10:10", DECLINED),), True, ("adult screening declined",)),
        (
            (not_done("2025-06-01T10:10", CONTRAINDICATED),),
            True,
            ("adult screening not done: medical reason",),
        ),
        ((not_done("2025-06-01T10:31", DECLINED),), False, ()),  # issued after the visit
        ((not_done("2025-06-01T10:10", Coding(SNOMEDCT, "1")),), False, ()),
        (
            (
                not_done("2025-06-01T10:10", DECLINED),
                screening("2025-06-01T10:05", result=POSITIVE),
            ),
            False,
            (),
        ),  # a screening with that tool was done
    ],
)
def test_cms2_exceptions(observations, exception, reasons):
    result = run2(cms2_patient(observations=observations))

    assert (result.denominator_exception, result.exception_reasons) == (exception, reasons)
    assert result.numerator is False


def test_cms2_numerator_wins_over_an_exception():
    patient = cms2_patient(
        observations=(
            screening("2025-06-01T10:05", ADULT),
            not_done("2025-06-01T10:10", DECLINED, ADOLESCENT),
        )
    )

    result = run2(patient)

    assert (result.numerator, result.denominator_exception) == (True, False)


def test_cms2_2026_an_exception_issued_on_the_visit_day_counts_at_day_precision():
    patient = cms2_patient(
        encounters=(office_visit("2026-06-01T10:00", "2026-06-01T10:30"),),
        observations=(not_done("2026-06-01T18:00", DECLINED),),
    )

    assert run2(patient, 2026).denominator_exception is True
    assert (
        run2(
            replace(
                patient,
                encounters=(office_visit("2025-06-01T10:00", "2025-06-01T10:30"),),
                observations=(not_done("2025-06-01T18:00", DECLINED),),
            ),
            2025,
        ).denominator_exception
        is False
    )


# --- the CQL operators ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(2012, 3, 1), date(2024, 3, 1), 12),
        (date(2012, 3, 2), date(2024, 3, 1), 11),
        (date(2008, 2, 29), date(2025, 2, 28), 16),
        (date(2008, 2, 29), date(2025, 3, 1), 17),
    ],
)
def test_age_in_years(birth, on, age):
    assert age_in_years(birth, on) == age


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2025, 1, 1), -14, date(2023, 11, 1)),
    ],
)
def test_add_months_clamps_to_the_month_end(start, months, expected):
    assert cql.add_months(start, months) == expected


def test_three_valued_logic():
    assert cql.and3(True, None) is None
    assert cql.and3(False, None) is False
    assert cql.or3(False, None) is None
    assert cql.or3(True, None) is True
    assert cql.compare(at("2025-04-30T10:00"), date(2025, 4, 30)) is None
    assert cql.compare(at("2025-04-30T10:00"), date(2025, 4, 30), cql.DAY) == 0
    assert cql.overlaps(None, cql.Interval(date(2025, 1, 1), date(2025, 1, 2))) is None
