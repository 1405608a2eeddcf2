"""Browser tests: Debian's chromium, driven by Playwright, against a real Herald on loopback (pytest-django's
`live_server`).

    from herald.testing.browser import screenshot, sign_in_page

    def test_something(page, workspace):
        user = create_web_user(workspace)
        sign_in_page(page, user.email)            # fills and sends the sign-in form
        expect(page.get_by_role("heading", name="Broadcasts")).to_be_visible()
        screenshot(page, "broadcasts")            # docs/screenshots/broadcasts.png with HERALD_SCREENSHOTS=1

The browser is the machine's own `chromium` (`.ci/run` installs it with apt): Playwright's wheel carries its driver,
and `playwright install` is never run. Without chromium these tests skip, except with HERALD_REQUIRE_BROWSER=1 (set
by .ci/run), where they fail: CI can't pass by skipping them. Every page a test opens is checked for console errors
(a Content Security Policy violation is one) when the test ends; a 4xx answer is not one.
"""

import os
import shutil

import pytest

from herald.testing.browser import DESKTOP

CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright's own limit for each action and expectation: generous on a loaded machine, short enough to end a hang.
TIMEOUT_MS = 15_000


def chromium_path() -> str | None:
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        reason = "chromium is not installed (apt-get install chromium): the browser tests need it"
        if os.environ.get("HERALD_REQUIRE_BROWSER") == "1":
            pytest.fail(f"HERALD_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 — only browser tests load Playwright

    # Playwright's sync API runs an asyncio loop in this thread, where Django refuses ORM calls unless told that
    # the test code calling it is synchronous (it is: each call waits for the browser).
    unsafe_before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            # `launch` gives the browser a fresh, temporary user-data dir of its own, removed when it closes.
            running = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
            yield running
            running.close()
    finally:
        if unsafe_before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = unsafe_before


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) on a desktop-sized page, its relative URLs on the live server."""
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    errors: list[str] = []

    def on_console(message):
        # A 4xx page (a wrong password is a 400) is logged as a failed load: what it shows is the tests' business.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    opened.on("console", on_console)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"the browser's console had errors: {errors}"
