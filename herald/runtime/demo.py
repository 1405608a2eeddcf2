"""The demo `herald serve` sets up on an empty database, so a first run ends with a curl command that works and a
password to sign in to the web interface with."""

import json
import secrets
import shlex
from dataclasses import asdict, dataclass
from typing import Any

from django.db import transaction

from herald.channels.registry import create_channel
from herald.workspaces.models import Workspace
from herald.workspaces.provisioning import create_token, create_user, create_workspace

DEMO_WORKSPACE: dict[str, Any] = {
    "name": "Demo",
    "country": "RW",
    "languages": ["eng", "fra"],
    "timezone": "Africa/Kigali",
}
DEMO_EMAIL = "admin@example.com"
DEMO_URN = "tel:+250788123123"


@dataclass(frozen=True)
class Demo:
    workspace: str
    email: str
    # Both shown once: only their hashes are stored.
    token: str
    password: str


def create_demo_if_empty() -> Demo | None:
    """On a database without workspaces, a "Demo" workspace with an admin and a token; else nothing."""
    # One transaction: on SQLite it takes the write lock first, so two servers starting together make one demo.
    with transaction.atomic():
        if Workspace.objects.exists():
            return None
        workspace = create_workspace(**DEMO_WORKSPACE)
        _, key = create_token(workspace, DEMO_EMAIL, "admin")
        password = secrets.token_urlsafe(12)
        create_user(workspace, DEMO_EMAIL, "admin", password)
        # Messages to the demo go to the server's output, so the first broadcast is visibly sent.
        create_channel(workspace, "console", "Console")
    return Demo(workspace=str(workspace.uuid), email=DEMO_EMAIL, token=key, password=password)


def broadcast_curl(base_url: str, token: str) -> str:
    """A ready-to-paste command that sends a broadcast with `token`."""
    body = json.dumps({"urns": [DEMO_URN], "text": {"eng": "Hello from Herald!", "fra": "Bonjour de Herald !"}})
    return (
        f"curl -sS -X POST {shlex.quote(base_url.rstrip('/') + '/api/v2/broadcasts.json')} "
        f"-H {shlex.quote('Authorization: Token ' + token)} "
        f"-H 'Content-Type: application/json' "
        f"-d {shlex.quote(body)}"
    )


def demo_info(demo: Demo | None, base_url: str) -> dict:
    """What `herald serve --json` prints: the server's URL, where to sign in and, on first run, the demo's token,
    password and curl."""
    info = {
        "url": base_url,
        "docs": base_url.rstrip("/") + "/api/v2/",
        "sign_in": base_url.rstrip("/") + "/signin",
        "created": demo is not None,
    }
    info.update(asdict(demo) if demo else {"workspace": None, "email": None, "token": None, "password": None})
    info["curl"] = broadcast_curl(base_url, demo.token) if demo else None
    return info
