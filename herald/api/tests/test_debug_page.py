"""HERALD_DEBUG=1 error pages never show a password: not in the settings (database, broker and Redis URLs), the
request's environment or a frame's local variables; and debug is refused on an address other machines reach."""

import uuid

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import path

from herald.api.debug import redact_url_credentials
from herald.testing.processes import herald_env, run_herald

# Made at run time: the page also shows source lines around each frame, and these must not be found there.
DB, BROKER, REDIS, HEADER = (f"pw{uuid.uuid4().hex}" for _ in range(4))


def failing_view(request):
    broker_url = django_settings.CELERY_BROKER_URL  # a local variable holding a credential, as in real code
    raise RuntimeError(f"cannot reach the broker at {broker_url.split('@')[-1]}")


urlpatterns = [path("fail", failing_view)]


@pytest.mark.urls(__name__)
def test_a_debug_500_page_shows_no_password(settings):
    settings.DEBUG = True
    settings.DATABASE_URL = f"postgres://herald:{DB}@127.0.0.1:5432/herald"
    settings.CELERY_BROKER_URL = f"redis://:{BROKER}@127.0.0.1:6379/4"
    settings.REDIS_URL = f"redis://herald:{REDIS}@127.0.0.1:6379/4"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"sentinel": [f"redis://:{BROKER}@127.0.0.1:26379"]}

    client = Client(raise_request_exception=False)
    response = client.get("/fail", HTTP_X_UPSTREAM=f"https://user:{HEADER}@127.0.0.1/")

    assert response.status_code == 500
    page = response.content.decode()
    assert "RuntimeError" in page
    assert "broker_url" in page
    assert [secret for secret in (DB, BROKER, REDIS, HEADER) if secret in page] == []
    assert "postgres://herald:********************@127.0.0.1:5432/herald" in page


def test_url_credentials_are_masked_wherever_they_sit_in_a_text():
    text = "db=postgres://herald:p%40ss@127.0.0.1/x broker=redis://:pw@127.0.0.1:6379/4 token=amqp://tok@127.0.0.1/"
    assert redact_url_credentials(text) == (
        "db=postgres://herald:********************@127.0.0.1/x "
        "broker=redis://:********************@127.0.0.1:6379/4 token=amqp://********************@127.0.0.1/"
    )
    assert redact_url_credentials("http://127.0.0.1:8000/api/v2/?a=b@c") == "http://127.0.0.1:8000/api/v2/?a=b@c"


@pytest.mark.parametrize("command", ["serve", "web"])
def test_debug_on_a_wildcard_bind_is_refused_with_one_line(tmp_path, command):
    env = herald_env(tmp_path / "data", HERALD_DEBUG="1")
    done = run_herald(command, "--host", "0.0.0.0", "--port", "9", env=env)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "CommandError: HERALD_DEBUG=1 shows tracebacks and settings to anyone who reaches the server: bind it to "
        "127.0.0.1 or ::1, not 0.0.0.0."
    ]
    assert not (tmp_path / "data" / "herald.sqlite3").exists()  # refused before doing anything
