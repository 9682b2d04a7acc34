import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import cocm.settings as product_settings
from cocm.accounts.models import AuditEvent, Role
from tests import factories

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def carla(clinic):
    return factories.user(Role.CARE_MANAGER, clinic, username="carla", password=PASSWORD)


@pytest.fixture
def lockout(settings):
    settings.AXES_ENABLED = True


def sign_in(client, password=PASSWORD, address="192.0.2.10"):
    return client.post(
        reverse("login"), {"username": "carla", "password": password}, REMOTE_ADDR=address
    )


def test_it_stores_passwords_as_argon2_hashes(settings):
    settings.PASSWORD_HASHERS = product_settings.PASSWORD_HASHERS

    user = factories.user(Role.PCP, password=PASSWORD)

    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("password", ["short1!", "password1234", "123456789012345"])
def test_the_password_policy_refuses_short_common_and_numeric_passwords(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_the_password_policy_accepts_a_long_pass_phrase():
    validate_password("violet tractor across the ridge")


def test_it_locks_sign_in_after_five_failures_even_with_the_right_password(client, carla, lockout):
    statuses = [sign_in(client, password="wrong guess").status_code for _ in range(5)]

    response = sign_in(client)

    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure locks

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "locked for 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_lockout_holds_only_for_that_username_and_address(client, carla, lockout):
    for _ in range(5):
        sign_in(client, password="wrong guess")

    response = sign_in(Client(), address="198.51.100.7")

    assert response.status_code == 302


def test_a_lockout_ends_after_the_cool_off(client, carla, lockout):
    for _ in range(5):
        sign_in(client, password="wrong guess")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    response = sign_in(client)

    assert response.status_code == 302
    assert response.url == reverse("home")


def test_it_audits_sign_in_failure_and_sign_out(client, carla):
    sign_in(client, password="wrong guess")
    sign_in(client)
    client.post(reverse("logout"))

    actions = list(AuditEvent.objects.order_by("id").values_list("action", "user_id"))

    assert actions == [
        ("sign_in_failed", carla.id),
        ("sign_in", carla.id),
        ("sign_out", carla.id),
    ]


def test_it_signs_out_after_fifteen_idle_minutes(client, carla):
    client.force_login(carla)
    assert client.get(reverse("caseload")).status_code == 200
    session = client.session
    session["last_activity"] = time.time() - 15 * 60 - 1
    session.save()

    response = client.get(reverse("caseload"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert client.get(reverse("caseload")).status_code == 302
    assert AuditEvent.objects.filter(
        action="sign_out", what="automatic sign-out after inactivity", user=carla
    ).exists()


def test_the_notification_poll_does_not_keep_an_idle_session_alive(client, carla):
    client.force_login(carla)
    client.get(reverse("caseload"))
    session = client.session
    idle_since = time.time() - 10 * 60
    session["last_activity"] = idle_since
    session.save()

    client.get(reverse("notification_badge"), HTTP_HX_REQUEST="true")

    assert client.session["last_activity"] == idle_since


def test_an_idle_htmx_request_is_sent_to_sign_in(client, carla):
    client.force_login(carla)
    client.get(reverse("caseload"))
    session = client.session
    session["last_activity"] = time.time() - 16 * 60
    session.save()

    response = client.get(reverse("notification_badge"), HTTP_HX_REQUEST="true")

    assert response.headers["HX-Redirect"] == reverse("login")


def test_session_and_csrf_cookies_are_http_only_and_same_site(client, carla):
    response = sign_in(client)

    session_cookie = response.cookies["sessionid"]
    assert session_cookie["httponly"] is True
    assert session_cookie["samesite"] == "Lax"
    csrf_cookie = (
        client.get(reverse("login")).cookies.get("csrftoken") or client.cookies["csrftoken"]
    )
    assert csrf_cookie["httponly"] is True


def test_a_form_post_without_its_csrf_token_is_refused(carla):
    client = Client(enforce_csrf_checks=True)
    client.force_login(carla)

    response = client.post(reverse("patient_search"), {"query": "Rivera"})

    assert response.status_code == 403


def test_pages_carry_a_content_security_policy_without_inline_script(client):
    response = client.get(reverse("login"))

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_production_settings_turn_on_hsts_and_secure_cookies():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        COCM_MODE="production",
        COCM_SECRET_KEY="s" * 20 + "-production-secret-key-for-tests-only-0123456789",
        COCM_ALLOWED_HOSTS="registry.example.org",
    )
    code = (
        "import cocm.settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT)"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )

    assert result.stdout.split() == ["31536000", "True", "True", "True"]
