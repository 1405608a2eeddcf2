"""POST /api/v2/broadcasts.json with `"dry_run": true`: the same checks as a real send, nothing written, and the
numbers the real send then produces (msgs/dryrun.py)."""

from collections import Counter
from typing import Any

import pytest

from herald.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from herald.api.v2.base import BLOCKER_FLAGGED
from herald.api.v2.formats import format_datetime
from herald.contacts.models import Contact, ContactStatus, ContactURN
from herald.msgs.models import Broadcast, FailedReason, Msg, MsgStatus
from herald.msgs.segments import is_gsm7
from herald.testing.factories import make_contact, make_group, make_media
from herald.testing.fixtures import post_broadcast, poster
from herald.testing.gateway import gateway_channel

URL = "/api/v2/broadcasts.json"
post = poster(URL)

EXCLUSIONS_NONE = dict.fromkeys(("blocked", "stopped", "archived", "no_urn", "no_channel", "too_long", "suspended"), 0)


def written() -> tuple[int, int, int, int]:
    """Rows a dry run must not add: broadcasts, messages, contacts, URNs."""
    return Broadcast.objects.count(), Msg.objects.count(), Contact.objects.count(), ContactURN.objects.count()


def dry_run(client, body: dict, query: str = "", **headers) -> dict:
    before = written()
    response = post(client, {**body, "dry_run": True}, query, **headers)
    assert response.status_code == 200, response.content
    assert written() == before
    return response.json()


def as_sent(broadcast_uuid: str, anonymous: bool = False) -> dict:
    """The dry run's numbers, counted from the messages the real send wrote (and the gateway got)."""
    messages = list(
        Msg.objects.filter(broadcast__uuid=broadcast_uuid)
        .select_related("contact", "contact_urn", "channel")
        .order_by("id")
    )
    excluded: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    segments: Counter[str] = Counter()
    channels: dict[Any, dict[str, Any]] = {}
    sample: list[dict[str, Any]] = []
    for msg in messages:
        reason = None
        if msg.status == MsgStatus.FAILED:
            if msg.failed_reason == FailedReason.CONTACT:
                reason = msg.contact.get_status_display()
            elif msg.failed_reason == FailedReason.NO_DESTINATION:
                reason = "no_channel" if msg.contact.urns.exists() else "no_urn"
            else:
                reason = FailedReason(str(msg.failed_reason)).name.lower()
            excluded[reason] += 1
        else:
            languages[msg.locale or "und"] += 1
            assert msg.contact_urn is not None
            assert msg.channel is not None
            if msg.contact_urn.scheme == "tel":
                segments["gsm7" if is_gsm7(msg.text) else "ucs2"] += msg.msg_count
            entry = channels.setdefault(msg.channel.uuid, {"messages": 0, "segments": 0, "channel": msg.channel})
            entry["messages"] += 1
            entry["segments"] += msg.msg_count
        if len(sample) < 10:
            urn = msg.contact_urn
            sample.append(
                {
                    "name": msg.contact.name,
                    "urn": f"{urn.scheme}:{urn.path}" if urn and not anonymous else None,
                    "language": msg.locale,
                    "text": msg.text,
                    "attachments": msg.attachments,
                    "quick_replies": [reply.get("text") for reply in msg.quick_replies],
                    "excluded": reason,
                    "templating": msg.templating,
                }
            )
    return {
        "recipients": len(messages),
        "sendable": len(messages) - sum(excluded.values()),
        "excluded": {**EXCLUSIONS_NONE, **excluded},
        "languages": dict(sorted(languages.items())),
        "segments": {"total": segments.total(), "gsm7": segments["gsm7"], "ucs2": segments["ucs2"]},
        "channels": [
            {
                "uuid": str(uuid),
                "name": entry["channel"].name,
                "tps": entry["channel"].tps,
                "messages": entry["messages"],
                "segments": entry["segments"],
                # Paced in segments (docs/COMPATIBILITY.md, C57).
                "estimated_seconds": round(entry["segments"] / entry["channel"].tps, 1),
            }
            for uuid, entry in channels.items()
        ],
        "sample": sample,
        # When the messages were made to wait for their send window (msgs/windows.py): the earliest still waiting.
        "waiting_until": format_datetime(min((m.next_attempt for m in messages if m.next_attempt), default=None)),
    }


