"""`/api/v2/broadcast_actions.json`: pause, resume or interrupt up to 100 broadcasts (Herald's addition, in the shape
of RapidPro's `contact_actions.json`; docs/COMPATIBILITY.md, C46)."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from herald.api.v2 import openapi
from herald.api.v2.base import BaseEndpoint, BulkWriteAPIMixin
from herald.api.v2.permissions import ADMIN_EDITOR
from herald.api.v2.serializer_fields import ReferenceListField, as_uuid
from herald.msgs import control
from herald.msgs.models import Broadcast
from herald.msgs.tasks import enqueue_resumed


class BroadcastRefsField(ReferenceListField):
    """Broadcasts of this workspace by UUID or by (deprecated) integer id, as `messages.json?broadcast=` takes."""

    def resolve(self, workspace, refs):
        by_uuid = {ref: u for ref in refs if (u := as_uuid(ref))}
        by_id = {ref: int(ref) for ref in refs if ref not in by_uuid and _is_id(ref)}
        found = Broadcast.objects.filter(workspace=workspace, is_active=True)
        uuids = {b.uuid: b for b in found.filter(uuid__in=by_uuid.values())} if by_uuid else {}
        ids = {b.id: b for b in found.filter(id__in=by_id.values())} if by_id else {}
        return {ref: uuids[u] for ref, u in by_uuid.items() if u in uuids} | {
            ref: ids[i] for ref, i in by_id.items() if i in ids
        }


def _is_id(ref) -> bool:
    # A 64-bit id at most: a longer number names nothing (and never reaches a query).
    text = str(ref)
    return text.isascii() and text.isdigit() and len(text) <= 18


class BroadcastActionSerializer(serializers.Serializer):
    broadcasts = BroadcastRefsField(help_text="Up to 100 broadcast UUIDs or ids")
    action = serializers.ChoiceField(choices=control.ACTIONS)

    def validate_broadcasts(self, value):
        if not value:
            raise serializers.ValidationError("Broadcasts can't be empty.")
        return value

    def save(self):
        try:
            return control.act(self.validated_data["action"], self.validated_data["broadcasts"])
        except control.ActionRefused as exc:  # the caller's transaction is rolled back: nothing written
            raise serializers.ValidationError({"broadcasts": [str(exc)]}) from None


@extend_schema_view(
    post=extend_schema(
        summary="Pause, resume or interrupt broadcasts",
        request=BroadcastActionSerializer,
        responses={204: None, 400: openapi.BAD_REQUEST, **openapi.COMMON_ERRORS},
    ),
)
class BroadcastActionsEndpoint(BulkWriteAPIMixin, BaseEndpoint):
    """Pause, resume or interrupt up to 100 broadcasts.

    Its documentation page is `api/v2/docs/broadcast_actions.md`."""

    endpoint_name = "broadcast_actions"
    title = "Broadcast actions"
    # Whoever may send broadcasts may stop them.
    roles = {"POST": ADMIN_EDITOR}
    serializer_class = write_serializer_class = BroadcastActionSerializer

    def after_write(self, resumed, created: bool) -> None:
        enqueue_resumed(resumed)
