"""Importing contacts from a CSV file, streamed a batch of rows at a time.

The header names the columns: `name`, `language`, one or more `urn:SCHEME` (e.g. `urn:tel`) and any number of
`field:KEY` (the field is created, as text, if the workspace doesn't have it, within its limit of 250 fields; a
value is at most 640 characters, and is checked and normalised for its field's type: `field_values`). A row whose
URN belongs to a contact updates that contact (its other URNs are kept, the row's become the preferred ones);
otherwise the row creates a contact. Empty cells change nothing. A bad row is reported with its line number and
skipped; the rest is imported.

Each batch is read, matched against existing URNs with one query and written with a few bulk queries
(`herald.contacts.writes`, the same code the API uses), in its own transaction.
"""

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import cast
from zoneinfo import ZoneInfo

from django.db import transaction

from herald.languages import is_contact_language

from . import contact_fields, field_values, groups, urns, writes
from .models import Contact, ContactField, ContactGroup

BATCH_SIZE = 1000
MAX_NAME_LENGTH = cast(int, Contact._meta.get_field("name").max_length)  # a CharField\'s: never None


class ImportAborted(Exception):
    """A problem with the whole import (its header, its group, its encoding), not with one row."""

    result: "ImportResult | None" = None


@dataclass
class RowError:
    line: int
    reason: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    # Header columns that were ignored, for the caller to warn about.
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.created + self.updated + len(self.errors)

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "errors": [{"line": e.line, "reason": e.reason} for e in self.errors],
        }


@dataclass
class Header:
    name: int | None = None
    language: int | None = None
    urns: list[tuple[int, str]] = field(default_factory=list)  # (column, scheme)
    fields: list[tuple[int, str, str]] = field(default_factory=list)  # (column, key, name)
    ignored: list[str] = field(default_factory=list)
    width: int = 0


@dataclass
class Row:
    line: int
    name: str | None
    language: str | None
    urns: list[urns.URN]
    fields: dict[str, str]


def parse_header(cells: list[str]) -> Header:
    header = Header(width=len(cells))
    seen = set()
    for column, cell in enumerate(cells):
        text = cell.strip()
        lowered = text.lower()
        if lowered in seen and not lowered.startswith("urn:"):
            raise ImportAborted(f"Column {text!r} appears twice in the header")
        seen.add(lowered)
        if lowered in ("name", "language"):
            setattr(header, lowered, column)
        elif lowered.startswith("urn:"):
            scheme = lowered[4:].strip()
            if scheme not in urns.SCHEMES:
                raise ImportAborted(f"Unknown URN scheme in header column {text!r}")
            header.urns.append((column, scheme))
        elif lowered.startswith("field:"):
            label = text[6:].strip()
            key = contact_fields.make_key(label)
            error = contact_fields.key_error(key)
            if error:
                raise ImportAborted(f"Header column {text!r}: {error}")
            header.fields.append((column, key, label[: contact_fields.MAX_NAME_LENGTH]))
        elif text:
            header.ignored.append(text)
    if not header.urns:
        raise ImportAborted("The header has no urn: column (e.g. urn:tel); it needs at least one to match contacts")
    return header


def import_contacts(
    workspace,
    lines: Iterable[str],
    *,
    group_name: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[ImportResult], None] | None = None,
    progress_every: int = 10_000,
) -> ImportResult:
    """Import the CSV text in `lines` (an open file, read as it goes) into `workspace`."""
    reader = csv.reader(lines)
    try:
        header = parse_header(next(reader))
    except StopIteration:
        raise ImportAborted("The file is empty: it needs a header line") from None
    except csv.Error as exc:
        raise ImportAborted(f"Can't read the header: {exc}") from None

    result = ImportResult(ignored_columns=header.ignored)
    with transaction.atomic():  # both or neither: a refused import leaves no new group or fields behind
        group = _import_group(workspace, group_name)
        _create_missing_fields(workspace, header)
    field_types = contact_fields.workspace_types(workspace)

    batch: list[Row] = []
    reported = 0
    try:
        for line, cells in _records(reader, result):
            row = _parse_row(workspace, header, field_types, line, cells, result)
            if row is not None:
                batch.append(row)
            if len(batch) >= batch_size:
                _import_batch(workspace, batch, group, result)
                batch = []
            if progress and result.rows - reported >= progress_every:
                reported = result.rows
                progress(result)
    except ImportAborted as exc:
        exc.result = result  # what was imported before the problem (earlier batches are committed)
        raise
    if batch:
        _import_batch(workspace, batch, group, result)
    # Matching errors are found a batch after reading errors: list them all in file order.
    result.errors.sort(key=lambda error: error.line)
    return result


def utf8_lines(raw: Iterable[bytes]) -> Iterator[str]:
    """The lines of a binary file as text, decoded one at a time so a bad byte is reported with its line (a
    byte-order mark at the start is dropped)."""
    for number, line in enumerate(raw, start=1):
        try:
            yield line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise ImportAborted(f"Line {number} is not UTF-8 text; save the file as CSV UTF-8") from None


def _records(reader, result: ImportResult):
    """(line number where the record starts, cells) for each record; unreadable records become errors."""
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            result.errors.append(RowError(line, f"Unreadable row: {exc}"))
            continue
        yield line, cells


