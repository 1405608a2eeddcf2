"""Keyset paging for the interface's lists, newest first: a page is the rows before the last one shown, found
through the (…, created_on, id) indexes, never by OFFSET, so the thousandth page costs what the first does.

    page = newest_first(queryset, request.GET.get("before"), size=25)
    page.rows, page.next_cursor   # the next cursor is None on the last page
"""

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Generic, TypeVar

from django.db.models import Model, Q, QuerySet

M = TypeVar("M", bound=Model)
SEPARATOR = "_"


class BadCursor(ValueError):
    """A `before` that no page of ours gave out."""


@dataclass(frozen=True)
class Page(Generic[M]):
    rows: list[M]
    next_cursor: str | None
    is_first: bool


def cursor_of(row: Model) -> str:
    return f"{row.created_on.isoformat()}{SEPARATOR}{row.pk}"  # type: ignore[attr-defined]


def parse_cursor(text: str) -> tuple[datetime, int]:
    when, _, pk = text.rpartition(SEPARATOR)
    try:
        moment = datetime.fromisoformat(when)
    except ValueError:
        raise BadCursor(text) from None
    if moment.tzinfo is None or not (pk.isascii() and pk.isdigit()) or len(pk) > 18:
        raise BadCursor(text)
    return moment, int(pk)


def newest_first(queryset: QuerySet[M], before: str | None, size: int, one_of: Sequence[Q] = ()) -> Page[M]:
    """One page of `queryset` (rows with `created_on`), newest first, after the cursor `before` (or the first).

    With `one_of`, only the rows matching one of these conditions, read by one keyset query per condition and merged
    here: PostgreSQL reads a (…, status, created_on, id) index in order for one status, but for an IN of several it
    filters the whole (…, created_on, id) range instead. Each query stops after a page, so the page costs a query
    per condition and never more rows than that, with the same order and cursors as one query would give."""
    if before:
        moment, pk = parse_cursor(before)
        # The `lte` bound is what the index can range over (PostgreSQL reads an OR only as a filter: without it, the
        # thousandth page reads every row before it); the OR then settles the rows of that very moment.
        queryset = queryset.filter(created_on__lte=moment).filter(
            Q(created_on__lt=moment) | Q(created_on=moment, pk__lt=pk)
        )
    parts = [queryset.filter(condition) for condition in one_of] or [queryset]
    pages = [list(part.order_by("-created_on", "-pk")[: size + 1]) for part in parts]
    merged = heapq.merge(*pages, key=lambda row: (row.created_on, row.pk), reverse=True)  # type: ignore[attr-defined]
    rows = list(islice(merged, size + 1))
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, cursor_of(rows[-1]) if more else None, is_first=not before)
