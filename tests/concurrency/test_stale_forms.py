"""A page or API client that read a record before someone else saved it gets the conflict,
with the message on the form (pages) or a 409 (API), and the other user's save stays."""

from datetime import date

import pytest
from django.urls import reverse

from cocm.accounts.models import ApiToken, AuditEvent, Role
from cocm.billing.models import ClaimLine
from cocm.care import services as care
from cocm.care.models import FollowUp, Recommendation, RelapsePreventionPlan
from cocm.measures import services as measures
from cocm.measures.models import Assessment
from cocm.registry import services as registry
from cocm.registry.models import Guardian
from tests import factories
from tests.concurrency.months import ready_october

pytestmark = pytest.mark.django_db
TODAY = factories.TODAY
CONFLICT = "by someone else"


@pytest.fixture
def contact(episode, care_manager):
    return care.record_contact(
        episode,
        occurred_on=date(2026, 11, 2),
        minutes=20,
        mode="phone",
        activity="follow_up",
        staff=care_manager,
        by=care_manager,
        as_of=TODAY,
    )


def contact_form(contact, **changes):
    return {
        "occurred_on": "2026-11-02",
        "minutes": 20,
        "mode": "phone",
        "activity": "follow_up",
        "role": "care_manager",
        "version": contact.version,
        **changes,
    }


def test_the_contact_page_corrects_with_the_version_it_showed(client, contact, care_manager):
    client.force_login(care_manager)
    url = reverse("edit_contact", args=[contact.id])
    chart = client.get(reverse("patient_chart", args=[contact.episode.patient_id]))
    assert f'href="{url}"' in chart.content.decode()
    page = client.get(url)
    assert 'name="version" value="0"' in page.content.decode()

    client.post(url, contact_form(contact, minutes=25))

    contact.refresh_from_db()
    assert (contact.minutes, contact.version) == (25, 1)
    assert AuditEvent.objects.filter(what="contact", action="update").count() == 1


def test_a_stale_contact_form_shows_the_conflict_and_keeps_the_other_edit(
    client, contact, care_manager
):
    stale = contact_form(contact, minutes=50)
    change = care.ContactChange(date(2026, 11, 2), 30, "phone", "follow_up")
    care.edit_contact(contact, change, version=0, as_of=TODAY)
    client.force_login(care_manager)

    response = client.post(reverse("edit_contact", args=[contact.id]), stale)

    assert response.status_code == 200
    assert CONFLICT in response.context["form"].non_field_errors()[0]
    contact.refresh_from_db()
    assert (contact.minutes, contact.version) == (30, 1)


def test_a_review_contact_cannot_be_edited_here(episode, consultant):
    review = care.record_review(
        episode,
        consultant=consultant,
        reviewed_on=TODAY,
        minutes=10,
        summary="Stable.",
        recommendations=[],
        as_of=TODAY,
    )
    change = care.ContactChange(TODAY, 60, "video", "caseload_review")
    with pytest.raises(care.InvalidRequest, match="caseload review") as error:
        care.edit_contact(review.contact, change, version=review.contact.version, as_of=TODAY)
    assert error.value.field == "contact"


def test_the_contacts_api_corrects_with_the_version_and_answers_409(client, contact, care_manager):
    _, token = ApiToken.issue(care_manager)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    body = {
        "occurred_on": "2026-11-02",
        "minutes": 35,
        "mode": "video",
        "activity": "follow_up",
        "version": 0,
    }

    edited = client.put(f"/api/v1/contacts/{contact.id}", body, content_type="application/json")
    stale = client.put(f"/api/v1/contacts/{contact.id}", body, content_type="application/json")
    unversioned = client.put(
        f"/api/v1/contacts/{contact.id}",
        {k: v for k, v in body.items() if k != "version"},
        content_type="application/json",
    )

    assert (edited.status_code, edited.json()["minutes"], edited.json()["version"]) == (200, 35, 1)
    assert stale.status_code == 409
    assert CONFLICT in stale.json()["detail"]
    assert unversioned.status_code == 422
    assert "version" in str(unversioned.json()["detail"])
    contact.refresh_from_db()
    assert (contact.minutes, contact.mode, contact.version) == (35, "video", 1)


def test_a_stale_enrollment_form_shows_the_conflict(client, clinic, care_manager):
    referred = factories.episode(clinic, care_manager)
    stale_version = referred.version
    registry.change_care_team(
        referred,
        registry.CareTeam(care_manager, None, None),
        version=stale_version,
        by=care_manager,
    )
    client.force_login(care_manager)

    response = client.post(
        reverse("enroll_patient", args=[referred.id]),
        {
            "enrolled_on": "2026-11-20",
            "consent_on": "2026-11-20",
            "consent_method": "verbal",
            "consent_cost_sharing_explained": "on",
            "consent_psychiatric_consultation_explained": "on",
            "care_manager": care_manager.id,
            "version": stale_version,
        },
    )

    assert response.status_code == 200
    assert CONFLICT in response.context["form"].non_field_errors()[0]
    referred.refresh_from_db()
    assert (referred.status, referred.consent_on) == ("referred", None)


