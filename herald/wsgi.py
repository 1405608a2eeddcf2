import os

from django.core.wsgi import get_wsgi_application

from herald import datadir

# A WSGI server loading Herald directly (not through `herald web`) gets the same private data dir and secret key.
datadir.ready()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "herald.settings")
application = get_wsgi_application()
