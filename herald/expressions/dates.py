"""Excellent date/time layouts such as `DD/MM/YYYY tt:mm` (English names only).

A layout is read as runs of one repeated character. Runs of ` : / . , T - _` are copied as they are; any other run
must be one of the sequences below, or the layout is an error (as in Excellent: no free text in a layout).
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache

from .errors import EvaluationError

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_COPIED = frozenset(" :/.,T-_")


def _offset(moment: datetime, utc_as_z: bool) -> str:
    offset = moment.utcoffset() or timedelta(0)  # naive datetimes count as UTC
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0 and utc_as_z:
        return "Z"
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


_DATE_SEQUENCES: dict[str, Callable[[datetime], str]] = {
    "YY": lambda m: f"{m.year % 100:02d}",
    "YYYY": lambda m: f"{m.year:04d}",
    "M": lambda m: str(m.month),
    "MM": lambda m: f"{m.month:02d}",
    "MMM": lambda m: _MONTHS[m.month - 1][:3],
    "MMMM": lambda m: _MONTHS[m.month - 1],
    "D": lambda m: str(m.day),
    "DD": lambda m: f"{m.day:02d}",
    "EEE": lambda m: _DAYS[m.weekday()][:3],
    "EEEE": lambda m: _DAYS[m.weekday()],
}

_TIME_SEQUENCES: dict[str, Callable[[datetime], str]] = {
    "h": lambda m: str(m.hour % 12 or 12),
    "hh": lambda m: f"{m.hour % 12 or 12:02d}",
    "t": lambda m: str(m.hour),
    "tt": lambda m: f"{m.hour:02d}",
    "m": lambda m: str(m.minute),
    "mm": lambda m: f"{m.minute:02d}",
    "s": lambda m: str(m.second),
    "ss": lambda m: f"{m.second:02d}",
    "fff": lambda m: f"{m.microsecond // 1000:03d}",
    "ffffff": lambda m: f"{m.microsecond:06d}",
    "fffffffff": lambda m: f"{m.microsecond:06d}000",
    "aa": lambda m: "pm" if m.hour >= 12 else "am",
    "AA": lambda m: "PM" if m.hour >= 12 else "AM",
    "Z": lambda m: _offset(m, utc_as_z=True),
    "ZZZ": lambda m: _offset(m, utc_as_z=False),
}

_DATE_AND_TIME_SEQUENCES = {**_DATE_SEQUENCES, **_TIME_SEQUENCES}


def format_layout(moment: datetime, layout: str, with_time: bool) -> str:
    """Format `moment` with an Excellent `layout`; time sequences are only valid `with_time` (format_datetime)."""
    # A broadcast reuses one short layout for every contact: cache those, but don't let long computed ones fill memory.
    parts = _compile_cached(layout, with_time) if len(layout) <= 64 else _compile(layout, with_time)
    return "".join(part if isinstance(part, str) else part(moment) for part in parts)


def _compile(layout: str, with_time: bool) -> tuple:
    """A layout as literal runs and formatting functions."""
    sequences = _DATE_AND_TIME_SEQUENCES if with_time else _DATE_SEQUENCES
    parts: list[str | Callable[[datetime], str]] = []
    start = 0
    while start < len(layout):
        end = start + 1
        while end < len(layout) and layout[end] == layout[start]:
            end += 1
        run = layout[start:end]
        if run[0] in _COPIED:
            parts.append(run)
        elif run in sequences:
            parts.append(sequences[run])
        else:
            raise EvaluationError(f"'{run}' is not valid in a date format")
        start = end
    return tuple(parts)


_compile_cached = lru_cache(maxsize=256)(_compile)
