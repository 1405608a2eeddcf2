"""Sending one message to one contact (`POST messages.json`): the broadcast pipeline without the fan-out.

The message is composed by the same `Composer` a broadcast's recipients are (route, failed reason, segments), with
its parts as written (RapidPro evaluates no expression in a single message), stored in the caller's transaction,
and its channel's delivery is queued once that commits. It has no broadcast (`broadcast_id` NULL): delivery hands
such messages over before a broadcast's backlog on the same channel (`delivery.due_messages`), so one reply is not
stuck behind a hundred thousand.
"""

from django.db.models import QuerySet
from django.utils import timezone

from herald.contacts.models import Contact
from herald.workspaces.models import Workspace

from .batches import load_batch
from .compose import Composer
from .content import Translations
from .models import Msg, MsgStatus
from .tasks import enqueue_delivery
from .windows import opening_for, workspace_window


def send_message(
    workspace: Workspace,
    contact: Contact,
    text: str,
    attachments: list[str],
    quick_replies: list[dict[str, str]],
    *,
    follow_send_window: bool = True,
) -> Msg:
    """Create the message and queue its delivery once the current transaction commits. A contact no channel can
    reach gets a failed message (no channel, no URN), as RapidPro's does. Made while the workspace's send window
    is closed, it waits for its opening unless `follow_send_window` is False (msgs/windows.py)."""
    language = workspace.primary_language
    content = Translations.from_parts(
        {language: text} if text else None,
        {language: attachments} if attachments else None,
        {language: quick_replies} if quick_replies else None,
    )
    composer = Composer(workspace, content, language, templates=False)
    (recipient,) = load_batch(Contact.objects.filter(id=contact.id), with_groups=False)
    new = composer.new_message(recipient)
    now = timezone.now()
    waits_until = opening_for(workspace_window(workspace), now) if follow_send_window else None
    if new.status != MsgStatus.QUEUED:
        waits_until = None
    msg = Msg.objects.create(
        workspace=workspace, created_on=now, modified_on=now, next_attempt=waits_until, **new._asdict()
    )
    if new.status == MsgStatus.QUEUED and new.channel_id is not None:
        enqueue_delivery([new.channel_id])
    return with_relations(Msg.objects.filter(id=msg.id)).get()


def with_relations(msgs: QuerySet[Msg]) -> QuerySet[Msg]:
    """What messages.json shows of a message besides its own columns."""
    return msgs.select_related("contact", "contact_urn", "channel")
