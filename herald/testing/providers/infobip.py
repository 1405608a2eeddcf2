"""A fake Infobip on 127.0.0.1: the SMS API's `POST /sms/2/text/advanced` and `GET /account/1/balance`, with the
`Authorization: App <key>` check, Infobip's answer and error shapes, and its report / inbound callbacks.

    with FakeInfobip() as infobip:            # accepts API_KEY
        infobip.reject_next("REJECTED_DESTINATION")   # the next message is refused in the send answer
        infobip.report(url, [(msg_uuid, 3)])  # a delivery report batch, as Infobip posts it
"""

import itertools
from typing import Any

from herald.testing.gateway import Recorded, Reply
from herald.testing.providers.base import FakeProvider, json_reply

API_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
BENCH_URN = "tel:+250788123456"

GROUPS = {1: "PENDING", 2: "UNDELIVERABLE", 3: "DELIVERED", 4: "EXPIRED", 5: "REJECTED"}
STATUSES = {
    1: (26, "PENDING_ACCEPTED", "Message sent to next instance"),
    2: (9, "UNDELIVERABLE_NOT_DELIVERED", "Message sent not delivered"),
    3: (5, "DELIVERED_TO_HANDSET", "Message delivered to handset"),
    4: (15, "EXPIRED_EXPIRED", "Message expired"),
    5: (6, "REJECTED_NETWORK", "Network is forbidden"),
}


def request_error(status: int, message_id: str, text: str) -> Reply:
    return json_reply(status, {"requestError": {"serviceException": {"messageId": message_id, "text": text}}})


def status_of(group: int) -> dict[str, Any]:
    status_id, name, description = STATUSES[group]
    return {"groupId": group, "groupName": GROUPS[group], "id": status_id, "name": name, "description": description}


class FakeInfobip(FakeProvider):
    def __init__(self, api_key: str = API_KEY, port: int = 0):
        super().__init__(port)
        self.api_key = api_key
        self._bulk_ids = itertools.count(1)
        self._reject: list[int] = []

    def reject_next(self, group: int = 5) -> None:
        """Refuse the next message in the send answer itself (200, its status in `group`: 5 REJECTED, 2 ...)."""
        self._reject.append(group)

    def answer(self, request: Recorded) -> Reply:
        if request.headers.get("authorization") != f"App {self.api_key}":
            return request_error(401, "UNAUTHORIZED", "Invalid login details")
        path = request.path.split("?", 1)[0]
        if request.method == "GET" and path == "/account/1/balance":
            return json_reply(200, {"balance": 47.79, "currency": "EUR"})
        if request.method == "POST" and path == "/sms/2/text/advanced":
            return self._send(request)
        return request_error(404, "NOT_FOUND", "Requested URL not found: " + path)

    def _send(self, request: Recorded) -> Reply:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return request_error(415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type")
        try:
            messages = request.json["messages"]
        except (ValueError, KeyError, TypeError):
            messages = None
        if not isinstance(messages, list) or not messages:
            return request_error(400, "BAD_REQUEST", "Bad request")
        answered = []
        for message in messages:
            problem = self._invalid(message)
            if problem:
                return request_error(400, "BAD_REQUEST", problem)
            for destination in message["destinations"]:
                group = self._reject.pop(0) if self._reject else 1
                message_id = destination.get("messageId") or f"{next(self._bulk_ids):032d}"
                answered.append({"to": destination["to"], "status": status_of(group), "messageId": message_id})
        return json_reply(200, {"bulkId": f"bulk-{next(self._bulk_ids)}", "messages": answered})

    @staticmethod
    def _invalid(message: Any) -> str:
        """Infobip's wording for a message it refuses, or ""."""
        if not isinstance(message, dict):
            return "Invalid message"
        destinations = message.get("destinations")
        if not isinstance(destinations, list) or not destinations:
            return "Invalid destination address."
        if not all(isinstance(d, dict) and isinstance(d.get("to"), str) and d["to"].isdigit() for d in destinations):
            return "Invalid destination address."
        if not isinstance(message.get("text"), str) or not message["text"]:
            return "Message text is required."
        if not isinstance(message.get("from", ""), str):
            return "Invalid sender."
        return ""

    def report(self, url: str, reports: list[tuple[str, int]], **result: Any):
        """Post a delivery report batch to Herald: one result per (messageId, status group)."""
        results = []
        for message_id, group in reports:
            error = {
                "groupId": 0,
                "groupName": "OK",
                "id": 0,
                "name": "NO_ERROR",
                "description": "No Error",
                "permanent": False,
            }
            if group in (2, 4, 5):
                error = {
                    "groupId": 1,
                    "groupName": "HANDSET_ERRORS",
                    "id": 27,
                    "name": "EC_ABSENT_SUBSCRIBER",
                    "description": "Absent Subscriber",
                    "permanent": False,
                }
            results.append(
                {
                    "bulkId": "bulk-1",
                    "messageId": message_id,
                    "to": "250788123123",
                    "sentAt": "2026-12-02T10:00:00.000+0000",
                    "doneAt": "2026-12-02T10:00:05.000+0000",
                    "smsCount": 1,
                    "status": status_of(group),
                    "error": error,
                    "callbackData": message_id,
                    **result,
                }
            )
        return self.call_back(url, json_body={"results": results})

    def deliver_inbound(self, url: str, messages: list[dict[str, Any]]):
        """Forward incoming messages to Herald, as Infobip does: each dict overrides a result's fields."""
        results = [
            {
                "messageId": f"in-{n}",
                "from": "250788123123",
                "to": "250788000000",
                "text": "Hello",
                "cleanText": "Hello",
                "keyword": "",
                "receivedAt": "2026-12-02T10:00:00.000+0000",
                "smsCount": 1,
                **message,
            }
            for n, message in enumerate(messages)
        ]
        return self.call_back(
            url, json_body={"results": results, "messageCount": len(results), "pendingMessageCount": 0}
        )


FAKE = FakeInfobip


def bench_channel(workspace, fake: FakeInfobip):
    from herald.channels.registry import create_channel  # noqa: PLC0415 — the registry needs Django's app registry

    return create_channel(
        workspace,
        "infobip",
        "Infobip",
        address="HERALD",
        schemes=["tel"],
        tps=None,
        config={"base_url": fake.base_url, "api_key": fake.api_key},
    )
