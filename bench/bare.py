"""A bare DRF endpoint: the same JSON as Herald's broadcasts endpoint, from memory, with no auth, no throttle and
no database. What is left is the framework and the server: the floor any endpoint stands on. And a bare web page:
signed in, nothing read but the session and the membership."""

import json

from django.conf import settings
from django.shortcuts import render
from rest_framework.response import Response
from rest_framework.views import APIView

from herald.web.access import page

# Written by the API benchmark's setup: {"list": <a page of broadcasts.json>, "create": <a POST's answer>}.
RESPONSES_FILE = "bench-bare-responses.json"
_responses = None


def responses() -> dict:
    global _responses
    if _responses is None:
        _responses = json.loads((settings.DATA_DIR / RESPONSES_FILE).read_text())
    return _responses


class BareBroadcastsView(APIView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []

    def get(self, request):
        return Response(responses()["list"])

    def post(self, request):
        request.data  # noqa: B018 - parse the body, as a real endpoint must
        return Response(responses()["create"], status=201)


@page(methods=("GET", "HEAD"))
def bare_web_page(request):
    """The web benchmark's baseline: a signed-in page with no data (the session, the membership, base.html)."""
    return render(request, "web/base.html", {})
