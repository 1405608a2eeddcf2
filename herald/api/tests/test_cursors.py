"""A forged `?cursor=` on any list endpoint is DRF's 404 "Invalid cursor", never a 500; real cursors still work.

A cursor is base64 of `o=<offset>&r=<reverse>&p=<position>`; the position is compared with the list's ordering
date, so a forged one can be anything from text to a date no database holds.
"""

from base64 import b64encode
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from herald.api.v2.base import ListAPIMixin
from herald.api.v2.registry import ENDPOINTS
from herald.testing.factories import make_broadcast, make_contact, make_group

INVALID = {"detail": "Invalid cursor"}

LIST_URLS = [f"/api/v2/{e.endpoint_name}.json" for e in ENDPOINTS if issubclass(e, ListAPIMixin)]
# Lists whose order (and so the position's field) depends on a parameter.
LIST_VARIANTS = [
    *[(url, {}) for url in LIST_URLS],
    ("/api/v2/messages.json", {"folder": "sent"}),
    ("/api/v2/contacts.json", {"reverse": "true"}),
]


def cursor(**tokens) -> str:
    return b64encode(urlencode(tokens).encode()).decode()


FORGED = {
    "not base64": "garbage",
    "not ascii": "cursör",
    "bytes that are no text": b64encode(b"\xff\xfe\x00").decode(),
    "offset not a number": cursor(o="many"),
    "negative offset": cursor(o="-1"),
    "direction not a number": cursor(r="maybe"),
    "position not a date": cursor(p="garbage"),
    "position an impossible date": cursor(p="2026-13-45 25:61:00+00:00"),
    "position without a time zone": cursor(p="2026-01-01 00:00:00"),
    "position a number": cursor(p="12345"),
    "position with a NUL": cursor(p="2026-01-01 00:00:00+00:00\x00"),
    "position before year 1 in UTC": cursor(p="0001-01-01 00:00:00+05:00"),
    "position after year 9999 in UTC": cursor(p="9999-12-31 23:59:59-05:00"),
    "position an absurd offset": cursor(p="2026-01-01 00:00:00+99:00"),
}


@pytest.fixture
def one_of_everything(workspace):
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"])
    make_group(workspace, "Reporters", [ann])
    make_broadcast(workspace, "Hello", contacts=[ann])


@pytest.mark.parametrize(("url", "params"), LIST_VARIANTS)
@pytest.mark.parametrize("forged", FORGED.values(), ids=FORGED.keys())
def test_a_forged_cursor_is_404_invalid_cursor(admin, one_of_everything, url, params, forged):
    response = admin.get(url, {**params, "cursor": forged})
    assert response.status_code == 404, response.content
    assert response.json() == INVALID


@pytest.mark.parametrize(("url", "params"), LIST_VARIANTS)
@pytest.mark.parametrize("reverse", ["0", "1"])
def test_a_well_formed_cursor_still_pages(admin, one_of_everything, url, params, reverse):
    position = str(timezone.now() + timezone.timedelta(days=1))  # what DRF writes: `str()` of an aware datetime
    response = admin.get(url, {**params, "cursor": cursor(o="0", r=reverse, p=position)})
    assert response.status_code == 200, response.content
    assert "results" in response.json()


def test_every_list_endpoint_is_covered():
    assert {"broadcasts", "messages", "contacts", "groups", "fields"} <= {url.split("/")[-1][:-5] for url in LIST_URLS}
