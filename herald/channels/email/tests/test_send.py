"""The email type against a real SMTP server on 127.0.0.1: the e-mail as it arrives, and each failure's meaning."""

import json
import re

import pytest

from herald.channels.base import GatewayUnreachable, PermanentSendError, SendResult, TransientSendError
from herald.channels.channel_logs import SendLogs
from herald.channels.email import message
from herald.channels.email.unsubscribe import token
from herald.channels.models import Channel, ChannelLog
from herald.channels.registry import get_type
from herald.testing.factories import make_contact, make_media, make_msg
from herald.testing.gateway import unreachable_url
from herald.testing.providers import email as provider

EMAIL = get_type("email")


def send(msg):
    return EMAIL.send(msg.channel, msg)


def uploaded(workspace, media_root, content: bytes, filename="card.pdf", content_type="application/pdf"):
    """A media row with its file written where Herald keeps uploads."""
    media = make_media(workspace, filename, content_type)
    media.size = len(content)
    media.save()
    path = media_root / media.path
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    return media


def test_a_message_is_one_email_with_its_text_replies_attachment_and_unsubscribe_link(
    workspace, ann, mail_channel, smtp, media_root
):
    card = uploaded(workspace, media_root, b"%PDF-1.4 appointment card")
    msg = make_msg(
        ann,
        "Your appointment is tomorrow at 9:00.\nBring your card.",
        channel=mail_channel,
        attachments=[card.attachment, "image/jpeg:https://cdn.example.com/map.jpg"],
        quick_replies=[{"type": "text", "text": "Confirm"}, {"type": "text", "text": "Cancel"}],
    )

    result = send(msg)

    message_id = f"<{msg.uuid}@clinic.example.org>"
    assert result == SendResult(external_id=message_id)
    [received] = smtp.messages
    assert (received.mail_from, received.rcpt_tos) == ("reminders@clinic.example.org", ["ann@example.com"])
    assert smtp.logins == [("PLAIN", "herald")] * 2  # the check at channel add, then this send
    email = received.message
    signed = token(mail_channel, str(msg.uuid), "mailto:ann@example.com")
    link = (
        f"https://herald.example.org/c/email/{mail_channel.uuid}/{mail_channel.callback_secret}/unsubscribe"
        f"?msg={msg.uuid}&urn=mailto%3Aann%40example.com&token={signed}"
    )
    headers = {name: str(value) for name, value in email.items() if name not in ("Date", "Content-Type")}
    assert headers == {
        "From": "Clinic reminders <reminders@clinic.example.org>",
        "To": "ann@example.com",
        "Subject": "Your appointment is tomorrow at 9:00.",
        "Message-ID": message_id,
        "List-Unsubscribe": f"<{link}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "MIME-Version": "1.0",
    }
    assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000", email["Date"])  # sent as GMT
    assert email.get_content_type() == "multipart/mixed"
    text, attachment = email.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert text.get_content() == (
        "Your appointment is tomorrow at 9:00.\nBring your card.\n"
        "https://cdn.example.com/map.jpg\n"  # a URL elsewhere: a link, never fetched
        "Confirm\nCancel\n\n"
        f"-- \nTo stop these messages: {link}\n"
    )
    assert (attachment.get_content_type(), attachment.get_filename()) == ("application/pdf", "card.pdf")
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_content() == b"%PDF-1.4 appointment card"


def test_a_long_first_line_is_cut_at_a_word_for_the_subject_and_a_text_less_message_takes_the_channel_name(
    workspace, ann, mail_channel, smtp, media_root
):
    long_line = "Reminder: " + "the vaccination campaign reaches your district " * 3
    send(make_msg(ann, f"\n  {long_line}\nSecond line", channel=mail_channel))
    photo = uploaded(workspace, media_root, b"\xff\xd8jpeg", "photo.jpg", "image/jpeg")
    send(make_msg(ann, "", channel=mail_channel, attachments=[photo.attachment]))

    first, second = (received.message for received in smtp.messages)
    # A long header is folded on the wire; unfolded, the space at the fold doubles.
    assert (
        " ".join(first["Subject"].split())
        == "Reminder: the vaccination campaign reaches your district the vaccination…"
    )
    assert len(first["Subject"]) <= 78
    assert second["Subject"] == "Clinic reminders"
    [attached] = second.iter_attachments()
    assert (attached.get_content_type(), attached.get_content()) == ("image/jpeg", b"\xff\xd8jpeg")


def test_media_past_the_attachment_total_goes_as_a_link(workspace, ann, mail_channel, smtp, media_root, monkeypatch):
    monkeypatch.setattr(message, "MAX_ATTACHED_BYTES", 10)
    small = uploaded(workspace, media_root, b"12345678", "a.pdf")
    big = uploaded(workspace, media_root, b"123456789", "b.pdf")

    send(make_msg(ann, "Two files", channel=mail_channel, attachments=[small.attachment, big.attachment]))

    email = smtp.messages[0].message
    assert [part.get_filename() for part in email.iter_attachments()] == ["a.pdf"]
    assert email.get_body(("plain",)).get_content().startswith(f"Two files\n{big.url}\n")


def test_without_a_base_url_the_email_goes_without_an_unsubscribe_link(ann_msg, smtp, settings):
    settings.BASE_URL = ""

    send(ann_msg)

    email = smtp.messages[0].message
    assert (email["List-Unsubscribe"], email["List-Unsubscribe-Post"]) == (None, None)
    assert email.get_content() == "Hello Ann\n"


