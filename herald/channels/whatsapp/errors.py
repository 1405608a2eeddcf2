"""WhatsApp Cloud API error answers mapped to Herald's send errors.

An error answer is `{"error": {"message", "type", "code", "error_subcode", "error_data": {"details"}, "fbtrace_id"}}`
(Meta's error-codes reference); the code decides, the HTTP status only when the code is unknown.
"""

from herald.channels import http
from herald.channels.base import PermanentSendError, RecipientStopped, TransientSendError

# More than 24 hours since the contact last wrote: only a template may go.
REENGAGEMENT = 131047
# The user stopped marketing messages from this business.
USER_STOPPED = 131050
# Throughput, spam, pair and registration rate limits and "API too many calls" (courier's throttling codes, with
# 131053: Meta failed to fetch a media link); unknown, temporary and service errors.
RETRYABLE = frozenset({4, 80007, 130429, 131048, 131056, 133016, 131053, 1, 2, 131000, 131016})
# Token invalid or expired.
AUTH = frozenset({190})
# A template send WhatsApp refused: what to look at (the templates Herald holds may be out of date).
TEMPLATE_HINTS = {
    132000: "the template's variables don't match its parameters",
    132001: "no such template in this language: `herald channel sync-templates` reads what WhatsApp has",
    132012: "a parameter's format doesn't match the template's",
}


def describe(answer: http.Answer) -> tuple[int | None, str]:
    """The error's code and a line saying it in WhatsApp's words, from an error answer."""
    body = answer.json()
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, f"WhatsApp answered HTTP {answer.status_code}" + (f": {answer.snippet}" if answer.snippet else "")
    code = error.get("code")
    code = code if isinstance(code, int) else None
    message = str(error.get("message") or "no message")
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    return code, f"WhatsApp error {code}: {message}" + (f" ({details})" if details else "")


def raise_for_error(answer: http.Answer) -> None:
    """Raise the send error a non-2xx answer calls for."""
    code, detail = describe(answer)
    if code == REENGAGEMENT:
        raise PermanentSendError(f"{detail}: more than 24 hours since the contact last wrote; only a template may go")
    if code == USER_STOPPED:
        raise RecipientStopped(detail)
    if code in AUTH or answer.status_code == 401:
        raise PermanentSendError(f"{detail}: the channel's access_token is invalid or expired")
    if code in RETRYABLE or answer.status_code == 429:
        raise TransientSendError(detail, retry_after=answer.retry_after)
    if code in TEMPLATE_HINTS:
        raise PermanentSendError(f"{detail}: {TEMPLATE_HINTS[code]}")
    if code is not None and answer.status_code < 500:
        raise PermanentSendError(detail)
    http.check_status(answer, detail)
