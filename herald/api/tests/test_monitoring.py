"""`/health`, `/ready` and `/metrics` (herald/api/monitoring.py; docs/COMPATIBILITY.md, C69): no API token, cheap,
ready 503 naming what is down, metrics off by default and behind their token when one is set, and the figures right
across Herald's processes."""

import json
import re
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from herald.api.tests.serve_process import Server, curl_request, get_when_up, is_console_line_for
from herald.msgs import tasks
from herald.msgs.models import Msg
from herald.testing.factories import make_contact
from herald.testing.gateway import gateway_channel, reply
from herald.testing.processes import Child, free_port, herald_command, herald_env

TOKEN = "metrics-t0ken-7731"


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a Prometheus text page: {(name, sorted labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_health_answers_without_a_token(anon):
    response = anon.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_ready_is_200_when_the_database_and_the_broker_answer(anon, db):
    response = anon.get("/ready")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok", "broker": "ok"})


def test_ready_is_503_naming_the_broker_when_it_is_unreachable(anon, db, settings, tmp_path):
    settings.CELERY_BROKER_URL = f"redis://:hidden-pw@127.0.0.1:{free_port()}/0"  # nothing listens there
    response = anon.get("/ready")
    body = response.json()
    assert (response.status_code, body["status"], body["database"]) == (503, "unavailable", "ok")
    assert body["broker"].startswith("could not connect: ")
    assert "hidden-pw" not in response.content.decode()

    # The embedded queue is a folder: gone, the broker is down.
    settings.CELERY_BROKER_URL, settings.QUEUE_DIR = "filesystem://", tmp_path / "gone"
    response = anon.get("/ready")
    assert (response.status_code, response.json()) == (
        503,
        {
            "status": "unavailable",
            "database": "ok",
            "broker": f"the queue folder {tmp_path / 'gone'} is missing or not writable",
        },
    )


def test_ready_is_503_naming_the_database_when_it_is_unreachable_and_health_still_answers(tmp_path):
    # A real `herald web` (it starts without its database) whose PostgreSQL would be on a port where nothing listens.
    port = free_port()
    database = f"postgres://herald:db-pw-5519@127.0.0.1:{free_port()}/herald"
    env = herald_env(tmp_path, HERALD_DATABASE_URL=database)
    web = Child(herald_command("web", "--port", str(port)), env, tmp_path / "web.log")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10)
                break
            except OSError:
                if time.monotonic() > deadline or not web.alive():
                    pytest.fail((tmp_path / "web.log").read_text())
                time.sleep(0.2)
        assert (health.status, json.loads(health.read())) == (200, {"status": "ok"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=30)
        body = json.loads(refused.value.read())
        assert (refused.value.code, body["status"], body["broker"]) == (503, "unavailable", "ok")
        assert body["database"].startswith("could not query: ")
        assert "db-pw-5519" not in json.dumps(body)
    finally:
        web.stop()


def test_metrics_are_off_by_default_and_need_the_token_when_one_is_set(anon, db, settings):
    assert settings.METRICS is False
    response = anon.get("/metrics")
    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})

    settings.METRICS = True
    assert anon.get("/metrics").status_code == 200

    settings.METRICS_TOKEN = TOKEN
    refused = {"detail": "/metrics needs Authorization: Bearer <HERALD_METRICS_TOKEN>."}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Token {TOKEN}"}):
        response = anon.get("/metrics", headers=headers)
        assert (response.status_code, response.json()) == (403, refused)
    response = anon.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")


