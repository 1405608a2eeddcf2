"""GET /api/v2/broadcasts.json: access, the item shape, filters, anonymous workspaces, paging and query counts."""

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse
from uuid import uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from herald.api.v2.endpoints.broadcasts import BroadcastReadSerializer, attach_recipient_refs
from herald.msgs.models import Broadcast, BroadcastStatus, FailedReason, MsgStatus
from herald.msgs.msg_rows import NewMessage, insert_messages
from herald.testing.factories import create_user_token, make_broadcast, make_contact, make_group
from herald.testing.fixtures import results, token_client, uuids

URL = "/api/v2/broadcasts.json"
T0 = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)


# Access


def test_get_roles(agent, assert_roles):
    assert_roles(URL, get={"anon": 403, "agent": 403, "editor": 200, "admin": 200})
    assert agent.get(URL).json() == {"detail": "You do not have permission to perform this action."}


def test_post_denied_to_anon_and_agent(assert_roles):
    assert_roles(URL, post={"anon": ({"text": "Hi"}, 403), "agent": ({"text": "Hi"}, 403)})


@pytest.mark.parametrize("method", ["delete", "put", "patch"])
def test_other_methods_not_allowed_even_anonymously(admin, anon, method):
    for client in (admin, anon):
        response = getattr(client, method)(URL)
        assert response.status_code == 405
        assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}


def test_bad_credentials(workspace, anon):
    assert token_client("1" * 40).get(URL).json() == {"detail": "Invalid token"}
    _, key = create_user_token(workspace, email="bob@example.com")
    anon.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"eve@example.com:{key}".encode()).decode())
    response = anon.get(URL)
    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid token or email"}


def test_demoted_user_token_is_refused(workspace):
    _, key = create_user_token(workspace, "editor", email="ed@example.com")
    create_user_token(workspace, "agent", email="ed@example.com")  # same user, now an agent
    response = token_client(key).get(URL)
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}


def test_workspace_header_for_token_and_basic_auth(workspace, anon):
    _, key = create_user_token(workspace, email="bob@example.com")
    assert token_client(key).get(URL)["X-Temba-Workspace"] == str(workspace.uuid)
    anon.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"bob@example.com:{key}".encode()).decode())
    assert anon.get(URL)["X-Temba-Workspace"] == str(workspace.uuid)


def test_docs_page_and_index(anon):
    docs = anon.get("/api/v2/broadcasts")
    assert docs.status_code == 200
    assert b"Sending a broadcast" in docs.content
    assert anon.post("/api/v2/broadcasts").status_code == 403
    index = anon.get("/api/v2/.json").json()
    assert index["broadcasts"] == "http://testserver/api/v2/broadcasts"


def test_openapi_describes_both_methods(admin):
    schema = admin.get("/api/v2/openapi.json").json()
    paths = [p for p in schema["paths"] if p.startswith("/api/v2/broadcasts")]
    assert paths
    operations = schema["paths"][paths[0]]
    assert set(operations) >= {"get", "post"}
    assert "delete" not in operations
    params = {p["name"] for p in operations["get"]["parameters"]}
    assert {"uuid", "id", "before", "after", "cursor"} <= params
    assert {"201", "400"} <= set(operations["post"]["responses"])


# Rate limits


def test_throttled_per_workspace_with_retry_after(workspace, admin, make_client):
    workspace.api_rates = {"v2": "2/hour"}
    workspace.save()
    other_user = make_client(workspace, "editor")
    assert admin.get(URL).status_code == 200
    assert other_user.get(URL).status_code == 200
    response = admin.get(URL)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["detail"].startswith("Request was throttled. Expected available in ")
    # The budget is the workspace's: another user's token is throttled too.
    assert other_user.get(URL).status_code == 429
    # Messages have their own bucket.
    assert admin.get("/api/v2/messages.json").status_code == 200


def test_workspace_rate_override_raises_limit(workspace, admin):
    workspace.api_rates = {"v2": "1/hour"}
    workspace.save()
    assert admin.get(URL).status_code == 200
    assert admin.get(URL).status_code == 429
    workspace.api_rates = {"v2": "15000/hour"}
    workspace.save()
    assert admin.get(URL).status_code == 200


# The item shape


