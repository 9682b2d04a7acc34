from datetime import date

import pytest

from cocm.domain.episodes import (
    DischargeReason,
    EpisodeFacts,
    EpisodeStatus,
    TransitionError,
    check_enrollment,
    check_transition,
    weeks_in_treatment,
)

S = EpisodeStatus
AS_OF = date(2026, 11, 23)


def facts(
    status, consent_on=date(2026, 3, 10), has_diagnosis=True, last_change_on=date(2026, 3, 1)
):
    return EpisodeFacts(status, consent_on, has_diagnosis, last_change_on, date(2026, 3, 1))


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.REFERRED, S.ENROLLED),
        (S.REFERRED, S.DISCHARGED),
        (S.ENROLLED, S.ACTIVE),
        (S.ENROLLED, S.DISCHARGED),
        (S.ACTIVE, S.RELAPSE_PREVENTION),
        (S.ACTIVE, S.DISCHARGED),
        (S.RELAPSE_PREVENTION, S.ACTIVE),
        (S.RELAPSE_PREVENTION, S.DISCHARGED),
    ],
)
def test_care_loop_allows_transition(current, target):
    reason = DischargeReason.GOALS_MET if target is S.DISCHARGED else None

    check_transition(facts(current), target, date(2026, 3, 15), as_of=AS_OF, reason=reason)


@pytest.mark.parametrize(
    ("current", "target", "message"),
    [
        (S.REFERRED, S.ACTIVE, "cannot go from referred to active"),
        (S.REFERRED, S.RELAPSE_PREVENTION, "cannot go from referred to relapse prevention"),
        (S.ENROLLED, S.RELAPSE_PREVENTION, "cannot go from enrolled to relapse prevention"),
        (S.ACTIVE, S.ENROLLED, "cannot go from active to enrolled"),
        (S.ACTIVE, S.ACTIVE, "cannot go from active to active"),
        (S.DISCHARGED, S.ACTIVE, "discharged; refer the patient again"),
    ],
)
def test_care_loop_refuses_transition(current, target, message):
    with pytest.raises(TransitionError, match=message) as error:
        check_transition(facts(current), target, date(2026, 3, 15), as_of=AS_OF)

    assert error.value.field == "status"


def test_enrollment_without_consent_is_refused():
    with pytest.raises(TransitionError, match="without documented consent") as error:
        check_transition(
            facts(S.REFERRED, consent_on=None), S.ENROLLED, date(2026, 3, 15), as_of=AS_OF
        )

    assert error.value.field == "consent"


def test_enrollment_without_diagnosis_is_refused():
    with pytest.raises(TransitionError, match="without a provisional diagnosis") as error:
        check_transition(
            facts(S.REFERRED, has_diagnosis=False), S.ENROLLED, date(2026, 3, 15), as_of=AS_OF
        )

    assert error.value.field == "diagnoses"


@pytest.mark.parametrize(
    ("consent_on", "enrolled_on", "allowed"),
    [
        (date(2026, 3, 10), date(2026, 3, 10), True),
        (date(2026, 3, 9), date(2026, 3, 10), True),
        (date(2026, 3, 11), date(2026, 3, 10), False),
    ],
)
def test_consent_must_be_on_or_before_enrollment(consent_on, enrolled_on, allowed):
    if allowed:
        check_enrollment(consent_on, True, enrolled_on)
    else:
        with pytest.raises(TransitionError, match=r"Consent \(2026-03-11\) is after"):
            check_enrollment(consent_on, True, enrolled_on)


def test_discharge_needs_a_reason():
    with pytest.raises(TransitionError, match="needs a reason") as error:
        check_transition(facts(S.ACTIVE), S.DISCHARGED, date(2026, 4, 1), as_of=AS_OF)

    assert error.value.field == "reason"


def test_only_a_discharge_takes_a_reason():
    with pytest.raises(TransitionError, match="Only a discharge"):
        check_transition(
            facts(S.ENROLLED), S.ACTIVE, date(2026, 4, 1), as_of=AS_OF, reason=DischargeReason.MOVED
        )


def test_transition_date_cannot_be_in_the_future():
    with pytest.raises(TransitionError, match="2026-11-24 is in the future") as error:
        check_transition(facts(S.ENROLLED), S.ACTIVE, date(2026, 11, 24), as_of=AS_OF)

    assert error.value.field == "on"


def test_transition_date_cannot_precede_the_last_change():
    with pytest.raises(TransitionError, match=r"before the last status change \(2026-03-01\)"):
        check_transition(facts(S.ENROLLED), S.ACTIVE, date(2026, 2, 28), as_of=AS_OF)


def test_transition_on_the_same_day_as_the_last_change_is_allowed():
    check_transition(facts(S.ENROLLED), S.ACTIVE, date(2026, 3, 1), as_of=AS_OF)


@pytest.mark.parametrize(
    ("enrolled_on", "as_of", "weeks"),
    [
        (date(2026, 1, 1), date(2026, 1, 1), 0),
        (date(2026, 1, 1), date(2026, 1, 7), 0),
        (date(2026, 1, 1), date(2026, 1, 8), 1),
        (date(2026, 1, 1), date(2026, 3, 26), 12),
        (None, date(2026, 3, 26), None),
        (date(2026, 4, 1), date(2026, 3, 26), None),
    ],
)
def test_weeks_in_treatment_are_whole_weeks_since_enrollment(enrolled_on, as_of, weeks):
    assert weeks_in_treatment(enrolled_on, as_of) == weeks


def test_statuses_and_reasons_have_readable_labels():
    assert S.RELAPSE_PREVENTION.label == "Relapse prevention"
    assert DischargeReason.GOALS_MET.label == "Treatment goals met"


@pytest.mark.parametrize(
    ("to", "reason", "refused"),
    [
        (EpisodeStatus.DISCHARGED, DischargeReason.GOALS_MET, True),
        (EpisodeStatus.RELAPSE_PREVENTION, None, True),
        (EpisodeStatus.ACTIVE, None, False),
    ],
)
def test_an_open_safety_alert_blocks_discharge_and_relapse_prevention(to, reason, refused):
    start = EpisodeStatus.RELAPSE_PREVENTION if to is EpisodeStatus.ACTIVE else EpisodeStatus.ACTIVE
    facts = EpisodeFacts(
        status=start,
        consent_on=date(2026, 9, 1),
        has_diagnosis=True,
        last_change_on=date(2026, 9, 1),
        referred_on=date(2026, 8, 20),
        open_safety_alert=True,
    )

    if refused:
        with pytest.raises(TransitionError, match="open safety alert") as error:
            check_transition(facts, to, date(2026, 11, 23), as_of=date(2026, 11, 23), reason=reason)
        assert error.value.field == "status"
    else:
        check_transition(facts, to, date(2026, 11, 23), as_of=date(2026, 11, 23), reason=reason)
