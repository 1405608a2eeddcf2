"""The e-mail a message becomes (stdlib `email.message.EmailMessage`):

- From: the channel's name and its address (`"Clinic reminders" <reminders@example.org>`); To: the URN's address;
- Subject: the text's first line, cut at 78 characters (with "…"); the channel's name for a text-less message;
- the body: the text, then links to attachments not attached, then the quick replies, one a line, then the
  unsubscribe link;
- attachments: media uploaded to Herald, attached as MIME parts up to `MAX_ATTACHED_BYTES` in all; any other
  attachment (a URL elsewhere, or media past that total) is a link in the body: Herald never fetches a URL it was
  given;
- Message-ID `<msg uuid@sender's domain>`; List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 one-click).
"""

from email.message import EmailMessage
from email.utils import formataddr, formatdate

from herald.channels.base import OutgoingMsg, quick_reply_texts
from herald.media.references import find_media
from herald.media.storage import read_content

# What most providers take in one e-mail (Gmail 25 MB, Outlook 20 MB, many relays 10 MB), after base64's third more.
MAX_ATTACHED_BYTES = 7 * 1024 * 1024
MAX_SUBJECT_CHARS = 78


def compose(msg: OutgoingMsg, *, sender_name: str, sender: str, to: str, unsubscribe_url: str | None) -> EmailMessage:
    attached, links = _attachments(msg)
    email = EmailMessage()
    email["From"] = formataddr((sender_name, sender))
    email["To"] = to
    email["Subject"] = subject(msg.text or "", fallback=sender_name)
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = message_id(msg, sender)
    if unsubscribe_url:
        email["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    lines = [msg.text or "", *links, *quick_reply_texts(msg)]
    body = "\n".join(line for line in lines if line)
    if unsubscribe_url:
        body += f"\n\n-- \nTo stop these messages: {unsubscribe_url}"
    email.set_content(body + "\n")
    for content_type, filename, content in attached:
        maintype, _, subtype = content_type.partition("/")
        email.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream", filename=filename)
    return email


def message_id(msg: OutgoingMsg, sender: str) -> str:
    return f"<{msg.uuid}@{sender.rpartition('@')[2]}>"


def subject(text: str, fallback: str) -> str:
    first = next((" ".join(line.split()) for line in text.splitlines() if line.strip()), "")
    if not first:
        return fallback
    if len(first) <= MAX_SUBJECT_CHARS:
        return first
    cut = first[: MAX_SUBJECT_CHARS - 1]
    if " " in cut[MAX_SUBJECT_CHARS // 2 :]:  # end at a word when one ends in the second half
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip() + "…"


def _attachments(msg: OutgoingMsg) -> tuple[list[tuple[str, str, bytes]], list[str]]:
    """(content type, file name, bytes) of each attachment sent as a part, and the URLs of the others."""
    stored = list(msg.attachments or [])
    media = find_media(msg.workspace_id, stored) if stored else {}
    attached: list[tuple[str, str, bytes]] = []
    links: list[str] = []
    room = MAX_ATTACHED_BYTES
    for ref in stored:
        found = media.get(ref)
        url = ref.partition(":")[2] if "/" in ref.partition(":")[0] else ref
        if found is not None and found.size <= room:
            try:
                content = read_content(found)
            except OSError:  # the file is gone (deleted upload): its URL says so to whoever follows it
                links.append(url)
                continue
            attached.append((found.content_type, found.filename, content))
            room -= found.size
        else:
            links.append(url)
    return attached, links
