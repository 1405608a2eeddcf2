"""Workspaces' globals, once a JSON object on the workspace, each become a row of `globals.json` (0005_globals),
and back on the way down."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from herald.workspaces.models import Global, Workspace

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("workspaces", "0004_timezone")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_each_global_value_becomes_a_row_named_after_its_key_and_goes_back():
    old = migrate(BEFORE)
    old_workspace = old.get_model("workspaces", "Workspace")
    acme = old_workspace.objects.create(name="Acme", globals={"org_name": "Acme Ltd", "access_token": 23464373})
    old_workspace.objects.create(name="Empty")

    migrate(latest())

    rows = sorted(Global.objects.values_list("workspace__name", "key", "name", "value"))
    assert rows == [("Acme", "access_token", "Access Token", "23464373"), ("Acme", "org_name", "Org Name", "Acme Ltd")]
    assert Workspace.objects.get(name="Acme").global_values() == {"org_name": "Acme Ltd", "access_token": "23464373"}

    back = migrate(BEFORE)
    restored = back.get_model("workspaces", "Workspace").objects.get(pk=acme.pk)
    assert restored.globals == {"org_name": "Acme Ltd", "access_token": "23464373"}
    migrate(latest())
