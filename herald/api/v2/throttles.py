import math

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import ScopedRateThrottle

from .auth import Grant


class WorkspaceRateThrottle(ScopedRateThrottle):
    """One request budget per (workspace, scope), shared by all its tokens; rates overridable per workspace."""

    scope_attr = "throttle_scope"

    @property
    def cache(self):
        # The cache every process of this machine shares (Redis, or files in the data dir): `herald serve` answers
        # from several web processes, and a budget kept in one process's memory would be multiplied by their count.
        return caches["shared"]

    def allow_request(self, request, view):
        if not isinstance(request.auth, Grant):
            return True
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.workspace = request.auth.workspace
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super(ScopedRateThrottle, self).allow_request(request, view)

    def get_rate(self):
        rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **(self.workspace.api_rates or {})}
        return rates.get(self.scope, settings.API_DEFAULT_RATE)

    def get_cache_key(self, request, view):
        return f"throttle_{self.scope}_{self.workspace.pk}"

    def wait(self):
        # Always an integer of at least one second, even when the history outgrew a lowered limit, so clients
        # that sleep on Retry-After never spin.
        if not self.history:
            return 1
        oldest_in_window = self.history[min(len(self.history), self.num_requests) - 1]
        return max(1, math.ceil(self.duration - (self.now - oldest_in_window)))
