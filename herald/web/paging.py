"""Keyset paging for the interface's lists: a page is the rows that come after the last one shown in the list's
order, found through an index on that order, never by OFFSET, so the thousandth page costs what the first does.

One pager, `keyset_page(queryset, order, after, size, cursor_of)`, and two kinds of cursor in the URLs:

    newest_first(queryset, request.GET.get("before"), size)   # ?before=<created_on>_<id>: broadcasts, messages,
                                                               # logs; one no page gave out is BadCursor (a 400)
    after_named(queryset, order, scope, request.GET.get("after"), size)   # ?after=<UUID of the last row shown>:
                                                               # the contacts lists; not a row of `scope`: a 404
    page.rows, page.next_cursor   # the next cursor is None on the last page
"""

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, Generic, TypeVar
from uuid import UUID

from django.db.models import Model, Q, QuerySet
from django.http import Http404

M = TypeVar("M", bound=Model)
R = TypeVar("R")
SEPARATOR = "_"
# The fields a list is ordered by, "-name" for descending, the last one unique (the id): ("-created_on", "-pk").
Order = Sequence[str]
NEWEST_FIRST: Order = ("-created_on", "-pk")


class BadCursor(ValueError):
    """A `before` that no page of ours gave out."""


@dataclass(frozen=True)
class Page(Generic[R]):
    rows: list[R]
    more: bool  # a next page follows
    is_first: bool
    cursor_of: Callable[[R], str]  # names a row for the next page's link

    @property
    def next_cursor(self) -> str | None:
        return self.cursor_of(self.rows[-1]) if self.more else None

    def with_rows(self, rows: list, cursor_of: Callable[[Any], str]) -> "Page":
        """This page with each row replaced by what it stands for (a contact for its id), in the same order."""
        return Page(rows, self.more, self.is_first, cursor_of)

    @classmethod
    def whole(cls, rows: list[R]) -> "Page[R]":
        """A list that is never more than one page (no cursor names its rows)."""
        return cls(rows, more=False, is_first=True, cursor_of=str)


def keyset_page(
    queryset: QuerySet[Any, R],
    order: Order,
    after: tuple | None,
    size: int,
    cursor_of: Callable[[R], str],
    one_of: Sequence[Q] = (),
) -> Page[R]:
    """One page of `queryset` in `order`: the `size` rows after the key `after` (the order's values of the last row
    shown), or the first ones; `cursor_of(row)` names the page's last row for the next page's link.

    With `one_of`, only the rows matching one of these conditions, read by one keyset query per condition and merged
    here: PostgreSQL reads a (…, status, created_on, id) index in order for one status, but for an IN of several it
    filters the whole (…, created_on, id) range instead. Each query stops after a page, so the page costs a query
    per condition, with the same order and cursors as one query would give (`order` all one direction)."""
    if after is not None:
        queryset = _after_key(queryset, order, after)
    parts = [queryset.filter(condition) for condition in one_of] or [queryset]
    pages = [list(part.order_by(*order)[: size + 1]) for part in parts]
    if len(pages) == 1:
        rows = pages[0]
    else:
        descending = _field(order[0])[1]
        merged = heapq.merge(*pages, key=lambda row: key_of(row, order), reverse=descending)
        rows = list(islice(merged, size + 1))
    return Page(rows[:size], more=len(rows) > size, is_first=after is None, cursor_of=cursor_of)


def _after_key(queryset: QuerySet[Any, R], order: Order, key: tuple) -> QuerySet[Any, R]:
    if len(order) > 1:
        # The bound on the first field is what the index can range over (PostgreSQL reads an OR only as a filter:
        # without it, the thousandth page reads every row before it); the OR then settles the rows of that value.
        name, descending = _field(order[0])
        queryset = queryset.filter(**{f"{name}__{'lte' if descending else 'gte'}": key[0]})
    return queryset.filter(_beyond(order, key))


def _beyond(order: Order, key: tuple) -> Q:
    """Rows beyond `key` in `order`: first field past it, or equal and beyond on the rest."""
    name, descending = _field(order[0])
    past = Q(**{f"{name}__{'lt' if descending else 'gt'}": key[0]})
    if len(order) == 1:
        return past
    return past | (Q(**{name: key[0]}) & _beyond(order[1:], key[1:]))


def _field(ordering: str) -> tuple[str, bool]:
    return ordering.removeprefix("-"), ordering.startswith("-")


def key_of(row: Any, order: Order) -> tuple:
    """The order's values of `row`: the key the next page starts after."""
    return tuple(getattr(row, _field(ordering)[0]) for ordering in order)


# Cursors that carry the key: ?before=<created_on>_<id> -------------------------------------------------------


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
    """One page of `queryset` (rows with `created_on`), newest first, after the cursor `before` (or the first);
    `one_of`: see keyset_page."""
    after = parse_cursor(before) if before else None
    return keyset_page(queryset, NEWEST_FIRST, after, size, cursor_of, one_of=one_of)


# Cursors that name the last row: ?after=<uuid> -----------------------------------------------------------------


def named_row(scope: QuerySet[M], name: str | None) -> M | None:
    """The row of `scope` whose UUID is `name`, or None on a first page. Anything else is a 404: a UUID that is
    not one, or one of another workspace's rows (`scope` holds this workspace's only)."""
    if not name:
        return None
    try:
        wanted = UUID(name)
    except ValueError:
        raise Http404 from None
    found = scope.filter(uuid=wanted).first()
    if found is None:
        raise Http404
    return found


def uuid_of(row: Any) -> str:
    return str(row.uuid)


def after_named(
    queryset: QuerySet[Any, R],
    order: Order,
    scope: QuerySet,
    name: str | None,
    size: int,
    key: Callable[[Any], tuple] | None = None,
) -> Page[R]:
    """One page of `queryset` in `order` after the row of `scope` named `name` (see named_row); that row's key is
    its values of the order's fields unless `key(row)` says otherwise."""
    last = named_row(scope, name)
    after = None if last is None else (key(last) if key is not None else key_of(last, order))
    return keyset_page(queryset, order, after, size, uuid_of)
