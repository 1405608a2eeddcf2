import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from herald import datadir

# A WSGI server loading Herald directly (not through `herald web`) gets the same private data dir and secret key.
datadir.ready()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "herald.settings")
application = get_wsgi_application()

# Python's default is 700 allocations.
GC_YOUNG_THRESHOLD = 10_000


def settle_for_serving() -> None:
    """Ready a web process to serve: with Python's cyclic garbage collector as it is, a request that builds a big
    answer (a 250-broadcast page) walks every object of the loaded program (Django, DRF, the phone-number tables:
    some 150,000) a few times, for longer than the page itself takes. So the views are imported now, what is loaded
    is moved out of the collector's sight (`freeze`: nothing loaded at start-up is garbage), and young objects are
    collected less often. Called by `herald web`'s workers (herald/runtime/web.py), not on import: a test run that
    imports the application keeps Python's defaults."""
    get_resolver().url_patterns  # noqa: B018 - imports every URLconf and view now rather than on the first request
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
