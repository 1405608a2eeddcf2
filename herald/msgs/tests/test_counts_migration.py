"""Migration msgs/0013 back-fills the counts and exclusions of broadcasts sent before it, and from then on its
triggers keep them (docs/COMPATIBILITY.md, C70)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from herald.contacts.models import Contact, ContactStatus, ContactURN
from herald.msgs.counts import counts_by_broadcast
from herald.msgs.models import Broadcast, Msg, MsgStatus
from herald.workspaces.models import Workspace

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("msgs", "0010_broadcast_schedule")]  # the migration before 0013


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor


def test_broadcasts_sent_before_the_counts_are_back_filled():
    executor = migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    OldBroadcast, OldMsg = old.get_model("msgs", "Broadcast"), old.get_model("msgs", "Msg")
    workspace = Workspace.objects.create(name="Before", country="RW")
    broadcast = OldBroadcast.objects.create(workspace_id=workspace.id, base_language="eng", translations={})
    statuses = [ContactStatus.ACTIVE, ContactStatus.ACTIVE, ContactStatus.BLOCKED, ContactStatus.STOPPED, "A", "A"]
    contacts = [Contact.objects.create(workspace=workspace, name=str(i), status=s) for i, s in enumerate(statuses)]
    ContactURN.objects.create(
        workspace=workspace, contact=contacts[4], scheme="mailto", path="a@b.c", identity="mailto:a@b.c", priority=1
    )
    outcomes = [("W", None), ("D", None), ("F", "C"), ("F", "C"), ("F", "D"), ("F", "D")]
    for contact, (status, reason) in zip(contacts, outcomes, strict=True):
        OldMsg.objects.create(
            workspace_id=workspace.id, contact_id=contact.id, broadcast_id=broadcast.id, status=status,
            failed_reason=reason,
        )  # fmt: skip

    migrate(None)

    assert counts_by_broadcast([broadcast.id]) == {
        broadcast.id: {("W", ""): 1, ("D", ""): 1, ("F", "C"): 2, ("F", "D"): 2}
    }
    exclusions = Broadcast.objects.get(id=broadcast.id).exclusions
    assert exclusions == {"blocked": 1, "stopped": 1, "no_channel": 1, "no_urn": 1}
    # From now on the triggers count what changes.
    Msg.objects.filter(broadcast_id=broadcast.id, status=MsgStatus.WIRED).update(status=MsgStatus.DELIVERED)
    assert counts_by_broadcast([broadcast.id])[broadcast.id][("D", "")] == 2
