"""Herald's settings plus the bench-only URLconf (the bare endpoints baselines are measured against)."""

from herald.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
