"""A fake Africa's Talking on 127.0.0.1: the SMS API's `POST /version1/messaging` and `GET /version1/user`, with its
`apiKey` header and `username` checks, its answer shapes (a status per recipient) and its refusals, and the
callbacks its dashboard sends (form POSTs).

    with FakeAfricasTalking() as at:                      # accepts USERNAME / API_KEY
        at.recipient_status["+250788000001"] = 406        # UserInBlacklist for that number
        at.call_back(url, form={"id": ..., "status": "Success", "phoneNumber": ...})
"""

import itertools
from typing import Any
from urllib.parse import parse_qs

from herald.channels.models import Channel
from herald.channels.registry import create_channel
from herald.testing.gateway import Recorded, Reply
from herald.testing.providers.base import FakeProvider, json_reply
from herald.workspaces.models import Workspace

USERNAME = "herald-app"
API_KEY = "atsk_7d1c0e6b9a8f4e2d3c5b6a7980f1e2d3c4b5a6978695a4b3c2d1e0f9a8b7c6d5"
BENCH_URN = "tel:+250788123456"

# Africa's Talking's recipient status codes and names.
STATUS_NAMES = {
    100: "Processed",
    101: "Success",
    102: "Queued",
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    409: "DoNotDisturbRejection",
    500: "InternalServerError",
    501: "GatewayError",
    502: "RejectedByGateway",
}


def text_reply(status: int, text: str) -> Reply:
    return Reply(status, text, {"Content-Type": "text/plain"})


class FakeAfricasTalking(FakeProvider):
    def __init__(self, username: str = USERNAME, api_key: str = API_KEY, port: int = 0):
        super().__init__(port)
        self.username, self.api_key = username, api_key
        # A number's status code when a message is sent to it (101 Success for any other).
        self.recipient_status: dict[str, int] = {}
        self._ids = itertools.count(1)

    def answer(self, request: Recorded) -> Reply:
        if request.headers.get("apikey") != self.api_key:
            return text_reply(401, "The supplied authentication is invalid")
        path, _, query = request.path.partition("?")
        if request.method == "GET" and path == "/version1/user":
            if parse_qs(query).get("username") != [self.username]:
                return text_reply(401, "The supplied authentication is invalid")
            return json_reply(200, {"UserData": {"balance": "KES 1785.5000"}})
        if request.method == "POST" and path == "/version1/messaging":
            return self._send(request)
        return text_reply(404, "Not Found")

    def _send(self, request: Recorded) -> Reply:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return text_reply(415, "Unsupported Media Type: send a urlencoded form")
        form = request.form
        if form.get("username") != self.username:
            return text_reply(401, "The supplied authentication is invalid")
        for field in ("to", "message"):
            if not form.get(field):
                return text_reply(400, f"Request is missing required form field '{field}'")
        recipients = [self._recipient(number.strip()) for number in form["to"].split(",")]
        sent = sum(1 for r in recipients if r["statusCode"] in (100, 101, 102))
        cost = f"KES {0.8 * sent:.4f}"
        summary = f"Sent to {sent}/{len(recipients)} Total Cost: {cost}"
        return json_reply(201, {"SMSMessageData": {"Message": summary, "Recipients": recipients}})

    def _recipient(self, number: str) -> dict[str, Any]:
        possible = number.startswith("+") and number[1:].isdigit()
        code = self.recipient_status.get(number, 101) if possible else 403
        accepted = code in (100, 101, 102)
        return {
            "statusCode": code,
            "number": number,
            "status": STATUS_NAMES[code],
            "cost": "KES 0.8000" if accepted else "0",
            "messageId": f"ATXid_{next(self._ids):024x}" if accepted else "None",
        }


# The bench hook (bench/providers.py): a channel of this type against the fake, unlimited.
FAKE = FakeAfricasTalking


def bench_channel(workspace: Workspace, fake: FakeAfricasTalking) -> Channel:
    return create_channel(
        workspace,
        "africastalking",
        "Africa's Talking bench",
        address="HERALD",
        config={"base_url": fake.base_url, "username": fake.username, "api_key": fake.api_key},
    )
