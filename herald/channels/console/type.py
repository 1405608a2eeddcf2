"""`console`: "sends" by writing one readable line per message to the server's standard output.

Made for trying Herald out (`herald serve` creates one in the demo workspace) and for development:

    [console:Demo SMS] → tel:+250788123123 (Bob, eng): Hello Bob!  [quick replies: Yes | No] [1 attachment]

It serves every URN scheme by default, so any broadcast visibly goes somewhere.
"""

import sys

from herald.channels.base import ChannelType, OutgoingMsg, SendResult, quick_reply_texts, urn_of
from herald.channels.models import Channel
from herald.contacts import urns
from herald.controlchars import printable


def format_line(channel: Channel, msg: OutgoingMsg) -> str:
    who = ", ".join(part for part in (_contact_name(msg), msg.locale) if part)
    line = f"[console:{channel.name}] → {urn_of(msg)}"
    if who:
        line += f" ({who})"
    # One message, one line: line breaks inside the text are shown, not obeyed.
    line += ": " + (msg.text or "").replace("\r\n", "\n").replace("\n", "\\n")
    extras = []
    replies = quick_reply_texts(msg)
    if replies:
        extras.append("[quick replies: " + " | ".join(replies) + "]")
    if msg.attachments:
        count = len(msg.attachments)
        extras.append(f"[{count} attachment{'s' if count != 1 else ''}]")
    if extras:
        line += "  " + " ".join(extras)
    # Names and replies may hold line breaks or escape sequences, and URNs stored before they were refused: shown.
    return printable(line)


def _contact_name(msg: OutgoingMsg) -> str:
    # Only when the caller loaded the contact (select_related): a query per message would slow the delivery loop.
    if type(msg).contact.is_cached(msg):
        return str(msg.contact.name or "")
    return ""


class ConsoleType(ChannelType):
    code = "console"
    name = "Console"
    schemes = tuple(sorted(urns.SCHEMES))

    def send(self, channel: Channel, msg: OutgoingMsg) -> SendResult:
        line = format_line(channel, msg)
        stream = sys.stdout  # looked up per call, so redirected output (tests, daemons) is honoured
        try:
            stream.write(line + "\n")
        except UnicodeEncodeError:  # a terminal that can't show "→" or the text's script
            stream.write(line.encode("ascii", "backslashreplace").decode("ascii") + "\n")
        stream.flush()
        return SendResult()
