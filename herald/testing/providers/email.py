"""A fake SMTP server on 127.0.0.1 (aiosmtpd), speaking SMTP as a mail provider's submission port does: EHLO,
AUTH PLAIN / LOGIN with its own login (anything else: 535), MAIL FROM refused before the login (530), each message
recorded, and faults on demand.

    with FakeSMTP() as smtp:                          # username "herald", password FakeSMTP.PASSWORD
        smtp.refuse_recipient("gone@example.com")     # RCPT TO answered 550 5.1.1
        smtp.will_answer_data("451 4.3.0 Try again later")   # the next DATA gets this
        smtp.messages[0].message["Subject"]           # what arrived: envelope and the parsed e-mail

By default it offers no TLS (channels point at it with tls=none, allowed on loopback) and takes AUTH in the clear;
given a server certificate (`trustme` in tests) it speaks STARTTLS, refusing AUTH and MAIL before it (530), or
implicit TLS:

    FakeSMTP(tls="starttls", certificate=context)     # context: an ssl.SSLContext holding the server's certificate
"""

import email
import email.policy
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from herald.channels.models import Channel
from herald.channels.registry import create_channel
from herald.testing.processes import free_port


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        """The e-mail parsed, its lines ending in \n (on the wire they end in CRLF)."""
        content = self.content.replace(b"\r\n", b"\n")
        return email.message_from_bytes(content, policy=email.policy.default)


class FakeSMTP:
    USERNAME = "herald"
    PASSWORD = "Smtp-pass-7Q2x"

    def __init__(
        self,
        username: str | None = USERNAME,
        password: str | None = PASSWORD,
        *,
        tls: str = "none",
        certificate: ssl.SSLContext | None = None,
    ):
        self.host = "127.0.0.1"
        self.port = free_port()
        self.username, self.password = username, password
        self.tls = tls
        if tls != "none" and certificate is None:
            raise ValueError("a FakeSMTP with TLS needs the server's certificate (an ssl.SSLContext)")
        secure: dict[str, Any] = {}
        if tls == "starttls":
            secure = {"tls_context": certificate, "require_starttls": True, "auth_require_tls": True}
        elif tls == "ssl":
            secure = {"ssl_context": certificate, "server_hostname": self.host, "auth_require_tls": False}
        else:
            secure = {"auth_require_tls": False}
        self.messages: list[Received] = []
        self.logins: list[tuple[str, str]] = []  # (mechanism, user) of each accepted login
        self._refused: dict[str, str] = {}
        self._data_replies: list[str] = []
        self._controller = Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            auth_required=username is not None,
            authenticator=self._authenticate,
            **secure,
        )

    @property
    def base_url(self) -> str:
        """Not an HTTP API: where it listens, for what prints a fake's address."""
        return f"smtp://{self.host}:{self.port}"

    def channel_config(self, **overrides: str) -> dict[str, str]:
        """A channel config that points at this server with its login."""
        config = {"host": self.host, "port": str(self.port), "tls": self.tls}
        if self.username and self.password:
            config |= {"username": self.username, "password": self.password}
        return {**config, **overrides}

    def refuse_recipient(self, address: str, reply: str = "") -> None:
        self._refused[address.lower()] = reply or f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"

    def will_answer_data(self, *replies: str) -> None:
        self._data_replies = list(replies)

    def __enter__(self) -> "FakeSMTP":
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if self.username is not None and (user, password) == (self.username, self.password):
                self.logins.append((mechanism, user))
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)  # aiosmtpd answers 535 5.7.8 Authentication credentials invalid


class _Handler:
    def __init__(self, fake: FakeSMTP):
        self.fake = fake

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refused = self.fake._refused.get(address.lower())
        if refused:
            return refused
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.fake._data_replies:
            return self.fake._data_replies.pop(0)
        content = envelope.original_content or b""
        self.fake.messages.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))
        return f"250 2.0.0 Ok: queued as Q{len(self.fake.messages)}"


# The bench hook (bench/providers.py): a channel of this type against the fake, unlimited.
FAKE = FakeSMTP
BENCH_URN = "mailto:bench@example.com"


def bench_channel(workspace: Any, fake: FakeSMTP) -> Channel:
    return create_channel(
        workspace, "email", "Bench mail", address="sender@example.com", schemes=["mailto"], tps=None,
        config=fake.channel_config(),
    )  # fmt: skip
