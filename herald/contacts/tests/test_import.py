"""`herald contacts import FILE.csv --workspace UUID [--group NAME] [--json]`."""

import json
import os
import subprocess
import sys
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from herald.contacts import importer, urns, writes
from herald.contacts.models import Contact, ContactField, ContactGroup, ContactStatus


@pytest.fixture
def csv_file(tmp_path):
    def write(text: str, name="contacts.csv", encoding="utf-8") -> str:
        path = tmp_path / name
        path.write_text(text, encoding=encoding)
        return str(path)

    return write


def run(path, workspace, *args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("contacts", "import", path, "--workspace", str(workspace.uuid), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_json(path, workspace, *args) -> dict:
    return json.loads(run(path, workspace, "--json", *args)[0])


def contact_by_urn(workspace, identity) -> Contact:
    return Contact.objects.get(workspace=workspace, urns__identity=identity)


def existing(workspace, **changes) -> Contact:
    changes["urns"] = [urns.parse_and_normalize(u, workspace.country) for u in changes.get("urns", [])]
    return writes.create_contact(workspace, **changes)


def test_imports_contacts_urns_languages_and_fields(workspace, csv_file):
    path = csv_file(
        "Name,Language,URN:tel,urn:twitter,Field:Nick Name,field:age\n"
        "Ann,fra,0788 000 001,Ann,Annie,31\n"
        "Bob,,+250788000002,,,\n"
    )
    out, _ = run(path, workspace)
    assert out.splitlines() == ["2 contacts created, 0 updated, 0 rows with errors"]

    ann = contact_by_urn(workspace, "tel:+250788000001")
    assert (ann.name, ann.language, ann.fields) == ("Ann", "fra", {"nick_name": "Annie", "age": "31"})
    assert [u.identity for u in ann.urns.all()] == ["tel:+250788000001", "twitter:ann"]
    bob = contact_by_urn(workspace, "tel:+250788000002")
    assert (bob.name, bob.language, bob.fields) == ("Bob", None, {})
    # The fields were created, named after the header.
    assert dict(ContactField.objects.filter(workspace=workspace).values_list("key", "name")) == {
        "nick_name": "Nick Name",
        "age": "age",
    }


def test_json_summary(workspace, csv_file):
    path = csv_file("name,urn:tel\nAnn,+250788000001\nBad,12\n")
    assert run_json(path, workspace) == {
        "created": 1,
        "updated": 0,
        "errors": [{"line": 3, "reason": "Invalid URN: tel:12"}],
    }


def test_a_known_urn_updates_its_contact(workspace, other_workspace, csv_file):
    ContactField.objects.create(workspace=workspace, key="age", name="Age")
    ann = existing(
        workspace, name="Ann", language="fra", urns=["twitter:ann", "tel:+250788000001"], fields={"age": "30"}
    )
    elsewhere = existing(other_workspace, name="Other Ann", urns=["tel:+250788000001"])
    path = csv_file("name,language,urn:tel,urn:mailto,field:age\nAnnie,,0788000001,ann@example.com,\n")

    assert run_json(path, workspace) == {"created": 0, "updated": 1, "errors": []}
    ann.refresh_from_db()
    # Empty cells change nothing; the row's URNs come first, the others are kept.
    assert (ann.name, ann.language, ann.fields) == ("Annie", "fra", {"age": "30"})
    assert [u.identity for u in ann.urns.all()] == ["tel:+250788000001", "mailto:ann@example.com", "twitter:ann"]
    assert Contact.objects.filter(workspace=workspace).count() == 1
    elsewhere.refresh_from_db()
    assert elsewhere.name == "Other Ann"


def test_rows_sharing_a_urn_make_one_contact(workspace, csv_file):
    path = csv_file(
        "name,urn:tel,urn:twitter\n"
        "Ann,+250788000001,\n"
        "Annie,+250788000001,ann\n"
        "Ann B,,ann\n"
        "Bob,+250788000002,\n"
        "Bobby,+250788000002,\n"
    )
    # Batches of two: rows of one contact meet in the same batch and across batches.
    assert run_json(path, workspace, "--batch-size", "2") == {"created": 2, "updated": 3, "errors": []}
    ann = contact_by_urn(workspace, "tel:+250788000001")
    assert ann.name == "Ann B"
    assert [u.identity for u in ann.urns.all()] == ["twitter:ann", "tel:+250788000001"]
    assert contact_by_urn(workspace, "tel:+250788000002").name == "Bobby"
    assert Contact.objects.count() == 2


def test_bad_rows_are_listed_and_skipped(workspace, csv_file):
    existing(workspace, urns=["tel:+250788000001"])
    existing(workspace, urns=["twitter:bob"])
    path = csv_file(
        "name,language,urn:tel,urn:twitter\n"
        "Good,eng,+250788000009,\n"
        "Bad URN,,12345,\n"
        "Bad language,xx,+250788000003,\n"
        ",,,\n"
        ",eng,,\n"
        '"Multi\nline",,+250788000004,\n'
        "Two owners,,+250788000001,bob\n"
        f"{'x' * 65},,+250788000005,\n"
        "Extra,,+250788000006,,surprise\n"
        "Nameless but fine,,,carol\n"
    )
    result = run_json(path, workspace)
    assert result == {
        "created": 3,
        "updated": 0,
        "errors": [
            {"line": 3, "reason": "Invalid URN: tel:12345"},
            {"line": 4, "reason": "Not a valid ISO639-3 language code: xx"},
            {"line": 6, "reason": "The row has no URN and no name"},
            {"line": 9, "reason": "These URNs belong to different contacts: tel:+250788000001, twitter:bob"},
            {"line": 10, "reason": "Name is longer than 64 characters"},
            {"line": 11, "reason": "The row has 5 values but the header has 4 columns"},
        ],
    }
    assert contact_by_urn(workspace, "tel:+250788000004").name == "Multi\nline"
    assert not Contact.objects.filter(name__in=["Bad URN", "Bad language", "Two owners"]).exists()


HOSTILE_CSV = (
    "name,urn:tel,urn:ext\n"
    "Ann,+250788000001,\n"
    "Huge,1e999999,\n"  # a million digits once expanded: refused before expanding
    "Huger,1e9999999,\n"  # decimal's InvalidOperation aborted the whole batch
    "Null,,a%00b\n"  # NUL once decoded: PostgreSQL refuses it and the batch with it
    '"Break",,"a\nb"\n'
    "Escaped,,a%0D%0Ab\n"
    f"Long,,{'x' * 300}\n"  # longer than the column: PostgreSQL refused the batch
    "Bob,+250788000002,bob\n"
)
HOSTILE_ERRORS = [
    {"line": 3, "reason": "Invalid URN: tel:1e999999"},
    {"line": 4, "reason": "Invalid URN: tel:1e9999999"},
    {"line": 5, "reason": "Invalid URN: ext:a%00b"},
    {"line": 6, "reason": "Invalid URN: ext:a\nb"},
    {"line": 8, "reason": "Invalid URN: ext:a%0D%0Ab"},
    {"line": 9, "reason": "The urn:ext value is longer than 255 characters"},
]


def test_hostile_urn_cells_are_row_errors_and_the_rest_of_the_batch_is_imported(workspace, csv_file):
    started = time.monotonic()
    result = run_json(csv_file(HOSTILE_CSV), workspace)
    assert time.monotonic() - started < 10  # the million-digit expansion took ~26 s
    assert result == {"created": 2, "updated": 0, "errors": HOSTILE_ERRORS}
    assert contact_by_urn(workspace, "tel:+250788000001").name == "Ann"
    assert [u.identity for u in contact_by_urn(workspace, "ext:bob").urns.all()] == ["tel:+250788000002", "ext:bob"]
    assert Contact.objects.filter(workspace=workspace).count() == 2


def test_text_output_shows_control_characters_of_a_cell_as_escapes(workspace, csv_file):
    out, _ = run(csv_file('name,urn:ext\nBreak,"a\r\n\x1b[2Jb"\n'), workspace)
    assert out.splitlines() == [
        "0 contacts created, 0 updated, 1 rows with errors",
        "  line 2: Invalid URN: ext:a\\r\\n\\x1b[2Jb",
    ]


# docs/COMPATIBILITY.md, C9: RapidPro cuts longer values.
def test_a_field_value_over_640_characters_is_a_row_error(workspace, csv_file):
    path = csv_file(f"urn:tel,field:Bio\n+250788000001,{'x' * 640}\n+250788000002,{'y' * 641}\n")
    result = run_json(path, workspace)
    assert result["errors"] == [{"line": 3, "reason": "Value of field:bio is longer than 640 characters"}]
    assert contact_by_urn(workspace, "tel:+250788000001").fields == {"bio": "x" * 640}
    assert not Contact.objects.filter(urns__identity="tel:+250788000002").exists()


def test_new_field_columns_beyond_the_workspace_limit_stop_the_import(workspace, csv_file):
    ContactField.objects.bulk_create(
        ContactField(workspace=workspace, key=f"f{i}", name=f"F{i}") for i in range(ContactField.MAX_PER_WORKSPACE - 1)
    )
    with pytest.raises(CommandError, match=r"This workspace has reached its limit of fields \(250\)"):
        run(csv_file("urn:tel,field:A,field:B\n+250788000001,1,2\n"), workspace, "--group", "New")
    # Nothing of it was written: no contact, no field, not even the group.
    assert ContactField.objects.filter(workspace=workspace).count() == ContactField.MAX_PER_WORKSPACE - 1
    assert not Contact.objects.exists()
    assert not ContactGroup.objects.exists()
    # Columns of fields the workspace has don't count, and one new field still fits.
    assert run_json(csv_file("urn:tel,field:f0,field:A\n+250788000001,1,2\n"), workspace)["created"] == 1
    assert ContactField.objects.filter(workspace=workspace).count() == ContactField.MAX_PER_WORKSPACE


def test_text_output_lists_errors_by_line(workspace, csv_file):
    out, _ = run(csv_file("name,urn:tel\nBad,12\n"), workspace)
    assert out.splitlines() == ["0 contacts created, 0 updated, 1 rows with errors", "  line 2: Invalid URN: tel:12"]


def test_group_is_created_and_gets_every_imported_contact(workspace, csv_file):
    path = csv_file("name,urn:tel\nAnn,+250788000001\nBob,+250788000002\n")
    run(path, workspace, "--group", "Imported")
    group = ContactGroup.objects.get(workspace=workspace, name="Imported")
    assert set(group.contacts.values_list("name", flat=True)) == {"Ann", "Bob"}

    # An existing group (any case) is reused; blocked contacts stay out of it.
    blocked = existing(workspace, urns=["tel:+250788000003"])
    Contact.objects.filter(pk=blocked.pk).update(status=ContactStatus.BLOCKED)
    run(csv_file("urn:tel\n+250788000003\n+250788000004\n"), workspace, "--group", "imported")
    assert ContactGroup.objects.filter(workspace=workspace).count() == 1
    assert group.contacts.count() == 3
    assert not group.contacts.filter(pk=blocked.pk).exists()


def test_progress_goes_to_stderr(workspace, csv_file):
    rows = "".join(f"+2507880000{i:02d}\n" for i in range(25))
    out, err = run(csv_file("urn:tel\n" + rows), workspace, "--progress-every", "10", "--batch-size", "5")
    assert "10 rows read: 10 contacts created, 0 updated, 0 rows with errors" in err.splitlines()
    assert "20 rows read" in err
    assert out.splitlines() == ["25 contacts created, 0 updated, 0 rows with errors"]


def test_unknown_columns_are_ignored_with_a_warning(workspace, csv_file):
    out, err = run(csv_file("urn:tel,Shoe size\n+250788000001,42\n"), workspace)
    assert "Ignored column 'Shoe size'" in err
    assert out.startswith("1 contacts created")


def test_byte_order_mark_is_not_part_of_the_header(workspace, csv_file):
    path = csv_file("name,urn:tel\nAnn,+250788000001\n", encoding="utf-8-sig")
    assert run_json(path, workspace)["created"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "The file is empty: it needs a header line"),
        ("name,language\nAnn,eng\n", "The header has no urn: column (e.g. urn:tel); it needs at least one"),
        ("urn:fax\n123\n", "Unknown URN scheme in header column 'urn:fax'"),
        ("urn:tel,name,Name\n", "Column 'Name' appears twice in the header"),
        ("urn:tel,field:123\n", "Header column 'field:123': Generated key \"123\" is invalid or a reserved name."),
    ],
)
def test_bad_headers_are_fatal(workspace, csv_file, content, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(csv_file(content), workspace)
    assert not Contact.objects.exists()


def test_fatal_errors(workspace, csv_file, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        run(str(tmp_path / "missing.csv"), workspace)
    with pytest.raises(CommandError, match="Can't read"):
        run(str(tmp_path), workspace)

    path = csv_file("urn:tel\n+250788000001\n")
    with pytest.raises(CommandError, match="No workspace with UUID '2b8e3e7e-8f4b-4a8e-9c3e-1d2f3a4b5c6d'"):
        call_command("contacts", "import", path, "--workspace", "2b8e3e7e-8f4b-4a8e-9c3e-1d2f3a4b5c6d")
    with pytest.raises(CommandError, match="No workspace with UUID 'nope'"):
        call_command("contacts", "import", path, "--workspace", "nope")
    with pytest.raises(CommandError, match="Invalid group name"):
        run(path, workspace, "--group", ' "quoted" ')
    assert not Contact.objects.exists()


def test_text_that_is_not_utf8_stops_the_import(workspace, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"name,urn:tel\nAnn,+250788000001\n" + "Zoë,+250788000002\n".encode("latin-1"))
    with pytest.raises(CommandError, match="Line 3 is not UTF-8 text"):
        run(str(path), workspace, "--batch-size", "1")
    # What came before is kept.
    assert Contact.objects.filter(name="Ann").exists()


def test_the_file_is_streamed_in_batches(workspace, monkeypatch):
    read = []

    def lines():
        yield "name,urn:tel\n"
        for i in range(10):
            read.append(i)
            yield f"c{i},+2507880000{i:02d}\n"

    lines_read_at_each_write = []
    save = writes.save_contacts

    def counting_save(*args, **kwargs):
        lines_read_at_each_write.append(len(read))
        return save(*args, **kwargs)

    monkeypatch.setattr(writes, "save_contacts", counting_save)
    result = importer.import_contacts(workspace, lines(), batch_size=4)
    assert result.created == 10
    assert lines_read_at_each_write == [4, 8, 10]


def test_a_batch_costs_the_same_queries_whatever_it_holds(workspace):
    group = ContactGroup.objects.create(workspace=workspace, name="G")

    def import_queries(n, offset):
        lines = ["name,urn:tel,urn:twitter,field:age\n"] + [
            f"c{i},+25078800{i:04d},c{i},{i}\n" for i in range(offset, offset + n)
        ]
        with CaptureQueriesContext(connection) as queries:
            importer.import_contacts(workspace, lines, group_name=group.name)
        return len([q for q in queries if not q["sql"].startswith("INSERT")])

    assert import_queries(1, 0) == import_queries(300, 1)


def test_real_command_line(tmp_path):
    env = {**os.environ, "HERALD_DATA_DIR": str(tmp_path / "data")}
    env.pop("HERALD_DATABASE_URL", None)
    herald = [sys.executable, "-m", "herald.cli"]

    def cli(*args):
        return subprocess.run([*herald, *args], env=env, capture_output=True, text=True, timeout=120)

    assert cli("migrate", "-v0").returncode == 0
    created = cli("workspace", "create", "--name", "Import test", "--country", "RW")
    assert created.returncode == 0, created.stderr
    workspace_uuid = created.stdout.strip()
    path = tmp_path / "contacts.csv"
    # Spreadsheet numbers too long for any phone (issue 8, F1) are row errors, in microseconds, not a crash.
    path.write_text("name,urn:tel\nAnn,0788000001\nBad,12\nHuge,1e999999\nHuger,1e9999999\n")

    done = cli("contacts", "import", str(path), "--workspace", workspace_uuid, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "created": 1,
        "updated": 0,
        "errors": [
            {"line": 3, "reason": "Invalid URN: tel:12"},
            {"line": 4, "reason": "Invalid URN: tel:1e999999"},
            {"line": 5, "reason": "Invalid URN: tel:1e9999999"},
        ],
    }

    again = cli("contacts", "import", str(path), "--workspace", workspace_uuid, "--json")
    assert json.loads(again.stdout)["updated"] == 1

    missing = cli("contacts", "import", str(tmp_path / "nope.csv"), "--workspace", workspace_uuid)
    assert missing.returncode != 0
    assert "No such file" in missing.stderr


# docs/COMPATIBILITY.md, C28: an existing field's type checks and normalises the values of its column.
def test_values_of_typed_fields_are_normalised_or_row_errors(workspace, csv_file):
    workspace.timezone = "Africa/Kigali"
    workspace.save(update_fields=["timezone"])
    ContactField.objects.create(workspace=workspace, key="age", name="Age", value_type="number")
    ContactField.objects.create(workspace=workspace, key="registered", name="Registered", value_type="datetime")
    path = csv_file(
        "urn:tel,field:Age,field:Registered\n"
        "+250788000001,12.50,15-01-2026 10:30\n"
        "+250788000002,forty,\n"
        "+250788000003,,someday\n"
    )
    result = run_json(path, workspace)
    assert result["errors"] == [
        {"line": 3, "reason": "Value of 'age' must be a number."},
        {
            "line": 4,
            "reason": "Value of 'registered' must be a date, such as 2026-01-15, 2026-01-15T10:30:00+02:00 or"
            " 15-01-2026 10:30.",
        },
    ]
    assert contact_by_urn(workspace, "tel:+250788000001").fields == {
        "age": "12.5",
        "registered": "2026-01-15T10:30:00+02:00",
    }
    assert Contact.objects.filter(workspace=workspace).count() == 1
