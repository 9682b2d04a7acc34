from datetime import date, datetime

import pytest

from cocm.domain.instruments import InstrumentCode
from cocm.domain.interop import (
    condition_stands,
    date_problem,
    instrument_for_loinc,
    is_episode_diagnosis,
    is_initiating_visit,
    is_known_code_system,
    mrn_index,
    payer_kind_from_sopt,
    total_problem,
    tracker_column,
    tracker_date,
    tracker_sex,
)


@pytest.mark.parametrize(
    ("system", "known"),
    [
        ("http://loinc.org", True),
        ("http://hl7.org/fhir/sid/icd-10-cm", True),
        ("http://www.ama-assn.org/go/cpt", True),
        ("urn:made-up", False),
        (None, False),
    ],
)
def test_known_code_systems(system, known):
    assert is_known_code_system(system) is known


@pytest.mark.parametrize(
    ("loinc", "instrument"),
    [
        ("44261-6", InstrumentCode.PHQ9),
        ("70274-6", InstrumentCode.GAD7),
        ("12345-6", None),
        (None, None),
    ],
)
def test_instrument_for_a_total_loinc(loinc, instrument):
    assert instrument_for_loinc(loinc) == instrument


@pytest.mark.parametrize(
    ("instrument", "total", "problem"),
    [
        (InstrumentCode.PHQ9, 0, None),
        (InstrumentCode.PHQ9, 27, None),
        (InstrumentCode.PHQ9, 40, "a PHQ-9 total is a whole number from 0 to 27; 40 is not"),
        (InstrumentCode.PHQ9, -1, "a PHQ-9 total is a whole number from 0 to 27; -1 is not"),
        (InstrumentCode.PHQ9, 4.5, "a PHQ-9 total is a whole number from 0 to 27; 4.5 is not"),
        (InstrumentCode.GAD7, 22, "a GAD-7 total is a whole number from 0 to 21; 22 is not"),
        (InstrumentCode.PHQ9, "12", "a PHQ-9 total must be a number"),
        (InstrumentCode.PHQ9, True, "a PHQ-9 total must be a number"),
    ],
)
def test_total_problems(instrument, total, problem):
    assert total_problem(instrument, total) == problem


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (date(2026, 11, 23), None),
        (date(2026, 11, 24), None),
        (date(2026, 11, 25), "2026-11-25 is in the future"),
        (date(2099, 1, 1), "2099-01-01 is in the future"),
        (date(1899, 12, 31), "1899-12-31 is before 1900"),
    ],
)
def test_date_problems(value, problem):
    assert date_problem(value, as_of=date(2026, 11, 23)) == problem


@pytest.mark.parametrize(
    ("type_codes", "index"),
    [([], None), ([None, "MR"], 1), (["SS", None], 0), (["MR", "MR"], 0)],
)
def test_which_identifier_is_the_mrn(type_codes, index):
    assert mrn_index(type_codes) == index


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("MRN", "mrn"),
        (" first  name ", "given_name"),
        ("PHQ-9 Baseline Date", "phq9_baseline_on"),
        ("phq9baseline", "phq9_baseline"),
        ("DOB", "birth_date"),
        ("Favourite colour", None),
        (None, None),
    ],
)
def test_tracker_headers(header, column):
    assert tracker_column(header) == column


@pytest.mark.parametrize(
    ("value", "sex"),
    [
        ("F", "female"),
        (" Male ", "male"),
        ("x", "other"),
        ("", "unknown"),
        (None, "unknown"),
        ("zebra", None),
    ],
)
def test_tracker_sex(value, sex):
    assert tracker_sex(value) == sex


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("2026-03-04", date(2026, 3, 4)),
        ("03/04/2026", date(2026, 3, 4)),
        ("3/4/26", date(2026, 3, 4)),
        (date(2026, 3, 4), date(2026, 3, 4)),
        (datetime(2026, 3, 4, 9, 30), date(2026, 3, 4)),
        ("13/45/2026", None),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_tracker_dates(value, parsed):
    assert tracker_date(value) == parsed


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("1", "medicare"),
        ("121", "medicare"),
        ("2", "medicaid"),
        ("59", "commercial"),
        ("6", "commercial"),
        ("81", "self_pay"),
        ("82", None),
        ("3", None),
        ("", None),
        (None, None),
    ],
)
def test_payer_kind_from_sopt(code, kind):
    assert payer_kind_from_sopt(code) == kind


@pytest.mark.parametrize(
    ("code", "kept"),
    [
        ("F32.1", True),
        ("F33.41", True),
        ("F34.1", True),
        ("F34.0", False),
        ("F41.1", True),
        ("F43.23", True),
        ("F43.10", False),
        ("F53.0", True),
        ("F10.10", False),
        ("E11.9", False),
    ],
)
def test_depression_and_anxiety_codes_are_episode_diagnoses(code, kept):
    assert is_episode_diagnosis(code) is kept


@pytest.mark.parametrize(
    ("clinical", "verification", "stands"),
    [
        ("active", "confirmed", True),
        ("recurrence", None, True),
        (None, None, True),
        ("resolved", "confirmed", False),
        ("remission", None, False),
        ("active", "refuted", False),
        ("active", "entered-in-error", False),
    ],
)
def test_which_conditions_stand(clinical, verification, stands):
    assert condition_stands(clinical, verification) is stands


@pytest.mark.parametrize(
    ("codes", "initiating"),
    [
        ([("http://www.ama-assn.org/go/cpt", "99213")], True),
        ([("http://www.ama-assn.org/go/cpt", "99496")], True),
        ([("http://www.nlm.nih.gov/research/umls/hcpcs", "G0438")], True),
        ([("http://www.ama-assn.org/go/cpt", "90791")], False),
        ([("http://snomed.info/sct", "99213")], False),
        ([(None, "99213")], False),
        ([], False),
    ],
)
def test_initiating_visit_codes(codes, initiating):
    assert is_initiating_visit(codes) is initiating
