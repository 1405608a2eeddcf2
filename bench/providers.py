"""Provider hand-over: each provider channel type sends to its fake provider (herald/testing/providers/<type>.py, a
real server on 127.0.0.1 that speaks the provider's API) at no rate limit.

For each type, in one child process on the embedded default (SQLite):
- Herald: `count` queued messages, each to its own contact, handed over by the delivery loop (`deliver`, as a
  worker runs it: leases, the channel's concurrency, outcomes recorded, channel logs written); messages per second
  from the first hand-over to the last recorded outcome;
- baseline: the very requests the fake recorded, replayed by a bare loop from the same number of threads sharing
  one httpx client (for e-mail, the same messages sent by smtplib, one connection a thread);
so the ratio is Herald's own cost per message for that type (building the request, reading the answer, recording
the outcome and the log). The fake is the same for both, so its own ceiling bounds both alike.
"""

import importlib
import importlib.util
import re
import smtplib
import threading
import time

import httpx

from .harness import Row, database, in_threads, run_child

# The types with a fake provider, in the table's order.
TYPES = ("twilio", "vonage", "africastalking", "infobip", "telegram", "whatsapp", "email")
TEXT = "Hi, your appointment is on Monday at 10:00. Reply STOP to stop."


def available_types() -> list[str]:
    """Those of TYPES whose fake provider exists (a type lands with its fake). Found, not imported: a fake needs
    Django, which only the child sets up."""
    return [code for code in TYPES if importlib.util.find_spec(f"herald.testing.providers.{code}") is not None]


def run(quick: bool, log) -> list[Row]:
    count = 300 if quick else 2_000
    rows = []
    for code in available_types():
        with database("sqlite") as db:
            log(f"providers: {code}, {count:,} messages")
            result = run_child("bench.providers:measure", db, code=code, count=count)
        rows.append(
            Row(
                "providers",
                f"{code}: hand-over to its fake, no limit ({result['concurrency']} concurrent): messages/s",
                result["herald_rate"],
                "/s",
                result["bare_rate"],
                "bare loop of the same requests",
                note=f"{result['failed']} not handed over" if result["failed"] else "",
            )
        )
    return rows


def nth_urn(sample: str, index: int) -> str:
    """The `index`-th of a run of distinct URNs like `sample`: its last digits counted on (an e-mail address gets
    the number before its `@`)."""
    scheme, _, path = sample.partition(":")
    if scheme == "mailto":
        local, _, domain = path.partition("@")
        return f"mailto:{local}{index}@{domain}"
    digits = re.search(r"\d+$", path)
    if digits is None:
        return f"{sample}{index}"
    number = str(int(digits.group()) + index).rjust(len(digits.group()), "0")
    return f"{scheme}:{path[: digits.start()]}{number}"


# Steps run in the child process (bench.child) --------------------------------------------------------------------


def measure(code: str, count: int) -> dict:
    from django.conf import settings
    from django.utils import timezone

    from herald.contacts import urns
    from herald.contacts.models import Contact, ContactURN
    from herald.msgs.delivery import deliver
    from herald.msgs.models import Msg, MsgStatus

    from . import data

    provider = importlib.import_module(f"herald.testing.providers.{code}")
    data.migrate()
    workspace = data.make_workspace()
    with provider.FAKE() as fake:
        channel = provider.bench_channel(workspace, fake)
        channel.tps = None  # unlimited, whatever the type's default
        channel.save(update_fields=["tps"])
        # Each has just written (WhatsApp sends free text only within 24 hours of a contact's last message).
        contacts = Contact.objects.bulk_create(
            Contact(workspace=workspace, name=f"C{i}", last_seen_on=timezone.now()) for i in range(count)
        )
        parsed = [urns.parse(nth_urn(provider.BENCH_URN, i)) for i in range(count)]
        contact_urns = ContactURN.objects.bulk_create(
            ContactURN(
                workspace=workspace, contact=contact, scheme=urn.scheme, path=urn.path, identity=str(urn.identity)
            )
            for contact, urn in zip(contacts, parsed, strict=True)
        )
        now = timezone.now()
        Msg.objects.bulk_create(
            Msg(workspace=workspace, contact=contact, contact_urn=urn, channel=channel, text=TEXT, created_on=now)
            for contact, urn in zip(contacts, contact_urns, strict=True)
        )
        before = len(_recorded(fake))
        started = time.monotonic()
        while deliver(channel.id):
            pass
        herald_seconds = time.monotonic() - started
        recorded = _recorded(fake)[before:]
        handed_over = Msg.objects.filter(channel=channel, status=MsgStatus.WIRED).count()
        concurrency = settings.DELIVERY_CONCURRENCY
        bare_seconds = _replay(fake, recorded, concurrency, code)
    return {
        "herald_rate": handed_over / herald_seconds,
        "bare_rate": len(recorded) / bare_seconds if recorded else None,
        "failed": count - handed_over,
        "concurrency": concurrency,
        "requests_per_message": len(recorded) / count,
    }


def _recorded(fake) -> list:
    """What the fake took: HTTP requests, or (the SMTP fake, which has no `requests`) e-mails."""
    requests = getattr(fake, "requests", None)
    return fake.messages if requests is None else requests


def _replay(fake, recorded: list, concurrency: int, code: str) -> float:
    """Seconds taken by a bare loop sending `recorded` again from `concurrency` threads."""
    if code == "email":
        return _replay_smtp(fake, recorded, concurrency)
    client = httpx.Client(limits=httpx.Limits(max_connections=100, max_keepalive_connections=20), timeout=30)
    pending = iter(recorded)
    lock = threading.Lock()
    skipped = {"host", "content-length", "connection", "accept-encoding"}

    def send_until_done():
        while True:
            with lock:
                request = next(pending, None)
            if request is None:
                return
            headers = {name: value for name, value in request.headers.items() if name not in skipped}
            client.request(request.method, fake.url + request.path, content=request.body, headers=headers)

    seconds = in_threads(send_until_done, concurrency)
    client.close()
    return seconds


def _replay_smtp(fake, recorded: list, concurrency: int) -> float:
    pending = iter(recorded)
    lock = threading.Lock()

    def send_until_done():
        with smtplib.SMTP(fake.host, fake.port, timeout=30) as smtp:
            if getattr(fake, "username", None):
                smtp.login(fake.username, fake.password)
            while True:
                with lock:
                    message = next(pending, None)
                if message is None:
                    return
                smtp.sendmail(message.mail_from, message.rcpt_tos, message.content)

    return in_threads(send_until_done, concurrency)
