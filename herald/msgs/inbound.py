"""Messages contacts send, and their opt-outs: the other direction of the pipeline (**channel callback → message in
→ opt-out / contact status**).

`herald.channels.callbacks` checks the channel's secret, the channel type reads the request (`read_callback`: an
`IncomingMessage` or a `StopSignal`), and this module:

- stores an incoming message (direction `in`, status `handled`, in the `inbox` folder) from its URN's contact,
  creating the contact for a URN nobody has; once per provider message id, so a retried callback stores one
  message;
- links it to the message it answers: the last one handed to its URN on its channel, if no longer ago than
  settings.REPLY_WINDOW_HOURS (`messages.json?broadcast=<id>&direction=in` lists a broadcast's replies);
- acts on opt-out keywords (herald/workspaces/optout_words.py): a stop word stops the contact and, once per
  opt-out, queues the workspace's confirmation; a start word makes a stopped contact active again. An ordinary
  message changes no status: a stopped contact stays stopped (docs/COMPATIBILITY.md, C59);
- stops the contact a provider says opted out (`StopSignal`), the same way, without a confirmation (the provider
  has answered the contact itself).

Each status change is recorded with when and why (`contacts.writes.set_status`). The confirmation is an outgoing
message of its own (no broadcast), queued for the channel the stop word came through: contacts that aren't active
are excluded when messages are composed (`compose.py`), never at delivery, so it goes out although its contact is
now stopped.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from herald.channels.base import IncomingMessage, StartSignal, StopSignal
from herald.channels.incoming import storable_text
from herald.channels.models import Channel
from herald.contacts import urns as urn_utils
from herald.contacts.models import Contact, ContactStatus, ContactURN, StatusReason
from herald.contacts.writes import STOPPABLE, set_status
from herald.webhooks import events
from herald.workspaces import optout_words

from .audience import contact_ids_for_urns
from .models import Msg, MsgDirection, MsgStatus
from .segments import count_segments
from .tasks import enqueue_delivery

# What an incoming message can answer: a message that reached the gateway.
HANDED_OVER = (MsgStatus.WIRED, MsgStatus.SENT, MsgStatus.DELIVERED, MsgStatus.READ)


@dataclass(frozen=True)
class Received:
    msg: Msg
    # False when a retried callback named a message already stored: nothing was done again.
    created: bool


def receive(channel: Channel, incoming: IncomingMessage) -> Received:
    """Store `incoming` (once per external id) and act on it; returns the message."""
    with transaction.atomic():
        if incoming.external_id is not None:
            known = _known(channel, incoming.external_id)
            if known is not None:
                return Received(known, False)
        contact, urn = _contact_and_urn(channel, incoming.urn)
        now = timezone.now()
        try:
            with transaction.atomic():
                msg = Msg.objects.create(
                    workspace_id=channel.workspace_id,
                    contact=contact,
                    contact_urn=urn,
                    channel=channel,
                    direction=MsgDirection.IN,
                    status=MsgStatus.HANDLED,
                    text=storable_text(incoming.text),  # whatever the type read: a NUL in JSON reaches here
                    attachments=list(incoming.attachments),
                    external_id=incoming.external_id,
                    response_to=_answered(urn, channel, now),
                    created_on=now,
                    modified_on=now,
                    sent_on=incoming.received_on or now,
                )
        except IntegrityError:
            # The same provider id stored by a callback running at the same moment: that one acts on it.
            known = _known(channel, incoming.external_id) if incoming.external_id is not None else None
            if known is None:
                raise
            return Received(known, False)
        Contact.objects.filter(id=contact.id).update(last_seen_on=msg.sent_on)
        if urn.channel_id != channel.id:
            # Replies go back the way the contact wrote (the URN's channel affinity, routing.py).
            ContactURN.objects.filter(id=urn.id).update(channel=channel)
        _act_on_keyword(channel, contact, urn, incoming.text)
        events.message_received(channel.workspace_id, msg.id)  # Event, with the message it announces
    return Received(msg, True)


def stop(channel: Channel, signal: StopSignal) -> Contact:
    """The provider says the contact at `signal.urn` opted out: it is stopped (created first if unknown)."""
    with transaction.atomic():
        contact, _ = _contact_and_urn(channel, signal.urn)
        set_status([contact], ContactStatus.STOPPED, StatusReason.PROVIDER_STOP, only_from=STOPPABLE)
    return contact


def start(channel: Channel, signal: StartSignal) -> Contact:
    """The provider says the contact at `signal.urn` wants messages again: a stopped contact becomes active, as
    with a start word (created first if unknown)."""
    with transaction.atomic():
        contact, _ = _contact_and_urn(channel, signal.urn)
        set_status([contact], ContactStatus.ACTIVE, StatusReason.START_KEYWORD, only_from=(ContactStatus.STOPPED,))
    return contact


def _known(channel: Channel, external_id: str) -> Msg | None:
    return Msg.objects.incoming().filter(channel=channel, external_id=external_id).first()


def _contact_and_urn(channel: Channel, urn_text: str) -> tuple[Contact, ContactURN]:
    """The contact that owns the URN, created if nobody does (safe when two callbacks create it at once)."""
    workspace = channel.workspace
    identity = urn_utils.parse(urn_text).identity
    known = ContactURN.objects.select_related("contact").filter(workspace=workspace, identity=identity).first()
    if known is not None and known.contact is not None and known.contact.is_active:
        return known.contact, known  # the usual case, in one query
    (contact_id,) = contact_ids_for_urns(workspace, [urn_text])
    urn = ContactURN.objects.get(workspace=workspace, identity=identity)
    return Contact.objects.get(id=contact_id), urn


def _answered(urn: ContactURN, channel: Channel, now: datetime) -> Msg | None:
    """The message an incoming one on `urn` answers: the last one handed over to it on this channel, within the
    reply window."""
    window = timedelta(hours=settings.REPLY_WINDOW_HOURS)
    if not window:
        return None
    return (
        Msg.objects.outgoing()
        .filter(contact_urn=urn, channel=channel, created_on__gte=now - window, status__in=HANDED_OVER)
        .order_by("-created_on", "-id")
        .first()
    )


def _act_on_keyword(channel: Channel, contact: Contact, urn: ContactURN, text: str) -> None:
    keyword = optout_words.match_keyword(channel.workspace, text)
    if keyword is None:
        return
    if keyword.kind == "start":
        set_status([contact], ContactStatus.ACTIVE, StatusReason.START_KEYWORD, only_from=(ContactStatus.STOPPED,))
        return
    was = contact.status
    set_status([contact], ContactStatus.STOPPED, StatusReason.STOP_KEYWORD, only_from=STOPPABLE)
    # This message is the opt-out: confirm it, once (a suspended workspace sends nothing, this neither).
    if was != contact.status and not channel.workspace.is_suspended:
        confirmation = optout_words.confirmation_for(channel.workspace, keyword, contact.language)
        if confirmation is not None:
            _send_confirmation(channel, contact, urn, *confirmation)


def _send_confirmation(channel: Channel, contact: Contact, urn: ContactURN, language: str, text: str) -> None:
    now = timezone.now()
    Msg.objects.create(
        workspace_id=channel.workspace_id,
        contact=contact,
        contact_urn=urn,
        channel=channel,
        direction=MsgDirection.OUT,
        status=MsgStatus.QUEUED,
        text=text,
        locale=language,
        msg_count=count_segments(text) if urn.scheme == "tel" else 1,
        created_on=now,
        modified_on=now,
    )
    enqueue_delivery([channel.id])


def received_item(channel: Channel, msg: Msg) -> dict[str, Any]:
    """The answer's `data` item for a stored message, as courier writes it (`MsgReceiveData`)."""
    item: dict[str, Any] = {
        "type": "msg",
        "channel_uuid": str(channel.uuid),
        "msg_uuid": str(msg.uuid),
        "text": msg.text,
        "urn": msg.contact_urn.identity if msg.contact_urn else None,
    }
    if msg.external_id:
        item["external_id"] = msg.external_id
    item["received_on"] = msg.sent_on.isoformat() if msg.sent_on else None
    return item


def stop_item(channel: Channel, signal: StopSignal | StartSignal) -> dict[str, Any]:
    """The answer's `data` item for a stop (or start) signal, as courier writes it (`EventReceiveData`)."""
    return {
        "type": "event",
        "channel_uuid": str(channel.uuid),
        "event_type": "stop_contact" if isinstance(signal, StopSignal) else "new_conversation",
        "urn": signal.urn,
        "received_on": timezone.now().isoformat(),
    }
