"""Channels that existed before callback secrets each get their own from the migration."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from herald.channels.models import Channel
from herald.workspaces.models import Workspace

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("channels", "0002_delivery")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_channels_each_get_their_own_secret():
    # Made with today's model: only channels go back, and the workspace of back then had other columns.
    workspace = Workspace.objects.create(name="Acme")
    old = migrate(BEFORE)
    try:
        for name in ("One", "Two", "Three"):
            old.get_model("channels", "Channel").objects.create(
                workspace_id=workspace.id, channel_type="external", name=name
            )
    finally:  # never leave the test database behind the code, whatever happened above
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    secrets = list(Channel.objects.values_list("callback_secret", flat=True))
    assert len(secrets) == len(set(secrets)) == 3
    assert all(len(secret) >= 32 for secret in secrets)
