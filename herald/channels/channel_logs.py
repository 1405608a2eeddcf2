"""Channel logs: what each hand-over attempt sent to the gateway and what came back, and each callback a gateway
made, so that "why did this fail?" has an answer in one API call (`channel_logs.json`).

How a hand-over is recorded, without the channel types knowing:
- the delivery loop opens an attempt around a type's `send` (`SendLogs.attempt`): a context variable of the
  sending thread;
- `herald/channels/http.py` adds every request it makes on that thread to the open attempt (`record_http`), the
  answer or the error included, redacted with the channel's secrets at once (herald/channels/redaction.py) and
  bounded to `MAX_BODY_CHARS` each way; a type that speaks another protocol records its exchange the same way
  (`record_smtp`: the `email` type's SMTP session);
- the attempt's outcome closes it; closed attempts wait in memory and are written by `SendLogs.flush`, one
  INSERT for all of them, in the transaction that records their outcomes.

Logs live `HERALD_CHANNEL_LOG_DAYS` days: `purge_expired` (a periodic task) deletes older ones in bounded batches.
"""

import contextvars
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.utils import timezone

from herald.channels.base import SendError
from herald.channels.metrics import observe_handover
from herald.channels.models import Channel, ChannelLog, ChannelLogType
from herald.channels.redaction import Redactor, channel_secrets

# Each of a request's and an answer's text (headers and body) is cut to this many characters.
MAX_BODY_CHARS = 8 * 1024
# Rows deleted per statement by the purge, and statements per run: a backlog is worked off run after run.
PURGE_BATCH = 5000
PURGE_MAX_BATCHES = 20


def redactor_for(channel: Channel) -> Redactor:
    return Redactor(channel_secrets(channel.config or {}, channel.callback_secret))


# Redaction reads this much beyond the bound, so that a secret straddling it is still recognised (and the cost of
# redacting stays bounded however long the text).
_REDACTION_MARGIN = 1024


def _kept(redact: Redactor, text: str) -> str:
    """`text` redacted, then cut to MAX_BODY_CHARS. A NUL, which PostgreSQL stores in no text or JSON column (a
    gateway may send one), is kept as U+FFFD, as incoming texts are."""
    text = text.replace("\x00", "\ufffd")
    redacted = redact.text(text[: MAX_BODY_CHARS + _REDACTION_MARGIN])
    if len(redacted) <= MAX_BODY_CHARS and len(text) <= MAX_BODY_CHARS + _REDACTION_MARGIN:
        return redacted
    return redacted[:MAX_BODY_CHARS] + f"\n… (cut at {MAX_BODY_CHARS} characters)"


def _began_iso(started: float) -> str:
    """When something that began at `started` (time.monotonic) began, as the API writes dates (UTC, `Z`)."""
    began = timezone.now() - timedelta(seconds=time.monotonic() - started)
    return began.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _elapsed_ms(started: float) -> int:
    return max(0, round((time.monotonic() - started) * 1000))


@dataclass
class Attempt:
    """One hand-over attempt being recorded: the HTTP exchanges made so far."""

    redactor: Redactor
    msg_uuid: uuid.UUID | None
    started: float = field(default_factory=time.monotonic)
    created_on: datetime = field(default_factory=timezone.now)
    http_logs: list[dict[str, Any]] = field(default_factory=list)
    # What the attempt came to: the type's result, or the exception it raised.
    outcome: object = None


_current: contextvars.ContextVar[Attempt | None] = contextvars.ContextVar("channel_log_attempt", default=None)


def record_http(
    method: str,
    url: str,
    request_headers: Mapping[str, str],
    request_body: str,
    started: float,
    *,
    status_code: int | None = None,
    response_headers: Mapping[str, str] | None = None,
    response_body: str = "",
    reason: str = "",
) -> None:
    """Add one request and its answer (`status_code` None: there was none) to the attempt open on this thread, if
    any."""
    attempt = _current.get()
    if attempt is None:
        return
    redact = attempt.redactor
    target = urlsplit(url)
    path = (target.path or "/") + (f"?{target.query}" if target.query else "")
    request = f"{method} {path} HTTP/1.1\r\n" + _head(redact, request_headers) + request_body
    response = ""
    if status_code is not None:
        response = f"HTTP/1.1 {status_code} {reason}".rstrip() + "\r\n"
        response += _head(redact, response_headers or {}) + response_body
    attempt.http_logs.append(
        {
            "method": method,
            "url": _kept(redact, url),
            "status_code": status_code,
            "request": _kept(redact, request),
            "response": _kept(redact, response),
            "elapsed_ms": _elapsed_ms(started),
            "created_on": _began_iso(started),
        }
    )


