"""The pytest plugin every test gets (`-p herald.testing.fixtures` in pyproject's addopts): workspaces, users with
roles and API clients holding their tokens, the fake gateway, eager Celery tasks, and the API helpers.

    def test_something(workspace, admin, gateway, eager_tasks):   # fixtures: ask for them by name, import nothing
        ...
    from herald.testing.fixtures import results, uuids, poster   # plain helpers: import them

The plugin is imported before pytest-django sets Django up, so everything that needs the app registry (models, DRF's
test client) is imported inside the fixture or helper that uses it.
"""

import contextlib

import pytest
from django.core.cache import caches

from herald.testing.gateway import TEST_SEND_TIMEOUT, FakeGateway

ROLES = ("anon", "agent", "editor", "admin")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Django's default hasher is slow on purpose (a guess costs a real attacker time); tests sign in hundreds of
    # times. Passwords are checked the same way, only hashed fast.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache():
    # Throttle histories live in the cache; each test starts with a full budget (and no delivery marked queued).
    caches["default"].clear()
    caches["shared"].clear()


# Workspaces and clients -----------------------------------------------------------------------------------------


@pytest.fixture
def workspace(db):
    from herald.workspaces.models import Workspace  # noqa: PLC0415 — the plugin loads before Django is set up

    return Workspace.objects.create(name="Nyaruka", languages=["eng", "fra", "kin"], country="RW")


@pytest.fixture
def other_workspace(db):
    from herald.workspaces.models import Workspace  # noqa: PLC0415 — the plugin loads before Django is set up

    return Workspace.objects.create(name="Trileet", languages=["eng"], country="US")


def token_client(key: str):
    """A DRF APIClient that sends `key` as its token."""
    from rest_framework.test import APIClient  # noqa: PLC0415 — the plugin loads before Django is set up

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def make_client(db):
    """make_client(workspace, role="admin") -> an APIClient authenticated as a user with that role."""
    from herald.testing.factories import create_user_token  # noqa: PLC0415 — the plugin loads before Django is set up

    def make(workspace, role: str = "admin", email: str | None = None):
        _, key = create_user_token(workspace, role, email)
        return token_client(key)

    return make


@pytest.fixture
def admin(workspace, make_client):
    return make_client(workspace, "admin")


@pytest.fixture
def editor(workspace, make_client):
    return make_client(workspace, "editor")


@pytest.fixture
def agent(workspace, make_client):
    return make_client(workspace, "agent")


@pytest.fixture
def anon():
    from rest_framework.test import APIClient  # noqa: PLC0415 — the plugin loads before Django is set up

    return APIClient()


# The web interface -----------------------------------------------------------------------------------------------


def sign_in(client, email: str, password: str | None = None):
    """Post the sign-in form with `client` (Django's test client); the answer (a redirect when it worked)."""
    from herald.testing.factories import TEST_PASSWORD  # noqa: PLC0415 — the plugin loads before Django is set up

    return client.post("/signin", {"email": email, "password": TEST_PASSWORD if password is None else password})


@pytest.fixture
def web_client(db):
    """web_client(workspace, role="admin", email=None) -> a Django test client signed in through the sign-in form as
    a user with that role (`client.user`). It skips CSRF checks, as Django's test client does by default: the CSRF
    tests use `Client(enforce_csrf_checks=True)`."""
    from django.test import Client  # noqa: PLC0415 — the plugin loads before Django is set up

    from herald.testing.factories import create_web_user  # noqa: PLC0415 — the plugin loads before Django is set up

    def make(workspace, role: str = "admin", email: str | None = None):
        user = create_web_user(workspace, role, email)
        client = Client()
        response = sign_in(client, user.email)
        assert response.status_code == 302, response.content
        client.user = user  # type: ignore[attr-defined]  # the tests' handle on who is signed in
        return client

    return make


# Sending -------------------------------------------------------------------------------------------------------


@pytest.fixture
def gateway(settings):
    """A FakeGateway on 127.0.0.1 (see herald/testing/gateway.py), with the channel timeouts shortened so hanging
    tests stay fast."""
    settings.CHANNEL_SEND_TIMEOUT = TEST_SEND_TIMEOUT
    settings.CHANNEL_CONNECT_TIMEOUT = TEST_SEND_TIMEOUT
    with FakeGateway() as running:
        yield running


@pytest.fixture
def whatsapp(settings):
    """A FakeWhatsApp on 127.0.0.1 (herald/testing/providers/whatsapp.py), the channel timeouts shortened."""
    from herald.testing.providers.whatsapp import FakeWhatsApp  # noqa: PLC0415 — the plugin loads before Django

    settings.CHANNEL_SEND_TIMEOUT = settings.CHANNEL_CONNECT_TIMEOUT = 2
    with FakeWhatsApp() as fake:
        yield fake


@contextlib.contextmanager
def eager():
    """Inside the block Celery tasks run at once in this process (fan-out, then delivery), so a test sees them
    done; afterwards they are queued as before."""
    from herald.runtime.celery import app  # noqa: PLC0415 — the plugin loads before Django is set up

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = before


@pytest.fixture
def eager_tasks():
    """`eager()` for the whole test; for a whole module: `pytestmark = pytest.mark.usefixtures("eager_tasks")`."""
    with eager():
        yield


# API helpers ---------------------------------------------------------------------------------------------------


def results(response) -> list:
    """The `results` of a 200 list answer."""
    assert response.status_code == 200, response.content
    return response.json()["results"]


def uuids(response) -> list[str]:
    """The `uuid` of each result of a 200 list answer, in order."""
    return [item["uuid"] for item in results(response)]


def post_broadcast(client, body) -> dict:
    """POST `body` to broadcasts.json; the created broadcast's JSON (a 201 is asserted)."""
    response = client.post("/api/v2/broadcasts.json", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def poster(url: str):
    """post(client, data, query="", **extra): a JSON POST to `url` (plus `query`) for a module's endpoint."""

    def post(client, data, query: str = "", **extra):
        return client.post(url + query, data, format="json", **extra)

    return post


@pytest.fixture
def assert_roles(workspace, make_client):
    """assert_roles(url, get={role: status}, post={role: (body, status)}, delete={role: status}) checks each
    method's answer for each role in `workspace` ("anon", "agent", "editor", "admin"); a role not named isn't
    tried. After RapidPro's assertGetNotPermitted / assertPostNotPermitted (temba/api/tests/mixins.py).

    GETs are tried first, then POSTs, then DELETEs, each in the order given (one client a role throughout).
    """
    from rest_framework.test import APIClient  # noqa: PLC0415 — the plugin loads before Django is set up

    clients = {"anon": APIClient()}

    def client(role: str):
        if role not in clients:
            clients[role] = make_client(workspace, role)
        return clients[role]

    def check(url: str, get: dict | None = None, post: dict | None = None, delete: dict | None = None) -> None:
        for role, expected in (get or {}).items():
            response = client(role).get(url)
            assert response.status_code == expected, f"GET as {role}: {response.status_code} {response.content}"
        for role, (body, expected) in (post or {}).items():
            response = client(role).post(url, body, format="json")
            assert response.status_code == expected, f"POST as {role}: {response.status_code} {response.content}"
        for role, expected in (delete or {}).items():
            response = client(role).delete(url)
            assert response.status_code == expected, f"DELETE as {role}: {response.status_code} {response.content}"

    return check
