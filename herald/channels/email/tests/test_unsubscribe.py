"""The List-Unsubscribe link against a real Herald on loopback: a POST (RFC 8058 one-click) stops the recipient, a
GET only asks, and a link that was tampered with changes nothing."""

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from herald.channels.models import ChannelLog, ChannelLogType
from herald.channels.registry import get_type
from herald.contacts.models import ContactStatus
from herald.testing.factories import make_contact

EMAIL = get_type("email")


@pytest.fixture
def link(live_server, settings, ann_msg, smtp):
    """The unsubscribe link of an e-mail sent to Ann, as her mail client reads it."""
    settings.BASE_URL = live_server.url
    EMAIL.send(ann_msg.channel, ann_msg)
    header = smtp.messages[-1].message["List-Unsubscribe"]
    return header.removeprefix("<").removesuffix(">")


def status(contact):
    contact.refresh_from_db()
    return contact.status


def test_a_one_click_post_stops_the_recipient_and_answers_a_page(link, ann, workspace):
    bystander = make_contact(workspace, "Bea", urns=["mailto:bea@example.com"])

    answer = httpx.post(link, content=b"List-Unsubscribe=One-Click",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert "You are unsubscribed" in answer.text
    assert status(ann) == ContactStatus.STOPPED
    assert status(bystander) == ContactStatus.ACTIVE


def test_a_get_only_shows_a_button_that_posts_to_the_same_link(link, ann):
    answer = httpx.get(link)

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    path = urlsplit(link)
    action = f"{path.path}?{path.query}".replace("&", "&amp;")
    assert f'<form method="post" action="{action}">' in answer.text
    assert "Stop all messages to ann@example.com?" in answer.text
    assert status(ann) == ContactStatus.ACTIVE  # a mail scanner following the link stops nobody


def test_a_link_changed_to_another_address_or_a_forged_token_is_refused(link, ann, workspace):
    bea = make_contact(workspace, "Bea", urns=["mailto:bea@example.com"])
    base, _, query = link.partition("?")
    params = {name: values[0] for name, values in parse_qs(query).items()}

    for changed in ({**params, "urn": "mailto:bea@example.com"}, {**params, "token": "0" * 32}, {"msg": params["msg"]}):
        answer = httpx.post(f"{base}?{urlencode(changed)}", content=b"List-Unsubscribe=One-Click",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert answer.status_code == 403
        assert answer.json()["error"] == "this unsubscribe link is not valid: its token does not match its message"

    assert (status(ann), status(bea)) == (ContactStatus.ACTIVE, ContactStatus.ACTIVE)


def test_the_callback_log_keeps_neither_the_secret_nor_the_token(link, ann_msg):
    httpx.post(link, content=b"List-Unsubscribe=One-Click",
               headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip

    [log] = ChannelLog.objects.filter(channel=ann_msg.channel, log_type=ChannelLogType.MSG_STATUS)
    [exchange] = log.http_logs
    assert (exchange["method"], exchange["status_code"]) == ("POST", 200)
    token = parse_qs(urlsplit(link).query)["token"][0]
    assert ann_msg.channel.callback_secret not in str(log.http_logs)
    assert token not in str(log.http_logs)
