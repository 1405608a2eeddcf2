"""Sign-in attempts limited per e-mail address and per client address, in the default cache.

A fixed window per key: the first failure opens it for `SIGNIN_WINDOW_SECONDS`, and once `SIGNIN_ATTEMPTS` failures
are in it, the key is refused until it closes (a correct password too: it could be a guess). Why not django-axes: it
adds tables, an authentication backend and a middleware for what two cache counters do; the cache is the one the
API's throttle already uses (Redis when configured, shared by every process; the embedded server is one process).
"""

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class Limiter:
    name: str

    def _key(self, value: str) -> str:
        # Hashed: cache keys must be short and plain, and an e-mail address is no business of the cache's.
        return f"signin:{self.name}:{hashlib.sha256(value.lower().encode()).hexdigest()}"

    def wait_seconds(self, value: str) -> int:
        """How long `value` must wait before its next attempt: 0 when it may try now."""
        key = self._key(value)
        if (cache.get(key) or 0) < settings.SIGNIN_ATTEMPTS:
            return 0
        until = cache.get(f"{key}:until") or 0
        return max(1, math.ceil(until - time.time()))

    def failed(self, value: str) -> None:
        key, window = self._key(value), settings.SIGNIN_WINDOW_SECONDS
        cache.add(f"{key}:until", time.time() + window, window)
        cache.add(key, 0, window)
        try:
            cache.incr(key)
        except ValueError:  # the window closed between add and incr: this failure opens the next one
            cache.set(key, 1, window)

    def reset(self, value: str) -> None:
        key = self._key(value)
        cache.delete_many([key, f"{key}:until"])


BY_EMAIL = Limiter("email")
BY_ADDRESS = Limiter("address")


def client_address(request) -> str:
    """The address the request came from. Behind a proxy that is the proxy's, unless the proxy sets REMOTE_ADDR
    (the limit per e-mail address still holds)."""
    return request.META.get("REMOTE_ADDR", "")


def wait_seconds(email: str, address: str) -> int:
    return max(BY_EMAIL.wait_seconds(email), BY_ADDRESS.wait_seconds(address))


def failed(email: str, address: str) -> None:
    BY_EMAIL.failed(email)
    BY_ADDRESS.failed(address)


def succeeded(email: str) -> None:
    BY_EMAIL.reset(email)