def test_metrics_count_messages_by_channel_and_status_and_time_each_hand_over(
    anon, admin, workspace, gateway, settings, eager_tasks, django_capture_on_commit_callbacks
):
    settings.METRICS = True
    channel = gateway_channel(workspace, gateway.url)
    gateway.will(reply(503), reply(200))
    for number in ("+250788111111", "+250788222222"):
        contact = make_contact(workspace, number, [f"tel:{number}"])
        with django_capture_on_commit_callbacks(execute=True):
            response = admin.post(
                "/api/v2/messages.json", {"contact": str(contact.uuid), "text": "Hi"}, content_type="application/json"
            )
        assert response.status_code == 201

    figures = samples(anon.get("/metrics").content.decode())
    label = str(channel.uuid)
    assert figures[("herald_messages", (("channel", label), ("status", "errored")))] == 1
    assert figures[("herald_messages", (("channel", label), ("status", "wired")))] == 1
    assert figures[("herald_queue_messages", (("channel", label),))] == 0  # the errored one's retry is not due
    assert figures[("herald_handover_seconds_count", (("channel", label), ("outcome", "error")))] == 1
    assert figures[("herald_handover_seconds_count", (("channel", label), ("outcome", "wired")))] == 1
    created = figures[("herald_messages_created_total", ())]

    Msg.objects.filter(status="E").update(next_attempt=timezone.now() - timedelta(seconds=1))
    figures = samples(anon.get("/metrics").content.decode())
    assert figures[("herald_queue_messages", (("channel", label),))] == 1
    with django_capture_on_commit_callbacks(execute=True):
        tasks.tick()
    figures = samples(anon.get("/metrics").content.decode())
    assert figures[("herald_messages", (("channel", label), ("status", "wired")))] == 2
    assert figures[("herald_handover_seconds_count", (("channel", label), ("outcome", "wired")))] == 2
    assert figures[("herald_messages_created_total", ())] == created


def test_herald_serve_adds_up_the_hand_overs_of_its_worker_processes(tmp_path):
    # The web process answers /metrics; the delivery pool, another process, did the sending.
    server = Server(tmp_path / "data", free_port(), HERALD_METRICS="1", HERALD_METRICS_TOKEN=TOKEN)
    try:
        info = server.first_json_line()
        request = curl_request(info["curl"])
        (urn,) = json.loads(request.data)["urns"]
        get_when_up(info["url"] + "api/v2/workspace.json", info["token"]).close()
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201
        assert server.wait_for_line(is_console_line_for(urn, json.loads(request.data)["text"]["eng"]), 30)

        metrics = urllib.request.Request(info["url"] + "metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        # The attempt is timed, then its outcome recorded, just after the console line: wait for both.
        wired = re.compile(r'^herald_messages\{channel="[0-9a-f-]+",status="wired"\} 1\.0$', re.MULTILINE)
        deadline = time.monotonic() + 30
        while True:
            with urllib.request.urlopen(metrics, timeout=30) as response:
                text = response.read().decode()
            counts = [
                value
                for (name, labels), value in samples(text).items()
                if name == "herald_handover_seconds_count" and ("outcome", "wired") in labels
            ]
            if (sum(counts) >= 1 and wired.search(text)) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert sum(counts) == 1, text
        assert wired.search(text), text
    finally:
        server.stop()


@pytest.mark.parametrize("path", ["/health", "/ready", "/metrics"])
def test_only_get_is_answered(anon, path):
    assert anon.post(path).status_code == 405


def test_metrics_count_the_tasks_waiting_in_the_broker(
    anon, admin, workspace, settings, django_capture_on_commit_callbacks
):
    # Not eager: the message's delivery task waits in the broker's `deliveries` queue (Redis, or the queue folder).
    settings.METRICS = True
    gateway_channel(workspace, "http://127.0.0.1:9/never-called")
    contact = make_contact(workspace, "Ann", ["tel:+250788111111"])
    key = ("herald_task_queue_length", (("queue", "deliveries"),))
    before = samples(anon.get("/metrics").content.decode())[key]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/api/v2/messages.json", {"contact": str(contact.uuid), "text": "Hi"}, content_type="application/json"
        )
    assert response.status_code == 201
    assert samples(anon.get("/metrics").content.decode())[key] == before + 1
