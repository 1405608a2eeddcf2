"""`HERALD_REQUIRE_HTTPS=1`: the API refuses plain HTTP, so a client set up with an `http://` URL fails loudly
instead of sending its token in the clear on every call.

Behind a TLS-terminating proxy the request reaches Herald as HTTP; the proxy's `X-Forwarded-Proto: https` header
(trusted through `SECURE_PROXY_SSL_HEADER`, set in settings) makes `request.is_secure()` true.
"""

from django.conf import settings
from rest_framework import exceptions, permissions

HTTPS_REQUIRED = "HTTPS is required."


class HTTPSRequired(permissions.BasePermission):
    """403 `{"detail": "HTTPS is required."}` for a plain-HTTP request when HTTPS is required (RapidPro's
    `SSLPermission` answers 403 too, with the generic message). Listed first, so it comes before the role check
    and a missing token; a wrong token is still reported as such, since authentication runs before permissions."""

    def has_permission(self, request, view):
        if settings.REQUIRE_HTTPS and not request.is_secure():
            # Raised rather than returned: DRF would turn a plain refusal of an anonymous request into
            # "Authentication credentials were not provided.", hiding the real problem.
            raise exceptions.PermissionDenied(HTTPS_REQUIRED)
        return True
