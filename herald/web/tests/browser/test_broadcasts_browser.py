"""The broadcasts pages in a real browser: a broadcast followed live to `completed` while the fake gateway on
loopback takes its messages (the page polls, nobody reloads it), pausing and resuming another, and the README's
screenshots.

The sending is done by the same functions a worker runs (`tasks.start_broadcast`, `delivery.deliver`), called from
the test between what the page is expected to show, so each step is seen, in order, without timing luck."""

import pytest
from playwright.sync_api import expect

from herald.msgs import delivery, tasks
from herald.msgs.models import Broadcast, BroadcastStatus
from herald.testing.browser import screenshot, sign_in_page
from herald.testing.factories import create_web_user, make_broadcast, make_contact, make_group
from herald.testing.gateway import gateway_channel
from herald.web import progress

B = BroadcastStatus


@pytest.fixture
def gateway(gateway, settings):
    """The fake gateway, with the channel's usual timeouts: a loaded machine running a browser beside Herald may
    take longer than the gateway fixture's short ones to answer, and these tests are not about timeouts."""
    settings.CHANNEL_SEND_TIMEOUT = settings.CHANNEL_CONNECT_TIMEOUT = 10
    return gateway


def people(workspace, n: int):
    return [make_contact(workspace, f"Mother {i}", [f"tel:+2507881300{i:02d}"]) for i in range(n)]


def test_a_broadcast_is_followed_live_to_completed(page, workspace, gateway):
    channel = gateway_channel(workspace, gateway.url)
    group = make_group(workspace, "Expecting mothers", people(workspace, 6))
    broadcast = make_broadcast(
        workspace,
        {"eng": {"text": "Your clinic visit is tomorrow at 9."}, "fra": {"text": "Votre visite est demain à 9h."}},
        groups=[group],
    )
    sign_in_page(page, create_web_user(workspace, "editor").email)
    page.get_by_role("link", name="Your clinic visit is tomorrow at 9.").click()
    expect(page.get_by_test_id("status")).to_have_text("pending")
    expect(page.get_by_text("Votre visite est demain à 9h.")).to_be_visible()
    expect(page.get_by_text("Expecting mothers").first).to_be_visible()

    tasks.start_broadcast(broadcast.id)  # the fan-out: six messages queued for the channel
    progress.take_samples()  # as the periodic task does: a point of the chart
    expect(page.locator('dd[data-count="queued"]')).to_have_text("6")
    expect(page.get_by_text("0 of 6 done (0%)").first).to_be_visible()

    delivery.deliver(channel.id)  # a sender's turn: the gateway takes all six
    progress.take_samples()
    expect(page.locator('dd[data-count="wired"]')).to_have_text("6")
    expect(page.get_by_test_id("status")).to_have_text("completed")
    expect(page.get_by_text("6 of 6 done (100%)").first).to_be_visible()
    assert len(gateway.requests) == 6
    expect(page.get_by_role("img", name="Messages by status over time")).to_be_visible()
    # Nothing moves any more: the page stopped asking.
    expect(page.locator("#progress[hx-trigger]")).to_have_count(0)

    page.reload()  # the messages table is not live (the progress is): it lists the six now
    expect(page.get_by_role("link", name="log")).to_have_count(6)
    screenshot(page, "broadcast")
    page.get_by_role("link", name="log").first.click()
    expect(page.get_by_role("heading", name="Message log")).to_be_visible()
    expect(page.get_by_text("→ 200").first).to_be_visible()


def test_pause_and_resume_another_broadcast(page, workspace, gateway):
    gateway_channel(workspace, gateway.url)
    broadcast = make_broadcast(workspace, "Vaccination day on Friday", contacts=people(workspace, 3), status=B.STARTED)
    sign_in_page(page, create_web_user(workspace).email)
    page.goto(f"/broadcasts/{broadcast.uuid}/")
    expect(page.get_by_test_id("status")).to_have_text("started")

    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("status").filter(has_text="Broadcast paused")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("paused")
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    assert Broadcast.objects.get(id=broadcast.id).status == B.PAUSED

    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_role("status").filter(has_text="Broadcast resumed.")).to_be_visible()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    assert Broadcast.objects.get(id=broadcast.id).status == B.STARTED


def test_the_broadcasts_list_on_a_desktop_and_a_phone(page, workspace, gateway):
    channel = gateway_channel(workspace, gateway.url)
    mothers = make_group(workspace, "Expecting mothers", people(workspace, 8))
    done = make_broadcast(workspace, "Clinic closed on Monday for the holiday.", groups=[mothers])
    tasks.start_broadcast(done.id)
    delivery.deliver(channel.id)
    make_broadcast(workspace, "Vaccination day on Friday: bring the child's card.", groups=[mothers], status=B.PAUSED)
    make_broadcast(workspace, "<b>Not bold</b>: texts are shown as typed.", urns=["tel:+250788555001"])

    sign_in_page(page, create_web_user(workspace, "admin", email="coordinator@example.com").email)
    expect(page.get_by_role("heading", name="Broadcasts")).to_be_visible()
    rows = page.locator("#broadcast-rows tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("<b>Not bold</b>: texts are shown as typed.")
    expect(rows.nth(1)).to_contain_text("paused")
    expect(rows.nth(2)).to_contain_text("completed")
    expect(rows.nth(2)).to_contain_text("8 / 8")
    screenshot(page, "broadcasts")
    screenshot(page, "broadcasts", phone=True)
