"""Importing contacts from the web interface through Django's test client: the upload's checks, the task on the
queue (run eagerly here), the progress that is polled and the bad rows listed."""

import io
import json
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from herald.contacts import imports
from herald.contacts.models import Contact, ContactImport, ContactURN
from herald.runtime.celery import app as celery_app
from herald.testing.factories import make_contact

pytestmark = pytest.mark.django_db

GOOD_AND_BAD = "name,urn:tel,field:district\nAnn,+250788000001,Gasabo\nBob,not a number,Kicukiro\nCat,+250788000003,\n"


def upload(client, content: str | bytes, name: str = "people.csv", **data):
    body = content.encode() if isinstance(content, str) else content
    return client.post("/contacts/import", {"file": SimpleUploadedFile(name, body, "text/csv"), **data})


@pytest.fixture
def import_now(eager_tasks, django_capture_on_commit_callbacks):
    """import_now(client, content, ...): upload, and run the import it queues once the request has committed, as a
    worker would take it."""

    def post(client, content, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return upload(client, content, **kwargs)

    return post


def test_an_import_runs_in_the_background_and_lists_its_bad_rows(web_client, workspace, import_now):
    client = web_client(workspace, "editor")
    response = import_now(client, GOOD_AND_BAD, group="Nurses")
    job = ContactImport.objects.get(workspace=workspace)
    assert response.status_code == 302
    assert response.url == f"/contacts/imports/{job.uuid}/"

    page = client.get(response.url).content.decode()
    assert re.search(r'id="import-state">done<', page)
    assert 'value="100"' in page
    assert "2 contacts created, 0 updated, 1 rows with errors" in page
    assert re.search(r"<td>3</td><td>Invalid URN: tel:not a number</td>", page)
    assert "hx-trigger" not in page  # finished: nothing more to poll
    assert sorted(Contact.objects.filter(workspace=workspace).values_list("name", flat=True)) == ["Ann", "Cat"]
    assert Contact.objects.get(name="Ann").fields == {"district": "Gasabo"}
    assert list(Contact.objects.get(name="Cat").groups.values_list("name", flat=True)) == ["Nurses"]
    job.refresh_from_db()
    assert (job.created_by, bytes(job.content)) == (client.user, b"")  # the file is dropped once imported


def test_the_web_and_the_command_import_a_file_alike(web_client, workspace, other_workspace, import_now, tmp_path):
    """One importer: the same rows are created and the same rows refused with the same words."""
    import_now(web_client(workspace), GOOD_AND_BAD)
    job = ContactImport.objects.get(workspace=workspace)
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(GOOD_AND_BAD)
    out = io.StringIO()
    call_command("contact", "import", str(csv_file), "--workspace", str(other_workspace.uuid), "--json", stdout=out)
    assert json.loads(out.getvalue()) == {
        "created": job.created,
        "updated": job.updated,
        "errors": job.errors,
    }


def test_rows_whose_urn_is_known_update_that_contact(web_client, workspace, import_now):
    make_contact(workspace, "Ann", ["tel:+250788000001"])
    import_now(web_client(workspace), "name,urn:tel\nAnn Umutoni,0788000001\n")
    job = ContactImport.objects.get()
    assert (job.created, job.updated, job.error_count) == (0, 1, 0)
    assert ContactURN.objects.get(identity="tel:+250788000001").contact.name == "Ann Umutoni"


def test_a_file_that_cant_be_imported_at_all_says_why(web_client, workspace, import_now):
    client = web_client(workspace)
    response = import_now(client, "name,phone\nAnn,+250788000001\n")
    page = client.get(response.url).content.decode()
    assert re.search(r'id="import-state">failed<', page)
    assert "The header has no urn: column (e.g. urn:tel); it needs at least one to match contacts" in page
    assert not Contact.objects.exists()


def test_a_file_over_the_limit_is_refused_before_anything_is_kept(web_client, workspace, settings):
    settings.MEDIA_MAX_UPLOAD_BYTES = 100
    response = upload(web_client(workspace), "name,urn:tel\n" + "Ann,+250788000001\n" * 10)
    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'class="field-error"[^>]*>The file is 0\.0 MiB; the largest file Herald imports is 0\.0', page)
    assert not ContactImport.objects.exists()


