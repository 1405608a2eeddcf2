"""Group member counts kept by triggers (`ContactGroupCount`, read by `herald/contacts/group_counts.py`).

A group's count is its members that aren't deleted (`is_active`), whatever their status: the meaning groups.json's
`count` had when it was counted at read time. Blocking a contact and deleting one remove its memberships, and the
triggers see those deletes like any other. They count every write that can change it, whoever makes it:

- memberships inserted, deleted or updated (imports, contact_actions, a group's deletion, blocking, raw SQL): each
  counts when its contact is active;
- a contact's `is_active` changing (a deletion): its memberships count, or stop counting;
- a contact deleted outright while still active (with memberships still there): its memberships stop counting;
- a group deleted outright: its rows go (the table has no foreign key, so the order of a cascade never matters).

PostgreSQL: statement-level triggers with transition tables insert one delta row per group a statement changed
(insert-only, so concurrent imports never wait on a shared row); the tick folds them (`group_counts.squash`). A
contact's `is_active` is watched by a row-level trigger with a WHEN clause: PostgreSQL allows no transition tables
on a column-list trigger, and a statement-level UPDATE trigger would copy every row of the many bulk updates of
contacts (`modified_on`) into its transition tables for nothing.
SQLite (one writer at a time): row-level triggers add to the group's squashed row (an upsert).

Existing groups are back-filled from their memberships.
"""

from django.db import migrations, models

MEMBERS = "contacts_contactgroup_contacts"
COLUMNS = "contacts_contactgroupcount (group_id, count, squashed)"
ACTIVE = "EXISTS (SELECT 1 FROM contacts_contact c WHERE c.id = {t}.contact_id AND c.is_active)"
GROUP_EXISTS = "EXISTS (SELECT 1 FROM contacts_contactgroup g WHERE g.id = {t}.contactgroup_id)"
UPSERT = "ON CONFLICT (group_id) WHERE squashed DO UPDATE SET count = count + excluded.count"


def _postgresql() -> list[str]:
    def function(name: str, body: str) -> str:
        return f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body}; RETURN NULL; END $$"

    def counted(rows: str, n: int) -> str:
        return f"SELECT t.contactgroup_id, {n} AS n FROM {rows} t WHERE {ACTIVE.format(t='t')}"

    return [
        function(
            "contacts_count_members_inserted",
            f"INSERT INTO {COLUMNS} SELECT contactgroup_id, SUM(n), FALSE FROM ({counted('new_rows', 1)}) AS added"
            " GROUP BY 1",
        ),
        function(
            "contacts_count_members_updated",
            f"INSERT INTO {COLUMNS} SELECT contactgroup_id, SUM(n), FALSE FROM ("
            f"{counted('old_rows', -1)} AND {GROUP_EXISTS.format(t='t')} UNION ALL {counted('new_rows', 1)}"
            ") AS changes GROUP BY 1 HAVING SUM(n) <> 0",
        ),
        function(
            "contacts_count_members_deleted",
            f"INSERT INTO {COLUMNS} SELECT contactgroup_id, SUM(n), FALSE FROM ("
            f"{counted('old_rows', -1)} AND {GROUP_EXISTS.format(t='t')}) AS gone GROUP BY 1",
        ),
        # Row-level: NEW and OLD are the contact.
        function(
            "contacts_count_contact_activity",
            f"INSERT INTO {COLUMNS} SELECT m.contactgroup_id, CASE WHEN NEW.is_active THEN 1 ELSE -1 END, FALSE"
            f" FROM {MEMBERS} m WHERE m.contact_id = NEW.id",
        ),
        function(
            "contacts_count_contacts_deleted",
            f"INSERT INTO {COLUMNS} SELECT m.contactgroup_id, -COUNT(*), FALSE FROM old_rows o"
            f" JOIN {MEMBERS} m ON m.contact_id = o.id WHERE o.is_active AND {GROUP_EXISTS.format(t='m')} GROUP BY 1",
        ),
        function(
            "contacts_count_groups_deleted",
            "DELETE FROM contacts_contactgroupcount WHERE group_id IN (SELECT id FROM old_rows)",
        ),
        f"CREATE TRIGGER contacts_count_members_insert AFTER INSERT ON {MEMBERS} REFERENCING NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION contacts_count_members_inserted()",
        f"CREATE TRIGGER contacts_count_members_update AFTER UPDATE ON {MEMBERS} REFERENCING OLD TABLE AS old_rows"
        " NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION contacts_count_members_updated()",
        f"CREATE TRIGGER contacts_count_members_delete AFTER DELETE ON {MEMBERS} REFERENCING OLD TABLE AS old_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION contacts_count_members_deleted()",
        "CREATE TRIGGER contacts_count_contact_activity AFTER UPDATE OF is_active ON contacts_contact FOR EACH ROW"
        " WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active) EXECUTE FUNCTION contacts_count_contact_activity()",
        "CREATE TRIGGER contacts_count_contacts_delete AFTER DELETE ON contacts_contact REFERENCING OLD TABLE AS"
        " old_rows FOR EACH STATEMENT EXECUTE FUNCTION contacts_count_contacts_deleted()",
        "CREATE TRIGGER contacts_count_groups_delete AFTER DELETE ON contacts_contactgroup REFERENCING OLD TABLE AS"
        " old_rows FOR EACH STATEMENT EXECUTE FUNCTION contacts_count_groups_deleted()",
    ]


