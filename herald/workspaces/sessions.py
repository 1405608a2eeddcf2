"""Which workspace a signed-in browser works in: its session keeps the workspace's id, chosen at sign-in and by the
web interface's switcher (herald/web). The API reads the same key for calls made with the session
(herald/api/v2/auth.py), so a page and the API it calls always act in one workspace."""

from django.contrib.sessions.backends.base import SessionBase

from .models import Membership

SESSION_KEY = "herald_workspace"


def memberships(user) -> list[Membership]:
    """The user's memberships, their workspaces at hand, by workspace name."""
    return list(Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name", "id"))


def current_membership(session: SessionBase, user) -> Membership | None:
    """The membership of the workspace the session works in: the one it chose if the user still belongs to it, else
    their first (kept in the session); None for a user of no workspace."""
    chosen = session.get(SESSION_KEY)
    found = Membership.objects.filter(user=user).select_related("workspace")
    membership = found.filter(workspace_id=chosen).first() if chosen else None
    if membership is None:
        membership = found.order_by("workspace__name", "id").first()
        if membership is not None:
            choose(session, membership)
    return membership


def choose(session: SessionBase, membership: Membership) -> None:
    session[SESSION_KEY] = membership.workspace_id
