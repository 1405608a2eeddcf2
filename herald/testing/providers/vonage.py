"""FakeVonage: Vonage's SMS API on 127.0.0.1, as its API reference describes it (and as the official SDKs expect it).

- `POST /sms/json` (form or JSON body; GET with a query works too, as on Vonage): `api_key` and `api_secret` checked
  (status 2 "Missing api_key" when absent, status 4 "Bad Credentials" when wrong), `from`, `to` (digits, no `+`)
  and `text` required (status 2), `type` text / unicode / binary, `client-ref` at most 40 characters (status 3).
  Always HTTP 200, `{"message-count": "N", "messages": [...]}` with one entry per SMS part (GSM-7 or UCS-2
  sizes), each `{"to", "message-id", "status": "0", "remaining-balance", "message-price", "network", "client-ref"}`
  or, for an error, `{"status": "N", "error-text": "..."}`. An account without balance gets status 9.
- `GET /account/get-balance?api_key=&api_secret=`: `{"value": ..., "autoReload": false}`, or 401 for bad ones.
- Webhooks back to Herald, as Vonage makes them (GET with a query string by default, or a POST form or JSON body),
  signed with MD5 hash when the fake has a `signature_secret`: `receipt` for a message it took, `inbound` for a
  message a contact sends.

    with FakeVonage() as vonage:
        vonage.reject_next(1, "Throughput Rate Exceeded - please wait [ 1000 ] and retry")
        vonage.receipt(url, vonage.sent[0], "delivered")
"""

import hashlib
import itertools
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from herald.msgs.segments import count_segments, is_gsm7
from herald.testing.gateway import Recorded, Reply

from .base import FakeProvider, json_reply

API_KEY = "a1b2c3d4"
API_SECRET = "Vn9sEcr3tXyZ0123"
PRICE = "0.03330000"
NETWORK = "63510"
TYPES = ("text", "unicode", "binary")
MAX_CLIENT_REF = 40


