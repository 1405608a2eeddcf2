"""API authentication: `Authorization: Token <key>` and HTTP Basic `email:key`.

Every failure is a 403 with RapidPro's message: the endpoints send no WWW-Authenticate challenge, so DRF never
turns these into 401s.
"""

from rest_framework import authentication, exceptions

from herald.workspaces.models import APIToken


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