NO_MESSAGES_YET = {
    "queued": 0, "wired": 0, "sent": 0, "delivered": 0, "read": 0, "errored": 0, "failed": 0,
    "failed_reasons": {
        "contact": 0, "no_destination": 0, "suspended": 0, "retries": 0, "refused": 0, "channel_removed": 0,
        "too_long": 0, "interrupted": 0, "expired": 0,
    },
    "excluded": {
        "blocked": 0, "stopped": 0, "archived": 0, "no_urn": 0, "no_channel": 0, "too_long": 0, "suspended": 0
    },
    "left_out": {"stopped": 0, "archived": 0, "blocked": 0},
}  # fmt: skip


def test_pending_broadcast_item_exactly(admin, workspace):
    joe = make_contact(workspace, "Joe Blow", ["tel:+250788123123"])
    broadcast = make_broadcast(workspace, "Hello", contacts=[joe], created_on=T0)
    assert results(admin.get(URL)) == [
        {
            "uuid": str(broadcast.uuid),
            "status": "pending",
            "progress": {"total": -1, "started": 0},
            "urns": [],
            "contacts": [{"uuid": str(joe.uuid), "name": "Joe Blow"}],
            "groups": [],
            "text": {"eng": "Hello"},
            "attachments": {"eng": []},
            "quick_replies": {"eng": []},
            "base_language": "eng",
            "created_on": "2024-05-01T10:00:00.123456Z",
            "id": broadcast.id,
            "send_at": None,  # Herald's, after RapidPro's fields (docs/COMPATIBILITY.md, C43)
            "send_window": None,  # and C50
            "waiting_until": None,
            "schedule": None,  # (docs/COMPATIBILITY.md, C55)
            "parent": None,
            "expire_at": None,  # (docs/COMPATIBILITY.md, C49)
            "max_per_second": None,  # C58
            "counts": NO_MESSAGES_YET,  # Herald's too (docs/COMPATIBILITY.md, C70)
            "template": None,  # RapidPro's API can't send one (docs/COMPATIBILITY.md, C73)
            "template_variables": [],
        }
    ]


def test_field_order(admin, workspace):
    make_broadcast(workspace, urns=["tel:+250788123123"])
    assert list(results(admin.get(URL))[0]) == [
        "uuid", "status", "progress", "urns", "contacts", "groups", "text", "attachments", "quick_replies",
        "base_language", "created_on", "id", "send_at", "send_window", "waiting_until", "schedule", "parent",
        "expire_at", "max_per_second", "counts", "template", "template_variables",
    ]  # fmt: skip


def test_sent_broadcast_with_progress_urns_and_groups(admin, workspace):
    joe, ann = make_contact(workspace, "Joe"), make_contact(workspace, None)
    reporters, farmers = make_group(workspace, "Reporters"), make_group(workspace, "Farmers")
    make_broadcast(
        workspace,
        contacts=[ann, joe],
        groups=[farmers, reporters],
        urns=["facebook:12345"],
        status=BroadcastStatus.COMPLETED,
        contact_count=2,
        msg_count=2,
    )
    item = results(admin.get(URL))[0]
    assert item["status"] == "completed"
    assert item["progress"] == {"total": 2, "started": 2}
    assert item["urns"] == ["facebook:12345"]
    # Ordered by id, names as stored (null when the contact has none).
    assert item["contacts"] == [{"uuid": str(joe.uuid), "name": "Joe"}, {"uuid": str(ann.uuid), "name": None}]
    assert item["groups"] == [
        {"uuid": str(reporters.uuid), "name": "Reporters"},
        {"uuid": str(farmers.uuid), "name": "Farmers"},
    ]


# docs/COMPATIBILITY.md, C6: RapidPro's is -1 for 0 recipients too.
@pytest.mark.parametrize(
    ("contact_count", "msg_count", "progress"),
    [(None, 0, {"total": -1, "started": 0}), (0, 0, {"total": 0, "started": 0}), (5, 3, {"total": 5, "started": 3})],
)
def test_progress_total_is_minus_one_only_until_counted(admin, workspace, contact_count, msg_count, progress):
    make_broadcast(workspace, contact_count=contact_count, msg_count=msg_count, status=BroadcastStatus.QUEUED)
    assert results(admin.get(URL))[0]["progress"] == progress


