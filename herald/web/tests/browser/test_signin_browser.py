"""Signing in with a real browser: the form, the wrong-password message, landing on the broadcasts page."""

from playwright.sync_api import expect

from herald.testing.browser import screenshot, sign_in_page
from herald.testing.factories import create_web_user


def test_sign_in_with_a_browser(page, workspace):
    user = create_web_user(workspace, "editor", email="nurse@example.com")
    page.goto("/broadcasts/")
    expect(page.get_by_role("heading", name="Sign in to Herald")).to_be_visible()
    screenshot(page, "signin")

    sign_in_page(page, user.email, "not it")
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail address or password.")

    sign_in_page(page, user.email)
    expect(page.get_by_role("heading", name="Broadcasts")).to_be_visible()
    expect(page.get_by_text("nurse@example.com · editor")).to_be_visible()
    assert page.url.endswith("/broadcasts/")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Herald")).to_be_visible()
