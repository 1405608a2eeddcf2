"""HTTP for channel types that talk to a gateway: one shared client, and HTTP outcomes mapped to send errors.

Timeouts (settings, seconds): `CHANNEL_CONNECT_TIMEOUT` (HERALD_CHANNEL_CONNECT_TIMEOUT, default 5) to open a
connection, `CHANNEL_SEND_TIMEOUT` (HERALD_CHANNEL_SEND_TIMEOUT, default 30) for the whole exchange. httpx's own
timeouts bound each wait; the total is also checked while the answer is read, so a gateway that drips its answer
byte by byte is cut off too.
"""

import json
import os
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from django.conf import settings

from herald.channels import channel_logs
from herald.channels.base import GatewayUnreachable, PermanentSendError, SendError, TransientSendError

# Only the start of an answer matters (for `mt_response_check` and error details); the rest is not read.
MAX_ANSWER_BYTES = 64 * 1024
# Answers that mean "not now" rather than "never": retrying later could help.
RETRYABLE_STATUSES = frozenset({408, 425, 429})

_client: httpx.Client | None = None
_client_pid: int | None = None
_client_lock = threading.Lock()


def shared_client() -> httpx.Client:
    """One pooled client per process, so repeated sends to a gateway reuse their connections.

    Made again after a fork (Celery's prefork workers): a pool's sockets must not be shared between processes.
    """
    global _client, _client_pid
    pid = os.getpid()
    if _client is None or _client_pid != pid:
        with _client_lock:
            if _client is None or _client_pid != pid:
                _client = httpx.Client(
                    follow_redirects=False,
                    limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                )
                _client_pid = pid
    return _client


def _timeouts() -> tuple[float, float]:
    return float(settings.CHANNEL_CONNECT_TIMEOUT), float(settings.CHANNEL_SEND_TIMEOUT)


@dataclass(frozen=True)
class Answer:
    status_code: int
    text: str
    headers: httpx.Headers = field(default_factory=httpx.Headers)

    @property
    def snippet(self) -> str:
        text = " ".join(self.text.split())
        return text[:200] + ("…" if len(text) > 200 else "")

    def json(self) -> Any:
        """The answer's JSON, or None if it is not JSON (a proxy's HTML page, a cut-off body)."""
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    @property
    def retry_after(self) -> float | None:
        """The `Retry-After` header in seconds (given as seconds or as an HTTP date), if there is a readable one."""
        value = self.headers.get("retry-after", "").strip()
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


def request(
    method: str,
    url: str,
    *,
    content: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    check: bool = True,
) -> Answer:
    """Make one request; return the 2xx answer, else raise the matching send error (`check_status`). With
    `check=False` any answer is returned, for a provider type to read its error codes first and then call
    `check_status` for what it doesn't know. No answer at all is always a send error. The request and its answer
    (or the lack of one) go to the channel log of the hand-over attempt open on this thread (herald/channels/
    channel_logs.py), redacted there."""
    connect, total = _timeouts()
    client = shared_client()
    started = time.monotonic()
    sent_body = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content or ""
    try:
        req = client.build_request(
            method, url, content=content, headers=headers, timeout=httpx.Timeout(total, connect=connect)
        )
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
        # UnicodeEncodeError (a non-ASCII header value) is a ValueError too.
        channel_logs.record_http(method, url, headers or {}, sent_body, started)
        raise PermanentSendError(f"invalid request: {exc}") from exc

    try:
        response, body = _exchange(client, req, started + total, total)
    except SendError:
        channel_logs.record_http(method, url, req.headers, sent_body, started)
        raise
    answer = Answer(response.status_code, _decode(body, response.charset_encoding), response.headers)
    channel_logs.record_http(
        method,
        url,
        req.headers,
        sent_body,
        started,
        status_code=response.status_code,
        response_headers=response.headers,
        response_body=answer.text,
        reason=response.reason_phrase,
    )
    if check:
        check_status(answer)
    return answer


def _exchange(client: httpx.Client, req: httpx.Request, deadline: float, total: float) -> tuple[httpx.Response, bytes]:
    """Send `req` and read the start of its answer (`MAX_ANSWER_BYTES`) by `deadline`; a send error if none came."""
    try:
        response = client.send(req, stream=True)
        try:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= MAX_ANSWER_BYTES:
                    break
                if time.monotonic() > deadline:
                    raise GatewayUnreachable(f"gateway took longer than {total:g} s to answer")
        finally:
            response.close()
    except httpx.TimeoutException as exc:
        raise GatewayUnreachable(f"gateway timed out ({_describe(exc)})") from exc
    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
        raise PermanentSendError(f"invalid request: {_describe(exc)}") from exc
    except httpx.TransportError as exc:
        # Connection refused or reset, a closed connection, an answer that isn't HTTP ...
        raise GatewayUnreachable(f"could not reach gateway: {_describe(exc)}") from exc
    return response, bytes(body)


def check_status(answer: Answer, detail: str = "") -> None:
    """Raise the send error an answer's HTTP status calls for (nothing for a 2xx): transient for a 5xx, 408, 425 and
    429 (with its `Retry-After`), else permanent. `detail` says it in the provider's words (its code and text)."""
    code = answer.status_code
    if 200 <= code < 300:
        return
    detail = detail or f"gateway answered HTTP {code}" + (f": {answer.snippet}" if answer.snippet else "")
    if code >= 500 or code in RETRYABLE_STATUSES:
        raise TransientSendError(detail, retry_after=answer.retry_after)
    if 300 <= code < 400:
        raise PermanentSendError(detail + " (redirects are not followed: check the send URL)")
    raise PermanentSendError(detail)


def _decode(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python doesn't know
        return body.decode("utf-8", errors="replace")


def _describe(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
