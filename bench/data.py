"""Building benchmark data fast: one INSERT ... SELECT per table, generated inside the database.

A million contacts through the ORM or the API would take longer than the benchmark itself; these statements make
them in seconds. Runs inside a Django child process (`bench.child`), on SQLite or PostgreSQL.
"""

from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from herald.channels.registry import create_channel
from herald.contacts.models import ContactGroup
from herald.msgs.models import Broadcast, BroadcastStatus
from herald.workspaces.models import Workspace

# Contact n gets the number +2507nnnnnnnn (eight digits), a third of them speak French, each has a `code` field.
CONTACT_SQL = {
    "sqlite": """
        WITH RECURSIVE seq(n) AS (SELECT %(first)s UNION ALL SELECT n + 1 FROM seq WHERE n < %(last)s)
        INSERT INTO contacts_contact
            (uuid, workspace_id, name, language, status, fields, is_active, created_on, modified_on)
        SELECT lower(hex(randomblob(16))), %(workspace)s, 'Contact ' || n, CASE n %% 3 WHEN 0 THEN 'fra' ELSE 'eng' END,
               'A', '{"code": "C' || n || '"}', 1, %(now)s, %(now)s
        FROM seq
    """,
    "postgresql": """
        INSERT INTO contacts_contact
            (uuid, workspace_id, name, language, status, fields, is_active, created_on, modified_on)
        SELECT gen_random_uuid(), %(workspace)s, 'Contact ' || n, CASE n %% 3 WHEN 0 THEN 'fra' ELSE 'eng' END,
               'A', jsonb_build_object('code', 'C' || n), true, %(now)s, %(now)s
        FROM generate_series(%(first)s, %(last)s) AS n
    """,
}
URN_SQL = {
    "sqlite": """
        INSERT INTO contacts_contacturn (workspace_id, contact_id, scheme, path, identity, display, priority)
        SELECT workspace_id, id, 'tel', '+2507' || printf('%%08d', id), 'tel:+2507' || printf('%%08d', id), NULL, 1000
        FROM contacts_contact WHERE workspace_id = %(workspace)s AND id > %(after)s
    """,
    "postgresql": """
        INSERT INTO contacts_contacturn (workspace_id, contact_id, scheme, path, identity, display, priority)
        SELECT workspace_id, id, 'tel', '+2507' || lpad(id::text, 8, '0'), 'tel:+2507' || lpad(id::text, 8, '0'),
               NULL, 1000
        FROM contacts_contact WHERE workspace_id = %(workspace)s AND id > %(after)s
    """,
}
MEMBERS_SQL = """
    INSERT INTO contacts_contactgroup_contacts (contactgroup_id, contact_id)
    SELECT %(group)s, id FROM contacts_contact WHERE workspace_id = %(workspace)s AND id > %(after)s
"""
# Queued outgoing messages of one broadcast on one channel, one per contact of a group (for the delivery benchmarks).
QUEUED_SQL = {
    "sqlite": """
        INSERT INTO msgs_msg (uuid, workspace_id, broadcast_id, contact_id, contact_urn_id, channel_id, text,
            attachments, quick_replies, locale, direction, msg_type, status, visibility, msg_count, error_detail,
            error_count, created_on, modified_on)
        SELECT lower(hex(randomblob(16))), u.workspace_id, %(broadcast)s, u.contact_id, u.id, %(channel)s, %(text)s,
               '[]', '[]', 'eng', 'O', 'T', 'Q', 'V', 1, '', 0, %(now)s, %(now)s
        FROM contacts_contactgroup_contacts m JOIN contacts_contacturn u ON u.contact_id = m.contact_id
        WHERE m.contactgroup_id = %(group)s ORDER BY m.contact_id LIMIT %(count)s
    """,
    "postgresql": """
        INSERT INTO msgs_msg (uuid, workspace_id, broadcast_id, contact_id, contact_urn_id, channel_id, text,
            attachments, quick_replies, locale, direction, msg_type, status, visibility, msg_count, error_detail,
            error_count, created_on, modified_on)
        SELECT gen_random_uuid(), u.workspace_id, %(broadcast)s, u.contact_id, u.id, %(channel)s, %(text)s,
               '[]'::jsonb, '[]'::jsonb, 'eng', 'O', 'T', 'Q', 'V', 1, '', 0, %(now)s, %(now)s
        FROM contacts_contactgroup_contacts m JOIN contacts_contacturn u ON u.contact_id = m.contact_id
        WHERE m.contactgroup_id = %(group)s ORDER BY m.contact_id LIMIT %(count)s
    """,
}


def vendor() -> str:
    return connection.vendor


def migrate() -> None:
    call_command("migrate", interactive=False, verbosity=0)


def make_workspace(name: str = "Bench") -> Workspace:
    return Workspace.objects.create(name=name, languages=["eng", "fra"], country="RW")


def make_external_channel(workspace: Workspace, name: str, send_url: str, tps: int | None = None):
    return create_channel(workspace, "external", name, address="+250788000000", tps=tps, config={"send_url": send_url})


def make_group(workspace: Workspace, contacts: int, name: str = "Everyone") -> ContactGroup:
    """A group of `contacts` new contacts, each with one tel URN."""
    group = ContactGroup.objects.create(workspace=workspace, name=name)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM contacts_contact")
        after = cursor.fetchone()[0]
        params = {"workspace": workspace.id, "group": group.id, "after": after, "now": timezone.now()}
        cursor.execute(CONTACT_SQL[vendor()], {**params, "first": after + 1, "last": after + contacts})
        cursor.execute(URN_SQL[vendor()], params)
        cursor.execute(MEMBERS_SQL, params)
    analyze()
    return group


def queue_messages(channel_id: int, group_id: int, count: int, text: str) -> None:
    """As a broadcast to the group leaves them once fanned out: the broadcast completed, its messages queued."""
    group = ContactGroup.objects.get(id=group_id)
    broadcast = Broadcast.objects.create(
        workspace_id=group.workspace_id,
        status=BroadcastStatus.COMPLETED,
        translations={"eng": {"text": text}},
        base_language="eng",
        contact_count=count,
        msg_count=count,
    )
    broadcast.groups.add(group)
    params = {"channel": channel_id, "group": group_id, "broadcast": broadcast.id, "count": count, "text": text}
    params["now"] = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(QUEUED_SQL[vendor()], params)


def analyze() -> None:
    """Fresh planner statistics on PostgreSQL, as autovacuum would have after a bulk load. (SQLite is left as
    Django leaves it in production: never analysed.)"""
    if vendor() == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
