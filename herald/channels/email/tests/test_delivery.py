"""A broadcast to a `mailto:` contact through Herald's delivery loop: handed to the SMTP server, the Message-ID kept
as the message's provider id, the SMTP exchange in the channel log; a refusal fails it with the server's words."""

from herald.channels.models import ChannelLog
from herald.msgs import delivery
from herald.msgs.models import Msg, MsgStatus
from herald.msgs.tests.support import fan_out
from herald.testing.factories import make_broadcast


def test_a_broadcast_is_handed_over_and_logged(workspace, ann, mail_channel, smtp):
    fan_out(make_broadcast(workspace, "Clinic opens at 9", contacts=[ann]).id)

    assert delivery.deliver(mail_channel.id) == 1

    msg = Msg.objects.get(contact=ann)
    assert (msg.status, msg.external_id) == (MsgStatus.WIRED, f"<{msg.uuid}@clinic.example.org>")
    assert smtp.messages[0].message["Message-ID"] == msg.external_id
    [log] = ChannelLog.objects.filter(channel=mail_channel, msg_uuid=msg.uuid)
    assert (log.is_error, [entry["method"] for entry in log.http_logs]) == (False, ["SMTP"])


def test_an_unknown_mailbox_fails_the_message_with_the_servers_reply(workspace, ann, mail_channel, smtp):
    smtp.refuse_recipient("ann@example.com")
    fan_out(make_broadcast(workspace, "Clinic opens at 9", contacts=[ann]).id)

    delivery.deliver(mail_channel.id)

    msg = Msg.objects.get(contact=ann)
    assert msg.status == MsgStatus.FAILED
    assert msg.error_detail == (
        f"SMTP server 127.0.0.1:{smtp.port} refused the recipient ann@example.com: "
        "550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown"
    )
