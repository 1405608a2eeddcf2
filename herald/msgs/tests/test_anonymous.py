"""Anonymous workspaces end to end: no template path that can reach a URN puts a number into message text.

The paths are not a hand-kept list: they are read off the context the fan-out builds (`contact_context`), so a
URN-bearing value added there later is covered too. Each path is rendered bare, bracketed and through functions,
in a broadcast to a group sent through the real pipeline (eager tasks, the fake gateway on 127.0.0.1). In an
anonymous workspace the gateway still gets the real number as the destination, and the number appears in no
message text and no API answer; in any other workspace the same templates render the numbers in full, which
shows each line really reaches a URN.
"""

import pytest

from herald.contacts.models import ContactURN
from herald.expressions import DEFAULT_KEY
from herald.expressions.values import to_text
from herald.msgs.context import contact_context
from herald.testing.factories import make_contact, make_group
from herald.testing.fixtures import post_broadcast
from herald.testing.gateway import gateway_channel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

MASK = "********"
ANN_URNS = ["tel:+250788111111", "tel:+250788111112", "whatsapp:250788111113", "telegram:987654321"]
BOB_URNS = ["tel:+250788222221"]  # Bob has no name: `@contact` falls back to his URN
# Each path is rendered in each of these forms ({} is the path as an expression).
FORMS = [
    "{}",
    "upper({})",
    "lower({})",
    "title({})",
    "text({})",
    "trim({})",
    'concat({}, "")',
    "left({}, 1000)",
    "right({}, 1000)",
    'replace({}, "+", "")',
    'default({}, "")',
    "word({}, -1)",
]
GATEWAY_BODY = '{"id": {{id}}, "to": {{to}}, "text": {{text}}, "quick_replies": {{quick_replies}}}'


def secrets(urn_texts: list[str]) -> list[str]:
    """What must never show: each path, as its last 9 characters so `+250788111111`, `250788111111` and
    `0788111111` are all caught."""
    return [text.split(":", 1)[1][-9:] for text in urn_texts]


def urn_paths(value, path=()):
    """Every path in a context whose text shows one of Ann's or Bob's URNs, as key tuples (`("contact", "urn")`)."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key != DEFAULT_KEY:
                found += urn_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += urn_paths(item, (*path, str(index)))
    if path and any(secret in to_text(value) for secret in secrets(ANN_URNS + BOB_URNS)):
        found.append(path)
    return found


def expressions(path: tuple) -> list[str]:
    """A path as plain `@a.b.0`, as `@(a.b[0])`, and inside every function form."""
    bracketed = path[0] + "".join(f"[{key}]" if key.isdigit() else f".{key}" for key in path[1:])
    return ["@" + ".".join(path)] + ["@(" + form.format(bracketed) + ")" for form in FORMS]


def context_of(contact) -> dict:
    """The context the fan-out builds for this contact in a workspace that shows URNs."""
    urns = list(ContactURN.objects.filter(contact=contact).order_by("-priority", "id"))
    return contact_context(contact, urns, [], {}, anonymous=False)


def send_to_everyone(workspace, client, gateway):
    """Ann and Bob in a group, one broadcast per path. Returns {contact: its URNs}, {(contact uuid, expression):
    rendered}, the gateway's requests and every API answer."""
    gateway_channel(workspace, gateway.url, body=GATEWAY_BODY)
    ann = make_contact(workspace, "Ann Smith", ANN_URNS)
    bob = make_contact(workspace, None, BOB_URNS)
    group = make_group(workspace, "Everyone", [ann, bob])
    paths = sorted({path for contact in (ann, bob) for path in urn_paths(context_of(contact))})
    assert {("contact",), ("contact", "urn"), ("urns", "tel"), ("contact", "urns", "0")} <= set(paths)

    answers, sent = [], {}
    for path in paths:
        lines = expressions(path)
        # A quick reply is rendered like the text: it gets the plain path (short enough for its 64 characters).
        body = {"text": "\n".join(lines), "groups": [str(group.uuid)], "quick_replies": [{"text": lines[0]}]}
        answers.append(post_broadcast(client, body))
        for msg in client.get(f"/api/v2/messages.json?broadcast={answers[-1]['uuid']}").json()["results"]:
            contact_uuid = msg["contact"]["uuid"]
            sent.update({(contact_uuid, line): text for line, text in zip(lines, msg["text"].split("\n"), strict=True)})
            sent[(contact_uuid, "quick reply " + lines[0])] = msg["quick_replies"][0]["text"]
    answers += [client.get(f"/api/v2/{name}.json").json() for name in ("broadcasts", "messages", "contacts")]
    return {ann: ANN_URNS, bob: BOB_URNS}, sent, gateway.requests, answers


def test_anonymous_workspace_renders_no_urn_on_any_template_path(workspace, editor, gateway):
    workspace.is_anonymous = True
    workspace.save()
    contacts, sent, requests, answers = send_to_everyone(workspace, editor, gateway)
    hidden = secrets(ANN_URNS + BOB_URNS)

    for (_, line), text in sent.items():
        assert not [s for s in hidden if s in text], f"{line} rendered {text!r}"
    # Each path of each contact reaches its URN, and gets the mask instead.
    for contact in contacts:
        for path in urn_paths(context_of(contact)):
            lines = [*expressions(path)[:-1], "quick reply " + expressions(path)[0]]  # (word(x, -1) gives `tel`)
            for line in lines:
                assert MASK in sent[(str(contact.uuid), line)], line

    # The channel still gets the real destination; nothing else in its payload names a number.
    assert {r.json["to"] for r in requests} == {"+250788111111", "+250788222221"}
    for request in requests:
        payload = {key: value for key, value in request.json.items() if key != "to"}
        assert not [s for s in hidden if s in str(payload)], payload

    every_answer = str(answers)
    assert not [s for s in hidden if s in every_answer]
    # Templates show URNs exactly as the API does.
    listed = {item["uuid"]: item["urns"] for item in answers[-1]["results"]}  # contacts.json
    for contact, urns in contacts.items():
        assert listed[str(contact.uuid)] == [urn.split(":")[0] + ":" + MASK for urn in urns]
        assert sent[(str(contact.uuid), "@contact.urns")] == ", ".join(listed[str(contact.uuid)])


def test_other_workspaces_render_urns_in_full(workspace, editor, gateway):
    contacts, sent, requests, _ = send_to_everyone(workspace, editor, gateway)
    for contact, urns in contacts.items():
        for path in urn_paths(context_of(contact)):
            for line in [*expressions(path), "quick reply " + expressions(path)[0]]:
                text = sent[(str(contact.uuid), line)]
                assert MASK not in text, f"{line} rendered {text!r}"
                assert any(s in text for s in secrets(urns)), f"{line} rendered {text!r}"
    assert any("+250788111111" in r.json["text"] for r in requests)
