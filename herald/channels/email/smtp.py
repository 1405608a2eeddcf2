"""One SMTP session with a channel's server (stdlib smtplib): opened as its config says (implicit TLS, STARTTLS or
none; the login if it has one), its exchange kept in the channel log, and its failures told apart the way delivery
needs them:

- no answer (refused, timed out, dropped, a TLS handshake that broke) -> `GatewayUnreachable`;
- a 4xx reply (421, 450, 451, 452: greylisting, a full queue) -> `TransientSendError`, retried with back-off;
- a 5xx reply (550, 553, 554), a refused login (535), an untrusted certificate -> `PermanentSendError`, with the
  server's code and text.
"""

import smtplib
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from django.conf import settings

from herald.channels.base import GatewayUnreachable, PermanentSendError, SendError, TransientSendError
from herald.channels.channel_logs import record_smtp

HIDDEN = "********"


class _Transcript(smtplib.SMTP):
    """An SMTP client that keeps what it sent and what it was answered, credentials left out."""

    _host: str  # smtplib's own (undeclared in its stubs): the name TLS checks the server's certificate against

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sent: list[str] = []
        self.answers: list[str] = []
        self.last_code: int | None = None
        self._logging_in = False

    def send(self, s: Any) -> None:  # smtplib's own annotation (a buffer or a str) needs Python 3.12's Buffer
        text = bytes(s).decode("utf-8", errors="replace") if not isinstance(s, str) else s
        if self._logging_in:  # AUTH PLAIN / LOGIN carry the login in base64: only the mechanism is kept
            text = " ".join([*text.split()[:2], HIDDEN]) if text.upper().startswith("AUTH") else HIDDEN
        self.sent.append(text.rstrip("\r\n"))
        super().send(s)

    def getreply(self) -> tuple[int, bytes]:
        code, message = super().getreply()
        self.last_code = code
        self.answers.append(f"{code} {message.decode('utf-8', errors='replace')}")
        return code, message

    def login(self, user: str, password: str, *, initial_response_ok: bool = True) -> tuple[int, bytes]:
        self._logging_in = True
        try:
            return super().login(user, password, initial_response_ok=initial_response_ok)
        finally:
            self._logging_in = False


class _TranscriptSSL(_Transcript, smtplib.SMTP_SSL):
    """The same over implicit TLS (port 465)."""


def server_name(config: dict[str, Any]) -> str:
    return f"{config['host']}:{config['port']}"


@contextmanager
def session(config: dict[str, Any]) -> Iterator[smtplib.SMTP]:
    """An SMTP session ready for MAIL FROM (greeted, TLS as configured, logged in), closed with QUIT after the block.
    Raises `SendError` (see the module's docstring); the exchange goes to the open channel-log attempt, if any."""
    started = time.monotonic()
    context = ssl.create_default_context()
    # Connect within the connect timeout; each later read or write gets the send timeout.
    options: dict[str, Any] = {"local_hostname": socket.gethostname(), "timeout": settings.CHANNEL_CONNECT_TIMEOUT}
    client = _TranscriptSSL(context=context, **options) if config["tls"] == "ssl" else _Transcript(**options)
    scheme = "smtps" if config["tls"] == "ssl" else "smtp"
    try:
        try:
            # The name TLS checks the certificate against: smtplib sets it only when the constructor connects.
            client._host = config["host"]
            code, message = client.connect(config["host"], int(config["port"]))
            if code != 220:
                raise smtplib.SMTPConnectError(code, message)
            if client.sock is not None:
                client.sock.settimeout(settings.CHANNEL_SEND_TIMEOUT)
            client.ehlo()
            if config["tls"] == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if config.get("username"):
                client.login(config["username"], config["password"])
            yield client
        except (smtplib.SMTPException, OSError) as exc:
            raise failure(exc, server_name(config)) from exc
        finally:
            # QUIT is manners: the message's fate was decided by the reply to its DATA.
            with suppress(smtplib.SMTPException, OSError):
                if client.sock is not None:
                    client.quit()
            client.close()
    finally:
        record_smtp(f"{scheme}://{server_name(config)}", client.sent, client.answers, started,
                    status_code=client.last_code)  # fmt: skip


def failure(exc: Exception, server: str) -> SendError:
    """What an smtplib error means for the message, in words naming the server and quoting its reply."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return PermanentSendError(f"SMTP server refused the login: {_reply(exc.smtp_code, exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        recipient, (code, message) = next(iter(exc.recipients.items()))
        return _by_code(code, f"SMTP server {server} refused the recipient {recipient}: {_reply(code, message)}")
    if isinstance(exc, smtplib.SMTPResponseException):  # refused sender, data, greeting, HELO ...
        return _by_code(exc.smtp_code, f"SMTP server {server} answered {_reply(exc.smtp_code, exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentSendError(f"SMTP server {server}: {exc} (check the channel's tls and login)")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentSendError(f"SMTP server {server}: its TLS certificate is not trusted ({exc.verify_message})")
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
        return GatewayUnreachable(f"SMTP server {server} unreachable: {str(exc) or type(exc).__name__}")
    return PermanentSendError(f"SMTP server {server}: {exc}")


def _by_code(code: int, detail: str) -> SendError:
    return TransientSendError(detail) if 400 <= code < 500 else PermanentSendError(detail)


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", errors="replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"
