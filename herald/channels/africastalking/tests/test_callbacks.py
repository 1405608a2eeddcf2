"""Africa's Talking's callbacks to /c/at/<channel uuid>/<secret>/<delivery|receive|optout>, posted by the fake as
its dashboard's callback URLs post them (urlencoded forms), to a live Herald."""

import pytest

from herald.channels.callbacks import callback_urls
from herald.channels.models import ChannelLog
from herald.contacts.models import Contact, ContactStatus, StatusReason
from herald.msgs.models import FailedReason, Msg, MsgStatus
from herald.testing.factories import make_msg

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def urls(channel, live_server, settings):
    settings.BASE_URL = live_server.url
    return callback_urls(channel)


def wired(bob, channel, external_id):
    return make_msg(bob, "Hi", channel=channel, status=MsgStatus.WIRED, external_id=external_id)


@pytest.mark.parametrize(
    ("status", "expected"),
    [("Submitted", MsgStatus.SENT), ("Buffered", MsgStatus.SENT), ("Success", MsgStatus.DELIVERED)],
)
def test_a_report_moves_the_message_its_id_names(africastalking, urls, channel, bob, status, expected):
    msg = wired(bob, channel, "ATXid_1")

    form = {"id": "ATXid_1", "status": status, "phoneNumber": "+250788123123", "networkCode": "63510"}
    response = africastalking.call_back(urls["delivery"], form=form)

    assert response.status_code == 200, response.text
    msg.refresh_from_db()
    assert msg.status == expected


def test_a_failure_keeps_its_reason_and_a_blacklisted_number_is_stopped(africastalking, urls, channel, bob):
    rejected, blacklisted = wired(bob, channel, "ATXid_2"), wired(bob, channel, "ATXid_3")

    number = "+250788123123"
    form = {"id": "ATXid_2", "status": "Rejected", "failureReason": "DeliveryFailure", "phoneNumber": number}
    africastalking.call_back(urls["delivery"], form=form)
    bob.refresh_from_db()
    assert bob.status == ContactStatus.ACTIVE
    form = {"id": "ATXid_3", "status": "Failed", "failureReason": "UserInBlackList", "phoneNumber": number}
    africastalking.call_back(urls["delivery"], form=form)

    rejected.refresh_from_db()
    blacklisted.refresh_from_db()
    bob.refresh_from_db()
    assert (rejected.status, rejected.failed_reason, rejected.error_detail) == (
        MsgStatus.FAILED,
        FailedReason.PERMANENT,
        "Africa's Talking Rejected: DeliveryFailure",
    )
    assert blacklisted.error_detail == "Africa's Talking Failed: UserInBlackList"
    assert (bob.status, bob.status_reason) == (ContactStatus.STOPPED, StatusReason.PROVIDER_STOP)


def test_a_report_of_a_message_never_sent_is_taken_and_ignored(africastalking, urls):
    response = africastalking.call_back(urls["delivery"], form={"id": "ATXid_unknown", "status": "Success"})

    assert response.status_code == 200
    assert "ignored" in response.json()["data"][0]


def test_an_incoming_message_is_stored_once_and_a_stop_word_stops_its_contact(africastalking, urls, channel, bob):
    form = {"from": "+250788123123", "to": "12345", "text": "STOP", "id": "at-in-1", "linkId": "l1",
            "date": "2026-12-02T09:30:00.000Z", "networkCode": "63510"}  # fmt: skip

    for _ in range(2):  # Africa's Talking retries a callback that failed: one message
        assert africastalking.call_back(urls["receive"], form=form).status_code == 200

    (msg,) = Msg.objects.incoming()
    assert (msg.text, msg.external_id, msg.sent_on.isoformat()) == ("STOP", "at-in-1", "2026-12-02T09:30:00+00:00")
    bob.refresh_from_db()
    assert (bob.status, bob.status_reason) == (ContactStatus.STOPPED, StatusReason.STOP_KEYWORD)


def test_an_opt_out_notification_stops_the_contact(africastalking, urls, bob):
    response = africastalking.call_back(urls["optout"], form={"senderId": "HERALD", "phoneNumber": "+250788123123"})

    assert response.status_code == 200
    bob.refresh_from_db()
    assert (bob.status, bob.status_reason) == (ContactStatus.STOPPED, StatusReason.PROVIDER_STOP)


@pytest.mark.parametrize(
    ("action", "form", "words"),
    [
        ("delivery", {"status": "Success"}, "field 'id' is required"),
        ("delivery", {"id": "x", "status": "Exploded"}, "unknown status 'Exploded'"),
        ("receive", {"text": "hi", "id": "1"}, "field 'from' is required"),
        ("receive", {"from": "+250788123123", "text": "hi"}, "field 'id' is required"),
        ("receive", {"from": "+250788123123", "text": "hi", "id": "1", "date": "yesterday"}, "date must be ISO 8601"),
        ("optout", {"senderId": "HERALD"}, "field 'phoneNumber' is required"),
    ],
)
def test_a_callback_that_cant_be_read_is_a_400_and_changes_nothing(africastalking, urls, action, form, words):
    response = africastalking.call_back(urls[action], form=form)

    assert response.status_code == 400
    assert words in response.json()["error"]
    assert not Msg.objects.incoming().exists()


def test_a_wrong_secret_is_a_403_and_nothing_is_stored(africastalking, urls, channel, bob):
    url = urls["optout"].replace(channel.callback_secret, "not-the-secret")

    response = africastalking.call_back(url, form={"phoneNumber": "+250788123123"})

    assert response.status_code == 403
    bob.refresh_from_db()
    assert bob.status == ContactStatus.ACTIVE
    assert not Contact.objects.filter(status=ContactStatus.STOPPED).exists()


def test_the_callback_log_holds_no_secret(africastalking, urls, channel):
    africastalking.call_back(urls["receive"], form={"from": "+250788123123", "text": "hi", "id": "at-in-9"})

    (log,) = ChannelLog.objects.filter(channel=channel)
    assert channel.callback_secret not in str(log.http_logs)