def test_a_body_far_over_the_limit_is_refused_unread(web_client, workspace, settings):
    settings.MEDIA_MAX_UPLOAD_BYTES = 10
    response = upload(web_client(workspace), "x" * 100_000)
    assert response.status_code == 400
    assert "The file is larger than the largest file Herald imports" in response.content.decode()
    assert not ContactImport.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("people.xlsx", b"name,urn:tel\n", "Only CSV files can be imported"),
        ("photo.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "This is not a CSV text file; save the sheet as CSV UTF-8."),
        ("latin1.csv", "name,urn:tel\nJosé,+250788000001\n".encode("latin-1"), "This is not a CSV text file"),
        ("empty.csv", b"", "The submitted file is empty."),
    ],
)
def test_what_is_not_a_csv_file_is_refused_beside_the_field(web_client, workspace, name, content, message):
    response = upload(web_client(workspace), content, name=name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ContactImport.objects.exists()


def test_a_bad_group_name_is_refused_in_the_groups_words(web_client, workspace):
    response = upload(web_client(workspace), GOOD_AND_BAD, group='say "hi"')
    assert response.status_code == 400
    assert "Cannot contain the character: &quot;" in response.content.decode()
    assert not ContactImport.objects.exists()


def test_no_file_is_asked_for_beside_its_field(web_client, workspace):
    response = web_client(workspace).post("/contacts/import", {})
    assert response.status_code == 400
    assert re.search(r'class="field-error"[^>]*>This field is required\.<', response.content.decode())


def test_the_progress_is_polled_until_the_import_is_done(web_client, workspace):
    client = web_client(workspace)
    upload(client, GOOD_AND_BAD)  # queued, not run: no worker in this test
    job = ContactImport.objects.get()
    progress_url = f"/contacts/imports/{job.uuid}/progress"
    waiting = client.get(progress_url, HTTP_HX_REQUEST="true").content.decode()
    assert f'hx-get="{progress_url}" hx-trigger="every 1s"' in waiting
    assert "pending" in waiting
    assert "waiting for a worker" in waiting

    imports.run_import(job.pk)  # what the task does
    done = client.get(progress_url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done
    assert "<html" not in done
    assert "2 contacts created, 0 updated, 1 rows with errors" in done

    imports.run_import(job.pk)  # a second run of the task (a redelivery) imports nothing again
    job.refresh_from_db()
    assert (job.created, Contact.objects.count()) == (2, 2)


def test_bad_rows_with_html_are_shown_as_text(web_client, workspace, import_now):
    client = web_client(workspace)
    response = import_now(client, "name,urn:tel\nAnn,<script>alert(1)</script>\n", name="<b>file</b>.csv")
    page = client.get(response.url).content.decode()
    assert "<script>alert" not in page
    assert "<b>file" not in page
    assert "Invalid URN: tel:&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_agents_see_contacts_but_do_not_import(web_client, workspace):
    client = web_client(workspace, "agent")
    assert client.get("/contacts/").status_code == 200
    assert "Import contacts" not in client.get("/contacts/").content.decode()
    assert client.get("/contacts/import").status_code == 403
    assert upload(client, GOOD_AND_BAD).status_code == 403
    assert not ContactImport.objects.exists()


def test_another_workspaces_import_is_not_found(web_client, workspace, other_workspace):
    upload(web_client(other_workspace), GOOD_AND_BAD)
    theirs = ContactImport.objects.get()
    client = web_client(workspace)
    assert client.get(f"/contacts/imports/{theirs.uuid}/").status_code == 404
    assert client.get(f"/contacts/imports/{theirs.uuid}/progress").status_code == 404
    assert "people.csv" not in client.get("/contacts/import").content.decode()


def test_progress_is_written_while_the_file_is_read(web_client, workspace, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 3)
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 3)
    seen = []
    save_progress = imports._save_progress

    def recorded(job, bytes_read, result):
        save_progress(job, bytes_read, result)
        seen.append(ContactImport.objects.get(pk=job.pk).percent)

    monkeypatch.setattr(imports, "_save_progress", recorded)
    rows = "".join(f"Person {n},+2507880{n:05d}\n" for n in range(12))
    upload(web_client(workspace), "name,urn:tel\n" + rows)
    job = ContactImport.objects.get()
    imports.run_import(job.pk)
    assert len(seen) == 4
    assert seen == sorted(seen)
    assert 0 < seen[0] < 50
    assert seen[-1] <= 99  # 100 only once it is done
    job.refresh_from_db()
    assert (job.percent, job.created) == (100, 12)


class WorkerKilled(BaseException):
    """What a killed worker leaves: the import stops where it was, with no chance to write its outcome."""


def test_an_import_whose_worker_died_is_marked_failed_by_the_beat(web_client, workspace, monkeypatch, settings):
    monkeypatch.setattr(imports, "BATCH_SIZE", 3)
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 3)
    save_progress = imports._save_progress

    def dies_after_the_first_progress(job, bytes_read, result):
        save_progress(job, bytes_read, result)
        raise WorkerKilled

    monkeypatch.setattr(imports, "_save_progress", dies_after_the_first_progress)
    client = web_client(workspace)
    upload(client, "name,urn:tel\n" + "".join(f"Person {n},+2507880{n:05d}\n" for n in range(12)))
    upload(client, GOOD_AND_BAD)  # another, still waiting for a worker: left alone
    crashed, waiting = ContactImport.objects.order_by("id")
    with pytest.raises(WorkerKilled):
        imports.run_import(crashed.pk)
    progress_url = f"/contacts/imports/{crashed.uuid}/progress"
    assert 'id="import-state">running<' in client.get(progress_url).content.decode()

    celery_app.loader.import_default_modules()  # what a worker does when it starts: find every app's tasks
    entry = celery_app.conf.beat_schedule["contact-imports-stalled"]
    assert celery_app.amqp.router.route({}, entry["task"])["queue"].name == "ticks"
    sweep = celery_app.tasks[entry["task"]]
    assert sweep.apply().get() == 0  # quiet for less than the lease: its worker may be busy

    quiet = timezone.now() - timedelta(seconds=settings.CONTACT_IMPORT_STALL_SECONDS + 1)
    ContactImport.objects.filter(pk=crashed.pk).update(progressed_on=quiet)
    assert sweep.apply().get() == 1

    page = client.get(progress_url).content.decode()
    assert 'id="import-state">failed<' in page
    assert "hx-trigger" not in page  # finished: nothing more to poll
    assert "its worker made no progress for 10 minutes" in page
    assert "3 contacts created, 0 updated, 0 rows with errors" in page  # what was imported before it died
    crashed.refresh_from_db()
    assert bytes(crashed.content) == b""  # its file is dropped, as at any end
    assert Contact.objects.count() == 3
    waiting.refresh_from_db()
    assert waiting.status == ContactImport.Status.PENDING
    assert sweep.apply().get() == 0
