"""The channels and settings pages in a real browser: adding an external channel through its form (a refusal shown
beside its field first) and reading its callback URLs; creating an API token, shown once; the README's screenshots."""

import re

from playwright.sync_api import expect

from herald.channels.models import Channel
from herald.testing.browser import screenshot, sign_in_page
from herald.testing.factories import create_web_user
from herald.workspaces.models import APIToken


def test_add_an_external_channel_and_see_its_callback_urls(page, workspace):
    sign_in_page(page, create_web_user(workspace).email)
    page.get_by_role("link", name="Channels").click()
    expect(page.get_by_role("heading", name="Channels")).to_be_visible()
    page.get_by_role("link", name="External API").click()
    expect(page.get_by_role("heading", name="Add a channel: External API")).to_be_visible()

    page.get_by_label("Name", exact=True).fill("SMS gateway")
    page.get_by_label("send_url", exact=True).fill("ftp://gateway.example/send")
    page.get_by_label("send_authorization", exact=True).fill("Bearer sk-browser-secret")
    page.get_by_role("button", name="Add channel").click()
    expect(page.get_by_role("alert")).to_contain_text("send_url must be an http:// or https:// URL")
    expect(page.get_by_label("send_authorization", exact=True)).to_have_value("")  # a secret is never sent back

    page.get_by_label("send_url", exact=True).fill("https://gateway.example/send?to={{to}}&text={{text}}")
    page.get_by_label("send_authorization", exact=True).fill("Bearer sk-browser-secret")
    page.get_by_label("Messages per second").fill("20")
    page.get_by_role("button", name="Add channel").click()

    expect(page.get_by_role("status")).to_have_text("Channel added.")
    expect(page.get_by_role("heading", name="SMS gateway")).to_be_visible()
    channel = Channel.objects.get(workspace=workspace)
    callbacks = page.locator(".callbacks")
    expect(callbacks.get_by_role("heading", name="Callback URLs")).to_be_visible()
    expect(callbacks).to_contain_text(f"/c/ex/{channel.uuid}/{channel.callback_secret}/delivered")
    expect(callbacks).to_contain_text(f"/c/ex/{channel.uuid}/{channel.callback_secret}/receive")
    expect(page.get_by_text("20/s")).to_be_visible()
    assert "sk-browser-secret" not in page.content()
    screenshot(page, "channels")


def test_create_a_token_shown_once(page, workspace):
    user = create_web_user(workspace)
    sign_in_page(page, user.email)
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Workspace")).to_be_visible()
    page.get_by_label("Timezone").fill("Africa/Kigali")
    page.get_by_label("Quiet hours: when messages may be sent").fill("mon-sat 08:00-19:30")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_have_text("Settings saved.")
    screenshot(page, "settings")

    page.get_by_role("link", name="API tokens").click()
    page.get_by_role("button", name="Create a token").click()
    expect(page.get_by_role("heading", name="Your new API token")).to_be_visible()
    key = page.locator("code.key").inner_text()
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    token = APIToken.objects.get(workspace=workspace)
    row = page.get_by_role("row").filter(has_text=token.prefix)
    expect(row).to_contain_text(user.email)

    page.get_by_role("link", name="API tokens").click()  # the list again: the key is gone for good
    expect(page.get_by_role("heading", name="Your new API token")).to_have_count(0)
    assert key not in page.content()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Revoke token {token.prefix}").click()
    expect(page.get_by_role("status")).to_contain_text("revoked: it no longer works")
    token.refresh_from_db()
    assert not token.is_active
