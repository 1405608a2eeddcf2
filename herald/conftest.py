"""Fixtures shared by every app's tests: workspaces, users with roles, and API clients holding their tokens."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from rest_framework.test import APIClient

from herald.workspaces.models import APIToken, Membership, Role, Workspace


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fresh_cache():
    # Throttle histories live in the cache; each test starts with a full budget (and no delivery marked queued).

    caches["default"].clear()
    caches["shared"].clear()


@pytest.fixture
def workspace(db):
    return Workspace.objects.create(name="Nyaruka", languages=["eng", "fra", "kin"], country="RW")


@pytest.fixture
def other_workspace(db):
    return Workspace.objects.create(name="Trileet", languages=["eng"], country="US")


def create_user_token(workspace, role: str = "admin", email: str | None = None) -> tuple:
    """A user with `role` in `workspace` and a fresh API key for it: (user, key)."""
    email = email or f"{role}-{workspace.pk}@example.com"
    user, _ = get_user_model().objects.get_or_create(username=email, defaults={"email": email})
    Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": Role.from_name(role)})
    _, key = APIToken.create_for(workspace, user)
    return user, key


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def make_client(db):
    """make_client(workspace, role="admin") -> an APIClient authenticated as a user with that role."""

    def make(workspace, role: str = "admin", email: str | None = None) -> APIClient:
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
    return APIClient()
