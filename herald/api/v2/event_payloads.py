"""The objects webhook events carry, rendered by the API's own read serializers: a broadcast as broadcasts.json
shows it, a message as messages.json shows it. Registered with herald.webhooks when Django starts (api/apps.py),
since that app sits below the API and can't import it."""

from collections.abc import Sequence
from typing import Any

from herald.msgs.models import Broadcast, Msg
from herald.msgs.single import with_relations
from herald.webhooks import payloads
from herald.workspaces.models import Workspace

from .endpoints.broadcasts import BroadcastReadSerializer, attach_recipient_refs
from .endpoints.messages import MsgReadSerializer


def broadcasts(workspace: Workspace, ids: Sequence[int]) -> list[dict[str, Any]]:
    page = list(Broadcast.objects.filter(workspace=workspace, id__in=ids).order_by("id"))
    attach_recipient_refs(page)
    return list(BroadcastReadSerializer(page, many=True, context={"workspace": workspace}).data)


def messages(workspace: Workspace, ids: Sequence[int]) -> list[dict[str, Any]]:
    page = with_relations(Msg.objects.filter(workspace=workspace, id__in=ids)).order_by("id")
    return list(MsgReadSerializer(page, many=True, context={"workspace": workspace}).data)


def register() -> None:
    payloads.register("broadcast", broadcasts)
    payloads.register("message", messages)
