"""Contacts in a real browser: import a CSV file with a bad row and watch its progress reach done, then search a
contact, open it and block it."""

import re

import pytest
from playwright.sync_api import expect

from herald.contacts import imports, tasks
from herald.contacts.models import Contact, ContactImport, ContactStatus
from herald.msgs.models import MsgDirection, MsgStatus
from herald.testing.browser import screenshot, sign_in_page
from herald.testing.factories import create_web_user, make_contact, make_group, make_msg

PEOPLE = (
    "name,urn:tel,language,field:district\n"
    "Ann Uwase,+250788000001,kin,Gasabo\n"
    "Anne-Marie Mukamana,+250788000002,fra,Kicukiro\n"
    "Bosco Habimana,0788 000 003,,Nyarugenge\n"
    "Claude,not a phone number,,Gasabo\n"
    "Diane Ingabire,+250788000005,eng,\n"
)


@pytest.fixture
def queued(monkeypatch):
    """The imports queued by the page, taken here instead of by a worker (this test is the worker)."""
    taken: list[int] = []
    monkeypatch.setattr(tasks.import_contacts, "delay", taken.append)
    return taken


def test_import_then_find_and_block_a_contact(page, workspace, queued):
    make_group(workspace, "Drivers", [make_contact(workspace, "Eric Driver", ["tel:+250788000009"])])
    sign_in_page(page, create_web_user(workspace, "editor").email)

    page.get_by_role("link", name="Contacts").click()
    page.get_by_role("link", name="Import contacts").click()
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "nurses.csv", "mimeType": "text/csv", "buffer": PEOPLE.encode()}]
    )
    page.get_by_label("Add them to a group (optional)").fill("Nurses")
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("heading", name="Importing nurses.csv")).to_be_visible()
    expect(page.locator("#import-state")).to_have_text("pending")
    (job_id,) = queued
    imports.run_import(job_id)  # the worker's part; the page polls and sees it through
    expect(page.locator("#import-state")).to_have_text("done")
    expect(page.locator("#import-summary")).to_have_text("4 contacts created, 0 updated, 1 rows with errors")
    bad_rows = page.get_by_role("table", name="Rows not imported")
    expect(bad_rows.get_by_role("row")).to_have_count(2)  # its header, and line 5
    expect(bad_rows.get_by_role("row").nth(1)).to_have_text(re.compile(r"5\s*Invalid URN: tel:not a phone number"))
    assert ContactImport.objects.get(pk=job_id).status == ContactImport.Status.DONE
    screenshot(page, "import")

    ann = Contact.objects.get(name="Ann Uwase")
    make_msg(ann, "Muraho Ann, your vaccination visit is on Monday.")
    make_msg(ann, "Murakoze!", direction=MsgDirection.IN, status=MsgStatus.HANDLED)
    page.get_by_role("link", name="See the contacts").click()
    page.get_by_label("Search by the start of a name, or a phone number or URN").fill("ann")
    results = page.locator("#contact-results")
    expect(results.get_by_role("link")).to_have_text(["Ann Uwase", "Anne-Marie Mukamana"])  # as typed, no reload
    screenshot(page, "contacts")
    screenshot(page, "contacts", phone=True)

    results.get_by_role("link", name="Ann Uwase").click()
    expect(page.get_by_role("heading", name="Ann Uwase")).to_be_visible()
    expect(page.get_by_text("tel:+250788000001")).to_be_visible()
    expect(page.get_by_role("link", name="Nurses")).to_be_visible()
    expect(page.get_by_text("Murakoze!")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())  # "Block this contact? ..."
    page.get_by_role("button", name="Block").click()
    expect(page.locator("#contact-status")).to_have_text("blocked")
    expect(page.get_by_role("button", name="Unblock")).to_be_visible()
    history = page.get_by_role("table", name="Status history")
    expect(history).to_contain_text("blocked through contact_actions.json or the web interface")
    expect(page.get_by_text("In no group.")).to_be_visible()  # blocked contacts leave their groups
    assert Contact.objects.get(pk=ann.pk).status == ContactStatus.BLOCKED
    screenshot(page, "contact")
