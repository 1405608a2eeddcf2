from rest_framework import exceptions, permissions

from herald.workspaces.models import APIToken, Role

from .auth import Grant

ADMIN_EDITOR = frozenset({Role.ADMINISTRATOR, Role.EDITOR})
ALL_ROLES = frozenset(Role)


class RolePermission(permissions.BasePermission):
    """The role matrix: each endpoint declares `roles = {"GET": {...}, "POST": {...}}`.

    A method the endpoint doesn't serve is a 405 even for anonymous callers, as in RapidPro.
    """

    def has_permission(self, request, view):
        allowed = getattr(view, "roles", {})
        method = request.method
        if method == "HEAD":
            method = "GET"
        if method == "OPTIONS":
            return True
        if method not in allowed:
            raise exceptions.MethodNotAllowed(request.method)
        token = request.auth
        if not isinstance(token, Grant):
            return False
        # Read once: the role is the member's now, so a demotion takes effect on the next request.
        role = token.role
        # Agents never use the API, with a token or a session (RapidPro's `APIPermission.has_permission`,
        # temba/api/models.py): the matrices' agent entries are what agents may do once they reach Herald another way.
        return role in APIToken.ALLOWED_ROLES and role in allowed[method]


# Endpoints that configure the workspace itself (its webhooks): administrators only.
ADMIN_ONLY = frozenset({Role.ADMINISTRATOR})
