import os

import pytest


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
def fresh_cache():
    # Rate-limit counters live in the cache; each test starts with none.
    from django.core.cache import cache

    cache.clear()


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test is a failure: the PostgreSQL and browser runs must really run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("COCM_FAIL_ON_SKIP") and skipped:
        reporter.write_line(f"COCM_FAIL_ON_SKIP: {len(skipped)} test(s) skipped", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
