"""Signing in and out, changing one's password, switching workspace, and the CSRF failure page."""

import math
import uuid

from django import forms
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_protect

from herald.web import ratelimit
from herald.web.access import WebRequest, page
from herald.workspaces.models import Membership
from herald.workspaces.sessions import choose, current_membership


class SignInForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


def _next_page(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return target if safe and target.startswith("/") else reverse("web.broadcasts")


def _too_many(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many attempts, try again in %(n)d minute.", "Too many attempts, try again in %(n)d minutes.", minutes
    ) % {"n": minutes}


@csrf_protect
def signin(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405)
    form = SignInForm(request.POST if request.method == "POST" else None)
    error, status = None, 200
    if form.is_bound and form.is_valid():
        email, address = form.cleaned_data["email"], ratelimit.client_address(request)
        wait = ratelimit.wait_seconds(email, address)
        user = None if wait else authenticate(request, username=email, password=form.cleaned_data["password"])
        if wait:
            error, status = _too_many(wait), 429
        elif user is None:
            ratelimit.failed(email, address)
            error, status = _("Wrong e-mail address or password."), 400
        elif current_membership(request.session, user) is None:
            error, status = _("This account is not a member of any workspace."), 403
        else:
            ratelimit.succeeded(email)
            login(request, user)  # a new session key: nothing set before sign-in carries over
            current_membership(request.session, user)
            return redirect(_next_page(request))
    elif form.is_bound:
        status = 400
    context = {"form": form, "error": error, "next": request.POST.get("next") or request.GET.get("next", "")}
    return render(request, "web/account/signin.html", context, status=status)


@page(methods=("POST",))  # a link or an image can't sign anyone out
def signout(request: WebRequest) -> HttpResponse:
    logout(request)
    return redirect("web.signin")


@page()
def password(request: WebRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)  # this session stays signed in; the user's others end
        return render(request, "web/account/password.html", {"form": None, "changed": True})
    status = 400 if form.is_bound else 200
    return render(request, "web/account/password.html", {"form": form}, status=status)


@page(methods=("POST",))
def switch_workspace(request: WebRequest) -> HttpResponse:
    membership = (
        Membership.objects.filter(user=request.user, workspace__uuid=request.POST.get("workspace", ""))
        .select_related("workspace")
        .first()
        if _is_uuid(request.POST.get("workspace", ""))
        else None
    )
    if membership is None:
        raise Http404("not a member of that workspace")
    choose(request.session, membership)
    return redirect("web.broadcasts")


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: a page that says what to do, for the web and the API's session calls alike."""
    return render(request, "web/csrf_failure.html", status=403)


urlpatterns = [
    path("signin", signin, name="web.signin"),
    path("signout", signout, name="web.signout"),
    path("account/password", password, name="web.password"),
    path("workspace", switch_workspace, name="web.switch_workspace"),
]