@pytest.mark.parametrize(
    ("fault", "error", "detail"),
    [
        (
            lambda smtp: smtp.refuse_recipient("ann@example.com"),
            PermanentSendError,
            "SMTP server {server} refused the recipient ann@example.com: "
            "550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown",
        ),
        (
            lambda smtp: smtp.refuse_recipient("ann@example.com", "450 4.2.0 Greylisted, try again in 5 minutes"),
            TransientSendError,
            "SMTP server {server} refused the recipient ann@example.com: 450 4.2.0 Greylisted, try again in 5 minutes",
        ),
        (
            lambda smtp: smtp.will_answer_data("451 4.3.0 Temporary failure, try again later"),
            TransientSendError,
            "SMTP server {server} answered 451 4.3.0 Temporary failure, try again later",
        ),
        (
            lambda smtp: smtp.will_answer_data("554 5.7.1 Message rejected as spam"),
            PermanentSendError,
            "SMTP server {server} answered 554 5.7.1 Message rejected as spam",
        ),
    ],
)
def test_each_smtp_refusal_maps_to_its_outcome(ann_msg, smtp, fault, error, detail):
    fault(smtp)

    with pytest.raises(error) as raised:
        send(ann_msg)

    assert type(raised.value) is error
    assert raised.value.detail == detail.format(server=f"127.0.0.1:{smtp.port}")
    assert smtp.messages == []


def test_a_refused_login_fails_the_message_with_the_servers_words(workspace, ann, smtp):
    channel = Channel.objects.create(
        workspace=workspace, channel_type="email", name="Mail", address="a@example.org", schemes=["mailto"],
        config=EMAIL.validate_config(smtp.channel_config(password="wrong")),
    )  # fmt: skip

    with pytest.raises(PermanentSendError) as raised:
        send(make_msg(ann, "Hi", channel=channel))

    assert raised.value.detail == "SMTP server refused the login: 535 5.7.8 Authentication credentials invalid"


def test_a_server_without_starttls_fails_a_starttls_channel(workspace, ann, smtp):
    config = EMAIL.validate_config({"host": "127.0.0.1", "port": str(smtp.port)})  # tls: starttls by default
    channel = Channel.objects.create(
        workspace=workspace, channel_type="email", name="Mail", address="a@example.org", schemes=["mailto"],
        config=config,
    )  # fmt: skip

    with pytest.raises(PermanentSendError) as raised:
        send(make_msg(ann, "Hi", channel=channel))

    assert raised.value.detail == (
        f"SMTP server 127.0.0.1:{smtp.port}: STARTTLS extension not supported by server. "
        "(check the channel's tls and login)"
    )


def test_nothing_listening_is_an_unreachable_gateway(workspace, ann, settings):
    port = unreachable_url().rsplit(":", 1)[1].split("/")[0]
    channel = Channel.objects.create(
        workspace=workspace, channel_type="email", name="Mail", address="a@example.org", schemes=["mailto"],
        config=EMAIL.validate_config({"host": "127.0.0.1", "port": port, "tls": "none"}),
    )  # fmt: skip

    with pytest.raises(GatewayUnreachable) as raised:
        send(make_msg(ann, "Hi", channel=channel))

    assert raised.value.detail.startswith(f"SMTP server 127.0.0.1:{port} unreachable: ")


def test_the_channel_log_keeps_the_smtp_exchange_without_the_login(ann_msg, smtp):
    channel = ann_msg.channel
    logs = SendLogs(channel)
    with logs.attempt(ann_msg.uuid) as attempt:
        attempt.outcome = send(ann_msg)
    logs.flush()

    log = ChannelLog.objects.get(channel=channel)
    [exchange] = log.http_logs
    assert (exchange["method"], exchange["url"], exchange["status_code"]) == (
        "SMTP",
        f"smtp://127.0.0.1:{smtp.port}",
        221,
    )
    sent = exchange["request"].split("\r\n")
    assert [line.split(" ")[0] for line in sent[:5]] == ["ehlo", "AUTH", "mail", "rcpt", "data"]
    assert sent[1] == "AUTH PLAIN ********"
    assert "Subject: Hello Ann" in exchange["request"]
    assert exchange["response"].startswith("220 ")
    assert "250 2.0.0 Ok: queued as Q1" in exchange["response"]
    stored = json.dumps([log.http_logs, log.errors])
    assert smtp.PASSWORD not in stored
    assert channel.callback_secret not in stored  # the unsubscribe link in the e-mail is redacted too


def test_the_bench_hook_makes_a_channel_that_sends_to_the_fake(workspace, smtp):
    channel = provider.bench_channel(workspace, smtp)
    contact = make_contact(workspace, "Bench", urns=[provider.BENCH_URN])

    result = EMAIL.send(channel, make_msg(contact, "Bench", channel=channel))

    assert (channel.channel_type, channel.tps, channel.schemes) == ("email", None, ["mailto"])
    assert result.external_id == smtp.messages[0].message["Message-ID"]
    assert smtp.messages[0].rcpt_tos == [provider.BENCH_URN.removeprefix("mailto:")]


def test_a_contact_without_an_email_address_fails_before_any_connection(workspace, mail_channel, smtp):
    bob = make_contact(workspace, "Bob", urns=["tel:+250788123123"])

    with pytest.raises(PermanentSendError) as raised:
        send(make_msg(bob, "Hi", channel=mail_channel))

    assert raised.value.detail == "an email channel sends to mailto: addresses only, not tel:"
    assert smtp.messages == []