def _sqlite() -> list[str]:
    def add(row: str, delta: int, condition: str) -> str:
        return f"INSERT INTO {COLUMNS} SELECT {row}.contactgroup_id, {delta}, 1 WHERE {condition} {UPSERT};"

    def counted(row: str) -> str:
        return ACTIVE.format(t=row)

    def leaving(row: str) -> str:
        return f"{ACTIVE.format(t=row)} AND {GROUP_EXISTS.format(t=row)}"

    return [
        f"CREATE TRIGGER contacts_count_members_insert AFTER INSERT ON {MEMBERS}"
        f" BEGIN {add('NEW', 1, counted('NEW'))} END",
        f"CREATE TRIGGER contacts_count_members_update AFTER UPDATE ON {MEMBERS}"
        f" BEGIN {add('OLD', -1, leaving('OLD'))} {add('NEW', 1, counted('NEW'))} END",
        f"CREATE TRIGGER contacts_count_members_delete AFTER DELETE ON {MEMBERS}"
        f" BEGIN {add('OLD', -1, leaving('OLD'))} END",
        "CREATE TRIGGER contacts_count_contact_activity AFTER UPDATE OF is_active ON contacts_contact"
        " WHEN OLD.is_active IS NOT NEW.is_active"
        f" BEGIN INSERT INTO {COLUMNS} SELECT m.contactgroup_id, CASE WHEN NEW.is_active THEN 1 ELSE -1 END, 1"
        f" FROM {MEMBERS} m WHERE m.contact_id = NEW.id {UPSERT}; END",
        "CREATE TRIGGER contacts_count_contacts_delete AFTER DELETE ON contacts_contact WHEN OLD.is_active"
        f" BEGIN INSERT INTO {COLUMNS} SELECT m.contactgroup_id, -1, 1 FROM {MEMBERS} m"
        f" WHERE m.contact_id = OLD.id AND {GROUP_EXISTS.format(t='m')} {UPSERT}; END",
        "CREATE TRIGGER contacts_count_groups_delete AFTER DELETE ON contacts_contactgroup"
        " BEGIN DELETE FROM contacts_contactgroupcount WHERE group_id = OLD.id; END",
    ]


TRIGGERS = (
    ("contacts_count_members_insert", MEMBERS),
    ("contacts_count_members_update", MEMBERS),
    ("contacts_count_members_delete", MEMBERS),
    ("contacts_count_contact_activity", "contacts_contact"),
    ("contacts_count_contacts_delete", "contacts_contact"),
    ("contacts_count_groups_delete", "contacts_contactgroup"),
)
DROP = {
    "postgresql": [
        *(f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table in TRIGGERS),
        "DROP FUNCTION IF EXISTS contacts_count_members_inserted, contacts_count_members_updated,"
        " contacts_count_members_deleted, contacts_count_contact_activity, contacts_count_contacts_deleted,"
        " contacts_count_groups_deleted",
    ],
    "sqlite": [f"DROP TRIGGER IF EXISTS {name}" for name, _ in TRIGGERS],
}
BACK_FILL = (
    f"INSERT INTO {COLUMNS} SELECT m.contactgroup_id, COUNT(*), TRUE FROM {MEMBERS} m"
    " JOIN contacts_contact c ON c.id = m.contact_id WHERE c.is_active GROUP BY m.contactgroup_id"
)


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": _postgresql, "sqlite": _sqlite}.get(vendor)
    if statements is None:
        raise RuntimeError(f"group counts need triggers written for {vendor}")
    for statement in [*DROP[vendor], *statements(), BACK_FILL]:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    for statement in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0005_web")]

    operations = [
        migrations.CreateModel(
            name="ContactGroupCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("count", models.BigIntegerField()),
                ("squashed", models.BooleanField(default=False)),
                (
                    "group",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=models.deletion.DO_NOTHING,
                        related_name="+",
                        to="contacts.contactgroup",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["group"], name="group_counts"),
                    models.Index(
                        condition=models.Q(("squashed", False)), fields=["group"], name="group_counts_deltas"
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("squashed", True)), fields=("group",), name="group_count_squashed"
                    )
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
