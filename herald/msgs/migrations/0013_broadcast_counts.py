"""Per-broadcast counts: messages by status and failed reason, kept by triggers on msgs_msg; fan-out exclusions.

The triggers count the writes to the messages table, whoever makes them (the fan-out's bulk inserts, status
updates, cascading deletes, raw SQL). Only outgoing messages of a broadcast count; `reason` is the
failed reason of a failed message and "" for any other status (as messages.json shows `failed_reason`).

- PostgreSQL: statement-level triggers with transition tables insert one delta row per (broadcast, status, reason)
  a statement changed: insert-only, so concurrent senders never wait on one shared row or deadlock on it. The
  tick folds the deltas into one squashed row per key (`herald/msgs/counts.py`, `squash`).
- SQLite (one writer at a time): row-level triggers add to the squashed row of the key (an upsert) on updates and
  deletes; inserts are counted by `msg_rows.insert_messages`, the one place broadcast messages are inserted (an
  INSERT trigger there would halve the fan-out's rate: see `_sqlite`).

A deleted broadcast's rows are deleted by a trigger too (the table has no foreign key, so the order in which a
cascade deletes messages and broadcasts never matters), and a message deleted after its broadcast counts nothing.
Existing broadcasts are back-filled from their messages, and their exclusions from their failed messages (the
reason the composer gave; a contact's status and URNs as they are now).
"""

from django.db import migrations, models

# The key a message counts under.
REASON = "CASE WHEN {t}.status = 'F' THEN COALESCE({t}.failed_reason, '') ELSE '' END"
COUNTED = "{t}.direction = 'O' AND {t}.broadcast_id IS NOT NULL"
COLUMNS = "msgs_broadcastcount (broadcast_id, status, reason, count, squashed)"
UPSERT = "ON CONFLICT (broadcast_id, status, reason) WHERE squashed DO UPDATE SET count = count + excluded.count"


def _postgresql() -> list[str]:
    def function(name: str, body: str) -> str:
        return f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body}; RETURN NULL; END $$"

    new_rows = f"SELECT n.broadcast_id, n.status, {REASON.format(t='n')} AS reason FROM new_rows n WHERE {COUNTED.format(t='n')}"
    old_rows = f"SELECT o.broadcast_id, o.status, {REASON.format(t='o')} AS reason FROM old_rows o WHERE {COUNTED.format(t='o')}"
    return [
        function(
            "msgs_count_inserted",
            f"INSERT INTO {COLUMNS} SELECT broadcast_id, status, reason, COUNT(*), FALSE FROM ({new_rows}) AS added"
            " GROUP BY 1, 2, 3",
        ),
        function(
            "msgs_count_updated",
            f"INSERT INTO {COLUMNS} SELECT broadcast_id, status, reason, SUM(n), FALSE FROM ("
            f"SELECT *, -1 AS n FROM ({old_rows}) AS was UNION ALL SELECT *, 1 AS n FROM ({new_rows}) AS now"
            ") AS changes GROUP BY 1, 2, 3 HAVING SUM(n) <> 0",
        ),
        function(
            "msgs_count_deleted",
            f"INSERT INTO {COLUMNS} SELECT broadcast_id, status, reason, -COUNT(*), FALSE FROM ({old_rows}) AS gone"
            " WHERE EXISTS (SELECT 1 FROM msgs_broadcast b WHERE b.id = gone.broadcast_id) GROUP BY 1, 2, 3",
        ),
        function(
            "msgs_count_broadcast_deleted",
            "DELETE FROM msgs_broadcastcount WHERE broadcast_id IN (SELECT id FROM old_rows)",
        ),
        "CREATE TRIGGER msgs_count_insert AFTER INSERT ON msgs_msg REFERENCING NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION msgs_count_inserted()",
        "CREATE TRIGGER msgs_count_update AFTER UPDATE ON msgs_msg REFERENCING OLD TABLE AS old_rows"
        " NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION msgs_count_updated()",
        "CREATE TRIGGER msgs_count_delete AFTER DELETE ON msgs_msg REFERENCING OLD TABLE AS old_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION msgs_count_deleted()",
        "CREATE TRIGGER msgs_count_broadcast_delete AFTER DELETE ON msgs_broadcast REFERENCING OLD TABLE AS old_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION msgs_count_broadcast_deleted()",
    ]