@pytest.mark.parametrize("status", list(BroadcastStatus))
def test_status_names(admin, workspace, status):
    make_broadcast(workspace, status=status)
    assert results(admin.get(URL))[0]["status"] == status.label


def test_parts_share_the_language_keys(admin, workspace):
    make_broadcast(
        workspace,
        {
            "eng": {"text": "Hi", "quick_replies": [{"type": "text", "text": "Yes"}]},
            "kin": {"attachments": ["image/jpeg:http://x/a.jpg"]},
        },
    )
    item = results(admin.get(URL))[0]
    assert item["text"] == {"eng": "Hi", "kin": None}
    assert item["attachments"] == {"eng": [], "kin": ["image/jpeg:http://x/a.jpg"]}
    assert item["quick_replies"] == {"eng": [{"type": "text", "text": "Yes"}], "kin": []}


def test_created_on_always_has_microseconds(admin, workspace):
    make_broadcast(workspace, created_on=datetime(2024, 5, 1, 10, 0, tzinfo=UTC))
    assert results(admin.get(URL))[0]["created_on"] == "2024-05-01T10:00:00.000000Z"


def test_deleted_contact_still_listed(admin, workspace):
    gone = make_contact(workspace, "Gone", is_active=False)
    make_broadcast(workspace, contacts=[gone])
    assert results(admin.get(URL))[0]["contacts"] == [{"uuid": str(gone.uuid), "name": "Gone"}]


# Which broadcasts, in which order


def test_only_own_active_broadcasts_newest_first(admin, workspace, other_workspace):
    b1 = make_broadcast(workspace, created_on=T0)
    b2 = make_broadcast(workspace, created_on=T0 + timedelta(seconds=1))
    b3 = make_broadcast(workspace, created_on=T0 + timedelta(seconds=1))  # same time: higher id first
    make_broadcast(workspace, is_active=False)
    make_broadcast(other_workspace)
    assert uuids(admin.get(URL)) == [str(b3.uuid), str(b2.uuid), str(b1.uuid)]


def test_other_workspace_broadcast_invisible_by_filter(admin, other_workspace):
    theirs = make_broadcast(other_workspace)
    assert results(admin.get(URL, {"uuid": str(theirs.uuid)})) == []
    assert results(admin.get(URL, {"id": theirs.id})) == []


def test_filter_by_uuid_and_id(admin, workspace):
    b1, b2 = make_broadcast(workspace), make_broadcast(workspace)
    assert uuids(admin.get(URL, {"uuid": str(b1.uuid)})) == [str(b1.uuid)]
    assert uuids(admin.get(URL, {"uuid": str(b1.uuid).upper()})) == [str(b1.uuid)]
    assert uuids(admin.get(URL, {"id": b2.id})) == [str(b2.uuid)]
    # ANDed when both are given.
    assert uuids(admin.get(URL, {"uuid": str(b1.uuid), "id": b2.id})) == []
    # `id=0` or empty means no filter.
    assert len(results(admin.get(URL, {"id": 0}))) == 2


def test_filter_param_errors(admin):
    response = admin.get(URL, {"uuid": "xyz"})
    assert response.status_code == 400
    assert response.json() == {"detail": "Param 'uuid': xyz is not a valid UUID."}
    response = admin.get(URL, {"id": "xyz"})
    assert response.status_code == 400
    assert response.json() == {"detail": "Value for id must be an integer"}
    response = admin.get(URL + "?" + "&".join(["uuid=0199bb98-3637-778d-9dfc-0ab85c950d7c"] * 101))
    assert response.json() == {"detail": "Param 'uuid' can have a maximum of 100 values."}


def test_before_and_after_are_inclusive(admin, workspace):
    b1, b2, b3, b4 = (make_broadcast(workspace, created_on=T0 + timedelta(minutes=i)) for i in range(4))
    assert uuids(admin.get(URL, {"before": "2024-05-01T10:01:00.123456Z"})) == [str(b2.uuid), str(b1.uuid)]
    assert uuids(admin.get(URL, {"after": "2024-05-01T10:02:00.123456Z"})) == [str(b4.uuid), str(b3.uuid)]
    both = {"after": "2024-05-01T10:01:00.123456Z", "before": "2024-05-01T10:02:00.123456Z"}
    assert uuids(admin.get(URL, both)) == [str(b3.uuid), str(b2.uuid)]
    # No timezone means UTC.
    assert uuids(admin.get(URL, {"before": "2024-05-01T10:00:30"})) == [str(b1.uuid)]


