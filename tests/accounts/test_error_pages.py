"""Issue 12 item 17: error pages in the product's layout that say what to do instead."""

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from cocm.accounts.models import Role
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing(db):
    return factories.user(Role.BILLING, factories.clinic())


def test_a_refused_page_says_who_it_is_for_and_what_the_role_can_do(client, billing):
    client.force_login(billing)

    response = client.get(reverse("review_agenda"))

    html = response.content.decode()
    assert response.status_code == 403
    assert "This page is not open to your role" in html
    assert "It is for: <strong>Psychiatric consultant</strong>" in html
    assert "(Billing)" in html
    assert f'href="{reverse("billing_home")}">Billing</a>' in html  # what billing can do
    assert 'class="topbar"' in html  # the product's layout, with its menu
    assert "Go to your home page" in html


def test_an_unknown_page_is_a_404_in_the_layout(client, billing):
    client.force_login(billing)

    response = client.get("/no-such-page/")

    html = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing here" in html and 'class="topbar"' in html


def test_a_server_error_is_a_500_in_the_layout(billing, monkeypatch):
    from cocm.care import views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "organization_caseload_rows", broken)
    client = Client(raise_request_exception=False)
    client.force_login(factories.user(Role.PCP, factories.clinic()))

    response = client.get(reverse("pcp_patients"))

    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html
    assert "boom" not in html and "Traceback" not in html


def test_every_page_links_the_favicon_and_the_old_address_redirects_to_it(client, billing):
    client.force_login(billing)

    html = client.get(reverse("patient_search")).content.decode()
    icon = client.get("/favicon.ico")

    assert 'rel="icon" href="/static/cocm/favicon.svg"' in html
    assert icon.status_code == 301 and icon.url == "/static/cocm/favicon.svg"


def test_the_favicon_is_a_static_file_without_script(settings):
    from django.contrib.staticfiles import finders

    path = finders.find("cocm/favicon.svg")

    svg = Path(path).read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "<script" not in svg and "style=" not in svg


def test_the_demo_runs_with_debug_off():
    makefile = Path(__file__).parents[2].joinpath("Makefile").read_text(encoding="utf-8")
    demo = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]

    assert "COCM_DEBUG=0 $(BIN)/cocm serve" in demo
