"""Writing many rows with one statement, without the per-instance cost of Django's bulk methods; and reading UUIDs
as text (`UUIDText`).

Django's `bulk_create` spends most of its time preparing every field of every instance, and `bulk_update` builds a
CASE expression with a branch per row for every field. Herald's batches (a fan-out's messages, an import's contacts)
vary only a few columns, so here the constant parts are prepared once and every row reuses them.
"""

from collections.abc import Sequence
from typing import Any, TypeAlias, cast

from django.db import connection, models
from django.db.models import CharField, Func

# A model's concrete field (what `_meta.get_field` gives for a column name; the stubs also allow a reverse relation).
ConcreteField: TypeAlias = "models.Field[Any, Any]"


def _field(model: type[models.Model], name: str) -> ConcreteField:
    return cast(ConcreteField, model._meta.get_field(name))


def _column(field: ConcreteField) -> str:
    return cast(str, field.column)  # set on every field attached to a model


def insert_rows(
    model: type[models.Model], varying: Sequence[str], rows: Sequence[Sequence[Any]], **constants: object
) -> None:
    """Insert `rows` of `model`: each gives the values of the `varying` fields (attnames), already in the form the
    database takes; every other column comes from `constants` (e.g. workspace_id=, created_on=) or its default,
    prepared once by Django from one template instance. Rows go to PostgreSQL with COPY, to other databases with one
    `executemany`."""
    if not rows:
        return
    template = model(**constants)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in varying]
    fixed = tuple(f.get_db_prep_save(getattr(template, f.attname), connection) for f in fields)
    quote = connection.ops.quote_name
    column_names = [_column(_field(model, name)) for name in varying] + [_column(f) for f in fields]
    columns = ", ".join(quote(name) for name in column_names)
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY's text format takes hex UUIDs and JSON text for uuid and jsonb columns.
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, *fixed))
        else:
            placeholders = ", ".join(["%s"] * len(column_names))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", [(*r, *fixed) for r in rows])


def update_rows(model: type[models.Model], objects: Sequence[models.Model], field_names: list[str]) -> None:
    """Save these fields of many rows with one prepared UPDATE run for each row.

    Django's bulk_update costs 30 times more at a thousand rows (and grows with the batch); values are still
    converted by each model field.
    """
    if not objects:
        return
    fields = [_field(model, name) for name in field_names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(_column(f))} = %s" for f in fields)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(_column(model._meta.pk))} = %s"
    rows = [[f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk] for obj in objects]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


class UUIDText(Func):
    """A UUID column as the text `str(uuid)` gives (`0192f1c4-...`, lower case), made by the database: a page showing
    thousands of UUIDs then builds no `uuid.UUID` per value only to turn it back into text. The column is named more
    than once on SQLite, so it must be a plain column (no parameters)."""

    arity = 1
    output_field = CharField()

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="CAST(%(expressions)s AS text)", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django keeps a UUID on SQLite as its 32 hex digits (`uuid.hex`): put the dashes back.
        parts = " || '-' || ".join(
            f"substr(%(expressions)s, {start}, {length})"
            for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
        )
        return super().as_sql(compiler, connection, template=parts, **extra_context)


def fold_deltas(table: str, owner: str, keys: Sequence[str], limit: int) -> int:
    """Fold the delta rows of up to `limit` owners of a trigger-kept count table into their squashed rows
    (PostgreSQL; tables of `id`, `owner`, `keys`, `count`, `squashed`, with one squashed row per owner and key);
    returns how many owners it folded.

    Each owner is one statement (delete its rows, insert their sums), atomic on its own: a delta committed meanwhile
    is either folded or left for the next time, never lost or counted twice. Rows another fold holds are skipped (it
    folds them), so two folds never wait on each other nor deadlock, and they add up through the unique key.
    """
    key_list = "".join(f", {key}" for key in keys)
    group_by = f"GROUP BY {', '.join(keys)}" if keys else ""
    fold_one = f"""
    WITH gone AS (
        DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {owner} = %(id)s FOR UPDATE SKIP LOCKED)
        RETURNING count{key_list}
    )
    INSERT INTO {table} ({owner}{key_list}, count, squashed)
    SELECT %(id)s{key_list}, SUM(count), TRUE FROM gone {group_by} HAVING SUM(count) <> 0
    ON CONFLICT ({owner}{key_list}) WHERE squashed DO UPDATE SET count = {table}.count + EXCLUDED.count
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT {owner} FROM {table} WHERE NOT squashed LIMIT %s", [limit])
        pending = [row[0] for row in cursor.fetchall()]
        for owner_id in pending:
            cursor.execute(fold_one, {"id": owner_id})
    return len(pending)
