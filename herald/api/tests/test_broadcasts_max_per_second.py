"""POST /api/v2/broadcasts.json with `max_per_second`: stored, shown in the answer and the list, used by the dry run's
estimate; a value that is not a whole number from 1 to 10,000 is a 400 naming the field, and nothing is written
(docs/COMPATIBILITY.md, C58). That delivery keeps to it is herald/msgs/tests/test_pacing.py's to show."""

import pytest

from herald.msgs.models import Broadcast
from herald.testing.factories import make_contact
from herald.testing.fixtures import poster, results
from herald.testing.gateway import gateway_channel

URL = "/api/v2/broadcasts.json"
post = poster(URL)
RULE = "Must be a whole number of messages per second, from 1 to 10,000."


@pytest.fixture
def joe(workspace):
    return make_contact(workspace, "Joe", ["tel:+250788123123"])


def body(joe, **extra) -> dict:
    return {"text": "Hi @contact.name", "contacts": [str(joe.uuid)], **extra}


@pytest.mark.parametrize("value", [1, 25, 10_000, "7"])
def test_max_per_second_is_stored_and_shown(admin, joe, value):
    response = post(admin, body(joe, max_per_second=value))
    assert response.status_code == 201, response.content
    assert response.json()["max_per_second"] == int(value)
    assert Broadcast.objects.get().max_per_second == int(value)
    (listed,) = results(admin.get(URL))
    assert listed["max_per_second"] == int(value)
    names = list(listed)
    assert names.index("id") < names.index("send_at") < names.index("max_per_second")  # after RapidPro's fields


@pytest.mark.parametrize("sent", [{}, {"max_per_second": None}])
def test_without_it_a_broadcast_has_no_cap_of_its_own(admin, joe, sent):
    response = post(admin, body(joe, **sent))
    assert response.status_code == 201, response.content
    assert response.json()["max_per_second"] is None
    assert Broadcast.objects.get().max_per_second is None


@pytest.mark.parametrize("value", [0, -3, 10_001, 2.5, "fast", "", True, [], {"eng": 2}, "9" * 200])
def test_a_bad_max_per_second_is_a_400_naming_the_field(admin, joe, value):
    response = post(admin, body(joe, max_per_second=value))
    assert response.status_code == 400, response.content
    assert response.json() == {"max_per_second": [RULE]}
    assert not Broadcast.objects.exists()


def test_the_dry_run_estimates_at_the_slower_of_tps_and_max_per_second(admin, workspace, gateway):
    gateway_channel(workspace, gateway.url, tps=10)
    # Two SMS segments each (161 GSM-7 characters and more).
    contacts = [make_contact(workspace, f"C{i}", [f"tel:+25078830{i:04d}"]) for i in range(6)]
    long_text = "x" * 200

    def estimate(**extra) -> float:
        sent = {"text": long_text, "contacts": [str(c.uuid) for c in contacts], "dry_run": True, **extra}
        response = post(admin, sent)
        assert response.status_code == 200, response.content
        (channel,) = response.json()["channels"]
        assert (channel["messages"], channel["segments"]) == (6, 12)
        return channel["estimated_seconds"]

    assert estimate() == 1.2  # 12 segments at 10 a second
    assert estimate(max_per_second=4) == 3.0  # at the broadcast's 4
    assert estimate(max_per_second=50) == 1.2  # above the channel's tps: changes nothing
    assert not Broadcast.objects.exists()


def test_the_dry_run_refuses_a_bad_max_per_second_too(admin, joe):
    response = post(admin, body(joe, max_per_second=0, dry_run=True))
    assert response.status_code == 400, response.content
    assert response.json() == {"max_per_second": [RULE]}


def test_the_schema_describes_it_for_writing_and_reading(anon):
    components = anon.get("/api/v2/openapi.json").json()["components"]["schemas"]
    written = components["BroadcastWriteRequest"]["properties"]["max_per_second"]
    assert (written["type"], written["minimum"], written["maximum"], written["nullable"]) == (
        "integer",
        1,
        10_000,
        True,
    )
    read = components["BroadcastRead"]["properties"]["max_per_second"]
    assert (read["type"], read["readOnly"], read["nullable"]) == ("integer", True, True)
