"""API authentication: `Authorization: Token <key>`, HTTP Basic `email:key`, and a signed-in browser's session.

Every failure is a 403 with RapidPro's message: the endpoints send no WWW-Authenticate challenge, so DRF never
turns these into 401s.

Each scheme gives `request.auth` an object with `workspace`, `user` and `role` (the member's role now): an `APIToken`,
or a `SessionGrant` for the session's workspace (herald/workspaces/sessions.py). Permissions and throttles treat both
alike (`Grant`), so a browser's call has exactly a token's rights and shares its workspace's request budget.
"""

from dataclasses import dataclass
from typing import Any

from rest_framework import authentication, exceptions

from herald.workspaces.models import APIToken, Workspace
from herald.workspaces.sessions import current_membership


class APITokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        token = APIToken.lookup(key)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid token")
        return token.user, token


class APIBasicAuthentication(authentication.BasicAuthentication):
    def authenticate_credentials(self, userid, password, request=None):
        token = APIToken.lookup(password)
        if token is None or not token.user.is_active or token.user.email != userid:
            raise exceptions.AuthenticationFailed("Invalid token or email")
        return token.user, token

    def authenticate_header(self, request):
        return None


@dataclass(frozen=True)
class SessionGrant:
    """What a session's call may act on: its workspace, as its member; `role` is read when asked, like a token's."""

    workspace: Workspace
    user: Any  # settings.AUTH_USER_MODEL's

    @property
    def role(self) -> str | None:
        membership = self.workspace.memberships.filter(user=self.user).first()
        return membership.role if membership else None


class WorkspaceSessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication (CSRF enforced on unsafe methods) in the session's workspace."""

    def authenticate(self, request):
        authenticated = super().authenticate(request)
        if authenticated is None:
            return None
        user, _ = authenticated
        membership = current_membership(request._request.session, user)
        if membership is None:
            raise exceptions.AuthenticationFailed("You are not a member of any workspace")
        return user, SessionGrant(workspace=membership.workspace, user=user)


# The kinds of `request.auth` that carry a workspace and a role.
Grant = (APIToken, SessionGrant)
