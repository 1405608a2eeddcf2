"""`channels.json`, re-expressing temba/api/v2/tests/test_channels.py::ChannelEndpointTest::test_endpoint: RapidPro's
shape (uuid, name, address, type, country, device, last_seen, created_on), newest first, the `uuid` and `address`
filters, admins and editors only, another workspace's channels never shown."""

import pytest
from temba_client.v2 import TembaClient
from temba_client.v2.types import Channel as ClientChannel

from herald.api.v2.formats import format_datetime
from herald.channels.registry import create_channel
from herald.testing.factories import create_user_token
from herald.testing.fixtures import results
from herald.testing.gateway import gateway_channel, unreachable_url

URL = "/api/v2/channels.json"


def shown(channel) -> dict:
    return {
        "uuid": str(channel.uuid),
        "name": channel.name,
        "address": channel.address,
        "type": channel.channel_type,
        "country": channel.country or None,
        "device": None,
        "last_seen": None,
        "created_on": format_datetime(channel.created_on),
    }


@pytest.fixture
def channels(workspace, other_workspace):
    gateway = gateway_channel(workspace, unreachable_url(), name="Gateway")
    gateway.country = "RW"
    gateway.save()
    console = create_channel(workspace, "console", "Console", address="billy_bob")
    create_channel(other_workspace, "console", "Theirs", address="billy_bob")
    return gateway, console


def test_roles(assert_roles):
    assert_roles(URL, get={"anon": 403, "agent": 403, "editor": 200, "admin": 200})
    assert_roles(URL, post={"admin": ({}, 405)}, delete={"admin": 405})


def test_lists_this_workspaces_channels_newest_first_in_rapidpros_shape(channels, admin, editor):
    gateway, console = channels
    for client in (admin, editor):
        listed = results(client.get(URL))
        assert listed == [shown(console), shown(gateway)]
        assert [list(item) for item in listed] == [list(shown(console))] * 2
    assert shown(gateway)["type"] == "external"
    assert shown(gateway)["country"] == "RW"


def test_a_disabled_channel_is_still_listed(channels, admin):
    # RapidPro has no disabled channels, only deleted ones it doesn't list (docs/COMPATIBILITY.md, C39).
    gateway, console = channels
    gateway.is_active = False
    gateway.save()
    assert results(admin.get(URL)) == [shown(console), shown(gateway)]


def test_filters_by_uuid_and_address(channels, admin, other_workspace):
    gateway, console = channels
    assert results(admin.get(URL, {"uuid": str(console.uuid)})) == [shown(console)]
    assert results(admin.get(URL, {"address": "billy_bob"})) == [shown(console)]
    assert results(admin.get(URL, {"address": "+250788000000"})) == [shown(gateway)]
    assert results(admin.get(URL, {"address": "billy"})) == []
    theirs = other_workspace.channels.get()
    assert results(admin.get(URL, {"uuid": str(theirs.uuid)})) == []


def test_a_bad_uuid_is_a_400_naming_it(channels, admin):
    response = admin.get(URL, {"uuid": "nope"})
    assert (response.status_code, response.json()) == (400, {"detail": "Param 'uuid': nope is not a valid UUID."})


def test_the_official_client_reads_them(live_server, workspace, channels):
    gateway, console = channels
    _, key = create_user_token(workspace, "editor")
    listed = TembaClient(live_server.url, key).get_channels().all()
    assert all(isinstance(channel, ClientChannel) for channel in listed)
    assert [(c.uuid, c.name, c.address, c.type, c.country) for c in listed] == [
        (str(console.uuid), "Console", "billy_bob", "console", None),
        (str(gateway.uuid), "Gateway", "+250788000000", "external", "RW"),
    ]
    assert (listed[0].device, listed[0].last_seen, listed[0].created_on) == (None, None, console.created_on)
    by_address = TembaClient(live_server.url, key).get_channels(address="billy_bob").all()
    assert [c.uuid for c in by_address] == [str(console.uuid)]