def _import_group(workspace, name: str | None) -> ContactGroup | None:
    if name is None:
        return None
    error = groups.name_error(name)
    if error:
        raise ImportAborted(f"Invalid group name {name!r}: {error}")
    try:
        group, _ = groups.get_or_create_group(workspace, name)
    except groups.GroupLimitReached:
        raise ImportAborted("Can't create the group: the workspace has reached its limit of groups") from None
    return group


def _create_missing_fields(workspace, header: Header) -> None:
    existing = set(ContactField.objects.filter(workspace=workspace).values_list("key", flat=True))
    wanted = {key: name for _, key, name in header.fields if key not in existing}
    try:
        contact_fields.check_limit(workspace, adding=len(wanted))
    except contact_fields.FieldLimitReached:
        raise ImportAborted(
            f"This workspace has reached its limit of fields ({contact_fields.MAX_PER_WORKSPACE}): the header"
            f" names {len(wanted)} new ones"
        ) from None
    ContactField.objects.bulk_create(
        [ContactField(workspace=workspace, key=key, name=name) for key, name in wanted.items()],
        ignore_conflicts=True,
    )


def _parse_row(
    workspace, header: Header, field_types: dict[str, str], line: int, cells: list[str], result: ImportResult
) -> Row | None:
    """The row's values, or None (with an error noted) when it can't be imported; blank rows are skipped."""

    def fail(reason):
        result.errors.append(RowError(line, reason))

    if not any(cell.strip() for cell in cells):
        return None
    if len(cells) > header.width and any(cell.strip() for cell in cells[header.width :]):
        return fail(f"The row has {len(cells)} values but the header has {header.width} columns")
    if any("\0" in cell for cell in cells):
        return fail("The row contains a null character")

    def cell(column):
        return cells[column].strip() if column is not None and column < len(cells) else ""

    name = cell(header.name) or None
    if name and len(name) > MAX_NAME_LENGTH:
        return fail(f"Name is longer than {MAX_NAME_LENGTH} characters")
    language = cell(header.language).lower() or None
    if language and not is_contact_language(language):
        return fail(f"Not a valid ISO639-3 language code: {cell(header.language)}")

    row_urns = []
    for column, scheme in header.urns:
        value = cell(column)
        if not value:
            continue
        text = value if value.lower().startswith(f"{scheme}:") else f"{scheme}:{value}"
        try:
            row_urns.append(urns.parse_and_normalize(text, workspace.country))
        except urns.URNTooLong:
            return fail(f"The urn:{scheme} value is longer than {urns.MAX_LENGTH} characters")
        except urns.InvalidURN:
            return fail(f"Invalid URN: {text}")
    if not row_urns and not name:
        return fail("The row has no URN and no name")

    values = {key: value for column, key, _ in header.fields if (value := cell(column))}
    for key, value in values.items():
        if len(value) > contact_fields.MAX_VALUE_LENGTH:
            return fail(f"Value of field:{key} is longer than {contact_fields.MAX_VALUE_LENGTH} characters")
    try:  # docs/COMPATIBILITY.md, C28
        zone = ZoneInfo(workspace.timezone)
        values = {key: field_values.normalise(key, field_types[key], value, zone) for key, value in values.items()}
    except field_values.InvalidFieldValue as error:
        return fail(str(error))
    return Row(line, name, language, row_urns, values)


def _import_batch(workspace, rows: list[Row], group: ContactGroup | None, result: ImportResult) -> None:
    """Match the rows to contacts (by URN: existing ones, or ones created by an earlier row of this batch) and
    write them all at once."""
    owners = writes.urn_owners(workspace, {urn.identity for row in rows for urn in row.urns})
    existing = Contact.objects.in_bulk({owner for owner in owners.values() if owner})

    changes: list[writes.ContactChanges] = []
    by_contact: dict[int, writes.ContactChanges] = {}  # existing contact id → its changes
    by_identity: dict[str, writes.ContactChanges] = {}  # URN → the changes of the contact it goes to
    for row in rows:
        targets = []
        for urn in row.urns:
            target = by_identity.get(urn.identity)
            contact_id = owners.get(urn.identity)
            if target is None and contact_id:
                target = by_contact.get(contact_id)
                if target is None:
                    target = by_contact[contact_id] = writes.ContactChanges(contact=existing[contact_id])
                    changes.append(target)
            if target is not None and target not in targets:
                targets.append(target)
        if len(targets) > 1:
            listed = ", ".join(urn.identity for urn in row.urns)
            result.errors.append(RowError(row.line, f"These URNs belong to different contacts: {listed}"))
            continue
        if targets:
            target = targets[0]
            result.updated += 1
        else:
            target = writes.ContactChanges(urns=[])
            changes.append(target)
            result.created += 1
        _merge_row(target, row)
        for urn in row.urns:
            by_identity[urn.identity] = target

    if group is not None:
        for change in changes:
            # Blocked, stopped and archived contacts stay out of groups, as on the API.
            if writes.can_join_groups(change.contact):
                change.groups = [group]
    with transaction.atomic():
        writes.save_contacts(workspace, changes, merge=True)


def _merge_row(changes: writes.ContactChanges, row: Row) -> None:
    """Later rows win for name, language and field values; URNs accumulate, the newest row's first."""
    if row.name:
        changes.name = row.name
    if row.language:
        changes.language = row.language
    if row.fields:
        changes.fields = {**(changes.fields or {}), **row.fields}
    identities = {urn.identity for urn in row.urns}
    earlier = cast("list[urns.URN]", changes.urns or [])  # an import's changes hold parsed URNs only
    changes.urns = [*row.urns, *(urn for urn in earlier if urn.identity not in identities)]
