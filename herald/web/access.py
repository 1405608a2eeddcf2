"""Who may see a page, and in which workspace: every view of the web interface is wrapped by `page`.

    @page()                                  # any member: admin, editor or agent
    def broadcasts(request): ...             # request.workspace, request.membership are set

    @page(roles=CAN_SEND, methods=("POST",))
    def pause(request, uuid):
        broadcast = in_workspace(request, Broadcast, uuid=uuid)   # another workspace's: 404

`page` checks CSRF on unsafe methods (there is no CSRF middleware: API token calls and channel callbacks carry no
token), sends a signed-out visitor (or one whose session expired) to the sign-in page, then back, reads the
session's workspace (herald/workspaces/sessions.py) and refuses a role not allowed with a 403 page.
"""

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth import logout
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from herald.workspaces.models import APIToken, Membership, Role, Workspace
from herald.workspaces.sessions import current_membership, memberships

ALL_ROLES = frozenset(Role)
# Who may send, pause, resume and interrupt broadcasts: those the API lets write them (agents can't).
CAN_SEND = APIToken.ALLOWED_ROLES
# Who may change channels, API tokens, webhooks and the workspace's settings (the API's ADMIN_ONLY).
ADMINS = frozenset({Role.ADMINISTRATOR})

M = TypeVar("M", bound=Model)


class WebRequest(HttpRequest):
    """What a view wrapped by `page` gets: a signed-in user, their membership of the session's workspace."""

    user: User
    workspace: Workspace
    membership: Membership
    memberships: list[Membership]  # all of the user's, for the switcher
    htmx: HtmxDetails  # django-htmx's middleware: `if request.htmx:` for a request htmx made (a fragment)


def page(roles: Iterable[str] = ALL_ROLES, methods: Iterable[str] = ("GET", "HEAD", "POST")) -> Callable:
    allowed_roles, allowed_methods = frozenset(roles), list(methods)

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @csrf_protect
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in allowed_methods:
                return HttpResponseNotAllowed(allowed_methods)
            if not request.user.is_authenticated:
                if request.htmx:  # type: ignore[attr-defined]
                    # A poll whose session ended (expired, signed out elsewhere): the whole page goes to the
                    # sign-in form, not a fragment of it into the page.
                    page_path = request.htmx.current_url_abs_path or "/"  # type: ignore[attr-defined]
                    return HttpResponseClientRedirect(redirect_to_login(page_path).url)
                return redirect_to_login(request.get_full_path())
            # All of the user's memberships in one query: the current one among them, the switcher lists them.
            found = memberships(request.user)
            membership = current_membership(request.session, request.user, found)
            if membership is None:
                logout(request)
                return render(
                    request,
                    "web/account/signin.html",
                    {"error": _("This account is not a member of any workspace.")},
                    status=403,
                )
            request.memberships = found  # type: ignore[attr-defined]  # what makes it a WebRequest
            request.membership = membership  # type: ignore[attr-defined]
            request.workspace = membership.workspace  # type: ignore[attr-defined]
            if membership.role not in allowed_roles:
                return render(request, "web/forbidden.html", status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def in_workspace(request: WebRequest, rows: type[M] | QuerySet[M], **lookup: Any) -> M:
    """The current workspace's object (of a model, or of a queryset) matching `lookup`, or a 404: another
    workspace's object is never found."""
    queryset = rows if isinstance(rows, QuerySet) else rows._default_manager.all()
    return get_object_or_404(queryset.filter(workspace=request.workspace), **lookup)


def is_admin(request: WebRequest) -> bool:
    return request.membership.role in ADMINS


def may_send(request: WebRequest) -> bool:
    return request.membership.role in CAN_SEND


def current_workspace(request: HttpRequest) -> dict[str, Any]:
    """Template context: the workspace, the member's role and what the switcher lists."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    return {
        "workspace": membership.workspace,
        "membership": membership,
        "may_send": membership.role in CAN_SEND,
        "is_admin": membership.role in ADMINS,
        "memberships": getattr(request, "memberships", [membership]),
    }
