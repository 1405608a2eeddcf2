"""The send window's rules (herald/workspaces/send_window.py): reading and checking one, whether it is open at an
instant, and when it next opens, across midnight and daylight-saving changes."""

from datetime import UTC, datetime

import pytest

from herald.workspaces.send_window import SendWindow, SendWindowError, parse_compact


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def window(days, start, end, timezone="Africa/Kigali") -> SendWindow:
    return SendWindow.from_json({"days": days, "start": start, "end": end, "timezone": timezone}, None)


WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def test_a_weekday_window_is_open_from_its_start_up_to_but_not_at_its_end_in_its_zone():
    office = window(WEEKDAYS, "08:00", "20:00")  # Kigali is UTC+2, no daylight saving
    # Wednesday 2026-12-02
    assert not office.is_open(utc(2026, 12, 2, 5, 59, 59))
    assert office.is_open(utc(2026, 12, 2, 6, 0))
    assert office.is_open(utc(2026, 12, 2, 17, 59, 59))
    assert not office.is_open(utc(2026, 12, 2, 18, 0))
    assert office.next_opening(utc(2026, 12, 2, 12, 0)) is None
    assert office.next_opening(utc(2026, 12, 2, 18, 0)) == utc(2026, 12, 3, 6, 0)
    # Friday evening: Monday morning.
    assert office.next_opening(utc(2026, 12, 4, 19, 0)) == utc(2026, 12, 7, 6, 0)


def test_an_end_before_the_start_spans_midnight_from_each_listed_day():
    night = window(["fri"], "22:00", "06:00", "UTC")
    assert night.is_open(utc(2026, 12, 4, 22, 0))  # Friday 22:00
    assert night.is_open(utc(2026, 12, 5, 5, 59))  # Saturday morning, still Friday's window
    assert not night.is_open(utc(2026, 12, 5, 6, 0))
    assert not night.is_open(utc(2026, 12, 5, 23, 0))  # Saturday night is not a listed day
    assert not night.is_open(utc(2026, 12, 4, 3, 0))  # Friday morning belongs to Thursday's night
    assert night.next_opening(utc(2026, 12, 5, 6, 0)) == utc(2026, 12, 11, 22, 0)


def test_the_whole_day_and_seconds():
    every_day = window(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "00:00", "24:00", "UTC")
    assert every_day.is_open(utc(2026, 12, 2, 0, 0))
    assert every_day.is_open(utc(2026, 12, 2, 23, 59, 59))
    assert every_day.as_json()["end"] == "24:00"
    precise = window(WEEKDAYS, "08:00:30", "08:00:45", "UTC")
    assert precise.next_opening(utc(2026, 12, 2, 8, 0)) == utc(2026, 12, 2, 8, 0, 30)
    assert precise.is_open(utc(2026, 12, 2, 8, 0, 44))
    assert not precise.is_open(utc(2026, 12, 2, 8, 0, 45))
    assert precise.as_json() == {"days": WEEKDAYS, "start": "08:00:30", "end": "08:00:45", "timezone": "UTC"}


def test_daylight_saving_changes_move_the_window_with_local_time():
    # Paris: clocks go forward on Sunday 2026-03-29 at 02:00 (01:00 UTC), back on Sunday 2026-10-25 at 03:00.
    sundays = window(["sun"], "08:00", "20:00", "Europe/Paris")
    assert sundays.next_opening(utc(2026, 3, 28, 12, 0)) == utc(2026, 3, 29, 6, 0)  # 08:00 CEST
    assert sundays.next_opening(utc(2026, 3, 22, 0, 0)) == utc(2026, 3, 22, 7, 0)  # 08:00 CET, a week before
    assert sundays.next_opening(utc(2026, 10, 24, 21, 0)) == utc(2026, 10, 25, 7, 0)  # 08:00 CET again
    assert sundays.is_open(utc(2026, 10, 25, 18, 59))
    assert not sundays.is_open(utc(2026, 10, 25, 19, 0))