def without_contact_uuids(plan: dict) -> dict:
    """The plan with each sampled contact as its name: a contact the send creates has no uuid in a dry run."""
    sample = [{"name": m["contact"]["name"], **{k: v for k, v in m.items() if k != "contact"}} for m in plan["sample"]]
    # (`left_out` counts contacts the send makes no message for: `as_sent` can't see them.)
    kept = {k: v for k, v in plan.items() if k not in ("sample", "new_contacts", "left_out")}
    return {**kept, "sample": sample}


@pytest.fixture
def audience(workspace):
    """Every kind of recipient: sendable in two languages, excluded for each reason, named twice, not yet a
    contact, and a group big enough for several batches and a cut sample."""
    joe = make_contact(workspace, "Joe", ["tel:+250788000001"])
    aimee = make_contact(workspace, "Aimée", ["tel:+250788000002"], language="fra")
    bob = make_contact(workspace, "Bob", ["tel:+250788000003"], status=ContactStatus.BLOCKED)
    cat = make_contact(workspace, "Cat", ["tel:+250788000004"], status=ContactStatus.STOPPED)
    dan = make_contact(workspace, "Dan", ["tel:+250788000005"], status=ContactStatus.ARCHIVED)
    eve = make_contact(workspace, "Eve")  # no URN
    fay = make_contact(workspace, "Fay", ["mailto:fay@example.com"])  # no channel sends email
    gus = make_contact(workspace, "Gus", ["tel:+250788000006"], status=ContactStatus.BLOCKED)  # not a recipient
    crowd = [make_contact(workspace, f"Crowd {i}", [f"tel:+2507881000{i:02}"]) for i in range(12)]
    reporters = make_group(workspace, "Reporters", [joe, aimee, eve, fay, gus, *crowd])
    return {
        "urns": ["tel:+250788000001", "tel:+250788999999"],  # Joe's again, and a number nobody has yet
        "contacts": [str(c.uuid) for c in (joe, bob, cat, dan)],
        "groups": [str(reporters.uuid)],
    }


@pytest.fixture
def channel(workspace, gateway):
    return gateway_channel(workspace, gateway.url, tps=50)


