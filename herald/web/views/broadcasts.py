"""The broadcasts list and a broadcast's page."""

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from herald.msgs.models import Broadcast
from herald.web.access import WebRequest, page


@page(methods=("GET", "HEAD"))
def broadcasts(request: WebRequest) -> HttpResponse:
    rows = Broadcast.objects.filter(workspace=request.workspace, is_active=True).order_by("-created_on", "-id")[:50]
    return render(request, "web/broadcasts/list.html", {"broadcasts": rows})


urlpatterns = [
    path("", broadcasts, name="web.broadcasts"),
]
