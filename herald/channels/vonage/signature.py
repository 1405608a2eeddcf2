"""Vonage's signed requests: with signed webhooks on, a receipt or an incoming message carries `timestamp` (Unix
seconds) and `sig`, the signature of all its other parameters. Vonage's default method, "MD5 hash" (the one the
dashboard starts with and its SDKs call `md5hash`): sort the parameters by name, write each as `&name=value` with
any `&` or `=` in the value turned into `_`, append the signature secret, and take the MD5 of that, in hex.

The HMAC methods the dashboard also offers are not supported: a channel whose account signs with one is refused
with a 403 naming the method it must use.
"""

import hashlib
import hmac
import time
from collections.abc import Mapping

SIGNATURE = "sig"
TIMESTAMP = "timestamp"
# A signed request older (or further ahead) than this is refused: a replayed one.
MAX_AGE_SECONDS = 5 * 60


class BadSignature(Exception):
    """Why a request's signature doesn't hold, in words for the 403."""


def signed(params: Mapping[str, str], secret: str) -> str:
    """The `sig` Vonage computes for `params` (any `sig` among them left out)."""
    text = "".join(
        f"&{name}={value.replace('&', '_').replace('=', '_')}"
        for name, value in sorted(params.items())
        if name != SIGNATURE
    )
    return hashlib.md5((text + secret).encode()).hexdigest()


def check(params: Mapping[str, str], secret: str, now: float | None = None) -> None:
    """Raise `BadSignature` unless `params` carry a fresh `timestamp` and their right `sig`."""
    sig, stamp = params.get(SIGNATURE, ""), params.get(TIMESTAMP, "")
    if not sig or not stamp:
        raise BadSignature("missing sig or timestamp: the channel has a signature_secret, so requests must be signed")
    try:
        age = (time.time() if now is None else now) - int(stamp)
    except ValueError:
        raise BadSignature(f"timestamp must be Unix seconds, got {stamp[:40]!r}") from None
    if abs(age) > MAX_AGE_SECONDS:
        raise BadSignature(f"timestamp is {abs(age):.0f} s off: signed requests older than 5 minutes are refused")
    # Constant-time, so the answer's timing says nothing about how much of a guess was right.
    if not hmac.compare_digest(sig.strip().lower().encode(), signed(params, secret).encode()):
        raise BadSignature(
            "wrong signature: check signature_secret, and that the account signs with the MD5 hash method"
        )
