"""Updates Telegram POSTs to /c/tg/<channel uuid>/<secret>/update, through Django's test client, with the secret
token header setWebhook set: messages, /start, and the user blocking or unblocking the bot."""

import json
from datetime import UTC, datetime

import pytest
from django.test import Client

from herald.channels.telegram import webhook
from herald.contacts.models import Contact, ContactStatus
from herald.msgs.models import Msg
from herald.testing.providers.telegram import FakeTelegram

from .conftest import BOB_CHAT

DATE = 1_764_676_800  # 2025-12-02 12:00 UTC


@pytest.fixture
def updates():
    return FakeTelegram()  # not started: it only writes updates here


def post(channel, update, token=None, headers=None):
    token = webhook.secret_token(channel) if token is None else token
    return Client().post(
        f"/c/tg/{channel.uuid}/{channel.callback_secret}/update",
        json.dumps(update),
        content_type="application/json",
        headers={webhook.SECRET_HEADER: token, **(headers or {})} if token else headers,
    )


def incoming():
    return list(Msg.objects.incoming().order_by("id"))


def test_a_text_message_is_stored_once_from_the_chats_contact(channel, updates):
    update = updates.update(BOB_CHAT, message={"message_id": 7, "date": DATE, "text": "Hello bot"})

    response = post(channel, update)
    again = post(channel, update)  # Telegram retrying the same update

    assert (response.status_code, again.status_code) == (200, 200)
    (msg,) = incoming()
    assert (msg.text, msg.external_id, msg.sent_on) == ("Hello bot", f"{BOB_CHAT}:7", datetime.fromtimestamp(DATE, UTC))
    assert str(msg.contact_urn.identity) == f"telegram:{BOB_CHAT}"
    assert response.json()["message"] == "Message Accepted"


def test_a_photo_with_a_caption_keeps_the_largest_size_as_a_telegram_file(channel, updates):
    photo = [{"file_id": "small-id", "width": 90, "height": 90}, {"file_id": "large-id", "width": 800, "height": 800}]
    update = updates.update(BOB_CHAT, message={"message_id": 8, "date": DATE, "caption": "Look", "photo": photo})

    assert post(channel, update).status_code == 200

    (msg,) = incoming()
    assert (msg.text, msg.attachments) == ("Look", ["image/jpeg:telegram-file:large-id"])


def test_a_document_and_a_location(channel, updates):
    document = {"file_id": "doc-id", "file_name": "cv.pdf", "mime_type": "application/pdf"}
    post(channel, updates.update(BOB_CHAT, message={"message_id": 9, "date": DATE, "document": document}))
    location = {"latitude": -1.95, "longitude": 30.06}
    post(channel, updates.update(BOB_CHAT, message={"message_id": 10, "date": DATE, "location": location}))

    assert [msg.attachments for msg in incoming()] == [["application/pdf:telegram-file:doc-id"], ["geo:-1.95,30.06"]]


def test_start_is_stored_and_starts_a_stopped_contact_again(channel, bob, updates):
    Contact.objects.filter(id=bob.id).update(status=ContactStatus.STOPPED)

    response = post(channel, updates.update(BOB_CHAT, message={"message_id": 1, "date": DATE, "text": "/start"}))

    assert response.status_code == 200, response.content
    assert [msg.text for msg in incoming()] == ["/start"]
    bob.refresh_from_db()
    assert bob.status == ContactStatus.ACTIVE


def test_blocking_the_bot_stops_the_contact_and_unblocking_starts_it(channel, bob, updates):
    def membership(status):
        return updates.update(
            BOB_CHAT,
            my_chat_member={
                "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "Bot"}},
                "new_chat_member": {"status": status, "user": {"id": 1, "is_bot": True, "first_name": "Bot"}},
            },
        )

    response = post(channel, membership("kicked"))
    assert response.status_code == 200, response.content
    assert response.json()["data"][0]["event_type"] == "stop_contact"
    bob.refresh_from_db()
    assert bob.status == ContactStatus.STOPPED

    assert post(channel, membership("member")).status_code == 200
    bob.refresh_from_db()
    assert bob.status == ContactStatus.ACTIVE
    assert incoming() == []


@pytest.mark.parametrize("token", ["wrong-token", ""], ids=["wrong", "missing"])
def test_a_wrong_or_missing_secret_token_is_403_and_changes_nothing(channel, bob, updates, token):
    update = updates.update(BOB_CHAT, message={"message_id": 1, "date": DATE, "text": "STOP"})

    response = post(channel, update, token=token)

    assert response.status_code == 403
    assert "X-Telegram-Bot-Api-Secret-Token" in response.json()["error"]
    assert incoming() == []
    bob.refresh_from_db()
    assert bob.status == ContactStatus.ACTIVE


def test_group_messages_and_other_updates_are_accepted_and_ignored(channel, updates):
    group = updates.update(-100200, message={"message_id": 1, "date": DATE, "text": "hi all"})
    group["message"]["chat"]["type"] = "supergroup"
    edited = {"update_id": 99, "edited_message": {"message_id": 1, "date": DATE, "text": "edit"}}

    assert [post(channel, update).status_code for update in (group, edited)] == [200, 200]
    assert incoming() == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"message": {"text": "no id"}}, "not a Telegram update: update_id (an integer) is missing"),
        ({"update_id": 1, "message": {"message_id": 1, "date": DATE}}, "message.chat.id (an integer) is missing"),
        (
            {"update_id": 1, "message": {"chat": {"id": 5, "type": "private"}, "text": "x"}},
            "message.message_id and message.date (integers) are required",
        ),
    ],
)
def test_a_body_that_isnt_an_update_is_400_and_stores_nothing(channel, body, error):
    response = post(channel, body)

    assert (response.status_code, response.json()["error"]) == (400, error)
    assert incoming() == []


def test_the_callback_log_keeps_neither_the_secret_token_nor_the_bot_token(channel, updates):
    post(channel, updates.update(BOB_CHAT, message={"message_id": 3, "date": DATE, "text": "hi"}))

    (log,) = channel.logs.all()
    stored = json.dumps(log.http_logs)
    assert webhook.secret_token(channel) not in stored
    assert channel.callback_secret not in stored
    assert channel.config["bot_token"] not in stored
