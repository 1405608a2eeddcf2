"""How a delivery is signed: HMAC-SHA256, keyed by the subscription's secret, over `<timestamp>.<body>`, the
timestamp being the Unix time (seconds) of the attempt. The receiver recomputes it (api/v2/docs/webhooks.md has the
ten lines) and refuses a timestamp too old, so a captured request can't be replayed later."""

import hashlib
import hmac

TIMESTAMP_HEADER = "Herald-Timestamp"
SIGNATURE_HEADER = "Herald-Signature"
# The signature header's value: `sha256=<hex digest>`.
SCHEME = "sha256"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: f"{SCHEME}={signature(secret, timestamp, body)}"}