@pytest.mark.django_db(transaction=True)  # sending starts once the broadcast commits
@pytest.mark.usefixtures("eager_tasks")
def test_the_numbers_are_what_the_real_send_then_produces(workspace, admin, audience, channel, gateway, settings):
    settings.FANOUT_BATCH_SIZE = 3  # several batches in each part of the audience, dry and real
    photo = make_media(workspace)
    body = {
        **audience,
        # Two GSM-7 parts in English (161 characters for Joe); one UCS-2 part (the emoji) in French.
        "text": {"eng": "Hello @contact.name! " + "x" * 150, "fra": "Bonjour @contact.name 🙂"},
        "attachments": {"eng": [str(photo.uuid)]},
    }

    plan = dry_run(admin, body)

    assert plan["recipients"] == 20  # Joe once, Bob, Cat, Dan, the new contact, Aimée, Eve, Fay, the crowd
    assert plan["new_contacts"] == 1
    assert plan["sendable"] == 15
    assert plan["excluded"] == {**EXCLUSIONS_NONE, "blocked": 1, "stopped": 1, "archived": 1, "no_urn": 1,
                                "no_channel": 1}  # fmt: skip
    assert plan["languages"] == {"eng": 14, "fra": 1}
    # English: two parts and the attachment, but the new contact has no name and its text fits one SMS; French:
    # one UCS-2 part, and the English attachment (the base language's, as the contact has none in French).
    assert plan["segments"] == {"total": 43, "gsm7": 13 * 3 + 2, "ucs2": 2}
    assert plan["channels"] == [
        {"uuid": str(channel.uuid), "name": channel.name, "tps": 50, "messages": 15, "segments": 43,
         "estimated_seconds": 0.9}
    ]  # fmt: skip
    names = [m["contact"]["name"] for m in plan["sample"]]
    assert names == ["Joe", "Bob", "Cat", "Dan", None, "Aimée", "Eve", "Fay", "Crowd 0", "Crowd 1"]
    joe = plan["sample"][0]
    assert joe["text"] == "Hello Joe! " + "x" * 150
    assert joe["urn"] == "tel:+250788000001"
    assert joe["language"] == "eng"
    assert plan["sample"][5]["text"] == "Bonjour Aimée 🙂"
    assert plan["sample"][4]["urn"] == "tel:+250788999999"

    sent = post_broadcast(admin, body)

    assert without_contact_uuids(plan) == as_sent(sent["uuid"])
    assert Contact.objects.filter(urns__identity="tel:+250788999999").count() == plan["new_contacts"]
    assert len(gateway.requests) == plan["sendable"]
    existing = [m["contact"]["uuid"] for m in plan["sample"] if m["contact"]["name"]]
    sampled = Msg.objects.filter(broadcast__uuid=sent["uuid"], contact__name__isnull=False).order_by("id")[:9]
    assert existing == [str(uuid) for uuid in sampled.values_list("contact__uuid", flat=True)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_tasks")
def test_anonymous_workspaces_see_no_urn_and_the_numbers_still_hold(workspace, admin, audience, channel):
    workspace.is_anonymous = True
    workspace.save()
    body = {**audience, "text": "Hi @contact.name, your number is @contact.urn"}
    plan = dry_run(admin, body)
    assert [m["urn"] for m in plan["sample"]] == [None] * 10
    assert plan["sample"][0]["text"] == "Hi Joe, your number is tel:********"
    assert without_contact_uuids(plan) == as_sent(post_broadcast(admin, body)["uuid"], anonymous=True)


def test_the_url_parameter_is_the_same_dry_run(admin, audience, channel):
    body = {**audience, "text": "Hi"}
    by_body = dry_run(admin, body)
    before = written()
    response = post(admin, body, "?dry_run=true")
    assert response.status_code == 200, response.content
    assert response.json() == by_body
    assert written() == before
    # `false` in the URL and in the body is a real send.
    assert post(admin, {**body, "dry_run": False}, "?dry_run=0").status_code == 201


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"text": "Hello"}, {"non_field_errors": ["Must provide either urns, contacts or groups."]}),
        ({"text": "Hello", "groups": ["Nobody"]}, {"groups": ["No such object: Nobody"]}),
        ({"text": {"eng": ""}, "urns": ["tel:+250788000001"]}, {"text": {"eng": ["This field may not be blank."]}}),
        (
            {"text": "Hi", "urns": ["foo:bar"]},
            {"urns": {"0": ["Invalid URN: foo:bar. Ensure phone numbers contain country codes."]}},
        ),
        ({"text": "Hi", "urns": ["tel:+250788000001"], "dry_run": "maybe"}, {"dry_run": ["Must be a valid boolean."]}),
    ],
)
def test_a_dry_run_refuses_what_a_real_send_refuses(admin, body, errors):
    real = post(admin, body)
    dry = post(admin, {"dry_run": True, **body})
    assert (real.status_code, real.json()) == (400, errors)
    assert (dry.status_code, dry.json()) == (400, errors)
    assert written() == (0, 0, 0, 0)


def test_a_bad_url_parameter_and_a_flagged_workspace_are_refused(admin, workspace):
    body = {"text": "Hi", "urns": ["tel:+250788000001"]}
    response = post(admin, body, "?dry_run=maybe")
    assert (response.status_code, response.json()) == (400, {"detail": "dry_run must be true or false"})
    workspace.is_flagged = True
    workspace.save()
    response = post(admin, {**body, "dry_run": True})
    assert (response.status_code, response.json()) == (400, {"non_field_errors": [BLOCKER_FLAGGED]})
    assert written() == (0, 0, 0, 0)


def test_a_dry_run_leaves_its_idempotency_key_to_the_real_send(admin, audience, channel):
    body = {**audience, "text": "Hi"}
    key = {"HTTP_" + IDEMPOTENCY_HEADER.upper().replace("-", "_"): "send-once"}
    dry_run(admin, body, **key)
    assert post(admin, body, **key).status_code == 201
    assert Broadcast.objects.count() == 1
