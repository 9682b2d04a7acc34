from datetime import date

import pytest

from cocm.domain.pediatric import (
    ConsentParty,
    PediatricError,
    Respondent,
    age_on,
    check_guardian_contact,
    check_respondent,
    consent_party,
    guardian_has_access,
    is_minor,
    majority_on,
    needs_assent,
)


@pytest.mark.parametrize(
    ("birth_date", "on", "age"),
    [
        (date(2012, 6, 1), date(2026, 5, 31), 13),
        (date(2012, 6, 1), date(2026, 6, 1), 14),
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
    ],
)
def test_age_in_completed_years(birth_date, on, age):
    assert age_on(birth_date, on) == age


@pytest.mark.parametrize(
    ("birth_date", "expected"),
    [(date(2008, 11, 23), date(2026, 11, 23)), (date(2008, 2, 29), date(2026, 3, 1))],
)
def test_the_patient_comes_of_age_on_the_18th_birthday(birth_date, expected):
    assert majority_on(birth_date) == expected


@pytest.mark.parametrize(("on", "minor"), [(date(2026, 11, 22), True), (date(2026, 11, 23), False)])
def test_a_patient_is_a_minor_until_the_18th_birthday(on, minor):
    assert is_minor(date(2008, 11, 23), on) is minor


@pytest.mark.parametrize(
    ("birth_date", "assent_from_age", "expected"),
    [
        (date(2012, 6, 1), 12, True),  # 14 on 2026-11-23
        (date(2015, 6, 1), 12, False),  # 11
        (date(2014, 11, 23), 12, True),  # 12 today
        (date(2012, 6, 1), None, False),  # the organization does not require assent
        (date(2000, 1, 1), 12, False),  # an adult consents for themself
    ],
)
def test_assent_is_required_from_the_organizations_age(birth_date, assent_from_age, expected):
    assert needs_assent(birth_date, date(2026, 11, 23), assent_from_age=assent_from_age) is expected


def test_a_fourteen_year_old_is_consented_by_a_guardian_with_assent():
    party = consent_party(date(2012, 6, 1), date(2026, 11, 23), assent_from_age=12)

    assert party == ConsentParty(by_guardian=True, assent_required=True)


def test_an_adult_consents_alone():
    party = consent_party(date(1990, 6, 1), date(2026, 11, 23), assent_from_age=12)

    assert party == ConsentParty(by_guardian=False, assent_required=False)


@pytest.mark.parametrize(
    ("on", "renewed_until", "access"),
    [
        (date(2026, 11, 22), None, True),  # the day before the 18th birthday
        (date(2026, 11, 23), None, False),  # the 18th birthday: access ends
        (date(2026, 11, 23), date(2027, 5, 31), True),  # renewed
        (date(2027, 6, 1), date(2027, 5, 31), False),  # the renewal has run out
    ],
)
def test_a_guardians_access_ends_at_18_unless_renewed(on, renewed_until, access):
    assert guardian_has_access(date(2008, 11, 23), on, renewed_until=renewed_until) is access


def test_a_guardian_needs_a_phone_or_an_email():
    with pytest.raises(PediatricError) as error:
        check_guardian_contact(phone=" ", email="")

    assert error.value.field == "phone"
    check_guardian_contact(phone="555-0100", email="")
    check_guardian_contact(phone="", email="maria@example.org")


@pytest.mark.parametrize(
    ("respondent", "answered_by", "expected"),
    [
        ("patient", "patient", Respondent.PATIENT),
        ("guardian", "patient", Respondent.GUARDIAN),
        ("guardian", "guardian", Respondent.GUARDIAN),
    ],
)
def test_the_respondent_is_the_patient_or_a_guardian(respondent, answered_by, expected):
    assert check_respondent(respondent, answered_by=answered_by) is expected


@pytest.mark.parametrize(
    ("respondent", "answered_by", "message"),
    [
        ("teacher", "patient", "not one of: patient, guardian"),
        ("patient", "guardian", "answered by a parent or guardian"),
    ],
)
def test_a_bad_respondent_is_refused_naming_the_field(respondent, answered_by, message):
    with pytest.raises(PediatricError) as error:
        check_respondent(respondent, answered_by=answered_by)

    assert error.value.field == "respondent"
    assert message in error.value.message
