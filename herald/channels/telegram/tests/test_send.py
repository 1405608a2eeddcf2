"""Sending through the fake Bot API: the calls Herald makes, byte for byte, and how each refusal is classed."""

import pytest

from herald.channels.base import PermanentSendError, RecipientStopped, SendResult, TransientSendError
from herald.channels.registry import get_type
from herald.media.models import Media
from herald.testing.factories import make_media, make_msg
from herald.testing.gateway import reply
from herald.testing.providers.telegram import TOKEN, error

from .conftest import BOB_CHAT

TELEGRAM = get_type("telegram")


def send(channel, msg):
    msg.channel = channel
    return TELEGRAM.send(channel, msg)


def test_text_with_quick_replies_is_one_sendmessage_with_a_one_time_reply_keyboard(channel, bob, telegram):
    msg = make_msg(bob, "Coming? ✅", quick_replies=[{"type": "text", "text": "Yes"}, {"type": "text", "text": "No"}])

    assert send(channel, msg) == SendResult(external_id="1")

    [request] = telegram.requests
    assert (request.method, request.path) == ("POST", f"/bot{TOKEN}/sendMessage")
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "chat_id": str(BOB_CHAT),
        "text": "Coming? ✅",
        "reply_markup": {
            "keyboard": [[{"text": "Yes"}], [{"text": "No"}]],
            "resize_keyboard": True,
            "one_time_keyboard": True,
        },
    }


def test_one_photo_carries_the_text_as_its_caption(channel, bob, telegram):
    msg = make_msg(bob, "Our new shop", attachments=["image/jpeg:https://example.com/shop.jpg"])

    assert send(channel, msg) == SendResult(external_id="1")

    assert telegram.sent() == [
        ("sendPhoto", {"chat_id": str(BOB_CHAT), "photo": "https://example.com/shop.jpg", "caption": "Our new shop"})
    ]


def test_a_text_too_long_for_a_caption_goes_first_and_each_attachment_is_a_call_of_its_kind(channel, bob, telegram):
    text = "word " * 300  # 1,500 characters: over the 1,024 of a caption
    msg = make_msg(
        bob,
        text.strip(),
        attachments=["application/pdf:https://example.com/menu.pdf", "video/mp4:https://example.com/tour.mp4"],
        quick_replies=[{"type": "text", "text": "Book"}],
    )

    # The first call's message id is the message's.
    assert send(channel, msg) == SendResult(external_id="1")

    keyboard = {"keyboard": [[{"text": "Book"}]], "resize_keyboard": True, "one_time_keyboard": True}
    assert telegram.sent() == [
        ("sendMessage", {"chat_id": str(BOB_CHAT), "text": text.strip()}),
        ("sendDocument", {"chat_id": str(BOB_CHAT), "document": "https://example.com/menu.pdf"}),
        ("sendVideo", {"chat_id": str(BOB_CHAT), "video": "https://example.com/tour.mp4", "reply_markup": keyboard}),
    ]


def test_a_text_over_telegrams_limit_is_sent_in_parts(channel, bob, telegram):
    msg = make_msg(bob, "\n".join(["a" * 100] * 50))  # 5,049 characters

    send(channel, msg)

    parts = [body["text"] for _, body in telegram.sent()]
    assert len(parts) == 2
    assert all(len(part) <= 4096 for part in parts)
    assert "\n".join(parts) == msg.text


def test_a_user_who_blocked_the_bot_is_a_stopped_recipient(channel, bob, telegram):
    telegram.blocked.add(BOB_CHAT)

    with pytest.raises(RecipientStopped) as refused:
        send(channel, make_msg(bob, "Hi"))

    assert refused.value.detail == "Telegram error 403: Forbidden: bot was blocked by the user"


def test_a_deactivated_user_is_a_stopped_recipient(channel, bob, telegram):
    telegram.will(error(403, "Forbidden: user is deactivated"))

    with pytest.raises(RecipientStopped):
        send(channel, make_msg(bob, "Hi"))


def test_too_many_requests_is_transient_with_telegrams_retry_after(channel, bob, telegram):
    telegram.will(error(429, "Too Many Requests: retry after 5", retry_after=5))

    with pytest.raises(TransientSendError) as refused:
        send(channel, make_msg(bob, "Hi"))

    assert (refused.value.detail, refused.value.retry_after) == (
        "Telegram error 429: Too Many Requests: retry after 5",
        5,
    )


def test_a_server_error_is_transient(channel, bob, telegram):
    telegram.will(error(502, "Bad Gateway"))

    with pytest.raises(TransientSendError) as refused:
        send(channel, make_msg(bob, "Hi"))

    assert type(refused.value) is TransientSendError
    assert refused.value.detail == "Telegram error 502: Bad Gateway"


def test_an_answer_that_isnt_the_bot_apis_is_classed_by_its_status(channel, bob, telegram):
    telegram.will(reply(503, "<html>busy</html>"), reply(200, "<html>proxy login</html>"))

    with pytest.raises(TransientSendError):
        send(channel, make_msg(bob, "Hi"))
    with pytest.raises(PermanentSendError) as refused:
        send(channel, make_msg(bob, "Hi"))
    assert refused.value.detail == "Telegram answered sendMessage with no JSON: <html>proxy login</html>"


@pytest.mark.parametrize(
    ("prepare", "detail"),
    [
        (lambda telegram: telegram.chats.clear(), "Telegram error 400: Bad Request: chat not found"),
        (lambda telegram: setattr(telegram, "token", "other"), "Telegram refused the bot token: Unauthorized"),
    ],
    ids=["unknown chat", "revoked token"],
)
def test_refusals_are_permanent_with_telegrams_words(channel, bob, telegram, prepare, detail):
    prepare(telegram)

    with pytest.raises(PermanentSendError) as refused:
        send(channel, make_msg(bob, "Hi"))

    assert type(refused.value) is PermanentSendError
    assert refused.value.detail == detail


def test_an_empty_message_is_refused_by_telegram(channel, bob, telegram):
    with pytest.raises(PermanentSendError) as refused:
        send(channel, make_msg(bob, "", quick_replies=[{"type": "text", "text": "Yes"}]))

    assert refused.value.detail == "Telegram error 400: Bad Request: message text is empty"


def test_a_photo_over_telegrams_by_url_limit_fails_before_any_call(channel, bob, telegram, workspace):
    photo = make_media(workspace, "big.jpg")
    Media.objects.filter(id=photo.id).update(size=6 * 1024 * 1024)  # Telegram takes photos by URL up to 5 MB

    with pytest.raises(PermanentSendError) as refused:
        send(channel, make_msg(bob, "Look", attachments=[f"image/jpeg:{photo.url}"]))

    assert refused.value.detail == (
        f"attachment {photo.url} is 6.0 MB: Telegram (files sent by URL) takes image attachments of at most 5 MB"
    )
    assert telegram.requests == []
