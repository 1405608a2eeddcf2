"""What an incoming message does, through HTTP: the gateway's callback (`/c/ex/.../receive`) in, the API out.
Opt-out keywords (every default, case, whitespace, a workspace's additions per language, ordinary replies after
STOP), the confirmation sent exactly once through the normal delivery path, a stopped contact left out of the next
group broadcast (and counted as an exclusion by a dry run), replies listed with the broadcast they answer."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from herald.channels.base import IncomingMessage
from herald.contacts.models import ContactStatus, ContactStatusChange
from herald.msgs import inbound
from herald.msgs.models import Msg, MsgStatus
from herald.testing.factories import make_contact, make_group
from herald.testing.fixtures import post_broadcast, results
from herald.testing.gateway import gateway_channel
from herald.workspaces.optout_words import DEFAULT_START_WORDS, DEFAULT_STOP_WORDS

JOE = "+250788123123"


@pytest.fixture
def channel(workspace, gateway):
    return gateway_channel(workspace, gateway.url)


@pytest.fixture
def joe(workspace):
    return make_contact(workspace, "Joe", [f"tel:{JOE}"])


def send_in(channel, text, sender=JOE, **params):
    """The gateway hands Herald a message from `sender`."""
    response = Client().post(
        f"/c/ex/{channel.uuid}/{channel.callback_secret}/receive", {"from": sender, "text": text, **params}
    )
    assert response.status_code == 200, response.content
    return response.json()["data"][0]


def status_of(admin, contact) -> dict:
    (listed,) = results(admin.get("/api/v2/contacts.json", {"uuid": str(contact.uuid)}))
    return listed


def update_workspace(workspace, *args):
    call_command("workspace", "update", "--workspace", str(workspace.uuid), *args)
    workspace.refresh_from_db()


@pytest.mark.parametrize("word", DEFAULT_STOP_WORDS)
@pytest.mark.parametrize("spelling", [str.upper, str.lower, str.title, lambda w: f"  {w.lower()} \n"])
def test_every_default_stop_word_in_any_case_and_whitespace_stops_the_contact(admin, channel, joe, word, spelling):
    send_in(channel, spelling(word))

    listed = status_of(admin, joe)
    assert (listed["status"], listed["stopped"], listed["status_reason"]) == ("stopped", True, "stop_keyword")
    assert listed["status_changed_on"] is not None


@pytest.mark.parametrize("text", ["stop it", "please stop", "STOP!", "STOP STOP", "", "Stopp", "quitting"])
def test_a_message_that_is_not_only_a_stop_word_changes_nothing(admin, channel, joe, text):
    send_in(channel, text)

    listed = status_of(admin, joe)
    assert (listed["status"], listed["status_changed_on"], listed["status_reason"]) == ("active", None, None)


@pytest.mark.parametrize("word", DEFAULT_START_WORDS)
def test_a_start_word_makes_a_stopped_contact_active_again(admin, channel, joe, word):
    send_in(channel, "STOP")
    send_in(channel, f" {word.lower()} ")

    listed = status_of(admin, joe)
    assert (listed["status"], listed["status_reason"]) == ("active", "start_keyword")
    assert [(c.status, c.reason) for c in ContactStatusChange.objects.filter(contact=joe).order_by("id")] == [
        (ContactStatus.STOPPED, "stop_keyword"),
        (ContactStatus.ACTIVE, "start_keyword"),
    ]


# Unlike RapidPro, where any message from a stopped contact makes it active again (docs/COMPATIBILITY.md, C59).
@pytest.mark.parametrize("reply", ["Hello?", "yes", "Why did I stop getting messages", "STOP please"])
def test_an_ordinary_reply_never_reactivates_a_stopped_contact(admin, channel, joe, reply):
    send_in(channel, "STOP")
    send_in(channel, reply)

    assert status_of(admin, joe)["status"] == "stopped"
    assert Msg.objects.incoming().count() == 2  # the reply is still stored


def test_a_start_word_never_unblocks_a_blocked_contact(admin, channel, workspace):
    blocked = make_contact(workspace, "Bea", [f"tel:{JOE}"], status=ContactStatus.BLOCKED)

    send_in(channel, "STOP")
    assert status_of(admin, blocked)["status"] == "blocked"
    send_in(channel, "START")
    assert status_of(admin, blocked)["status"] == "blocked"


def test_a_stop_from_a_new_number_makes_a_stopped_contact(admin, channel):
    data = send_in(channel, "stop", sender="0788999999")

    (listed,) = results(admin.get("/api/v2/contacts.json"))
    assert listed["urns"] == [data["urn"]] == ["tel:+250788999999"]
    assert listed["status"] == "stopped"


def test_a_workspace_adds_stop_and_start_words_per_language(admin, channel, joe, workspace):
    update_workspace(
        workspace, "--stop-words", "kin=hagarika,  Reka", "--start-words", "kin=TANGIRA", "--stop-words", "fra=ARRET"
    )

    shown = admin.get("/api/v2/workspace.json").json()
    assert shown["stop_words"] == {
        "default": list(DEFAULT_STOP_WORDS),
        "kin": ["HAGARIKA", "REKA"],
        "fra": ["ARRET"],
    }
    assert shown["start_words"] == {"default": list(DEFAULT_START_WORDS), "kin": ["TANGIRA"]}

    for text, status in [("Hagarika", "stopped"), ("tangira", "active"), ("reka ", "stopped"), ("START", "active")]:
        send_in(channel, text)
        assert status_of(admin, joe)["status"] == status, text
    send_in(channel, "arret")
    assert status_of(admin, joe)["status"] == "stopped"

    # The defaults stay whatever is added; `LANG=` removes a language's words.
    update_workspace(workspace, "--stop-words", "kin=", "--start-words", "kin=")
    send_in(channel, "TANGIRA")
    assert status_of(admin, joe)["status"] == "stopped"
    send_in(channel, "UNSTOP")
    assert status_of(admin, joe)["status"] == "active"
    send_in(channel, "hagarika")
    assert status_of(admin, joe)["status"] == "active"
    assert admin.get("/api/v2/workspace.json").json()["stop_words"] == {
        "default": list(DEFAULT_STOP_WORDS),
        "fra": ["ARRET"],
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stop-words", "HAGARIKA"], "takes LANGUAGE=VALUE"),
        (["--stop-words", "xx=HAGARIKA"], "takes LANGUAGE=VALUE"),
        (["--stop-words", "kin=two words"], "must be one word"),
        (["--stop-words", "kin=START"], "'START' can't be both a stop word and a start word"),
        (["--start-words", "eng=quit"], "'QUIT' can't be both"),
        (["--stop-confirmation", "eng=" + "x" * 641], "longer than 640 characters"),
    ],
)
def test_bad_opt_out_settings_are_refused_saying_why(workspace, args, message):
    from django.core.management import CommandError  # noqa: PLC0415 — only this test needs it

    with pytest.raises(CommandError, match=message):
        update_workspace(workspace, *args)
    assert (workspace.stop_words, workspace.start_words, workspace.stop_confirmations) == ({}, {}, {})


# The confirmation: sent through the channel, although the contact is now stopped, once per opt-out.


@pytest.fixture
def confirmations(workspace):
    update_workspace(
        workspace,
        "--stop-confirmation",
        "eng=You will receive no more messages. Reply START to resume.",
        "--stop-confirmation",
        "kin=Ntuzongera kwakira ubutumwa.",
        "--stop-words",
        "kin=HAGARIKA",
    )


@pytest.mark.usefixtures("confirmations", "eager_tasks")
def test_the_confirmation_is_sent_once_per_opt_out(admin, channel, joe, gateway, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_in(channel, "STOP")
    with django_capture_on_commit_callbacks(execute=True):
        send_in(channel, "stop")  # already stopped: no second confirmation
        send_in(channel, "Hello?")

    assert [(r.json["to"], r.json["text"]) for r in gateway.requests] == [
        (JOE, "You will receive no more messages. Reply START to resume.")
    ]
    (confirmation,) = Msg.objects.outgoing()
    assert (confirmation.contact, confirmation.status, confirmation.locale) == (joe, MsgStatus.WIRED, "eng")
    assert status_of(admin, joe)["status"] == "stopped"

    # Started again, then stopped again: a new opt-out, confirmed again.
    with django_capture_on_commit_callbacks(execute=True):
        send_in(channel, "START")
        send_in(channel, "QUIT")
    assert len(gateway.requests) == 2


@pytest.mark.usefixtures("confirmations", "eager_tasks")
def test_the_confirmation_is_in_the_stop_word_s_language(channel, joe, gateway, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_in(channel, "Hagarika")

    assert [r.json["text"] for r in gateway.requests] == ["Ntuzongera kwakira ubutumwa."]


@pytest.mark.usefixtures("confirmations", "eager_tasks")
def test_a_retried_stop_callback_confirms_once(channel, joe, gateway, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_in(channel, "STOP", id="gw-1")
        send_in(channel, "STOP", id="gw-1")

    assert len(gateway.requests) == 1
    assert Msg.objects.incoming().count() == 1


@pytest.mark.usefixtures("confirmations", "eager_tasks")
def test_a_suspended_workspace_sends_no_confirmation(
    admin, channel, joe, workspace, gateway, django_capture_on_commit_callbacks
):
    workspace.is_suspended = True
    workspace.save()
    with django_capture_on_commit_callbacks(execute=True):
        send_in(channel, "STOP")

    assert (gateway.requests, Msg.objects.outgoing().count()) == ([], 0)
    joe.refresh_from_db()
    assert joe.status == ContactStatus.STOPPED


@pytest.mark.usefixtures("eager_tasks")
def test_without_a_confirmation_configured_nothing_is_sent(channel, joe, gateway, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_in(channel, "STOP")

    assert gateway.requests == []
    assert Msg.objects.outgoing().count() == 0


# Stopped contacts are left out of what is sent next.


@pytest.mark.usefixtures("eager_tasks")
def test_a_stopped_contact_is_left_out_of_the_next_group_broadcast(
    admin, channel, joe, workspace, gateway, django_capture_on_commit_callbacks
):
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"])
    team = make_group(workspace, "Team", [joe, ann])
    send_in(channel, "STOP")

    # A dry run counts him among the exclusions when he is addressed; as a group member he is no recipient at all.
    plan = admin.post(
        "/api/v2/broadcasts.json",
        {"text": "Meeting at 3", "contacts": [str(joe.uuid)], "groups": [str(team.uuid)], "dry_run": True},
        format="json",
    ).json()
    assert (plan["recipients"], plan["sendable"], plan["excluded"]["stopped"]) == (2, 1, 1)
    assert plan["left_out"] == {"stopped": 0, "archived": 0, "blocked": 0}  # he is addressed: a recipient
    plan = admin.post(
        "/api/v2/broadcasts.json", {"text": "Meeting at 3", "groups": [str(team.uuid)], "dry_run": True}, format="json"
    ).json()
    assert (plan["recipients"], plan["sendable"], plan["excluded"]["stopped"]) == (1, 1, 0)
    assert plan["left_out"] == {"stopped": 1, "archived": 0, "blocked": 0}

    with django_capture_on_commit_callbacks(execute=True):
        post_broadcast(admin, {"text": "Meeting at 3", "groups": [str(team.uuid)]})
    assert [r.json["to"] for r in gateway.requests] == ["+250788111111"]
    # Still a member: START brings him back into the group's broadcasts.
    assert [g["name"] for g in status_of(admin, joe)["groups"]] == ["Team"]


def test_a_direct_message_to_a_stopped_contact_is_refused(admin, channel, joe):
    send_in(channel, "STOP")

    response = admin.post("/api/v2/messages.json", {"contact": str(joe.uuid), "text": "Hi"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"contact": ["Contact is stopped: it can't be sent messages."]}


# Incoming messages in messages.json, and replies listed with their broadcast.


def test_incoming_messages_are_listed_in_rapidpro_s_shape(admin, channel, joe):
    data = send_in(channel, "Hello there")

    for params in ({}, {"folder": "inbox"}, {"folder": "INCOMING"}, {"direction": "in"}):
        (listed,) = results(admin.get("/api/v2/messages.json", params))
        assert listed["uuid"] == data["msg_uuid"], params
    assert listed["contact"] == {"uuid": str(joe.uuid), "name": "Joe"}
    assert listed["urn"] == f"tel:{JOE}"
    assert listed["channel"] == {"uuid": str(channel.uuid), "name": channel.name}
    assert (listed["direction"], listed["type"], listed["status"], listed["visibility"]) == (
        "in",
        "text",
        "handled",
        "visible",
    )
    assert (listed["text"], listed["broadcast"], listed["failed_reason"]) == ("Hello there", None, None)
    for params in ({"folder": "sent"}, {"folder": "outbox"}, {"direction": "out"}):
        assert results(admin.get("/api/v2/messages.json", params)) == [], params


def test_an_unknown_direction_is_a_400(admin):
    response = admin.get("/api/v2/messages.json", {"direction": "sideways"})

    assert response.status_code == 400
    assert response.json() == {"detail": "Param 'direction': sideways is not a direction; use in or out."}


@pytest.mark.usefixtures("eager_tasks")
def test_replies_within_the_window_are_listed_with_the_broadcast_they_answer(
    admin, channel, joe, workspace, settings, django_capture_on_commit_callbacks
):
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"])
    team = make_group(workspace, "Team", [joe, ann])
    with django_capture_on_commit_callbacks(execute=True):
        broadcast = post_broadcast(admin, {"text": "Coming on Monday?", "groups": [str(team.uuid)]})
    assert Msg.objects.outgoing().filter(status=MsgStatus.WIRED).count() == 2

    yes = send_in(channel, "Yes")
    no = send_in(channel, "No", sender="+250788111111")
    stranger = send_in(channel, "Who is this?", sender="+250788555555")

    for key in (broadcast["id"], broadcast["uuid"]):
        replies = results(admin.get("/api/v2/messages.json", {"broadcast": key, "direction": "in"}))
        assert [m["uuid"] for m in replies] == [no["msg_uuid"], yes["msg_uuid"]]
        assert {m["broadcast"] for m in replies} == {broadcast["id"]}
    # Without `direction` (and with `out`) the broadcast's own messages, as before.
    sent = results(admin.get("/api/v2/messages.json", {"broadcast": broadcast["id"]}))
    assert {m["direction"] for m in sent} == {"out"}
    assert len(sent) == 2
    assert len(results(admin.get("/api/v2/messages.json", {"broadcast": broadcast["id"], "direction": "out"}))) == 2
    (listed,) = results(admin.get("/api/v2/messages.json", {"uuid": stranger["msg_uuid"]}))
    assert listed["broadcast"] is None

    # Past the window, a message answers nothing.
    Msg.objects.outgoing().update(created_on=timezone.now() - timedelta(hours=settings.REPLY_WINDOW_HOURS, minutes=1))
    late = send_in(channel, "Sorry, late")
    (listed,) = results(admin.get("/api/v2/messages.json", {"uuid": late["msg_uuid"]}))
    assert listed["broadcast"] is None
    assert len(results(admin.get("/api/v2/messages.json", {"broadcast": broadcast["id"], "direction": "in"}))) == 2


@pytest.mark.usefixtures("eager_tasks")
def test_a_reply_answers_the_last_message_sent_on_that_channel(admin, channel, joe, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = post_broadcast(admin, {"text": "First", "contacts": [str(joe.uuid)]})
    with django_capture_on_commit_callbacks(execute=True):
        second = post_broadcast(admin, {"text": "Second", "contacts": [str(joe.uuid)]})

    send_in(channel, "OK")

    assert results(admin.get("/api/v2/messages.json", {"broadcast": first["id"], "direction": "in"})) == []
    assert len(results(admin.get("/api/v2/messages.json", {"broadcast": second["id"], "direction": "in"}))) == 1


def test_block_and_unblock_are_recorded_on_the_contact_too(admin, channel, joe):
    send_in(channel, "STOP")
    for action, reason in [("block", "blocked"), ("unblock", "unblocked")]:
        response = admin.post(
            "/api/v2/contact_actions.json", {"contacts": [str(joe.uuid)], "action": action}, format="json"
        )
        assert response.status_code == 204, response.content
        assert status_of(admin, joe)["status_reason"] == reason
    assert [(c.status, c.reason) for c in ContactStatusChange.objects.filter(contact=joe).order_by("id")] == [
        (ContactStatus.STOPPED, "stop_keyword"),
        (ContactStatus.BLOCKED, "blocked"),
        (ContactStatus.ACTIVE, "unblocked"),
    ]


def test_a_message_from_a_deleted_contact_s_number_makes_a_new_contact(admin, channel, joe):
    assert admin.delete(f"/api/v2/contacts.json?uuid={joe.uuid}").status_code == 204

    data = send_in(channel, "Hi again")

    (listed,) = results(admin.get("/api/v2/messages.json", {"uuid": data["msg_uuid"]}))
    assert listed["contact"]["uuid"] != str(joe.uuid)
    assert results(admin.get("/api/v2/contacts.json", {"uuid": listed["contact"]["uuid"]}))[0]["urns"] == [f"tel:{JOE}"]


def test_a_text_with_what_no_column_holds_is_stored_with_replacement_characters(channel):
    # A JSON callback body (Telegram's, WhatsApp's ...) can carry "\u0000" and lone surrogates: PostgreSQL stores
    # neither, so whatever type read it, the message is kept with U+FFFD in their place.
    received = inbound.receive(channel, IncomingMessage("tel:+250788123123", "a\x00b\ud800c", external_id="nul-1"))

    received.msg.refresh_from_db()
    assert received.msg.text == "a\ufffdb\ufffdc"
