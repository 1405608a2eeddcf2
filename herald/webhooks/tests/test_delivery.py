"""Events delivered to a real receiver on 127.0.0.1 (the fake gateway): signed as documented, retried with back-off
after 5xx and timeouts, ended by a 410, failed on other 4xx, each attempt listed; broadcast events as broadcasts.json
shows them, message.status events batched as messages.json shows messages.

Tasks run eagerly on a database that really commits, so each event is delivered once its transaction commits."""

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from herald.api.v2.base import DOCS_DIR
from herald.channels.callbacks import callback_urls
from herald.msgs.models import Msg
from herald.testing.factories import make_contact
from herald.testing.fixtures import post_broadcast, poster, results
from herald.testing.gateway import FakeGateway, gateway_channel, hang, reply
from herald.webhooks import tasks
from herald.webhooks.models import Delivery, Event, Webhook

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

post_webhook = poster("/api/v2/webhooks.json")


def subscribe(admin, receiver, events, **more) -> dict:
    response = post_webhook(admin, {"url": f"{receiver.url}/events", "events": events, **more})
    assert response.status_code == 201, response.json()
    return response.json()


def documented_verify():
    """The verification example of the docs page, run as a reader would copy it."""
    lines = (DOCS_DIR / "webhooks.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("    import hashlib, hmac, time")
    end = next(i for i in range(start, len(lines)) if lines[i] and not lines[i].startswith("    "))
    code = "\n".join(line.removeprefix("    ") for line in lines[start:end])
    assert len(code.strip().splitlines()) <= 11  # "ten lines", and a blank one
    namespace: dict = {}
    exec(code, namespace)
    return namespace["verify"]


def deliveries(admin, webhook) -> list[dict]:
    return results(admin.get(f"/api/v2/webhook_deliveries.json?webhook={webhook['uuid']}"))


def wait_until(condition, seconds=20.0):
    """Run the webhook tick (as the workers' would) until `condition()` holds; a generous bound, not a timing."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not done within the bound"
        tasks.tick()
        time.sleep(0.02)


def test_a_broadcast_tells_its_start_completion_and_message_statuses_signed_as_documented(
    admin, workspace, sms, receiver
):
    webhook = subscribe(admin, receiver, ["broadcast.started", "broadcast.completed", "message.status"])
    for n in range(3):
        make_contact(workspace, f"C{n}", [f"tel:+25078811111{n}"])
    broadcast = post_broadcast(admin, {"text": "Hi", "urns": [f"tel:+25078811111{n}" for n in range(3)]})

    # In whatever order they happened (here the messages went out before the fan-out completed).
    bodies = {body["type"]: body for body in (json.loads(r.body) for r in receiver.requests)}
    assert sorted(bodies) == ["broadcast.completed", "broadcast.started", "message.status"]
    assert len(receiver.requests) == 3
    verify = documented_verify()
    for request in receiver.requests:
        assert request.method == "POST"
        assert request.path == "/events"
        assert request.headers["content-type"] == "application/json"
        headers = {"Herald-Timestamp": request.headers["herald-timestamp"]}
        headers["Herald-Signature"] = request.headers["herald-signature"]
        assert verify(webhook["secret"], headers, request.body)
        assert not verify("another secret", headers, request.body)
        assert not verify(webhook["secret"], headers, request.body + b" ")
        body = json.loads(request.body)
        assert request.headers["herald-event-id"] == body["id"]
        assert request.headers["herald-event-type"] == body["type"]
    started, completed, statuses = (bodies[t] for t in ("broadcast.started", "broadcast.completed", "message.status"))
    assert len({started["id"], completed["id"], statuses["id"]}) == 3
    # The broadcast as broadcasts.json showed it then: as now but for its counts, which its messages moved since.
    shown = results(admin.get(f"/api/v2/broadcasts.json?uuid={broadcast['uuid']}"))[0]
    assert completed["data"] == {**shown, "counts": completed["data"]["counts"]}
    assert started["data"] == {**shown, "status": "started", "counts": started["data"]["counts"]}
    assert sum(completed["data"]["counts"][status] for status in ("queued", "wired")) == 3
    # One event for the batch of outcomes, with every message as messages.json shows it.
    listed = results(admin.get(f"/api/v2/messages.json?broadcast={broadcast['uuid']}"))
    assert statuses["data"] == {"status": "wired", "messages": sorted(listed, key=lambda m: m["id"])}
    assert [d["status"] for d in deliveries(admin, webhook)] == ["delivered"] * 3


def test_a_failed_timestamp_outside_the_window_is_refused_by_the_documented_recipe(admin, workspace, sms, receiver):
    webhook = subscribe(admin, receiver, ["broadcast.completed"])
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111"]})
    (request,) = receiver.requests
    stale = {"Herald-Timestamp": str(int(request.headers["herald-timestamp"]) - 301)}
    stale["Herald-Signature"] = request.headers["herald-signature"]
    assert not documented_verify()(webhook["secret"], stale, request.body)


def test_only_the_wanted_statuses_are_told(admin, workspace, gateway, sms, receiver):
    subscribe(admin, receiver, ["message.status"], statuses=["failed"])
    gateway.will(reply(200), reply(400, "unknown number"))
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111", "tel:+250788222222"]})

    (request,) = receiver.requests
    body = request.json
    assert body["data"]["status"] == "failed"
    (failed,) = body["data"]["messages"]
    assert failed["status"] == "failed"
    assert failed["uuid"] == str(Msg.objects.get(status="F").uuid)


def test_a_workspace_without_subscriptions_writes_no_events(admin, workspace, sms, other_workspace, receiver):
    Webhook.objects.create(workspace=other_workspace, url=f"{receiver.url}/x", events=["broadcast.completed"])
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111"]})
    assert not Event.objects.exists()
    assert receiver.requests == []


def test_failures_and_timeouts_are_retried_with_back_off_until_the_receiver_answers(admin, workspace, sms, receiver):
    receiver.will(reply(500, "down"), hang(5), reply(429, "slow down"), reply(200, "thanks"))
    webhook = subscribe(admin, receiver, ["broadcast.completed"])
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111"]})

    wait_until(lambda: Delivery.objects.get().status == "D")
    (delivery,) = deliveries(admin, webhook)
    attempts = delivery["attempts"]
    assert [(a["number"], a["status_code"], a["response"], a["error"]) for a in attempts] == [
        (1, 500, "down", ""),
        (2, None, "", "no answer within 0.5 s"),
        (3, 429, "slow down", ""),
        (4, 200, "thanks", ""),
    ]
    assert delivery["status"] == "delivered"
    assert delivery["next_attempt"] is None
    assert delivery["event"]["type"] == "broadcast.completed"
    assert all(a["elapsed_ms"] >= 0 for a in attempts)
    assert attempts[1]["elapsed_ms"] >= 400  # the timeout was waited for
    # The same event (id and body) every time, each attempt signed anew.
    assert len({r.body for r in receiver.requests}) == 1
    assert delivery["event"]["id"] == receiver.requests[0].json["id"]
    # Each retry waited at least its back-off after the attempt before it (0.05 s, then 0.1 s, 0.2 s).
    started = [a["started_on"] for a in attempts]
    assert started == sorted(started)


def test_a_retry_waits_for_its_back_off(admin, workspace, sms, receiver, settings):
    settings.WEBHOOKS_BACKOFF_SECONDS = 3600
    settings.WEBHOOKS_MAX_BACKOFF_SECONDS = 3600
    receiver.will(reply(503), reply(200))
    webhook = subscribe(admin, receiver, ["broadcast.completed"])
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111"]})

    tasks.tick()
    (delivery,) = deliveries(admin, webhook)
    assert delivery["status"] == "pending"
    assert len(delivery["attempts"]) == 1
    assert delivery["next_attempt"] is not None
    assert len(receiver.requests) == 1


def test_a_delivery_not_through_within_the_retry_period_fails(admin, workspace, sms, receiver, settings):
    settings.WEBHOOKS_RETRY_SECONDS = 0.3
    receiver.will(reply(502))
    webhook = subscribe(admin, receiver, ["broadcast.completed"])
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111"]})

    wait_until(lambda: Delivery.objects.get().status != "P")
    (delivery,) = deliveries(admin, webhook)
    assert delivery["status"] == "failed"
    assert {a["status_code"] for a in delivery["attempts"]} == {502}
    assert len(delivery["attempts"]) >= 2


def test_a_410_ends_the_subscription(admin, workspace, sms, receiver):
    receiver.will(reply(410, "gone"))
    webhook = subscribe(admin, receiver, ["broadcast.completed"])
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111"]})

    (listed,) = results(admin.get("/api/v2/webhooks.json"))
    assert listed["active"] is False
    assert listed["deactivated_reason"].startswith("the receiver answered 410 Gone on ")
    (delivery,) = deliveries(admin, webhook)
    assert delivery["status"] == "failed"
    assert [a["status_code"] for a in delivery["attempts"]] == [410]

    # Nothing more is written or sent to it; the URL may be subscribed again.
    post_broadcast(admin, {"text": "Again", "urns": ["tel:+250788111111"]})
    assert Event.objects.count() == 1
    assert len(receiver.requests) == 1
    assert post_webhook(admin, {"url": f"{receiver.url}/events", "events": ["broadcast.completed"]}).status_code == 201


def test_another_4xx_fails_the_delivery_without_retrying(admin, workspace, sms, receiver):
    receiver.will(reply(400, "bad signature"))
    webhook = subscribe(admin, receiver, ["broadcast.completed"])
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111"]})
    tasks.tick()

    (delivery,) = deliveries(admin, webhook)
    assert delivery["status"] == "failed"
    assert [(a["status_code"], a["response"]) for a in delivery["attempts"]] == [(400, "bad signature")]
    assert results(admin.get("/api/v2/webhooks.json"))[0]["active"] is True


def test_a_receiver_that_refuses_connections_is_retried(admin, workspace, sms, receiver):
    webhook = subscribe(admin, receiver, ["broadcast.completed"])
    port = receiver.server.server_address[1]
    receiver.stop()
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111"]})
    (delivery,) = deliveries(admin, webhook)
    assert delivery["status"] == "pending"
    assert delivery["attempts"][0]["status_code"] is None
    assert delivery["attempts"][0]["error"].startswith("ConnectError")

    with FakeGateway(port) as back:
        wait_until(lambda: Delivery.objects.get().status == "D")
        assert len(back.requests) == 1


def test_the_address_is_checked_again_at_delivery(admin, workspace, sms, receiver, settings):
    webhook = subscribe(admin, receiver, ["broadcast.completed"])
    settings.WEBHOOKS_ALLOW_PRIVATE = False  # as if the name now resolved to a private address
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111"]})

    (delivery,) = deliveries(admin, webhook)
    assert delivery["status"] == "failed"
    assert [(a["status_code"], a["error"]) for a in delivery["attempts"]] == [
        (None, "Refused address: 127.0.0.1 is not a public address.")
    ]
    assert receiver.requests == []


def test_deliveries_are_listed_only_for_this_workspaces_webhooks_and_events(
    admin, workspace, sms, receiver, other_workspace, make_client
):
    webhook = subscribe(admin, receiver, ["broadcast.completed"])
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111"]})
    event_id = receiver.requests[0].json["id"]
    assert len(results(admin.get(f"/api/v2/webhook_deliveries.json?event={event_id}"))) == 1
    assert len(results(admin.get("/api/v2/webhook_deliveries.json"))) == 1

    stranger = make_client(other_workspace)
    assert results(stranger.get("/api/v2/webhook_deliveries.json")) == []
    foreign = stranger.get(f"/api/v2/webhook_deliveries.json?webhook={webhook['uuid']}")
    assert foreign.status_code == 400
    assert foreign.json() == {"detail": f"Param 'webhook': your workspace has no webhook {webhook['uuid']}."}
    foreign_event = stranger.get(f"/api/v2/webhook_deliveries.json?event={event_id}")
    assert foreign_event.json() == {"detail": f"Param 'event': your workspace has no event {event_id}."}
    bad = admin.get("/api/v2/webhook_deliveries.json?webhook=nope")
    assert bad.status_code == 400
    assert bad.json() == {"detail": "Param 'webhook': nope is not a valid UUID."}
    assert make_client(workspace, "editor").get("/api/v2/webhook_deliveries.json").status_code == 403


def test_a_delivery_report_tells_the_new_status_and_a_late_one_tells_nothing(admin, workspace, sms, receiver):
    subscribe(admin, receiver, ["message.status"], statuses=["delivered", "sent"])
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788111111"]})
    assert receiver.requests == []  # `wired` is not wanted
    msg = Msg.objects.get()

    assert Client().post(callback_urls(sms)["delivered"], {"id": str(msg.uuid)}).status_code == 200
    assert Client().post(callback_urls(sms)["sent"], {"id": str(msg.uuid)}).status_code == 200  # late: ignored

    (request,) = receiver.requests
    shown = results(admin.get(f"/api/v2/messages.json?uuid={msg.uuid}"))
    assert request.json["data"] == {"status": "delivered", "messages": shown}
    assert shown[0]["status"] == "delivered"


def test_an_interrupted_broadcast_and_an_incoming_message_are_told(admin, workspace, receiver, settings):
    webhook = subscribe(admin, receiver, ["broadcast.interrupted", "message.received"])
    make_contact(workspace, "Joe", ["tel:+250788123123"])
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    broadcast = post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788123123"], "send_at": later})
    response = admin.post(
        "/api/v2/broadcast_actions.json", {"broadcasts": [broadcast["uuid"]], "action": "interrupt"}, format="json"
    )
    assert response.status_code == 204, response.content
    channel = gateway_channel(workspace, "http://127.0.0.1:9")
    answer = Client().get(f"/c/ex/{channel.uuid}/{channel.callback_secret}/receive", {"from": "+250788123123",
                                                                                     "text": "Hello"})  # fmt: skip
    assert answer.status_code == 200, answer.content
    wait_until(lambda: len(receiver.requests) == 2)

    bodies = {body["type"]: body for body in (json.loads(r.body) for r in receiver.requests)}
    assert (
        bodies["broadcast.interrupted"]["data"]
        == results(admin.get(f"/api/v2/broadcasts.json?uuid={broadcast['uuid']}"))[0]
    )
    (incoming,) = results(admin.get("/api/v2/messages.json?folder=inbox"))
    assert bodies["message.received"]["data"] == incoming
    assert [d["status"] for d in deliveries(admin, webhook)] == ["delivered"] * 2


def test_metrics_show_the_backlog_and_the_failed_attempts_of_each_webhook(
    admin, anon, workspace, sms, receiver, settings
):
    settings.METRICS = True
    receiver.will(reply(500), reply(500), reply(200))
    webhook = subscribe(admin, receiver, ["broadcast.completed"])
    make_contact(workspace, "Joe", ["tel:+250788123123"])
    post_broadcast(admin, {"text": "Hi", "urns": ["tel:+250788123123"]})
    wait_until(lambda: Delivery.objects.filter(status="D").exists())

    text = anon.get("/metrics").content.decode()
    figures = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    label = webhook["uuid"]
    assert figures[("herald_webhook_deliveries", (("status", "delivered"), ("webhook", label)))] == 1
    assert figures[("herald_webhook_deliveries", (("status", "pending"), ("webhook", label)))] == 0
    assert figures[("herald_webhook_attempts_failed_total", (("webhook", label),))] == 2
