"""Which workspace a signed-in browser works in: its session keeps the workspace's id, chosen at sign-in and by the
web interface's switcher (herald/web). The API reads the same key for calls made with the session
(herald/api/v2/auth.py), so a page and the API it calls always act in one workspace."""

from django.contrib.sessions.backends.base import SessionBase

from .models import Membership

SESSION_KEY = "herald_workspace"


def memberships(user) -> list[Membership]:
    """The user's memberships, their workspaces at hand, by workspace name."""
    return list(Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name", "id"))


def current_membership(session: SessionBase, user, among: list[Membership] | None = None) -> Membership | None:
    """The membership of the workspace the session works in: the one it chose if the user still belongs to it, else
    their first (kept in the session); None for a user of no workspace. `among`: the user's `memberships`, when the
    caller has read them already (one query either way)."""
    found = memberships(user) if among is None else among
    chosen = session.get(SESSION_KEY)
    membership = next((m for m in found if m.workspace_id == chosen), found[0] if found else None)
    if membership is not None and membership.workspace_id != chosen:
        choose(session, membership)
    return membership


def choose(session: SessionBase, membership: Membership) -> None:
    session[SESSION_KEY] = membership.workspace_id
