"""Issue 12: the consultant's, the PCP's and the organization admin's day on the seeded demo
population, asserting what each sees. Screenshots go to test-artifacts/screenshots/."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django_otp.oath import TOTP
from playwright.sync_api import expect

from cocm.accounts.models import User
from cocm.care import services as care
from cocm.care.models import CaseReview, Recommendation
from cocm.population import DEMO_PASSWORD
from cocm.registry.models import Episode
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
WIDTH = 1280


@pytest.fixture
def demo(db):
    call_command("seed", "--patients", "40", "--seed", "5", verbosity=0)
    return {u.username: u for u in User.objects.filter(organization__name="Demo Health")}


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_consultants_day_agenda_review_recommendation_next_patient(page, live_server, demo):
    sign_in(page, live_server, "consultant", DEMO_PASSWORD)
    page.get_by_role("link", name="Caseload review").click()
    rows = page.locator("tbody tr")
    first_name = rows.nth(0).locator("td").nth(0).inner_text()
    second_name = rows.nth(1).locator("td").nth(0).inner_text()
    expect(page.get_by_role("heading", name="Caseload review agenda")).to_be_visible()
    assert "[I]" not in page.content()
    shot(page, "consultant-agenda")

    rows.nth(0).get_by_role("link", name="Review").click()

    expect(page.get_by_role("heading", name=f"Review: {first_name}")).to_be_visible()
    expect(page.get_by_text("Patient 1 of")).to_be_visible()
    expect(page.get_by_role("link", name=f"Next patient: {second_name}")).to_be_visible()
    expect(page.get_by_role("heading", name="Why this patient is on the agenda")).to_be_visible()
    expect(page.locator("figure.review-trajectory svg").first).to_be_visible()
    chart_width = page.locator("figure.review-trajectory svg").first.bounding_box()["width"]
    assert chart_width > 800  # full size, not a thumbnail
    expect(page.get_by_role("heading", name="PHQ-9 item answers")).to_be_visible()
    expect(page.locator("table.items tr.safety-item").first).to_contain_text("(safety item)")
    expect(page.get_by_role("heading", name="Medications and treatment")).to_be_visible()
    expect(
        page.get_by_role("heading", name="Earlier recommendations and the PCP's answers")
    ).to_be_visible()
    expect(page.locator("p.contact-summary")).to_contain_text("minutes")
    content = page.content()
    assert "[I]" not in content and "always listed first" not in content
    shot(page, "consultant-review")

    page.get_by_label("Summary").fill("Partial response; increase the dose.")
    page.locator("select[name=rec-0-kind]").select_option("")
    page.locator("input[name=rec-0-text]").fill("Add behavioural activation")
    page.get_by_role("button", name=re.compile("^Save review")).click()
    expect(page.get_by_text("Choose the type of this recommendation")).to_be_visible()
    page.locator("select[name=rec-0-kind]").select_option("psychotherapy")
    page.get_by_role("button", name=re.compile("^Save review")).click()

    saved = f"Review of {first_name} recorded with 1 recommendation."
    expect(page.get_by_text(saved)).to_be_visible()
    expect(page.get_by_role("heading", name=f"Review: {second_name}")).to_be_visible()
    expect(page.get_by_text("Patient 2 of")).to_be_visible()
    recommendation = Recommendation.objects.order_by("-id").first()
    assert recommendation.text == "Add behavioural activation"
    assert recommendation.kind == "psychotherapy"


def test_the_pcps_day_scores_and_trend_then_a_whole_review_answered(page, live_server, demo):
    pcp, consultant = demo["pcp"], demo["consultant"]
    episode = (
        Episode.objects.filter(referring_pcp=pcp, status__in=["enrolled", "active"])
        .exclude(assessments=None)
        .select_related("patient")
        .first()
    )
    review = care.record_review(
        episode,
        consultant=consultant,
        reviewed_on=pcp.organization.today(),
        minutes=10,
        summary="Not at target; change the SSRI and add therapy.",
        recommendations=[
            care.RecommendationInput("change_medication", "sertraline", "100 mg daily"),
            care.RecommendationInput("psychotherapy", text="Problem-solving therapy weekly"),
        ],
        as_of=pcp.organization.today(),
        confirm_same_day=True,
    )
    name = str(episode.patient)

    sign_in(page, live_server, "pcp", DEMO_PASSWORD)

    expect(page.get_by_role("heading", name="My referred patients")).to_be_visible()
    row = page.get_by_role("row", name=re.compile(re.escape(name)))
    expect(row).to_contain_text("PHQ-9")
    expect(row).to_contain_text("→")
    expect(row.get_by_role("link", name=re.compile(r"^Answer \d"))).to_be_visible()
    content = page.content()
    assert "to next code" not in content and "99492" not in content
    shot(page, "pcp-landing")

    page.goto(f"{live_server.url}/recommendations/reviews/{review.id}/")
    expect(page.get_by_role("heading", name=f"Recommendations for {name}")).to_be_visible()
    expect(page.get_by_text(re.compile(r"PHQ-9 latest \d+, first \d+"))).to_be_visible()
    fieldsets = page.locator("fieldset.rec-answer")
    expect(fieldsets).to_have_count(2)
    shot(page, "pcp-answer-review")
    fieldsets.nth(0).get_by_label("Accepted", exact=True).check()
    fieldsets.nth(1).get_by_label("Declined", exact=True).check()
    fieldsets.nth(1).get_by_label(re.compile("^Note")).fill("Patient prefers group therapy")
    page.get_by_role("button", name="Send answers").click()

    expect(page.get_by_text(f"2 answers sent for {name}.")).to_be_visible()
    statuses = set(CaseReview.objects.get(id=review.id).recommendations.values_list("status"))
    assert statuses == {("accepted",), ("declined",)}


def test_the_organization_admins_day_code_audit_log_admin_and_refusals(page, live_server, demo):
    sign_in(page, live_server, "orgadmin", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    key = page.locator("code.secret").first.inner_text()
    from base64 import b32decode

    code = TOTP(b32decode(key + "=" * (-len(key) % 8))).token()
    page.get_by_label("Six-digit code from your authenticator app").fill(f"{code:06d}")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Demo Health")).to_be_visible()
    shot(page, "orgadmin-organization")

    # A chart opened by the admin (non-clinical) puts the patient's name on the audit log.
    patient = Episode.objects.filter(status="active").select_related("patient").first().patient
    page.goto(f"{live_server.url}/patients/{patient.id}/")
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    assert "PHQ-9" not in page.locator("main").inner_text()
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("cell", name=f"{patient} ({patient.mrn})").first).to_be_visible()
    page.get_by_label("Patient (name or MRN)").fill(f"{patient.given_name} {patient.family_name}")
    page.get_by_label("Action").select_option("view")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.audit-log tbody tr")
    expect(rows.first).to_contain_text(f"{patient} ({patient.mrn})")
    assert patient.family_name not in page.url and patient.mrn not in page.url
    assert all(
        f"{patient} ({patient.mrn})" in text and "View" in text for text in rows.all_inner_texts()
    )
    shot(page, "orgadmin-audit-log")

    page.goto(f"{live_server.url}/admin/")
    expect(page.get_by_role("link", name="Billing settings")).to_be_visible()
    expect(page.get_by_role("link", name="Care settings")).to_be_visible()
    assert "settingss" not in page.content().lower()
    page.goto(f"{live_server.url}/admin/accounts/user/{demo['caremanager'].id}/change/")
    expect(page.get_by_label("Active")).to_be_visible()
    assert "Superuser status" not in page.content()
    assert "Can add" not in page.content()
    shot(page, "orgadmin-admin-user")

    page.goto(f"{live_server.url}/review/")
    expect(page.get_by_role("heading", name="This page is not open to your role")).to_be_visible()
    expect(page.get_by_text("It is for: Psychiatric consultant.")).to_be_visible()
    expect(page.locator("ul.can-do").get_by_role("link", name="Audit log")).to_be_visible()
    page.get_by_role("link", name="Go to your home page").click()
    expect(page.get_by_role("heading", name="Demo Health")).to_be_visible()
    page.goto(f"{live_server.url}/review/")
    shot(page, "forbidden-page")


def test_ten_thousand_unbroken_characters_wrap_on_every_page_that_shows_them(
    browser, live_server, demo
):
    care_manager, consultant = demo["caremanager"], demo["consultant"]
    episode = (
        Episode.objects.filter(care_manager=care_manager, psychiatric_consultant=consultant)
        .filter(status__in=["enrolled", "active"])
        .first()
    )
    today = care_manager.organization.today()
    care.record_contact(
        episode,
        occurred_on=today,
        minutes=20,
        mode="phone",
        activity="follow_up",
        staff=care_manager,
        by=care_manager,
        as_of=today,
        note="x" * 10_000,
    )
    care.request_review(episode, reason="y" * 300, by=care_manager)
    care.record_review(
        episode,
        consultant=consultant,
        reviewed_on=today,
        minutes=10,
        summary="z" * 5000,
        recommendations=[care.RecommendationInput("other", text="w" * 500)],
        as_of=today,
        confirm_same_day=True,
    )
    pages = {
        "chart": ("caremanager", f"/patients/{episode.patient_id}/"),
        "review": ("consultant", f"/review/episodes/{episode.id}/"),
        "inbox": (episode.referring_pcp.username, "/recommendations/"),
    }
    widths = {}

    for name, (username, path) in pages.items():
        context = browser.new_context(viewport={"width": WIDTH, "height": 900})
        page = context.new_page()
        sign_in(page, live_server, username, DEMO_PASSWORD)
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("main")).to_contain_text("x" * 40 if name == "chart" else "w" * 40)
        widths[name] = page_width(page)
        shot(page, f"long-text-{name}")
        context.close()

    assert widths == dict.fromkeys(pages, WIDTH)
