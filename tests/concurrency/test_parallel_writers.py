"""Truly parallel writers: every write a second user could race, run at once from threads
that each hold their own database connection. Each writer reads the record first (so all
of them saw the same version), then they wait at a barrier and write together, each in its
own transaction with its audit event, as a page or the API does.

Exactly one writer wins, the others get EditConflict with a message that says what
happened, nothing is lost or doubled, and the audit chain verifies with one event per
winning write (a loser's event rolls back with its write). They run on the database
DATABASE_URL names: PostgreSQL in the PostgreSQL suite (row locks and READ COMMITTED), and
on SQLite, whose writers take turns anyway (one IMMEDIATE transaction at a time): the
test database there is in memory with a shared cache, which answers a second writer
"table is locked" at once instead of waiting, so the writers take turns through a lock,
and the stale version they all read is what refuses the late ones."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.db import connections, transaction
from django.test import Client

from cocm.accounts.audit import record_event, verify_chain
from cocm.accounts.models import ApiToken, AuditEvent, Role
from cocm.billing import services as billing
from cocm.billing.models import ClaimLine
from cocm.care import services as care
from cocm.care.models import CaseReview, Contact, FollowUp, Recommendation, RelapsePreventionPlan
from cocm.domain.episodes import EpisodeStatus
from cocm.errors import EditConflict, InvalidRequest
from cocm.measures import services as measures
from cocm.measures.models import Assessment, SafetyAlert, TreatmentChange
from cocm.registry import services as registry
from cocm.registry.models import (
    ConsentRevocation,
    Diagnosis,
    Episode,
    Guardian,
    Patient,
    StatusChange,
)
from tests import factories
from tests.concurrency.months import OCTOBER, ready_october

pytestmark = pytest.mark.django_db(transaction=True)
TODAY = factories.TODAY
WRITERS = 4


@dataclass
class Outcome:
    won: bool
    conflict: str = ""
    result: Any = None


class NoLock:
    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        pass


def race(load: Callable[[int], Any], write: Callable[[int, Any], Any], n: int = WRITERS):
    """Run `n` writers in parallel threads: each loads what its user sees, waits at the
    barrier until all have loaded, then writes in one transaction with an audit event."""
    barrier = threading.Barrier(n)
    turns = threading.Lock() if connections["default"].vendor == "sqlite" else NoLock()
    outcomes: list[Outcome | BaseException | None] = [None] * n

    def writer(i: int) -> None:
        try:
            seen = load(i)
            barrier.wait(timeout=60)
            try:
                with turns, transaction.atomic():
                    result = write(i, seen)
                    record_event("update", f"parallel writer {i}", channel="web")
                outcomes[i] = Outcome(True, result=result)
            except EditConflict as conflict:
                outcomes[i] = Outcome(False, conflict.message)
        except BaseException as error:  # reported by the test, with the thread's error
            outcomes[i] = error
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    errors = [o for o in outcomes if not isinstance(o, Outcome)]
    assert not errors, errors
    return outcomes


def one_winner(outcomes: list[Outcome], says: str) -> int:
    """Exactly one writer won; every other one got the conflict message naming `says`."""
    winners = [i for i, o in enumerate(outcomes) if o.won]
    assert len(winners) == 1, outcomes
    losers = [o for o in outcomes if not o.won]
    assert len(losers) == len(outcomes) - 1
    assert all(says in o.conflict and "reload" in o.conflict for o in losers), losers
    return winners[0]


def audit_intact(winning_writes: int) -> None:
    report = verify_chain()
    assert report.first_break is None, report.first_break
    assert report.pending == 0
    written = AuditEvent.objects.filter(what__startswith="parallel writer").count()
    assert written == winning_writes


@pytest.fixture
def team():
    clinic = factories.clinic()
    return {
        "clinic": clinic,
        "care_managers": [factories.user(Role.CARE_MANAGER, clinic) for _ in range(WRITERS)],
        "consultants": [
            factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic) for _ in range(WRITERS)
        ],
        "pcp": factories.user(Role.PCP, clinic),
        "billers": [factories.user(Role.BILLING, clinic) for _ in range(WRITERS)],
    }


@pytest.fixture
def enrolled(team):
    episode = factories.episode(
        team["clinic"],
        team["care_managers"][0],
        consent_on=date(2026, 9, 1),
        psychiatric_consultant=team["consultants"][0],
    )
    episode.referring_pcp = team["pcp"]
    episode.save()
    return episode


def fresh_episode(episode_id: int) -> Episode:
    return Episode.objects.select_related("patient", "clinic").get(pk=episode_id)


def test_patient_demographics_edited_at_once_keep_one_edit(enrolled):
    patient_id = enrolled.patient_id

    def load(i):
        return Patient.objects.select_related("organization").get(pk=patient_id)

    def write(i, patient):
        registry.update_patient(patient, patient.version, phone=f"555-010{i}")

    outcomes = race(load, write)

    winner = one_winner(outcomes, "changed by someone else")
    patient = Patient.objects.get(pk=patient_id)
    assert (patient.phone, patient.version) == (f"555-010{winner}", 1)
    audit_intact(1)


def test_a_coverage_ended_at_once_keeps_one_end_date(enrolled):
    patient_id = enrolled.patient_id
    coverage = registry.add_coverage(
        enrolled.patient, payer_kind="medicare", starts_on=date(2020, 1, 1)
    )

    def load(i):
        patient = Patient.objects.select_related("organization").get(pk=patient_id)
        return patient, patient.coverages.get(pk=coverage.pk)

    def write(i, seen):
        patient, loaded = seen
        registry.save_coverage(
            patient, loaded, version=patient.version, ends_on=date(2026, 12, 1 + i)
        )

    outcomes = race(load, write)

    winner = one_winner(outcomes, "changed by someone else")
    coverage.refresh_from_db()
    assert coverage.ends_on == date(2026, 12, 1 + winner)
    assert Patient.objects.get(pk=patient_id).version == 1
    audit_intact(1)


def test_two_users_enrolling_one_patient_enroll_it_once(team):
    referred = factories.episode(team["clinic"], team["care_managers"][0])
    assert referred.status == EpisodeStatus.REFERRED

    def load(i):
        return fresh_episode(referred.id)

    def write(i, episode):
        consent = registry.Consent(
            date(2026, 9, 2 + i),
            "verbal",
            team["care_managers"][i],
            cost_sharing_explained=True,
            psychiatric_consultation_explained=True,
        )
        registry.enroll(
            episode,
            consent=consent,
            on=date(2026, 9, 2 + i),
            by=team["care_managers"][i],
            as_of=TODAY,
            version=episode.version,
        )

    outcomes = race(load, write)

    winner = one_winner(outcomes, "changed by someone else")
    episode = fresh_episode(referred.id)
    # The winner's enrollment and consent, whole: no mix of two users' writes.
    assert (episode.status, episode.enrolled_on, episode.consent_on) == (
        EpisodeStatus.ENROLLED,
        date(2026, 9, 2 + winner),
        date(2026, 9, 2 + winner),
    )
    assert episode.consent_obtained_by == team["care_managers"][winner]
    assert StatusChange.objects.filter(episode=episode, to_status="enrolled").count() == 1
    audit_intact(1)


def test_care_team_changed_at_once_keeps_one_team(enrolled, team):
    def load(i):
        return fresh_episode(enrolled.id)

    def write(i, episode):
        new_team = registry.CareTeam(team["care_managers"][i], team["consultants"][i], team["pcp"])
        return registry.change_care_team(episode, new_team, version=episode.version, by=team["pcp"])

    outcomes = race(load, write)

    winner = one_winner(outcomes, "changed by someone else")
    episode = fresh_episode(enrolled.id)
    assert (episode.care_manager, episode.psychiatric_consultant) == (
        team["care_managers"][winner],
        team["consultants"][winner],
    )
    assert episode.team_changes.count() == outcomes[winner].result
    audit_intact(1)


def logged_contact(episode, by, minutes=20):
    return care.record_contact(
        episode,
        occurred_on=date(2026, 11, 2),
        minutes=minutes,
        mode="phone",
        activity="follow_up",
        staff=by,
        by=by,
        as_of=TODAY,
    )


def test_a_contact_corrected_at_once_keeps_one_correction(enrolled, team):
    contact_id = logged_contact(enrolled, team["care_managers"][0]).id

    def load(i):
        return Contact.objects.select_related("episode").get(pk=contact_id)

    def write(i, contact):
        change = care.ContactChange(
            occurred_on=date(2026, 11, 3), minutes=30 + i, mode="video", activity="follow_up"
        )
        care.edit_contact(contact, change, version=contact.version, as_of=TODAY)

    outcomes = race(load, write)

    winner = one_winner(outcomes, "contact was changed by someone else")
    contact = Contact.objects.get(pk=contact_id)
    assert (contact.minutes, contact.mode, contact.version) == (30 + winner, "video", 1)
    audit_intact(1)


def test_an_assessment_amended_at_once_has_one_newest_version(enrolled, team):
    original = measures.record_assessment(
        enrolled,
        "PHQ-9",
        date(2026, 11, 20),
        [2, 2, 2, 2, 2, 2, 2, 2, 0],
        method="phone",
        by=team["care_managers"][0],
        as_of=TODAY,
    )

    def load(i):
        return Assessment.objects.select_related("episode").get(pk=original.id)

    def write(i, assessment):
        return measures.amend_assessment(
            assessment,
            [1, 1, 1, 1, 1, 1, 1, i, 0],
            taken_on=assessment.taken_on,
            reason=f"item 8 misread by {i}",
            by=team["care_managers"][i],
            as_of=TODAY,
            version=assessment.version,
        )

    outcomes = race(load, write)

    winner = one_winner(outcomes, "assessment was corrected by someone else")
    current = Assessment.objects.filter(episode=enrolled, is_current=True)
    assert [(a.amends_id, a.total) for a in current] == [(original.id, 7 + winner)]
    assert Assessment.objects.filter(episode=enrolled).count() == 2
    audit_intact(1)


def test_two_consultants_reviewing_one_patient_record_one_review(enrolled, team):
    def load(i):
        return fresh_episode(enrolled.id)

    def write(i, episode):
        return care.record_review(
            episode,
            consultant=team["consultants"][i],
            reviewed_on=TODAY,
            minutes=10 + i,
            summary=f"Reviewed by consultant {i}.",
            recommendations=[care.RecommendationInput("start_medication", "sertraline")],
            as_of=TODAY,
            version=episode.version,
        )

    outcomes = race(load, write)

    winner = one_winner(outcomes, "record changed while you were reviewing")
    (review,) = CaseReview.objects.filter(episode=enrolled)
    assert (review.consultant, review.minutes) == (team["consultants"][winner], 10 + winner)
    assert Recommendation.objects.filter(episode=enrolled).count() == 1
    assert Contact.objects.filter(episode=enrolled, activity="caseload_review").count() == 1
    audit_intact(1)


def start_an_ssri(episode, consultant):
    return care.record_review(
        episode,
        consultant=consultant,
        reviewed_on=TODAY,
        minutes=10,
        summary="Start an SSRI.",
        recommendations=[care.RecommendationInput("start_medication", "sertraline")],
        as_of=TODAY,
    )


def test_a_recommendation_answered_at_once_keeps_one_answer(enrolled, team):
    review = start_an_ssri(enrolled, team["consultants"][0])
    (recommendation_id,) = review.recommendations.values_list("id", flat=True)
    answers = ["accepted", "declined", "modified", "declined"]

    def load(i):
        return Recommendation.objects.select_related("episode").get(pk=recommendation_id)

    def write(i, recommendation):
        care.respond(
            recommendation,
            status=answers[i],
            note="" if answers[i] == "accepted" else f"answer {i}",
            by=team["pcp"],
            as_of=TODAY,
            version=recommendation.version,
        )

    outcomes = race(load, write)

    winner = one_winner(outcomes, "answered by someone else")
    recommendation = Recommendation.objects.get(pk=recommendation_id)
    assert (recommendation.status, recommendation.version) == (answers[winner], 1)
    # One answer, so at most one treatment change (none for a decline).
    changes = TreatmentChange.objects.filter(episode=enrolled).count()
    assert changes == (0 if answers[winner] == "declined" else 1)
    audit_intact(1)


@pytest.mark.parametrize("stored_first", [False, True], ids=["first mark", "line stored"])
def test_a_billing_line_marked_at_once_keeps_one_mark(enrolled, team, stored_first):
    ready_october(enrolled, team["care_managers"][0])
    if stored_first:
        (line,) = billing.month_lines(enrolled.clinic.organization, Episode.objects.all(), OCTOBER)
        billing.save_line(line, OCTOBER)
    actions = ["reviewed", "submitted", "reviewed", "submitted"]

    def load(i):
        (line,) = billing.month_lines(enrolled.clinic.organization, Episode.objects.all(), OCTOBER)
        return line

    def write(i, line):
        return billing.mark(line, OCTOBER, action=actions[i], by=team["billers"][i])

    outcomes = race(load, write)

    winner = one_winner(outcomes, "marked by someone else")
    (claim,) = ClaimLine.objects.filter(episode=enrolled, month=str(OCTOBER))
    assert claim.reviewed_by == team["billers"][winner]
    submitted = team["billers"][winner] if actions[winner] == "submitted" else None
    assert claim.submitted_by == submitted
    assert claim.version == 1
    audit_intact(1)


def test_consent_revoked_at_once_is_revoked_once(enrolled, team):
    def load(i):
        return fresh_episode(enrolled.id)

    def write(i, episode):
        registry.revoke_consent(
            episode,
            on=date(2026, 11, 10 + i),
            reason=f"Asked to stop ({i}).",
            by=team["care_managers"][i],
            as_of=TODAY,
            version=episode.version,
        )

    outcomes = race(load, write)

    winner = one_winner(outcomes, "changed by someone else")
    (revocation,) = ConsentRevocation.objects.filter(episode=enrolled)
    assert revocation.revoked_on == date(2026, 11, 10 + winner)
    assert fresh_episode(enrolled.id).consent_revoked_on == date(2026, 11, 10 + winner)
    audit_intact(1)


def test_the_api_answers_the_losing_writer_409_with_the_message(enrolled, team):
    """Through HTTP: two PCP clients answer one recommendation with the version they read."""
    review = start_an_ssri(enrolled, team["consultants"][0])
    (recommendation,) = review.recommendations.all()
    _, token = ApiToken.issue(team["pcp"])
    url = f"/api/v1/recommendations/{recommendation.id}/response"

    def load(i):
        client = Client(headers={"authorization": f"Bearer {token}"})
        seen = client.get("/api/v1/recommendations").json()
        return client, seen[0]["version"]

    def write(i, seen):
        client, version = seen
        body = {"status": "declined", "note": f"not now ({i})", "version": version}
        response = client.post(url, body, content_type="application/json")
        if response.status_code == 409:
            raise EditConflict(response.json()["detail"])
        assert response.status_code == 200, response.content
        return response.json()

    outcomes = race(load, write, n=2)

    winner = one_winner(outcomes, "answered by someone else")
    assert outcomes[winner].result["version"] == 1
    recommendation.refresh_from_db()
    assert recommendation.response_note == f"not now ({winner})"
    report = verify_chain()
    assert report.first_break is None
    # Each request's own audit event (the loser's write and event rolled back).
    assert AuditEvent.objects.filter(what="recommendation", action="update").count() == 1


def suicide_risk_alert(episode, by):
    assessment = measures.record_assessment(
        episode,
        "PHQ-9",
        date(2026, 11, 20),
        [1, 1, 1, 1, 1, 1, 1, 1, 2],
        method="phone",
        by=by,
        as_of=TODAY,
    )
    return SafetyAlert.objects.get(assessment=assessment)


def test_safety_follow_ups_written_at_once_all_stay_and_one_resolution_wins(enrolled, team):
    alert_id = suicide_risk_alert(enrolled, team["care_managers"][0]).id

    def load(i):
        return SafetyAlert.objects.get(pk=alert_id)

    def not_reached(i, alert):
        measures.resolve_alert(
            alert, action="not_reached", note=f"voicemail {i}", by=team["care_managers"][i]
        )

    outcomes = race(load, not_reached)

    assert all(o.won for o in outcomes), outcomes  # nothing to conflict: notes append
    note = SafetyAlert.objects.get(pk=alert_id).note
    assert sorted(line.rsplit(" ", 1)[1] for line in note.splitlines()) == ["0", "1", "2", "3"]

    def resolve(i, alert):
        measures.resolve_alert(
            alert, action="safety_plan", note=f"plan reviewed {i}", by=team["care_managers"][i]
        )

    outcomes = race(load, resolve)

    winner = one_winner(outcomes, "followed up by someone else")
    alert = SafetyAlert.objects.get(pk=alert_id)
    assert alert.resolved_by == team["care_managers"][winner]
    assert alert.note.splitlines()[4:] == [f"plan reviewed {winner}"]
    audit_intact(WRITERS + 1)


def test_a_diagnosis_added_at_once_is_recorded_once(enrolled, team):
    def load(i):
        return fresh_episode(enrolled.id)

    def write(i, episode):
        try:
            registry.add_diagnosis(episode, "F41.1", onset_on=None, by=team["care_managers"][i])
        except InvalidRequest as refusal:
            # PostgreSQL: the unique index refuses the late writers (EditConflict); SQLite's
            # writers take turns, so the late ones find the code already recorded.
            raise EditConflict(refusal.message) from refusal

    outcomes = race(load, write)

    winners = [i for i, o in enumerate(outcomes) if o.won]
    assert len(winners) == 1, outcomes
    assert all("F41.1" in o.conflict and "recorded" in o.conflict for o in outcomes if not o.won)
    (added,) = Diagnosis.objects.filter(episode=enrolled, code="F41.1")
    assert added.recorded_by == team["care_managers"][winners[0]]
    audit_intact(1)


def test_diagnoses_of_different_codes_added_at_once_all_stay(enrolled, team):
    codes = ["F41.1", "F43.10", "F33.1", "F40.10"]

    def write(i, episode):
        registry.add_diagnosis(episode, codes[i], onset_on=None, by=team["care_managers"][i])

    outcomes = race(lambda i: fresh_episode(enrolled.id), write)

    assert all(o.won for o in outcomes), outcomes  # nothing to conflict: diagnoses append
    recorded = set(Diagnosis.objects.filter(episode=enrolled).values_list("code", flat=True))
    assert set(codes) <= recorded
    audit_intact(WRITERS)


@pytest.mark.parametrize("open_first", [False, True], ids=["none open", "one open"])
def test_the_next_contact_set_at_once_keeps_one(enrolled, team, open_first):
    if open_first:
        care.set_follow_up(
            enrolled, due_on=TODAY, what="first", by=team["care_managers"][0], as_of=TODAY
        )

    def load(i):
        episode = fresh_episode(enrolled.id)
        return episode, care.open_follow_up(episode)

    def write(i, seen):
        episode, shown = seen
        return care.set_follow_up(
            episode,
            due_on=date(2026, 12, 10 + i),
            what=f"call {i}",
            by=team["care_managers"][i],
            as_of=TODAY,
            replaces=shown.id if shown else care.NO_FOLLOW_UP,
            version=shown.version if shown else None,
        )

    outcomes = race(load, write)

    winner = one_winner(outcomes, "next contact was set or marked done by someone else")
    (still_open,) = FollowUp.objects.filter(episode=enrolled, done_at__isnull=True)
    assert (still_open.due_on, still_open.what) == (date(2026, 12, 10 + winner), f"call {winner}")
    assert FollowUp.objects.filter(episode=enrolled).count() == (2 if open_first else 1)
    audit_intact(1)


def test_a_follow_up_marked_done_at_once_is_done_once(enrolled, team):
    follow_up = care.set_follow_up(
        enrolled, due_on=TODAY, what="call", by=team["care_managers"][0], as_of=TODAY
    )

    def write(i, loaded):
        care.complete_follow_up(loaded, version=loaded.version)

    outcomes = race(lambda i: FollowUp.objects.get(pk=follow_up.pk), write)

    one_winner(outcomes, "marked done by someone else")
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None
    assert follow_up.version == 1
    audit_intact(1)


@pytest.mark.parametrize("plan_first", [False, True], ids=["first plan", "plan edited"])
def test_a_relapse_plan_written_at_once_keeps_one_plan(enrolled, team, plan_first):
    if plan_first:
        care.save_relapse_plan(
            enrolled,
            warning_signs="Sleep",
            coping_steps="Walk",
            whom_to_call="Clinic",
            by=team["care_managers"][0],
        )

    def load(i):
        episode = fresh_episode(enrolled.id)
        return episode, RelapsePreventionPlan.objects.filter(episode=episode).first()

    def write(i, seen):
        episode, shown = seen
        return care.save_relapse_plan(
            episode,
            warning_signs=f"Sleep ({i})",
            coping_steps=f"Walk ({i})",
            whom_to_call=f"Clinic ({i})",
            by=team["care_managers"][i],
            version=shown.version if shown else None,
        )

    outcomes = race(load, write)

    winner = one_winner(outcomes, "relapse-prevention plan was changed by someone else")
    plan = RelapsePreventionPlan.objects.get(episode=enrolled)
    # The winner's plan, whole: no mix of two users' parts.
    assert (plan.warning_signs, plan.coping_steps, plan.whom_to_call) == (
        f"Sleep ({winner})",
        f"Walk ({winner})",
        f"Clinic ({winner})",
    )
    assert plan.updated_by == team["care_managers"][winner]
    assert plan.version == (1 if plan_first else 0)
    audit_intact(1)


def test_a_guardian_edited_at_once_keeps_one_edit(team):
    teen = factories.patient(team["clinic"].organization, birth_date=date(2012, 6, 1))
    guardian = registry.add_guardian(
        teen,
        registry.GuardianData(name="Maria Lopez", relationship="mother", phone="555-0100"),
        as_of=TODAY,
    )

    def load(i):
        return Guardian.objects.select_related("patient").get(pk=guardian.pk)

    def write(i, loaded):
        data = registry.GuardianData(
            name="Maria Lopez", relationship="mother", phone=f"555-010{i}", legal_authority=i > 1
        )
        registry.update_guardian(loaded, data, as_of=TODAY, version=loaded.version)

    outcomes = race(load, write)

    winner = one_winner(outcomes, "guardian's details were changed by someone else")
    guardian.refresh_from_db()
    assert (guardian.phone, guardian.legal_authority, guardian.version) == (
        f"555-010{winner}",
        winner > 1,
        1,
    )
    audit_intact(1)


def test_the_diagnoses_api_answers_a_second_client_adding_the_same_code(enrolled, team):
    """Through HTTP: two clients add one code at once; one 201, the other refused, never a
    server error: 409 when the inserts overlap (PostgreSQL's unique index), 422 "already
    recorded" when the second reads the first's (SQLite's writers take turns; on PostgreSQL
    the requests' own work before the insert often keeps them apart)."""
    _, token = ApiToken.issue(team["care_managers"][0])
    url = f"/api/v1/episodes/{enrolled.id}/diagnoses"

    def write(i, client):
        response = client.post(url, {"code": "F41.1"}, content_type="application/json")
        if response.status_code in (409, 422):
            raise EditConflict(f"{response.status_code} {response.content.decode()}")
        assert response.status_code == 201, response.content

    outcomes = race(lambda i: Client(headers={"authorization": f"Bearer {token}"}), write, n=2)

    (loser,) = [o for o in outcomes if not o.won]
    statuses = ("409", "422") if connections["default"].vendor == "postgresql" else ("422",)
    assert loser.conflict[:3] in statuses and "F41.1" in loser.conflict, loser
    assert Diagnosis.objects.filter(episode=enrolled, code="F41.1").count() == 1
    assert verify_chain().first_break is None