def test_a_stale_amendment_form_shows_the_conflict(client, episode, care_manager):
    original = measures.record_assessment(
        episode,
        "PHQ-9",
        date(2026, 11, 20),
        [1] * 9,
        method="in_clinic",
        by=care_manager,
        as_of=TODAY,
    )
    client.force_login(care_manager)
    form = {
        "taken_on": "2026-11-20",
        "method": "in_clinic",
        "reason": "misread",
        "version": 0,
        **{f"item_{n}": 2 for n in range(1, 10)},
    }
    url = reverse("amend_assessment", args=[original.id])
    client.post(url, form)

    response = client.post(url, {**form, "reason": "misread again"})

    assert CONFLICT in response.context["form"].non_field_errors()[0]
    assert Assessment.objects.filter(episode=episode).count() == 2


def test_a_stale_review_form_shows_the_conflict(client, episode, consultant, care_manager):
    stale = episode.version
    registry.change_care_team(
        episode, registry.CareTeam(care_manager, consultant, None), version=stale, by=consultant
    )
    client.force_login(consultant)

    response = client.post(
        reverse("review_patient", args=[episode.id]),
        {
            "reviewed_on": "2026-11-23",
            "minutes": 10,
            "summary": "Stable.",
            "version": stale,
            "rec-TOTAL_FORMS": 0,
            "rec-INITIAL_FORMS": 0,
        },
    )

    assert "changed while you were reviewing" in response.context["form"].non_field_errors()[0]
    assert not episode.reviews.exists()


def test_a_stale_answer_on_the_review_page_shows_the_conflict(client, episode, consultant, pcp):
    review = care.record_review(
        episode,
        consultant=consultant,
        reviewed_on=TODAY,
        minutes=10,
        summary="Start an SSRI.",
        recommendations=[care.RecommendationInput("start_medication", "sertraline")],
        as_of=TODAY,
    )
    (recommendation,) = review.recommendations.all()
    client.force_login(pcp)
    prefix = f"rec{recommendation.id}"
    # The PCP's other tab answered; this page still shows version 0 (bumped behind its back).
    Recommendation.objects.filter(pk=recommendation.pk).update(version=1)

    response = client.post(
        reverse("answer_review", args=[review.id]),
        {f"{prefix}-status": "accepted", f"{prefix}-version": 0},
    )

    ((_, form),) = response.context["form"].answers
    assert "answered by someone else" in form.non_field_errors()[0]
    assert "answered by someone else" in response.content.decode()
    recommendation.refresh_from_db()
    assert recommendation.status == "pending"


def test_a_stale_billing_line_shows_the_conflict_in_its_row(client, clinic, episode, care_manager):
    ready_october(episode, care_manager)
    biller, other = (factories.user(Role.BILLING, clinic) for _ in range(2))
    url = reverse("mark_line", args=["2026-10", episode.id])
    client.force_login(other)
    client.post(url, {"action": "reviewed", "version": 0}, HTTP_HX_REQUEST="true")
    client.force_login(biller)

    # This biller's page still shows the line as it was before the other's mark.
    response = client.post(url, {"action": "submitted", "version": 0}, HTTP_HX_REQUEST="true")

    assert "marked by someone else" in response.content.decode()
    assert 'name="version" value="1"' in response.content.decode()  # the row as it is now
    claim = ClaimLine.objects.get(episode=episode, month="2026-10")
    assert (claim.reviewed_by, claim.submitted_by, claim.version) == (other, None, 1)


def test_the_chart_sets_the_next_contact_with_the_one_it_showed(client, episode, care_manager):
    care.set_follow_up(episode, due_on=TODAY, what="first", by=care_manager, as_of=TODAY)
    client.force_login(care_manager)
    chart = client.get(reverse("patient_chart", args=[episode.patient_id])).content.decode()
    (shown,) = FollowUp.objects.filter(episode=episode)
    assert f'name="replaces" value="{shown.id}"' in chart
    assert 'name="version" value="0"' in chart

    client.post(
        reverse("set_follow_up", args=[episode.id]),
        {"due_on": "2026-12-10", "what": "second", "replaces": shown.id, "version": 0},
    )

    (still_open,) = FollowUp.objects.filter(episode=episode, done_at__isnull=True)
    assert still_open.what == "second"


def test_a_stale_next_contact_form_shows_the_conflict_and_keeps_the_other(
    client, episode, care_manager
):
    client.force_login(care_manager)
    # This chart showed no next contact; another user set one since.
    care.set_follow_up(episode, due_on=TODAY, what="theirs", by=care_manager, as_of=TODAY)

    response = client.post(
        reverse("set_follow_up", args=[episode.id]),
        {"due_on": "2026-12-10", "what": "mine", "replaces": 0},
        follow=True,
    )

    assert "next contact was set or marked done by someone else" in response.content.decode()
    (still_open,) = FollowUp.objects.filter(episode=episode, done_at__isnull=True)
    assert still_open.what == "theirs"


