import os
import subprocess
import sys
import time
import urllib.request
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from cocm.accounts.models import ApiToken, Clinic, User
from cocm.registry.models import Episode, Patient

SECRET = "x" * 20 + "-production-secret-key-for-tests-only-0123456789"


def clean_environment(**overrides):
    """The test process's environment without what the browser tests set for themselves."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {**env, **overrides}


def run_cocm(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "cocm.cli", *args],
        env=clean_environment(**(env or {})),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db
def test_seed_creates_the_demo_organization_with_every_role():
    out = StringIO()

    call_command("seed", "--patients", "0", stdout=out)

    assert set(Clinic.objects.values_list("setting", flat=True)) >= {"practice", "fqhc"}
    for username in ("caremanager", "consultant", "pcp", "billing", "orgadmin"):
        user = User.objects.get(username=username)
        assert user.check_password("cocm-demo-2026!")
        assert user.clinic_ids == frozenset(Clinic.objects.values_list("id", flat=True))
    assert "password: cocm-demo-2026!" in out.getvalue()
    assert not Patient.objects.exists()


class Rollback(Exception):
    pass


def seeded_population():
    call_command("seed", "--patients", "60", "--seed", "7", "--as-of", "2026-11-23", verbosity=0)
    return (
        list(Patient.objects.order_by("mrn").values_list("mrn", "family_name", "birth_date")),
        list(Episode.objects.order_by("patient__mrn").values_list("status", "referred_on")),
    )


@pytest.mark.django_db
def test_seed_is_deterministic_for_a_seed_and_date():
    with pytest.raises(Rollback), transaction.atomic():
        first = seeded_population()
        raise Rollback

    second = seeded_population()

    assert second == first
    assert len(first[0]) == 60


@pytest.mark.django_db
def test_seeded_episodes_respect_the_episode_rules():
    call_command("seed", "--patients", "200", "--as-of", "2026-11-23", verbosity=0)

    statuses = set(Episode.objects.values_list("status", flat=True))
    assert {"active", "discharged", "referred"} <= statuses
    for episode in Episode.objects.exclude(status__in=["referred"]).exclude(enrolled_on=None):
        assert episode.consent_on <= episode.enrolled_on
        assert episode.diagnoses.exists()
        assert episode.referred_on <= episode.enrolled_on <= date(2026, 11, 23)
    assert Episode.objects.filter(care_manager__username="caremanager").exists()


@pytest.mark.django_db
def test_seed_refuses_production(settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="refuses to run in production"):
        call_command("seed", "--patients", "0")


@pytest.mark.django_db
def test_token_create_prints_a_token_that_authenticates(client):
    call_command("seed", "--patients", "0", verbosity=0)
    out = StringIO()

    call_command("token", "create", "caremanager", stdout=out)

    raw = out.getvalue().strip()
    response = client.get("/api/v1/clinics", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert ApiToken.objects.get().digest != raw


@pytest.mark.django_db
def test_token_revoke_stops_the_token(client):
    call_command("seed", "--patients", "0", verbosity=0)
    out = StringIO()
    call_command("token", "create", "caremanager", stdout=out)
    raw = out.getvalue().strip()

    call_command("token", "revoke", raw[:8], stdout=StringIO())

    response = client.get("/api/v1/clinics", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401


def test_production_mode_refuses_the_default_secret_key():
    result = run_cocm(
        "check",
        env={
            "COCM_MODE": "production",
            "COCM_SECRET_KEY": "",
            "COCM_ALLOWED_HOSTS": "registry.example.org",
        },
    )

    assert result.returncode != 0
    assert "COCM_SECRET_KEY must be set" in result.stderr


def test_production_mode_refuses_debug():
    result = run_cocm(
        "check",
        env={
            "COCM_MODE": "production",
            "COCM_SECRET_KEY": SECRET,
            "COCM_DEBUG": "1",
            "COCM_ALLOWED_HOSTS": "x.example.org",
        },
    )

    assert result.returncode != 0
    assert "COCM_DEBUG must be off" in result.stderr


def test_production_settings_pass_the_deployment_checks():
    result = run_cocm(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "COCM_MODE": "production",
            "COCM_SECRET_KEY": SECRET,
            "COCM_ALLOWED_HOSTS": "registry.example.org",
        },
    )

    assert result.returncode == 0, result.stderr


def test_the_console_script_runs_django_commands():
    result = run_cocm("help", "seed")

    assert result.returncode == 0
    assert "--patients" in result.stdout


def test_serve_production_runs_gunicorn_with_static_files(tmp_path):
    port = 18000 + os.getpid() % 1000
    env = clean_environment(
        COCM_MODE="production",
        COCM_SECRET_KEY=SECRET,
        COCM_ALLOWED_HOSTS="127.0.0.1",
        COCM_SSL_REDIRECT="0",
        COCM_STATIC_ROOT=str(tmp_path / "static"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cocm.cli",
            "serve",
            "--production",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        login = wait_for(f"http://127.0.0.1:{port}/login/")
        stylesheet = urllib.request.urlopen(f"http://127.0.0.1:{port}/static/cocm/site.css")

        assert login.status == 200
        assert login.headers["Server"] == "gunicorn"
        assert "Secure" in login.headers["Set-Cookie"]
        assert stylesheet.status == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stderr.close()


def wait_for(url, seconds=90):
    deadline = time.monotonic() + seconds
    while True:
        try:
            return urllib.request.urlopen(url)  # noqa: S310 - a loopback URL built above
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.django_db
def test_seeded_assessments_score_as_the_domain_scores_them():
    from cocm.domain.instruments import score
    from cocm.measures.models import Assessment, SafetyAlert

    call_command("seed", "--patients", "300", "--seed", "3", "--as-of", "2026-11-23", verbosity=0)

    assessments = list(Assessment.objects.select_related("episode"))
    assert len(assessments) > 300
    for assessment in assessments:
        expected = score(assessment.instrument, assessment.answers)
        assert (assessment.total, assessment.severity) == (expected.total, expected.severity)
        assert assessment.episode.enrolled_on <= assessment.taken_on <= date(2026, 11, 23)
        assert assessment.flags == list(expected.flags)
    flagged = {a.id for a in assessments if "safety" in a.flags}
    assert set(SafetyAlert.objects.values_list("assessment_id", flat=True)) == flagged


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("COCM_SELF_REPORT_DAYS", "four"),
        ("COCM_SESSION_IDLE_MINUTES", "0"),
        ("COCM_DEBUG", "maybe"),
        ("COCM_MODE", "staging"),
        ("COCM_REMISSION_CUTOFF", "40"),
    ],
)
def test_a_bad_environment_value_stops_start_up_naming_the_variable(variable, value):
    result = run_cocm("check", env={variable: value})

    assert result.returncode != 0
    assert result.stderr.startswith(f'cocm: configuration error: Environment variable "{variable}"')
    assert "Traceback" not in result.stderr
