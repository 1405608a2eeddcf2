"""The occurrence math of repeating broadcasts (`herald.msgs.recurrence`): wall-clock times in a timezone across
daylight-saving changes, the repeat words, RRULEs, until / COUNT, and the rules refused (never fire, more than once a
minute, unreadable). The API's side of the same is herald/api/tests/test_broadcasts_repeat.py."""

from datetime import UTC, datetime, timedelta
from itertools import islice

import pytest

from herald.msgs.recurrence import Recurrence, RecurrenceError, rule_of


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def occurrences(repeat: str, zone: str, start: datetime, n: int, until: datetime | None = None) -> list[datetime]:
    return list(islice(Recurrence.checked(rule_of(repeat), zone, start, until).occurrences(), n))


def local_times(recurrence_zone: str, instants: list[datetime]) -> list[str]:
    recurrence = Recurrence("FREQ=DAILY", recurrence_zone, instants[0])
    return [recurrence.local(i).strftime("%a %d %H:%M") for i in instants]


# 09:00 stays 09:00 across the changes: the UTC instant moves by the hour instead


def test_a_daily_0900_in_paris_across_the_spring_forward_week():
    # Europe/Paris goes from +01:00 to +02:00 on Sunday 28 March 2027 at 02:00.
    days = occurrences("daily", "Europe/Paris", utc(2027, 3, 25, 8), 6)
    assert days == [utc(2027, 3, 25, 8), utc(2027, 3, 26, 8), utc(2027, 3, 27, 8)] + [
        utc(2027, 3, d, 7) for d in (28, 29, 30)
    ]
    assert [t[-5:] for t in local_times("Europe/Paris", days)] == ["09:00"] * 6


def test_a_daily_0900_in_paris_across_the_fall_back_week():
    # Back from +02:00 to +01:00 on Sunday 31 October 2027 at 03:00.
    days = occurrences("daily", "Europe/Paris", utc(2027, 10, 29, 7), 5)
    assert days == [utc(2027, 10, 29, 7), utc(2027, 10, 30, 7), utc(2027, 10, 31, 8), utc(2027, 11, 1, 8),
                    utc(2027, 11, 2, 8)]  # fmt: skip
    assert [t[-5:] for t in local_times("Europe/Paris", days)] == ["09:00"] * 5


def test_a_daily_0900_in_new_york_across_both_changes():
    # America/New_York: -05:00 → -04:00 on Sunday 14 March 2027, back on Sunday 7 November 2027.
    spring = occurrences("daily", "America/New_York", utc(2027, 3, 13, 14), 3)
    assert spring == [utc(2027, 3, 13, 14), utc(2027, 3, 14, 13), utc(2027, 3, 15, 13)]
    autumn = occurrences("daily", "America/New_York", utc(2027, 11, 6, 13), 3)
    assert autumn == [utc(2027, 11, 6, 13), utc(2027, 11, 7, 14), utc(2027, 11, 8, 14)]
    assert [t[-5:] for t in local_times("America/New_York", spring + autumn)] == ["09:00"] * 6


def test_a_local_time_the_spring_change_skips_fires_that_much_later_on_the_wall_clock():
    # 02:30 doesn't exist in Paris on 28 March 2027: it keeps the offset from before (+01:00), i.e. 03:30 CEST.
    days = occurrences("FREQ=DAILY;BYHOUR=2;BYMINUTE=30;BYSECOND=0", "Europe/Paris", utc(2027, 3, 27, 0), 3)
    assert days == [utc(2027, 3, 27, 1, 30), utc(2027, 3, 28, 1, 30), utc(2027, 3, 29, 0, 30)]
    assert [t[-5:] for t in local_times("Europe/Paris", days)] == ["02:30", "03:30", "02:30"]


def test_a_local_time_the_autumn_change_repeats_fires_once_the_first_time():
    # 02:30 happens twice in Paris on 31 October 2027 (+02:00, then +01:00): the first one, once.
    days = occurrences("FREQ=DAILY;BYHOUR=2;BYMINUTE=30;BYSECOND=0", "Europe/Paris", utc(2027, 10, 30, 0), 3)
    assert days == [utc(2027, 10, 30, 0, 30), utc(2027, 10, 31, 0, 30), utc(2027, 11, 1, 1, 30)]


def test_an_hourly_rule_has_one_occurrence_for_the_skipped_hour_and_one_for_the_repeated_one():
    spring = occurrences("FREQ=HOURLY", "Europe/Paris", utc(2027, 3, 27, 23), 4)  # 00:00 local
    assert spring == [utc(2027, 3, 27, 23), utc(2027, 3, 28, 0), utc(2027, 3, 28, 1), utc(2027, 3, 28, 2)]
    autumn = occurrences("FREQ=HOURLY", "Europe/Paris", utc(2027, 10, 30, 23), 4)  # 01:00 local
    assert autumn == [utc(2027, 10, 30, 23), utc(2027, 10, 31, 0), utc(2027, 10, 31, 2), utc(2027, 10, 31, 3)]


# The words and rules