def test_a_follow_up_done_from_a_stale_task_list_shows_the_conflict(client, episode, care_manager):
    follow_up = care.set_follow_up(episode, due_on=TODAY, what="", by=care_manager, as_of=TODAY)
    client.force_login(care_manager)
    tasks = client.get(reverse("tasks")).content.decode()
    assert 'name="version" value="0"' in tasks
    # A contact logged meanwhile made it done.
    care.record_contact(
        episode,
        occurred_on=TODAY,
        minutes=10,
        mode="phone",
        activity="follow_up",
        staff=care_manager,
        by=care_manager,
        as_of=TODAY,
    )

    response = client.post(
        reverse("complete_follow_up", args=[follow_up.id]), {"version": 0}, follow=True
    )

    assert "marked done by someone else" in response.content.decode()
    assert not AuditEvent.objects.filter(what="follow-up", action="update").exists()


def plan_form(**changes):
    return {"warning_signs": "Sleep", "coping_steps": "Walk", "whom_to_call": "Clinic", **changes}


def test_the_relapse_plan_page_edits_with_the_version_it_showed(client, episode, care_manager):
    client.force_login(care_manager)
    url = reverse("relapse_plan", args=[episode.id])
    client.post(url, plan_form())
    page = client.get(url).content.decode()
    assert 'name="version" value="0"' in page

    client.post(url, plan_form(coping_steps="Call a friend", version=0))

    plan = RelapsePreventionPlan.objects.get(episode=episode)
    assert (plan.coping_steps, plan.version) == ("Call a friend", 1)


@pytest.mark.parametrize("seen", ["no plan", "version 0"])
def test_a_stale_relapse_plan_form_shows_the_conflict_and_keeps_the_other(
    client, episode, care_manager, seen
):
    if seen == "version 0":
        care.save_relapse_plan(
            episode, warning_signs="A", coping_steps="B", whom_to_call="C", by=care_manager
        )
    stale = plan_form(version="" if seen == "no plan" else 0)
    # Saved by someone else after this page was shown.
    plan = RelapsePreventionPlan.objects.filter(episode=episode).first()
    care.save_relapse_plan(
        episode,
        warning_signs="Theirs",
        coping_steps="Theirs",
        whom_to_call="Theirs",
        by=care_manager,
        version=plan.version if plan else None,
    )
    client.force_login(care_manager)

    response = client.post(reverse("relapse_plan", args=[episode.id]), stale)

    assert response.status_code == 200
    error = response.context["form"].non_field_errors()[0]
    assert "relapse-prevention plan was changed by someone else" in error
    assert error in response.content.decode()
    assert RelapsePreventionPlan.objects.get(episode=episode).warning_signs == "Theirs"


def guardian_form(**changes):
    return {"name": "Maria Lopez", "relationship": "mother", "phone": "555-0100", **changes}


@pytest.fixture
def guardian(clinic):
    teen = factories.patient(clinic.organization, birth_date=date(2012, 6, 1))
    data = registry.GuardianData(name="Maria Lopez", relationship="mother", phone="555-0100")
    return registry.add_guardian(teen, data, as_of=TODAY)


def test_a_stale_guardian_form_shows_the_conflict_and_keeps_the_other_edit(
    client, guardian, care_manager
):
    client.force_login(care_manager)
    url = reverse("edit_guardian", args=[guardian.id])
    assert 'name="version" value="0"' in client.get(url).content.decode()
    client.post(url, guardian_form(phone="555-0111", version=0))

    response = client.post(url, guardian_form(phone="555-0199", version=0))

    assert response.status_code == 200
    error = response.context["form"].non_field_errors()[0]
    assert "guardian's details were changed by someone else" in error
    guardian.refresh_from_db()
    assert (guardian.phone, guardian.version) == ("555-0111", 1)


def test_a_bad_guardian_email_is_refused_alike_on_the_page_and_in_the_api(
    client, guardian, care_manager
):
    client.force_login(care_manager)
    _, token = ApiToken.issue(care_manager)
    bad = "maria@@example"

    page = client.post(
        reverse("add_guardian", args=[guardian.patient_id]), guardian_form(email=bad)
    )
    edit = client.post(
        reverse("edit_guardian", args=[guardian.id]), guardian_form(email=bad, version=0)
    )
    api = client.post(
        f"/api/v1/patients/{guardian.patient_id}/guardians",
        guardian_form(email=bad),
        content_type="application/json",
        headers={"authorization": f"Bearer {token}"},
    )

    assert page.context["form"].errors["email"] == ["Enter a valid email address."]
    assert edit.context["form"].errors["email"] == ["Enter a valid email address."]
    assert api.status_code == 422
    assert api.json()["detail"] == [
        {"loc": ["body", "email"], "msg": "Enter a valid email address."}
    ]
    assert Guardian.objects.count() == 1
    guardian.refresh_from_db()
    assert guardian.email == ""
