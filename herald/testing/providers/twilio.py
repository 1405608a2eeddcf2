"""FakeTwilio: Twilio's Messages API on 127.0.0.1, as its REST reference describes it, refusing what Twilio refuses,
and signing its callbacks as Twilio signs them.

    with FakeTwilio() as twilio:            # accepts ACCOUNT_SID / AUTH_TOKEN
        twilio.messages                     # the messages it took, each its form (lists of values)
        twilio.opted_out.add("+250788123123")   # sends to this number get 21610
        twilio.call_back(url, form={...}, auth_token=AUTH_TOKEN)   # signed X-Twilio-Signature
"""

import base64
import hashlib
import hmac
import itertools
import re
from urllib.parse import urlsplit

import httpx

from herald.channels.registry import create_channel
from herald.testing.gateway import Recorded, Reply
from herald.testing.providers.base import FakeProvider, json_reply

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "f00dfacecafe4b1d9a7e0123456789ab"
BENCH_URN = "tel:+250788123456"
SENDER = "+14155550100"

_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")
_ACCOUNT = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)\.json$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def twilio_error(status: int, code: int, message: str) -> Reply:
    return json_reply(
        status,
        {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
    )


def sign(auth_token: str, url: str, form: dict[str, str]) -> str:
    """X-Twilio-Signature: base64(HMAC-SHA1(auth token, URL + each parameter sorted by name, as name + value))."""
    data = url + "".join(name + form[name] for name in sorted(form))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


class FakeTwilio(FakeProvider):
    def __init__(self, port: int = 0, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN):
        super().__init__(port)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict[str, list[str]]] = []
        self.opted_out: set[str] = set()
        self._sids = itertools.count(1)

    def answer(self, request: Recorded) -> Reply:
        path = urlsplit(request.path).path
        if not self._authenticated(request):
            return twilio_error(401, 20003, "Authenticate")
        if request.method == "GET" and (match := _ACCOUNT.match(path)):
            if match["sid"] != self.account_sid:
                return twilio_error(404, 20404, f"The requested resource {path} was not found")
            return json_reply(200, {"sid": self.account_sid, "friendly_name": "Herald tests", "status": "active",
                                    "type": "Full", "auth_token": self.auth_token})  # fmt: skip
        if request.method == "POST" and (match := _MESSAGES.match(path)):
            if match["sid"] != self.account_sid:
                return twilio_error(404, 20404, f"The requested resource {path} was not found")
            return self._create_message(request)
        return twilio_error(404, 20404, f"The requested resource {path} was not found")

    def _authenticated(self, request: Recorded) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except ValueError:
            return False
        return user == self.account_sid and password == self.auth_token

    def _create_message(self, request: Recorded) -> Reply:
        if request.headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        form = request.form_lists
        one = {name: values[-1] for name, values in form.items()}
        to, sender, service = one.get("To", ""), one.get("From", ""), one.get("MessagingServiceSid", "")
        if not to:
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        if not _E164.match(to):
            return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not sender and not service:
            return twilio_error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message")
        if sender and not _E164.match(sender):
            return twilio_error(400, 21212, f"The 'From' number {sender} is not a valid phone number.")
        if not one.get("Body") and not form.get("MediaUrl"):
            return twilio_error(400, 21602, "Message body is required.")
        if len(form.get("MediaUrl", [])) > 10:
            return twilio_error(400, 21623, "Number of media files exceeds allowed limit")
        callback = one.get("StatusCallback")
        if callback is not None and urlsplit(callback).scheme not in ("http", "https"):
            return twilio_error(400, 21609, f"The StatusCallback URL {callback} is not a valid URL.")
        if to in self.opted_out:
            return twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
        self.messages.append(form)
        sid = f"SM{next(self._sids):032x}"
        return json_reply(201, {"sid": sid, "account_sid": self.account_sid, "to": to, "from": sender or None,
                                "messaging_service_sid": service or None, "body": one.get("Body", ""),
                                "status": "queued", "num_media": str(len(form.get("MediaUrl", []))),
                                "error_code": None, "error_message": None,
                                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"})  # fmt: skip

    def signed_call_back(self, url: str, form: dict[str, str], auth_token: str | None = None) -> httpx.Response:
        """POST `form` to Herald at `url`, signed as Twilio signs it (with another token to forge one)."""
        signature = sign(auth_token or self.auth_token, url, form)
        return self.call_back(url, form=form, headers={"X-Twilio-Signature": signature})


FAKE = FakeTwilio


def bench_channel(workspace, fake: FakeTwilio):
    return create_channel(
        workspace,
        "twilio",
        "Twilio bench",
        address=SENDER,
        schemes=["tel"],
        tps=None,
        config={"base_url": fake.base_url, "account_sid": fake.account_sid, "auth_token": fake.auth_token},
    )