# docs/COMPATIBILITY.md, C2: RapidPro lists nothing.
@pytest.mark.parametrize("param", ["before", "after"])
def test_unparseable_date_is_400(admin, param):
    response = admin.get(URL, {param: "yesterday"})
    assert response.status_code == 400
    assert "yesterday is not a valid ISO-8601 datetime" in response.json()["detail"]


def test_anonymous_workspace_hides_urns(admin, workspace):
    workspace.is_anonymous = True
    workspace.save()
    joe = make_contact(workspace, "Joe")
    broadcast = make_broadcast(workspace, contacts=[joe], urns=["tel:+250788123123"])
    item = results(admin.get(URL))[0]
    assert item["urns"] is None
    assert item["contacts"] == [{"uuid": str(joe.uuid), "name": "Joe"}]
    assert uuids(admin.get(URL, {"id": broadcast.id})) == [str(broadcast.uuid)]
    assert uuids(admin.get(URL, {"uuid": str(broadcast.uuid)})) == [str(broadcast.uuid)]


# Paging


def test_pagination_walks_every_row_once_keeping_filters(admin, workspace):
    # 12 share each timestamp, so pages split inside ties and the cursor must carry an offset.
    Broadcast.objects.bulk_create(
        Broadcast(
            workspace=workspace,
            translations={"eng": {"text": f"B{i}"}},
            base_language="eng",
            created_on=T0 + timedelta(seconds=i // 12),
        )
        for i in range(520)
    )
    expected = list(Broadcast.objects.filter(workspace=workspace).order_by("-created_on", "-id").values_list("id"))
    url, seen, pages = f"{URL}?after=2024-01-01T00:00:00Z", [], 0
    while url:
        body = admin.get(url).json()
        pages += 1
        if pages == 1:
            assert body["previous"] is None
        else:
            assert body["previous"].startswith("http://testserver/api/v2/broadcasts.json?")
        seen += [(item["id"],) for item in body["results"]]
        url = body["next"]
        if url:
            assert len(body["results"]) == 250
            assert url.startswith("http://testserver/api/v2/broadcasts.json?")
            assert parse_qs(urlparse(url).query)["after"] == ["2024-01-01T00:00:00Z"]
            assert "cursor" in parse_qs(urlparse(url).query)
    assert pages == 3
    assert seen == expected


def test_invalid_cursor_is_404(admin):
    response = admin.get(URL, {"cursor": "not-a-cursor"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}


def _add_broadcasts(workspace, count):
    for _ in range(count):
        contacts = [make_contact(workspace, "C") for _ in range(2)]
        group = make_group(workspace, f"G{Broadcast.objects.count()}")
        make_broadcast(workspace, contacts=contacts, groups=[group])


def test_a_page_costs_the_same_queries_whatever_it_holds(admin, workspace, django_assert_max_num_queries):
    _add_broadcasts(workspace, 1)
    with CaptureQueriesContext(connection) as one:
        assert len(results(admin.get(URL))) == 1
    _add_broadcasts(workspace, 25)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(results(admin.get(URL))) == 26


def _add_broadcasts_with_messages(workspace, count):
    """Broadcasts with a wired, a delivered and a failed message each, inserted as the fan-out inserts them."""
    outcomes = [(MsgStatus.WIRED, None), (MsgStatus.DELIVERED, None), (MsgStatus.FAILED, FailedReason.PERMANENT)]
    for _ in range(count):
        contacts = [make_contact(workspace, "C") for _ in outcomes]
        broadcast = make_broadcast(workspace, contacts=contacts, status=BroadcastStatus.COMPLETED)
        messages = [
            NewMessage(contact.id, None, None, "Hi", [], [], "eng", status, reason, 1)
            for contact, (status, reason) in zip(contacts, outcomes, strict=True)
        ]
        insert_messages(messages, workspace_id=workspace.id, broadcast_id=broadcast.id)


def test_counts_come_with_the_page_query(admin, workspace, django_assert_max_num_queries):
    _add_broadcasts_with_messages(workspace, 1)
    with CaptureQueriesContext(connection) as one:
        (listed,) = results(admin.get(URL))
    counts_queries = [q for q in one.captured_queries if "msgs_broadcastcount" in q["sql"]]
    (page_query,) = counts_queries  # the page's own query selects them: no query of their own
    assert page_query["sql"].startswith('SELECT "msgs_broadcast"."id"')
    assert [listed["counts"][s] for s in ("queued", "wired", "delivered", "failed")] == [0, 1, 1, 1]
    assert listed["counts"]["failed_reasons"]["refused"] == 1

    _add_broadcasts_with_messages(workspace, 25)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = results(admin.get(URL))
    assert [(b["counts"]["wired"], b["counts"]["delivered"], b["counts"]["failed"]) for b in page] == [(1, 1, 1)] * 26


# The token (with the member's role), the page (with its counts), its contacts' and its groups' names.
LIST_PAGE_QUERIES = 4


def test_a_full_page_with_counts_takes_four_queries(admin, workspace, django_assert_num_queries):
    _add_broadcasts_with_messages(workspace, 251)
    admin.get(URL, {"uuid": str(uuid4())})  # the token's `last_used_on` written now, not during the measured page
    with django_assert_num_queries(LIST_PAGE_QUERIES):
        page = results(admin.get(URL))
    assert len(page) == 250
    assert {(b["counts"]["wired"], b["counts"]["delivered"], b["counts"]["failed"]) for b in page} == {(1, 1, 1)}
    assert {b["counts"]["failed_reasons"]["refused"] for b in page} == {1}


def test_the_schema_describes_every_count(anon):
    components = anon.get("/api/v2/openapi.json").json()["components"]["schemas"]
    counts = components["BroadcastRead"]["properties"]["counts"]
    assert counts["allOf"] == [{"$ref": "#/components/schemas/BroadcastCounts"}]
    assert counts["readOnly"] is True
    described = components["BroadcastCounts"]["properties"]
    assert list(described) == list(NO_MESSAGES_YET)
    assert list(components["BroadcastFailedReasons"]["properties"]) == list(NO_MESSAGES_YET["failed_reasons"])
    assert list(components["BroadcastExclusions"]["properties"]) == list(NO_MESSAGES_YET["excluded"])
    assert list(components["BroadcastLeftOut"]["properties"]) == list(NO_MESSAGES_YET["left_out"])


# One declaration of the output


@pytest.mark.parametrize("anonymous", [False, True])
def test_the_fast_path_answers_what_the_declared_fields_give_byte_for_byte(admin, workspace, anonymous):
    # The page is built by DirectReadSerializer's per-field functions; DRF's own field-by-field representation of
    # the same declared fields must give the same bytes, key order included.
    workspace.is_anonymous = anonymous
    workspace.save()
    joe, ann = make_contact(workspace, "Joe"), make_contact(workspace, None)
    make_broadcast(
        workspace, contacts=[joe, ann], groups=[make_group(workspace, "Reporters")], urns=["tel:+250788123123"]
    )
    make_broadcast(workspace, status=BroadcastStatus.COMPLETED, contact_count=3, msg_count=2)
    broadcasts = list(Broadcast.objects.filter(workspace=workspace).order_by("-created_on", "-id"))
    attach_recipient_refs(broadcasts)
    declared = BroadcastReadSerializer(context={"workspace": workspace})
    expected = [serializers.Serializer.to_representation(declared, b) for b in broadcasts]

    served = admin.get(URL)
    assert served.status_code == 200
    assert JSONRenderer().render(served.json()["results"]) == JSONRenderer().render(expected)
    assert list(expected[0]) == list(declared.fields)


def test_every_reference_in_the_schema_is_the_one_object_ref(anon):
    schema = anon.get("/api/v2/openapi.json").json()
    components = schema["components"]["schemas"]
    assert components["ObjectRef"]["properties"] == {
        "uuid": {"type": "string", "format": "uuid"},
        "name": {"type": "string", "nullable": True},
    }
    ref = {"$ref": "#/components/schemas/ObjectRef"}
    broadcast = components["BroadcastRead"]["properties"]
    assert broadcast["contacts"]["items"] == ref
    assert broadcast["groups"]["items"] == ref
    assert broadcast["progress"] == {"$ref": "#/components/schemas/Progress"}
    assert components["ContactRead"]["properties"]["groups"]["items"] == ref
    assert components["MsgRead"]["properties"]["contact"]["allOf"] == [ref]