def record_smtp(url: str, sent: list[str], answers: list[str], started: float, *, status_code: int | None) -> None:
    """Add one SMTP session (`url`: `smtp://host:port`) to the attempt open on this thread, if any, in the shape of
    an HTTP exchange: the client's commands as the request, the server's replies as the response, the last reply's
    code as the status (None: no server answered). The caller leaves login credentials out of `sent`."""
    attempt = _current.get()
    if attempt is None:
        return
    redact = attempt.redactor
    attempt.http_logs.append(
        {
            "method": "SMTP",
            "url": _kept(redact, url),
            "status_code": status_code,
            "request": _kept(redact, "\r\n".join(sent)),
            "response": _kept(redact, "\r\n".join(answers)),
            "elapsed_ms": _elapsed_ms(started),
            "created_on": _began_iso(started),
        }
    )


def _head(redact: Redactor, headers: Mapping[str, str]) -> str:
    return "".join(f"{name}: {redact.header(name, value)}\r\n" for name, value in headers.items()) + "\r\n"


class SendLogs:
    """The logs of one delivery run's attempts on a channel, written in batches (threads of the run share it)."""

    def __init__(self, channel: Channel):
        self.channel = channel
        self.redactor = redactor_for(channel)
        self._closed: list[ChannelLog] = []
        self._lock = threading.Lock()

    @contextmanager
    def attempt(self, msg_uuid: uuid.UUID | None) -> Iterator[Attempt]:
        """Record the requests made on this thread inside the block; set the attempt's `outcome` (the type's result,
        or the exception it raised) before leaving it. Its log is then closed and waits for `flush`."""
        attempt = Attempt(self.redactor, msg_uuid)
        token = _current.set(attempt)
        try:
            yield attempt
        finally:
            _current.reset(token)
            self._close(attempt)

    def _close(self, attempt: Attempt) -> None:
        outcome, errors = attempt.outcome, []
        if isinstance(outcome, SendError):
            errors.append({"message": _kept(self.redactor, outcome.detail)})
        elif isinstance(outcome, Exception):
            errors.append({"message": _kept(self.redactor, f"{type(outcome).__name__}: {outcome}")})
        log = ChannelLog(
            channel_id=self.channel.id,
            msg_uuid=attempt.msg_uuid,
            log_type=ChannelLogType.MSG_SEND,
            is_error=bool(errors),
            http_logs=attempt.http_logs,
            errors=errors,
            elapsed_ms=_elapsed_ms(attempt.started),
            created_on=attempt.created_on,
        )
        observe_handover(str(self.channel.uuid), time.monotonic() - attempt.started, failed=bool(errors))
        with self._lock:
            self._closed.append(log)

    def flush(self) -> None:
        """Write the closed attempts' logs (one INSERT), in the caller's transaction if it has one."""
        with self._lock:
            logs, self._closed = self._closed, []
        if logs:
            ChannelLog.objects.bulk_create(logs)


def callback_body(request: HttpRequest) -> str:
    """A callback's body as the log keeps it: read before the callback's parameters are (which consumes it)."""
    try:
        return request.body.decode("utf-8", errors="replace")
    except (RawPostDataException, RequestDataTooBig):
        return "(body too large to keep)"


def record_callback(
    channel: Channel,
    request: HttpRequest,
    body: str,
    response: HttpResponse,
    started: float,
    msg_uuid: uuid.UUID | None,
) -> None:
    """Log a callback a gateway made to the channel (a delivery report, `body` from `callback_body`) and Herald's
    answer, redacted."""
    redact = redactor_for(channel)
    headers = {name: value for name, value in request.headers.items() if name.lower() != "cookie"}
    text = f"{request.method} {request.get_full_path()} HTTP/1.1\r\n" + _head(redact, headers) + body
    answer = response.content.decode("utf-8", errors="replace")
    answered = f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n" + _head(redact, dict(response.items()))
    elapsed = _elapsed_ms(started)
    ChannelLog.objects.create(
        channel=channel,
        msg_uuid=msg_uuid,
        log_type=ChannelLogType.MSG_STATUS,
        is_error=response.status_code >= 400,
        http_logs=[
            {
                "method": request.method or "",
                "url": _kept(redact, request.build_absolute_uri()),
                "status_code": response.status_code,
                "request": _kept(redact, text),
                "response": _kept(redact, answered + answer),
                "elapsed_ms": elapsed,
                "created_on": _began_iso(started),
            }
        ],
        errors=[],
        elapsed_ms=elapsed,
    )


def purge_expired(now: datetime | None = None) -> int:
    """Delete logs older than HERALD_CHANNEL_LOG_DAYS days, `PURGE_BATCH` rows a statement; how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CHANNEL_LOG_DAYS)
    deleted = 0
    for _ in range(PURGE_MAX_BATCHES):
        with transaction.atomic():
            ids = list(ChannelLog.objects.filter(created_on__lt=cutoff).values_list("id", flat=True)[:PURGE_BATCH])
            if not ids:
                break
            deleted += ChannelLog.objects.filter(id__in=ids).delete()[0]
    return deleted