def test_a_start_the_clocks_skip_opens_when_they_jump_and_a_repeated_hour_opens_once():
    # 02:30 doesn't exist in Paris on 2026-03-29: the window opens when the clocks jump to 03:00 (01:00 UTC).
    skipped = window(["sun"], "02:30", "05:00", "Europe/Paris")
    assert skipped.next_opening(utc(2026, 3, 28, 12, 0)) == utc(2026, 3, 29, 1, 0)
    assert not skipped.is_open(utc(2026, 3, 29, 0, 59, 59))
    assert skipped.is_open(utc(2026, 3, 29, 1, 0))
    # 01:00-02:30 on 2026-10-25: 02:00-03:00 happens twice; the window closes at the first 02:30 and stays closed.
    repeated = window(["sun"], "01:00", "02:30", "Europe/Paris")
    assert repeated.is_open(utc(2026, 10, 24, 23, 0))  # 01:00 CEST
    assert not repeated.is_open(utc(2026, 10, 25, 0, 30))  # the first 02:30 (CEST)
    assert not repeated.is_open(utc(2026, 10, 25, 1, 15))  # 02:15 CET, the second time round


def test_the_timezone_defaults_to_the_one_given_and_is_spelled_as_the_zone_database_does():
    assert SendWindow.from_json({"days": ["mon"], "start": "08:00", "end": "09:00"}, "Africa/Kigali").timezone == (
        "Africa/Kigali"
    )
    kept = SendWindow.from_json({"days": ["MON", "mon"], "start": "08:00", "end": "09:00", "timezone": None}, None)
    assert kept.as_json() == {"days": ["mon"], "start": "08:00", "end": "09:00", "timezone": None}
    assert window(["mon"], "08:00", "09:00", "europe/PARIS").timezone == "Europe/Paris"


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        ("mon 08:00", "", "Must be an object"),
        ({"days": ["mon"], "start": "08:00"}, "end", "This field is required."),
        ({"days": ["mon"], "start": "08:00", "end": "09:00", "tz": "UTC"}, "tz", "Unknown field"),
        ({"days": [], "start": "08:00", "end": "09:00"}, "days", "Must be a non-empty list of day names"),
        ({"days": "mon", "start": "08:00", "end": "09:00"}, "days", "Must be a non-empty list of day names"),
        ({"days": ["monday"], "start": "08:00", "end": "09:00"}, "days", "Unknown day 'monday'"),
        ({"days": [1], "start": "08:00", "end": "09:00"}, "days", "Unknown day 1"),
        ({"days": ["mon"], "start": "8:00", "end": "09:00"}, "start", "Must be a time of day as HH:MM or HH:MM:SS"),
        ({"days": ["mon"], "start": "24:00", "end": "09:00"}, "start", "Must be a time of day"),
        ({"days": ["mon"], "start": "08:00", "end": "09:60"}, "end", "Must be a time of day"),
        ({"days": ["mon"], "start": 8, "end": "09:00"}, "start", "Must be a time of day"),
        ({"days": ["mon"], "start": "08:00", "end": "08:00"}, "end", "Must differ from start"),
        ({"days": ["mon"], "start": "00:00", "end": "00:00"}, "end", "Must differ from start"),
        ({"days": ["mon"], "start": "08:00", "end": "09:00", "timezone": "Mars/Base"}, "timezone", "Unknown timezone"),
        ({"days": ["mon"], "start": "08:00", "end": "09:00", "timezone": "localtime"}, "timezone", "Unknown timezone"),
        ({"days": ["mon"], "start": "08:00", "end": "09:00", "timezone": 2}, "timezone", "Unknown timezone"),
    ],
)
def test_a_window_that_cant_be_used_names_the_part_that_is_wrong(value, field, message):
    with pytest.raises(SendWindowError, match=message) as caught:
        SendWindow.from_json(value, "UTC")
    assert caught.value.field == field


def test_the_command_lines_form():
    assert parse_compact("none", "UTC") is None
    assert parse_compact("  ", "UTC") is None
    assert parse_compact("sat-mon 22:00-06:00 UTC", None) == window(["sat", "sun", "mon"], "22:00", "06:00", "UTC")
    assert parse_compact("mon,wed-thu 08:00-24:00", "Africa/Kigali") == window(["mon", "wed", "thu"], "08:00", "24:00")