class FakeVonage(FakeProvider):
    def __init__(self, port: int = 0, *, signature_secret: str = ""):
        super().__init__(port)
        self.api_key, self.api_secret = API_KEY, API_SECRET
        self.signature_secret = signature_secret
        self.balance = 10.0
        # What it took: the parameters of each accepted request, with its parts' message ids as `message-ids`.
        self.sent: list[dict[str, Any]] = []
        self._rejections: list[tuple[str, str]] = []
        self._ids = itertools.count(0x0A0000000123ABCD)

    def reject_next(self, status: int, error_text: str) -> None:
        """Answer the next send with this error entry (e.g. 1, "Throughput Rate Exceeded ...": throttled)."""
        with self._lock:
            self._rejections.append((str(status), error_text))

    # The API.

    def answer(self, request: Recorded) -> Reply:
        path = urlsplit(request.path).path
        if path == "/sms/json" and request.method in ("GET", "POST"):
            return self._send(_params(request))
        if path == "/account/get-balance" and request.method == "GET":
            return self._balance(_params(request))
        return json_reply(404, {"type": "https://developer.vonage.com/api-errors#not-found", "title": "Not Found"})

    def _balance(self, params: dict[str, str]) -> Reply:
        if (params.get("api_key"), params.get("api_secret")) != (self.api_key, self.api_secret):
            return json_reply(401, {"error-code": "401", "error-code-label": "authentication failed"})
        return json_reply(200, {"value": self.balance, "autoReload": False})

    def _send(self, params: dict[str, str]) -> Reply:
        error = self._refusal(params)
        if error is not None:
            return json_reply(200, {"message-count": "1", "messages": [{"status": error[0], "error-text": error[1]}]})
        text = params["text"]
        parts = count_segments(text) if params.get("type", "text") != "binary" else 1
        ids = [f"{next(self._ids):016X}" for _ in range(parts)]
        self.balance -= float(PRICE) * parts
        entries = []
        for message_id in ids:
            entry = {
                "to": params["to"],
                "message-id": message_id,
                "status": "0",
                "remaining-balance": f"{self.balance:.8f}",
                "message-price": PRICE,
                "network": NETWORK,
            }
            if "client-ref" in params:
                entry["client-ref"] = params["client-ref"]
            entries.append(entry)
        with self._lock:
            self.sent.append({**params, "message-ids": ids})
        return json_reply(200, {"message-count": str(parts), "messages": entries})

    def _refusal(self, params: dict[str, str]) -> tuple[str, str] | None:
        """The error entry Vonage would answer with, if any, in the order it checks."""
        for name in ("api_key", "api_secret"):
            if not params.get(name):
                return "2", f"Missing {name}"
        if (params["api_key"], params["api_secret"]) != (self.api_key, self.api_secret):
            return "4", "Bad Credentials"
        with self._lock:
            if self._rejections:
                return self._rejections.pop(0)
        for name in ("from", "to"):
            if not params.get(name):
                return "2", f"Missing {name} param"
        if not params.get("text") and params.get("type") != "binary":
            return "2", "Missing text param"
        if not params["to"].isdigit():
            return "3", "Invalid to address"
        if params.get("type", "text") not in TYPES:
            return "3", "Invalid value for parameter: type"
        if len(params.get("client-ref", "")) > MAX_CLIENT_REF:
            return "3", "Invalid value for parameter: client-ref"
        if self.balance < float(PRICE):
            return "9", "Quota Exceeded - rejected"
        return None

    # Webhooks to Herald.

    def receipt(self, url: str, sent: dict[str, Any], status: str, err_code: str = "0", **how: Any) -> httpx.Response:
        """The delivery receipt of (the first part of) a message it took, as Vonage sends it to `callback`."""
        params = {
            "msisdn": sent["to"],
            "to": sent["from"],
            "network-code": NETWORK,
            "messageId": sent["message-ids"][0],
            "price": PRICE,
            "status": status,
            "scts": datetime.now(UTC).strftime("%y%m%d%H%M"),
            "err-code": err_code,
            "api-key": self.api_key,
            "message-timestamp": _now(),
        }
        if "client-ref" in sent:
            params["client-ref"] = sent["client-ref"]
        return self.webhook(url, params, **how)

    def inbound(self, url: str, msisdn: str, text: str, to: str = "250788000000", **how: Any) -> httpx.Response:
        """A message a contact at `msisdn` (international, no `+`) sent to the account's number `to`."""
        params = {
            "msisdn": msisdn,
            "to": to,
            "messageId": f"{next(self._ids):016X}",
            "text": text,
            "type": "text" if is_gsm7(text) else "unicode",
            "keyword": text.split()[0].upper() if text.split() else "",
            "api-key": self.api_key,
            "message-timestamp": _now(),
        }
        return self.webhook(url, params, **how)

    def webhook(self, url: str, params: dict[str, str], *, method: str = "GET", signed: bool = True) -> httpx.Response:
        """`params` to Herald as Vonage sends a webhook: `GET` (query string), `POST` (form) or `JSON` (a POST with a
        JSON body), signed when the fake has a signature secret (and `signed`)."""
        if self.signature_secret and signed:
            params = self.sign(params)
        if method == "GET":
            return self.call_back(f"{url}?{urlencode(params)}", method="GET")
        if method == "JSON":
            return self.call_back(url, json_body=params)
        return self.call_back(url, form=params)

    def sign(self, params: dict[str, str], timestamp: int | None = None) -> dict[str, str]:
        """`params` with `timestamp`, `nonce` and their MD5-hash `sig`, as Vonage signs webhooks."""
        params = {**params, "timestamp": str(int(time.time()) if timestamp is None else timestamp)}
        params["nonce"] = str(uuid.uuid4())
        joined = "".join(f"&{k}={v.replace('&', '_').replace('=', '_')}" for k, v in sorted(params.items()))
        params["sig"] = hashlib.md5((joined + self.signature_secret).encode()).hexdigest()
        return params


def _params(request: Recorded) -> dict[str, str]:
    """A request's parameters as Vonage reads them: the query string, and a form or JSON body."""
    params = dict(parse_qsl(urlsplit(request.path).query, keep_blank_values=True))
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json") and request.body:
        body = json.loads(request.body)
        params.update({str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {})
    elif content_type.startswith("application/x-www-form-urlencoded"):
        params.update(parse_qsl(request.text, keep_blank_values=True))
    return params


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


# The benchmark's hook (bench/providers.py): a channel on the fake, at an unlimited rate.
FAKE = FakeVonage
BENCH_URN = "tel:+250788123456"


def bench_channel(workspace, fake: FakeVonage):
    from herald.channels.registry import create_channel  # noqa: PLC0415 — Django is set up by then, not at import

    channel = create_channel(
        workspace,
        "vonage",
        "Vonage (bench)",
        address="+250788000000",
        config={"base_url": fake.base_url, "api_key": fake.api_key, "api_secret": fake.api_secret},
    )
    channel.tps = None  # create_channel fills in Vonage's default 30 a second: the benchmark wants no limit
    channel.save(update_fields=["tps"])
    return channel
