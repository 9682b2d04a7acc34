from datetime import date

import pytest
from django.db import IntegrityError, transaction

from cocm.accounts.models import Role
from cocm.accounts.scoping import visible_patients
from cocm.domain.episodes import DischargeReason, EpisodeStatus
from cocm.registry import services
from cocm.registry.models import Episode, Patient
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY


def test_it_enrolls_at_once_with_consent_and_diagnosis(clinic, care_manager):
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 3))

    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.ENROLLED
    assert episode.enrolled_on == date(2026, 9, 3)
    history = list(episode.status_changes.values_list("to_status", "on"))
    assert history == [("referred", date(2026, 9, 1)), ("enrolled", date(2026, 9, 3))]


def test_it_stays_referred_without_consent(clinic, care_manager):
    episode = factories.episode(clinic, care_manager)

    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.REFERRED
    assert episode.enrolled_on is None


def test_it_stays_referred_with_consent_but_no_diagnosis(clinic, care_manager):
    episode = factories.episode(clinic, care_manager, diagnoses=(), consent_on=date(2026, 9, 3))

    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.REFERRED
    assert episode.consent_on == date(2026, 9, 3)


def test_it_refuses_a_second_open_episode(clinic, care_manager):
    first = factories.episode(clinic, care_manager)

    with pytest.raises(services.InvalidRequest, match="already has an open episode"):
        factories.episode(clinic, care_manager, the_patient=first.patient)

    assert Episode.objects.filter(patient=first.patient).count() == 1


def test_the_database_refuses_a_second_open_episode(clinic, care_manager):
    first = factories.episode(clinic, care_manager)

    with pytest.raises(IntegrityError), transaction.atomic():
        Episode.objects.create(
            patient=first.patient, clinic=clinic, referred_on=TODAY, status_changed_on=TODAY
        )


def test_it_opens_a_new_episode_after_discharge(clinic, care_manager):
    first = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 2))
    services.change_status(
        first,
        EpisodeStatus.DISCHARGED,
        on=date(2026, 10, 1),
        by=care_manager,
        as_of=TODAY,
        reason=DischargeReason.MOVED,
    )

    second = factories.episode(
        clinic, care_manager, the_patient=first.patient, referred_on=date(2026, 11, 1)
    )

    first.refresh_from_db()
    assert first.status == EpisodeStatus.DISCHARGED
    assert first.discharge_reason == "moved"
    assert second.status == EpisodeStatus.REFERRED


def test_it_walks_the_whole_care_loop(clinic, care_manager):
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 1))

    for status, on in [
        (EpisodeStatus.ACTIVE, date(2026, 9, 8)),
        (EpisodeStatus.RELAPSE_PREVENTION, date(2026, 11, 1)),
    ]:
        services.change_status(episode, status, on=on, by=care_manager, as_of=TODAY)
    services.change_status(
        episode,
        EpisodeStatus.DISCHARGED,
        on=date(2026, 11, 20),
        by=care_manager,
        as_of=TODAY,
        reason=DischargeReason.GOALS_MET,
    )

    episode.refresh_from_db()
    assert episode.status == "discharged"
    assert episode.discharged_on == date(2026, 11, 20)
    assert [c.to_status for c in episode.status_changes.all()] == [
        "referred",
        "enrolled",
        "active",
        "relapse_prevention",
        "discharged",
    ]


def test_enrolling_without_consent_names_the_consent(clinic, care_manager):
    episode = factories.episode(clinic, care_manager)

    with pytest.raises(services.InvalidRequest) as error:
        services.change_status(
            episode, EpisodeStatus.ENROLLED, on=TODAY, by=care_manager, as_of=TODAY
        )

    assert error.value.field == "consent"
    episode.refresh_from_db()
    assert episode.status == "referred"


def test_consent_before_the_referral_is_refused(clinic, care_manager):
    episode = factories.episode(clinic, care_manager)

    with pytest.raises(services.InvalidRequest, match="cannot precede the referral"):
        services.enroll(
            episode,
            consent=services.Consent(date(2026, 8, 1), "written", care_manager),
            on=TODAY,
            by=care_manager,
            as_of=TODAY,
        )


def test_duplicate_mrn_is_refused_within_the_organization(clinic):
    factories.patient(clinic.organization, mrn="A100")

    with pytest.raises(services.InvalidRequest, match="MRN A100 is already registered"):
        services.register_patient(
            clinic.organization,
            mrn="A100",
            given_name="B",
            family_name="C",
            birth_date=date(1990, 1, 1),
            sex="male",
        )


def test_the_same_mrn_is_allowed_in_another_organization(clinic):
    factories.patient(clinic.organization, mrn="A100")

    other = services.register_patient(
        factories.organization("Other Health"),
        mrn="A100",
        given_name="B",
        family_name="C",
        birth_date=date(1990, 1, 1),
        sex="male",
    )

    assert Patient.objects.filter(mrn="A100").count() == 2
    assert other.organization.name == "Other Health"


def test_diagnosis_codes_are_normalized_and_not_duplicated(clinic, care_manager):
    episode = factories.episode(clinic, care_manager, diagnoses=("f321",))

    with pytest.raises(services.InvalidRequest, match="F32.1 is already recorded"):
        services.add_diagnosis(episode, "F32.1", onset_on=None, by=care_manager)
    services.add_diagnosis(episode, "f41.1", onset_on=date(2026, 1, 1), by=care_manager)

    assert list(episode.diagnoses.values_list("code", flat=True)) == ["F32.1", "F41.1"]


def test_a_malformed_diagnosis_names_the_field(clinic, care_manager):
    with pytest.raises(services.InvalidRequest, match="not an ICD-10-CM code") as error:
        factories.episode(clinic, care_manager, diagnoses=("F3Z-1",))

    assert error.value.field == "diagnoses"


def test_users_see_only_patients_of_their_clinics(clinic, care_manager):
    mine = factories.episode(clinic, care_manager)
    elsewhere = factories.clinic(clinic.organization)
    other_cm = factories.user(Role.CARE_MANAGER, elsewhere)
    theirs = factories.episode(elsewhere, other_cm)
    unenrolled = factories.patient(clinic.organization)

    visible = set(visible_patients(care_manager, Patient.objects))

    assert visible == {mine.patient, unenrolled}
    assert theirs.patient not in visible


def test_staff_member_must_hold_the_role_in_the_clinic(clinic, care_manager):
    with pytest.raises(services.InvalidRequest, match="is not a psychiatric consultant") as error:
        services.staff_member(
            clinic.organization,
            care_manager.username,
            Role.PSYCHIATRIC_CONSULTANT,
            clinic,
            "psychiatric_consultant",
        )

    assert error.value.field == "psychiatric_consultant"


def test_timeline_lists_history_newest_first(clinic, care_manager):
    episode = factories.episode(clinic, care_manager, consent_on=date(2026, 9, 3))

    entries = services.timeline(episode.patient.episodes.all())

    dated = [(entry.on, entry.kind, entry.text) for entry in entries if entry.kind != "diagnosis"]
    assert dated == [
        (date(2026, 9, 3), "status", "Enrolled"),
        (date(2026, 9, 3), "consent", "Consent documented (verbal)"),
        (date(2026, 9, 1), "status", "Referred"),
    ]
    assert [entry.on for entry in entries] == sorted((e.on for e in entries), reverse=True)
