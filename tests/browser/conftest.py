import os

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("COCM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # while it runs are ordinary synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in_with_new_authenticator(page, live_server, username, password):
    """Sign in as a user who must use two-factor sign-in (organization admins) for the first
    time: add the key shown to an "authenticator" (computed here) and type its code."""
    from base64 import b32decode

    from django_otp.oath import TOTP
    from playwright.sync_api import expect

    sign_in(page, live_server, username, password)
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    key = page.locator("code.secret").first.inner_text()
    code = TOTP(b32decode(key + "=" * (-len(key) % 8))).token()
    page.get_by_label("Six-digit code from your authenticator app").fill(f"{code:06d}")
    page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state()