def _sqlite() -> list[str]:
    def add(row: str, delta: int, condition: str) -> str:
        return (
            f"INSERT INTO {COLUMNS} SELECT {row}.broadcast_id, {row}.status, {REASON.format(t=row)}, {delta}, 1"
            f" WHERE {condition} {UPSERT};"
        )

    # No INSERT trigger: on SQLite any AFTER INSERT trigger, even one that does nothing, halves the rate of the
    # fan-out's inserts, so `msg_rows.insert_messages` (where every broadcast message is inserted) counts them.
    return [
        # Django's updates name the columns they set, most of them not these.
        "CREATE TRIGGER msgs_count_update AFTER UPDATE OF status, failed_reason, direction, broadcast_id ON msgs_msg"
        " WHEN OLD.status IS NOT NEW.status OR OLD.failed_reason IS NOT NEW.failed_reason"
        " OR OLD.direction IS NOT NEW.direction OR OLD.broadcast_id IS NOT NEW.broadcast_id"
        f" BEGIN {add('OLD', -1, COUNTED.format(t='OLD'))} {add('NEW', 1, COUNTED.format(t='NEW'))} END",
        f"CREATE TRIGGER msgs_count_delete AFTER DELETE ON msgs_msg WHEN {COUNTED.format(t='OLD')}"
        " AND EXISTS (SELECT 1 FROM msgs_broadcast b WHERE b.id = OLD.broadcast_id)"
        f" BEGIN {add('OLD', -1, 'TRUE')} END",
        "CREATE TRIGGER msgs_count_broadcast_delete AFTER DELETE ON msgs_broadcast"
        " BEGIN DELETE FROM msgs_broadcastcount WHERE broadcast_id = OLD.id; END",
    ]


BACK_FILL = (
    f"INSERT INTO {COLUMNS} SELECT m.broadcast_id, m.status, {REASON.format(t='m')}, COUNT(*), TRUE FROM msgs_msg m"
    f" WHERE {COUNTED.format(t='m')} GROUP BY m.broadcast_id, m.status, {REASON.format(t='m')}"
)
DROP = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS msgs_count_insert ON msgs_msg",
        "DROP TRIGGER IF EXISTS msgs_count_update ON msgs_msg",
        "DROP TRIGGER IF EXISTS msgs_count_delete ON msgs_msg",
        "DROP TRIGGER IF EXISTS msgs_count_broadcast_delete ON msgs_broadcast",
        "DROP FUNCTION IF EXISTS msgs_count_inserted, msgs_count_updated, msgs_count_deleted,"
        " msgs_count_broadcast_deleted",
    ],
    "sqlite": [
        f"DROP TRIGGER IF EXISTS {name}"
        for name in ("msgs_count_insert", "msgs_count_update", "msgs_count_delete", "msgs_count_broadcast_delete")
    ],
}

# The composer's failed reasons that are exclusions (herald/msgs/exclusions.py, as of this migration).
CONTACT_STATUS_LABELS = {"B": "blocked", "S": "stopped", "V": "archived"}
REASON_EXCLUSIONS = {"T": "too_long", "S": "suspended"}


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": _postgresql, "sqlite": _sqlite}.get(vendor)
    if statements is None:
        raise RuntimeError(f"broadcast counts need triggers written for {vendor}")
    for statement in [*DROP[vendor], *statements(), BACK_FILL]:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    for statement in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def back_fill_exclusions(apps, schema_editor):
    Msg = apps.get_model("msgs", "Msg")
    Broadcast = apps.get_model("msgs", "Broadcast")
    ContactURN = apps.get_model("contacts", "ContactURN")
    has_urn = models.Exists(ContactURN.objects.filter(contact_id=models.OuterRef("contact_id")))
    failed = (
        Msg.objects.filter(direction="O", broadcast__isnull=False, status="F", failed_reason__in=["C", "D", "T", "S"])
        .annotate(has_urn=has_urn)
        .values_list("broadcast_id", "failed_reason", "contact__status", "has_urn")
        .annotate(n=models.Count("id"))
        .order_by()
    )
    exclusions: dict[int, dict[str, int]] = {}
    for broadcast_id, reason, contact_status, urn, n in failed:
        if reason == "C":
            name = CONTACT_STATUS_LABELS.get(contact_status, "archived")  # active again since: it was excluded
        elif reason == "D":
            name = "no_channel" if urn else "no_urn"
        else:
            name = REASON_EXCLUSIONS[reason]
        counted = exclusions.setdefault(broadcast_id, {})
        counted[name] = counted.get(name, 0) + n
    for broadcast_id, counted in exclusions.items():
        Broadcast.objects.filter(id=broadcast_id).update(exclusions=counted)


class Migration(migrations.Migration):
    dependencies = [("msgs", "0012_inbound")]

    operations = [
        migrations.AddField(
            model_name="broadcast", name="exclusions", field=models.JSONField(blank=True, default=dict)
        ),
        migrations.CreateModel(
            name="BroadcastCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("status", models.CharField(max_length=1)),
                ("reason", models.CharField(blank=True, default="", max_length=1)),
                ("count", models.BigIntegerField()),
                ("squashed", models.BooleanField(default=False)),
                (
                    "broadcast",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=models.deletion.DO_NOTHING,
                        related_name="+",
                        to="msgs.broadcast",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["broadcast"], name="broadcast_counts"),
                    models.Index(
                        condition=models.Q(("squashed", False)), fields=["broadcast"], name="broadcast_counts_deltas"
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("squashed", True)),
                        fields=("broadcast", "status", "reason"),
                        name="broadcast_count_squashed",
                    )
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.RunPython(back_fill_exclusions, migrations.RunPython.noop),
    ]
