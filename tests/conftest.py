import os
from datetime import UTC, datetime

import pytest
import time_machine

from cocm.accounts.models import Role
from tests import factories

# The day the tests' literal dates were written for (`tests/factories.TODAY`), mid-afternoon
# UTC so that it is the same day in every organization's time zone.
TEST_NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Argon2 is the production hasher (tested in tests/accounts); tests log in often.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_sign_in_lockout(settings):
    # django-axes counts failed sign-ins in the database and needs the request in
    # authenticate(); tests/accounts/test_authentication.py turns it on to test lockout.
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def test_clock(request):
    # Pages and services read "today" from the clock; the tests' dates are literal. The
    # browser tests keep the real clock: Chromium judges cookie expiry by its own.
    if "browser" in request.node.path.parts:
        yield
        return
    with time_machine.travel(TEST_NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def force_login_passes_two_factor(monkeypatch):
    """`Client.force_login` skips the password; it skips the one-time code too, with a
    confirmed authenticator, as if the code had been typed (organization admins always need
    one). Signing in through the pages (tests/accounts, the browser tests) asks for it."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cocm.accounts.middleware import must_use_two_factor

    original = Client.force_login

    def force_login(self, user, backend=None):  # type: ignore[no-untyped-def]
        original(self, user, backend)
        if must_use_two_factor(user):
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            device = device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    # Uploaded files (consent scans) go to a directory of the test's own.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def fresh_cache():
    # Rate-limit counters live in the cache; each test starts with none.
    from django.core.cache import cache

    cache.clear()


# --------------------------------------------------------------------------- shared data
# One clinic and its care team, for every test that asks. A module whose clinic must differ
# says how with a marker: `pytestmark = pytest.mark.clinic(name="Main Street")` or
# `pytest.mark.clinic(setting=ClinicSetting.FQHC)`.


@pytest.fixture
def clinic(db, request):
    marker = request.node.get_closest_marker("clinic")
    return factories.clinic(
        **{"name": "Riverside Family Medicine", **(marker.kwargs if marker else {})}
    )


@pytest.fixture
def care_manager(clinic):
    return factories.user(Role.CARE_MANAGER, clinic)


@pytest.fixture
def consultant(clinic):
    return factories.user(Role.PSYCHIATRIC_CONSULTANT, clinic)


@pytest.fixture
def pcp(clinic):
    return factories.user(Role.PCP, clinic)


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test is a failure: the PostgreSQL and browser runs must really run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("COCM_FAIL_ON_SKIP") and skipped:
        reporter.write_line(f"COCM_FAIL_ON_SKIP: {len(skipped)} test(s) skipped", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def billing_months_kept_current(request):
    """After every test that writes to the database: the stored episode-months the month
    close decides from (billing.aggregates) equal a recount from the time entries, so a
    writer of a contact, consent, revocation, coverage or payer rule that does not refresh
    them fails the test that exercises it. A test that leaves them stale on purpose is
    marked `stale_billing_months`."""
    uses_db = request.node.get_closest_marker("django_db") or "db" in request.fixturenames
    transactional = "transactional_db" in request.fixturenames or any(
        marker.kwargs.get("transaction") for marker in request.node.iter_markers("django_db")
    )
    if not uses_db or transactional or request.node.get_closest_marker("stale_billing_months"):
        yield
        return
    request.getfixturevalue("db")  # set up first, so this check runs before its rollback
    yield
    from django.db import connection

    from tests.billing_months import check_billing_months

    if connection.needs_rollback:  # the test ended inside a failed transaction: nothing to read
        return
    check_billing_months()
