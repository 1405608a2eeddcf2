"""Keeping channel callback secrets out of every log line (request logs, access logs, refusals).

A callback URL carries its channel's secret as a path segment (`/c/<type>/<channel uuid>/<secret>/<action>`), so
any line that quotes the URL would hand the secret to whoever reads the logs. Imports nothing from Django's apps:
the logging configuration loads it before they are ready.
"""

import logging
import re

PLACEHOLDER = "<secret>"

# `/c/<type>/<uuid>/` then the secret segment, followed by `/<action>`.
_SECRET_SEGMENT = re.compile(r"(/c/[A-Za-z0-9_-]+/[^/?#\s\"]+/)[^/?#\s\"]+(?=/)")


def redact_callback_secrets(text: str) -> str:
    return _SECRET_SEGMENT.sub(rf"\g<1>{PLACEHOLDER}", text)


class RedactCallbackSecrets(logging.Filter):
    """Rewrites a record whose text quotes a callback URL, with the secret segment blanked out."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        redacted = redact_callback_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
