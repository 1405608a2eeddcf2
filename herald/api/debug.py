"""What a debug error page (HERALD_DEBUG=1) may show: Django's own masking, plus the passwords inside URLs."""

import re

from django.views.debug import SafeExceptionReporterFilter

# scheme://user:password@host — Django masks settings whose *name* looks secret (PASSWORD, KEY, TOKEN ...), but a
# password inside a URL (HERALD_DATABASE_URL, the Celery broker, the Redis cache's LOCATION) goes through whole.
URL_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<userinfo>[^@/?#\s]*)@", re.IGNORECASE)


def redact_url_credentials(text: str) -> str:
    """Every URL's password (or, with no user name in it, its whole user part) replaced by the mask."""

    def masked(match: re.Match) -> str:
        user, has_password, _ = match["userinfo"].partition(":")
        mask = CredentialRedactingFilter.cleansed_substitute
        userinfo = f"{user}:{mask}" if has_password else mask
        return f"{match['scheme']}{userinfo}@"

    return URL_USERINFO.sub(masked, text)


class CredentialRedactingFilter(SafeExceptionReporterFilter):
    """Masks URL passwords in the settings, the request's environment and every frame's local variables."""

    def cleanse_setting(self, key, value):
        # Django's version recurses through dicts, lists and tuples by calling this method again.
        value = super().cleanse_setting(key, value)
        return redact_url_credentials(value) if isinstance(value, str) else value

    def get_traceback_frame_variables(self, request, tb_frame):
        # Local variables get the same treatment as settings: names that look secret, and URLs with passwords.
        return [
            (name, self.cleanse_setting(name, value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]
