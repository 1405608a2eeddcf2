"""`/api/v2/schedules.json`: the schedules of repeating broadcasts, listed (GET), changed (POST `?broadcast=`) and
ended (DELETE `?broadcast=`). A schedule is made with its broadcast (`POST broadcasts.json` with `schedule`) and
named by that broadcast's UUID."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers

from herald.api.v2 import openapi
from herald.api.v2.base import BaseEndpoint, DeleteAPIMixin, ListAPIMixin, WriteAPIMixin
from herald.api.v2.filters import Filter, created_between
from herald.api.v2.params import InvalidParam, uuid_param
from herald.api.v2.permissions import ADMIN_EDITOR
from herald.api.v2.schedule_fields import (
    KEYS,
    ScheduleReadSerializer,
    as_validation_error,
    read_until,
    unknown_keys,
)
from herald.api.v2.serializer_fields import DateTimeField
from herald.msgs import schedules
from herald.msgs.models import BroadcastSchedule
from herald.msgs.recurrence import Recurrence, RecurrenceError, rule_of, timezone_named
from herald.msgs.tasks import queue_fire

NEEDS_BROADCAST = (
    "URL must contain ?broadcast=<uuid>: a schedule is made with its broadcast (POST broadcasts.json with schedule)."
)
ENDED = "This schedule has ended: it can't be changed."
NOTHING_TO_CHANGE = f"Must provide one of {', '.join(KEYS)}."


class BroadcastUUIDSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()


class ScheduleItemSerializer(ScheduleReadSerializer):
    """A schedule as schedules.json lists it: its broadcast, then what `broadcasts.json` shows as `schedule`."""

    broadcast = BroadcastUUIDSerializer()
    created_on = DateTimeField()
    modified_on = DateTimeField()

    def get_fields(self):
        # The broadcast first, the dates last.
        fields = super().get_fields()
        order = ["broadcast", *ScheduleReadSerializer._declared_fields, "created_on", "modified_on"]
        return {name: fields[name] for name in order}


class ScheduleChangeSerializer(serializers.Serializer):
    """The POST body: any of `repeat`, `timezone`, `until` (null: no end). The start keeps its local time: a
    schedule at 09:00 moved to another timezone fires at 09:00 there."""

    def to_internal_value(self, data):
        errors = unknown_keys(data)
        if errors:
            raise serializers.ValidationError(errors)
        if not any(key in data for key in KEYS):
            raise serializers.ValidationError({"non_field_errors": [NOTHING_TO_CHANGE]})
        schedule = self.instance
        if not schedule.is_active:
            raise serializers.ValidationError({"non_field_errors": [ENDED]})
        try:
            return {"recurrence": self._recurrence(schedule, data), "repeat": self._repeat(schedule, data)}
        except RecurrenceError as error:
            raise as_validation_error(error) from None

    @staticmethod
    def _recurrence(schedule: BroadcastSchedule, data: dict) -> Recurrence:
        current = schedule.recurrence
        rule = rule_of(data["repeat"]) if "repeat" in data else current.rule
        zone = timezone_named(data["timezone"]) if "timezone" in data else current.zone
        start = current.local(current.start).replace(tzinfo=zone, fold=0)
        until = read_until(data["until"], zone.key) if "until" in data else current.until
        return Recurrence.checked(rule, zone.key, start, until)

    @staticmethod
    def _repeat(schedule: BroadcastSchedule, data: dict) -> str | None:
        if "repeat" not in data:
            return schedule.repeat
        word = data["repeat"].strip().lower()
        return None if "=" in word else word

    def update(self, instance, validated_data):
        return schedules.change(instance, validated_data["recurrence"], validated_data["repeat"])


BROADCAST_DESCRIPTION = "The schedule of the repeating broadcast with this UUID"
BROADCAST_PARAM = OpenApiParameter("broadcast", OpenApiTypes.UUID, description=BROADCAST_DESCRIPTION)
NOT_FOUND = OpenApiResponse(openapi.DETAIL, description="`?broadcast=` names no repeating broadcast of your workspace")


@extend_schema_view(
    get=extend_schema(
        summary="List the schedules of repeating broadcasts",
        responses={200: ScheduleItemSerializer(many=True), 400: openapi.BAD_REQUEST, **openapi.COMMON_ERRORS},
    ),
    post=extend_schema(
        summary="Change the schedule ?broadcast= names (its next occurrences)",
        parameters=[BROADCAST_PARAM],
        request={"application/json": {"type": "object", "properties": {k: {"type": "string"} for k in KEYS}}},
        responses={200: ScheduleItemSerializer, 400: openapi.BAD_REQUEST, 404: NOT_FOUND, **openapi.COMMON_ERRORS},
    ),
    delete=extend_schema(
        summary="End the schedule ?broadcast= names",
        parameters=[BROADCAST_PARAM],
        responses={204: None, 400: openapi.BAD_REQUEST, 404: NOT_FOUND, **openapi.COMMON_ERRORS},
    ),
)
class SchedulesEndpoint(ListAPIMixin, WriteAPIMixin, DeleteAPIMixin, BaseEndpoint):
    """List, change and end the schedules of your repeating broadcasts.

    Its documentation page is `api/v2/docs/schedules.md`."""

    endpoint_name = "schedules"
    title = "Schedules of repeating broadcasts"
    roles = {"GET": ADMIN_EDITOR, "POST": ADMIN_EDITOR, "DELETE": ADMIN_EDITOR}
    serializer_class = ScheduleItemSerializer
    write_serializer_class = ScheduleChangeSerializer
    lookup_params = {"broadcast": "broadcast__uuid"}
    list_filters = [
        Filter("broadcast", uuid_param, "broadcast__uuid", BROADCAST_DESCRIPTION),
        *created_between("schedules"),
    ]

    def get_queryset(self):
        return BroadcastSchedule.objects.filter(
            broadcast__workspace=self.workspace, broadcast__is_active=True
        ).select_related("broadcast")

    def get_lookup_object(self):
        schedule = super().get_lookup_object()
        if schedule is None:
            raise InvalidParam(NEEDS_BROADCAST)
        return schedule

    def after_write(self, schedule, created: bool) -> None:
        queue_fire(schedule.id, schedule.next_fire)

    def perform_delete(self, obj) -> None:
        schedules.end_by_hand(obj)
