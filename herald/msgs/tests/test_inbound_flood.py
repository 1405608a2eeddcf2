"""A flood of incoming messages while a broadcast sends: every one stored, none twice.

Live (a real `herald serve`, with its default of a web process per core; marked slow): a loopback client hands
Herald FLOOD_RATE incoming messages a second for FLOOD_SECONDS through the external channel's receive URL, each
with a provider id, from the broadcast's own recipients and from numbers Herald has never seen, and retries some of
them as a gateway does (the same id again), while a broadcast to the whole group goes out through the same channel.
Afterwards every id is stored exactly once, the new numbers each became one contact, and the broadcast was handed
over in full. Runs on the embedded default, or on PostgreSQL + Redis when the environment names them.

The pace is what the client offers; how fast Herald takes it depends on the machine (its figure is printed under
"reliability figures", `accepted_per_second`), and no speed is asserted.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from herald.channels.models import Channel
from herald.contacts.models import Contact
from herald.msgs.models import Msg

from .live import Watch

FLOOD_RATE = 200  # callbacks a second
FLOOD_SECONDS = 10
RECIPIENTS = 500
NEW_NUMBERS = 200  # senders Herald doesn't know yet, each writing several times
RETRY_EVERY = 10  # every tenth callback is sent a second time, as a gateway retrying it
CLIENT_THREADS = 32
SETTLE_LIMIT_SECONDS = 180  # ends a hung test; judges no speed
ANSWER_TIMEOUT = 30

SETTINGS = {"HERALD_TICK_SECONDS": "0.5"}


def sender(n: int) -> str:
    """Half the callbacks come from the broadcast's recipients (live.provision's numbers), half from new ones."""
    if n % 2:
        return f"+25078{(n // 2) % RECIPIENTS:07d}"
    return f"+25072{(n // 2) % NEW_NUMBERS:07d}"


@pytest.mark.slow
def test_a_flood_of_incoming_messages_is_all_stored_once_while_a_broadcast_sends(herald, gateway, figures):
    setup = herald.provision(gateway.url, RECIPIENTS)
    herald.start("serve")
    channel = Channel.objects.using(herald.db).get(id=setup["channel"])
    receive = f"{herald.base_url}/c/ex/{channel.uuid}/{channel.callback_secret}/receive"

    response = herald.api_post("/api/v2/broadcasts.json", {"text": "Reply YES or NO", "groups": [setup["group"]]})
    assert response.status_code == 201, response.text
    watch = Watch(herald, response.json()["id"])

    total = FLOOD_RATE * FLOOD_SECONDS
    refused: list[str] = []
    tries = 0

    def deliver(client: httpx.Client, n: int) -> None:
        """One callback, retried until Herald answers 200, as a gateway does (each try with the same id)."""
        nonlocal tries
        body = {"from": sender(n), "text": f"Answer {n}", "id": f"flood-{n}"}
        for _ in range(5):
            tries += 1
            try:
                answer = client.post(receive, data=body, timeout=ANSWER_TIMEOUT)
            except httpx.TransportError as exc:
                refused.append(f"{n}: {exc!r}")
                continue
            if answer.status_code == 200:
                return
            refused.append(f"{n}: {answer.status_code} {answer.text[:200]}")
        raise AssertionError(f"callback {n} never accepted: {refused[-5:]}")

    started = time.monotonic()
    with httpx.Client() as client, ThreadPoolExecutor(CLIENT_THREADS) as pool:
        futures = []
        for n in range(total):
            # Paced: callback n leaves at n / FLOOD_RATE seconds, whatever the answers take.
            time.sleep(max(0.0, started + n / FLOOD_RATE - time.monotonic()))
            futures.append(pool.submit(deliver, client, n))
            if n % RETRY_EVERY == 0:
                futures.append(pool.submit(deliver, client, n))  # the gateway's retry, racing the first try
        for future in futures:
            future.result()
    flood_seconds = time.monotonic() - started

    watch.wait_until(watch.settled, "the broadcast handed over in full", timeout=SETTLE_LIMIT_SECONDS)

    incoming = Msg.objects.using(herald.db).filter(direction="I")
    ids = list(incoming.values_list("external_id", flat=True))
    assert len(ids) == len(set(ids)) == total
    assert set(ids) == {f"flood-{n}" for n in range(total)}
    contacts = Contact.objects.using(herald.db)
    assert contacts.count() == RECIPIENTS + NEW_NUMBERS
    assert contacts.filter(urns__path__startswith="+25072").count() == NEW_NUMBERS
    assert watch.msgs.count() == RECIPIENTS
    sent_to = [r.json["to"] for r in gateway.requests]
    assert len(sent_to) == len(set(sent_to)) == RECIPIENTS
    figures(
        callbacks=total,
        tries=tries,
        not_accepted_first_time=len(refused),
        flood_seconds=round(flood_seconds, 1),
        accepted_per_second=round(tries / flood_seconds),
        stored=len(ids),
        duplicates=len(ids) - len(set(ids)),
    )