def test_each_repeat_word_repeats_the_first_occurrence_s_time_weekday_day_and_date():
    start = utc(2027, 1, 31, 9)  # a Sunday
    assert occurrences("weekly", "UTC", start, 3) == [start, utc(2027, 2, 7, 9), utc(2027, 2, 14, 9)]
    # Monthly on the 31st: months without one are skipped (RFC 5545).
    assert occurrences("monthly", "UTC", start, 3) == [start, utc(2027, 3, 31, 9), utc(2027, 5, 31, 9)]
    assert occurrences("yearly", "UTC", start, 2) == [start, utc(2028, 1, 31, 9)]
    assert occurrences("Daily", "UTC", start, 2) == [start, utc(2027, 2, 1, 9)]


def test_an_rrule_s_first_occurrence_is_its_first_match_from_the_start():
    start = utc(2027, 1, 4, 6, 30)  # a Monday, 06:30 UTC
    rule = "RRULE:FREQ=WEEKLY;BYDAY=TU,TH;BYHOUR=9;BYMINUTE=0;BYSECOND=0"
    assert occurrences(rule, "UTC", start, 3) == [utc(2027, 1, 5, 9), utc(2027, 1, 7, 9), utc(2027, 1, 12, 9)]
    assert rule_of(rule) == "FREQ=WEEKLY;BYDAY=TU,TH;BYHOUR=9;BYMINUTE=0;BYSECOND=0"


def test_until_count_and_the_rule_s_own_until_end_it():
    start = utc(2027, 1, 1, 9)
    assert occurrences("daily", "UTC", start, 9, until=utc(2027, 1, 3, 9)) == [start, utc(2027, 1, 2, 9),
                                                                             utc(2027, 1, 3, 9)]  # fmt: skip
    assert occurrences("FREQ=DAILY;COUNT=2", "UTC", start, 9) == [start, utc(2027, 1, 2, 9)]
    assert occurrences("FREQ=DAILY;UNTIL=20270102T090000Z", "UTC", start, 9) == [start, utc(2027, 1, 2, 9)]
    recurrence = Recurrence.checked("FREQ=DAILY;COUNT=2", "UTC", start)
    assert recurrence.next_after(utc(2027, 1, 2, 9)) is None
    assert recurrence.next_after(utc(2027, 1, 1, 12)) == utc(2027, 1, 2, 9)


def test_a_minutely_rule_is_the_most_frequent_allowed():
    assert occurrences("FREQ=MINUTELY", "UTC", utc(2027, 1, 1), 2) == [utc(2027, 1, 1), utc(2027, 1, 1, 0, 1)]


# Refused, with the field at fault


@pytest.mark.parametrize(
    ("repeat", "field", "message"),
    [
        ("hourly", "repeat", "Unknown repeat: hourly. Must be daily, weekly, monthly, yearly or an RFC 5545 RRULE."),
        ("", "repeat", "Must be daily, weekly, monthly, yearly or an RFC 5545 RRULE."),
        ("FREQ=FORTNIGHTLY", "repeat", "Not a valid RRULE: invalid 'FREQ': FORTNIGHTLY."),
        ("FREQ=DAILY;BYHOUR=25", "repeat", "Not a valid RRULE: hour must be in 0..23."),
        ("FREQ=DAILY;INTERVAL=0", "repeat", "Not a valid RRULE: INTERVAL must be 1 or more."),
        ("FREQ=DAILY;COUNT=-1", "repeat", "Not a valid RRULE: COUNT must not be negative."),
        ("DTSTART:20270101T000000\nRRULE:FREQ=DAILY", "repeat",
         "Not an RRULE: must be one line of NAME=VALUE parts, e.g. FREQ=WEEKLY;BYDAY=MO."),
        ("FREQ=DAILY;COUNT=0", "repeat", "Never fires: the rule has no occurrence in the 9 years from its start."),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "repeat",
         "Never fires: the rule has no occurrence in the 9 years from its start."),
        ("FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30", "repeat",
         "Never fires: the rule has no occurrence in the 9 years from its start."),
        ("FREQ=DAILY;UNTIL=20261231T000000Z", "repeat",
         "Never fires: the rule has no occurrence in the 9 years from its start."),
        ("FREQ=SECONDLY", "repeat",
         "Fires more than once a minute (two occurrences 1 s apart): at most once a minute."),
        ("FREQ=MINUTELY;BYSECOND=0,30", "repeat",
         "Fires more than once a minute (two occurrences 30 s apart): at most once a minute."),
        ("FREQ=SECONDLY;INTERVAL=59", "repeat",
         "Fires more than once a minute (two occurrences 59 s apart): at most once a minute."),
    ],
)  # fmt: skip
def test_a_rule_that_can_t_be_is_refused_naming_why(repeat, field, message):
    with pytest.raises(RecurrenceError) as refused:
        Recurrence.checked(rule_of(repeat), "UTC", utc(2027, 1, 1, 9))
    assert (refused.value.field, refused.value.message) == (field, message)


def test_an_unknown_timezone_and_an_until_before_the_start_are_refused():
    with pytest.raises(RecurrenceError) as refused:
        Recurrence.checked("FREQ=DAILY", "Europe/Atlantis", utc(2027, 1, 1))
    assert (refused.value.field, refused.value.message) == (
        "timezone",
        "Unknown timezone: Europe/Atlantis (an IANA name, e.g. Europe/Paris).",
    )
    with pytest.raises(RecurrenceError) as refused:
        Recurrence.checked("FREQ=DAILY", "UTC", utc(2027, 1, 1), until=utc(2027, 1, 1) - timedelta(seconds=1))
    assert (refused.value.field, refused.value.message) == (
        "until",
        "Must not be before the first occurrence (send_at, or now).",
    )
