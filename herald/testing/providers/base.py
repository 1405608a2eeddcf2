"""What every fake provider shares: a `FakeGateway` (herald/testing/gateway.py: a threaded HTTP server on
127.0.0.1 that records each request) that answers by the provider's rules, faults injected on demand, and callbacks
made to a Herald listening on loopback.

    class FakeTwilio(FakeProvider):
        def answer(self, request: Recorded) -> Reply: ...   # the provider's own answer to a request

    with FakeTwilio() as twilio:
        twilio.will(reply(503), hang())   # the next two requests get these, whatever the provider would say
        twilio.call_back(url, form={...}, headers={...})   # a callback to Herald, as the provider makes it
"""

import json
from typing import Any
from urllib.parse import urlsplit

import httpx

from herald.testing.gateway import FakeGateway, Recorded, Reply

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(body), {"Content-Type": "application/json", **(headers or {})})


class FakeProvider(FakeGateway):
    """A provider's API on 127.0.0.1. Subclasses implement `answer`; `base_url` is what a channel's `base_url`
    config key is set to."""

    def __init__(self, port: int = 0):
        super().__init__(port)
        self._injected: list = []

    @property
    def base_url(self) -> str:
        return self.url

    def will(self, *behaviours) -> None:
        """Answer the next requests with `behaviours` (a `reply`, `hang`, `drop` or `garbage` each), one each,
        then go back to answering as the provider does."""
        with self._lock:
            self._injected = list(behaviours)

    def respond(self, recorded: Recorded):
        with self._lock:
            if self._injected:
                return self._injected.pop(0)
        return self.answer(recorded)

    def answer(self, request: Recorded) -> Reply:
        raise NotImplementedError

    def call_back(
        self,
        url: str,
        *,
        method: str = "POST",
        form: dict[str, str] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Make a callback to Herald as the provider would (a form, a JSON body or raw bytes); loopback only."""
        host = urlsplit(url).hostname or ""
        if host not in LOOPBACK:
            raise ValueError(f"fake providers call back to loopback only, not {host!r}")
        with httpx.Client(timeout=10) as client:
            return client.request(method, url, data=form, json=json_body, content=content, headers=headers)
