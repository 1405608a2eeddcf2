"""A repeating broadcast's schedule in the API: how it is shown (`ScheduleReadSerializer`, in `broadcasts.json` and
`schedules.json`) and how its input is read (`ScheduleInputField` on `POST broadcasts.json`, the same keys on
`POST schedules.json?broadcast=`). The occurrence math is `herald.msgs.recurrence`; see api/v2/docs/schedules.md."""

from datetime import UTC, datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from herald.msgs.recurrence import Recurrence, RecurrenceError, instant_of, rule_of, timezone_named

from .serializer_fields import DateTimeField, DirectReadSerializer

KEYS = ("repeat", "timezone", "until")
UNTIL_INVALID = "Must be an ISO 8601 date or datetime, e.g. 2027-06-30 or 2027-06-30T18:00:00+02:00."


class ScheduleReadSerializer(DirectReadSerializer):
    repeat = serializers.CharField(allow_null=True, help_text="daily, weekly, monthly or yearly; null for an RRULE")
    rrule = serializers.CharField(source="rule", help_text="the RFC 5545 rule, e.g. FREQ=DAILY")
    timezone = serializers.CharField(help_text="the IANA timezone whose local times the rule is read in")
    start = DateTimeField(help_text="the rule's start (DTSTART): its first possible occurrence")
    until = DateTimeField(allow_null=True, help_text="nothing fires after this; null: no end but the rule's")
    next_occurrence = DateTimeField(source="next_fire", allow_null=True, help_text="null once it has ended")
    is_active = serializers.BooleanField(help_text="false once it has ended (run out, or ended with DELETE)")
    missed = serializers.IntegerField(help_text="occurrences skipped because nothing ran at their time")


def read_until(value: object, zone_name: str) -> datetime | None:
    """`until` as given: null; a datetime with an offset (that instant); one without (a local time in the
    schedule's timezone); or a date (the end of that day there)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecurrenceError("until", UNTIL_INVALID)
    zone = timezone_named(zone_name)
    try:
        # The date first: parse_datetime reads a date alone as its midnight.
        day = parse_date(value)
        moment = parse_datetime(value) if day is None else None
    except ValueError:
        moment = day = None
    try:
        if moment is not None:
            return moment.astimezone(UTC) if moment.tzinfo is not None else instant_of(moment, zone)
        if day is not None:
            return instant_of(datetime.combine(day + timedelta(days=1), time()), zone) - timedelta(microseconds=1)
    except OverflowError:  # a year out of range once in UTC, or the day after 9999-12-31
        pass
    raise RecurrenceError("until", UNTIL_INVALID)


def as_validation_error(error: RecurrenceError, under: str | None = None) -> serializers.ValidationError:
    """The 400 body of `error`: `{"repeat": [...]}`, or `{"schedule": {"repeat": [...]}}` with `under`."""
    detail = {error.field: [error.message]}
    return serializers.ValidationError({under: detail} if under else detail)


def unknown_keys(value: dict) -> dict[str, list[str]]:
    return {key: [f"Not a schedule field: {', '.join(KEYS)} are."] for key in value if key not in KEYS}


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "properties": {
            "repeat": {"type": "string", "description": "daily, weekly, monthly, yearly or an RFC 5545 RRULE"},
            "timezone": {"type": "string", "description": "IANA name; the workspace's timezone if left out"},
            "until": {"type": "string", "nullable": True, "description": "ISO 8601 date or datetime"},
        },
        "required": ["repeat"],
    }
)
class ScheduleInputField(serializers.Field):
    """`schedule` on `POST broadcasts.json`: `{"repeat", "timezone"?, "until"?}`, read as far as it can be alone;
    the broadcast's serializer checks it against its start (`checked_recurrence`)."""

    def to_internal_value(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be an object: {repeat, timezone, until}.")
        errors = unknown_keys(value)
        if "repeat" not in value:
            errors["repeat"] = ["This field is required."]
        if errors:
            raise serializers.ValidationError(errors)
        try:
            rule = rule_of(value["repeat"])
            zone_name = timezone_named(value["timezone"]).key if "timezone" in value else None
        except RecurrenceError as error:
            raise serializers.ValidationError({error.field: [error.message]}) from None
        word = value["repeat"].strip().lower()
        read = {"repeat": word if "=" not in word else None, "rule": rule, "timezone": zone_name}
        if "until" in value:  # read once the timezone is known (checked_recurrence)
            read["until"] = value["until"]
        return read


def checked_recurrence(schedule: dict, default_zone: str, start: datetime) -> Recurrence:
    """The recurrence of a `ScheduleInputField` value that starts at `start`; RecurrenceError if it can't be."""
    zone_name = schedule["timezone"] or default_zone
    until = read_until(schedule.get("until"), zone_name)
    return Recurrence.checked(schedule["rule"], zone_name, start, until)


def default_start() -> datetime:
    """A schedule's start when the body gives no `send_at`: now, to the minute (a rule's seconds come from its
    start: `FREQ=DAILY;BYHOUR=9;BYMINUTE=0` fires at 09:00:00, not at the seconds of the request)."""
    return timezone.now().replace(second=0, microsecond=0)
