"""Composing with a real browser: a group picked from the search, texts in two languages with an expression picked
after `@` (with the keyboard), an upload refused then one taken by the API's media endpoint, the preview's numbers
(the API's dry run for the same body), then Send."""

import re

from playwright.sync_api import expect

from herald.contacts.models import ContactField
from herald.media.models import Media
from herald.msgs.models import Broadcast
from herald.testing.browser import screenshot, sign_in_page
from herald.testing.factories import create_web_user, make_contact, make_group
from herald.testing.fixtures import poster
from herald.testing.gateway import gateway_channel

# The smallest PNG: its signature and a 1x1 image's header, data and end (the upload's bytes are checked).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
api_post = poster("/api/v2/broadcasts.json")


def test_compose_preview_and_send_with_a_browser(page, workspace, make_client):
    gateway_channel(workspace, "http://127.0.0.1:9", tps=10)  # routes the preview; nothing is sent in this test
    reporters = make_group(
        workspace,
        "Reporters",
        [
            make_contact(workspace, "Ann", ["tel:+250788000001"]),
            make_contact(workspace, "Aimée", ["tel:+250788000002"], language="fra"),
            make_contact(workspace, "Eve"),
        ],
    )
    ContactField.objects.create(workspace=workspace, key="district", name="District")
    sign_in_page(page, create_web_user(workspace, "editor").email)
    page.get_by_role("link", name="Compose").click()
    expect(page.get_by_role("heading", name="Compose a broadcast")).to_be_visible()

    search = page.get_by_role("combobox", name="Groups, contacts, phone numbers or URNs")
    search.press_sequentially("Rep")
    expect(page.get_by_role("option", name=re.compile("Reporters"))).to_be_visible()
    search.press("Enter")
    chips = page.get_by_role("list", name="Chosen recipients")
    expect(chips.get_by_role("listitem")).to_have_text(re.compile("Reporters"))
    expect(search).to_have_value("")

    english = page.get_by_label("Text in English")
    english.press_sequentially("Hello @con")
    expect(page.get_by_role("option", name=re.compile("@contact.name"))).to_be_visible()
    english.press("Enter")
    english.press_sequentially("!")
    expect(english).to_have_value("Hello @contact.name!")
    expect(page.locator("#count-eng")).to_have_text("20 characters, 1 SMS segment (GSM-7)")
    french = page.get_by_label("Text in French")
    french.fill("Bonjour @contact.name 🙂")
    expect(page.locator("#count-fra")).to_have_text("23 characters, 1 SMS segment (UCS-2)")

    upload = page.locator("#upload-eng")
    upload.set_input_files({"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a picture"})
    expect(page.get_by_role("alert")).to_have_text("notes.txt: Unsupported file type.")  # the API's words
    upload.set_input_files({"name": "clinic.png", "mimeType": "image/png", "buffer": PNG})
    expect(page.get_by_role("alert")).to_be_hidden()
    expect(page.get_by_role("list", name="Attached files").first).to_contain_text("clinic.png")
    screenshot(page, "compose")
    screenshot(page, "compose", phone=True)

    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    photo = Media.objects.get(workspace=workspace)
    body = {
        "groups": [str(reporters.uuid)],
        "text": {"eng": "Hello @contact.name!", "fra": "Bonjour @contact.name 🙂"},
        "attachments": {"eng": [str(photo.uuid)]},
        "dry_run": True,
    }
    plan = api_post(make_client(workspace, "admin"), body).json()
    shown = page.locator("[data-figure]")
    figures = dict(
        zip(shown.evaluate_all("els => els.map(e => e.dataset.figure)"), shown.all_inner_texts(), strict=True)
    )
    assert figures["recipients"] == str(plan["recipients"]) == "3"
    assert figures["sendable"] == str(plan["sendable"]) == "2"
    assert figures["segments.total"] == str(plan["segments"]["total"])
    assert figures["languages.eng"] == str(plan["languages"]["eng"])
    assert figures["languages.fra"] == str(plan["languages"]["fra"])
    assert figures["excluded.no_urn"] == str(plan["excluded"]["no_urn"]) == "1"
    sample = page.locator("table.sample")
    expect(sample).to_contain_text("Hello Ann!")
    expect(sample).to_contain_text("Bonjour Aimée 🙂")
    assert Broadcast.objects.count() == 0
    screenshot(page, "preview")

    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r"/broadcasts/"))
    broadcast = Broadcast.objects.get(workspace=workspace)
    # The broadcast's page (the list, on a tree without that page) shows it.
    assert page.url.endswith((f"/broadcasts/{broadcast.uuid}/", "/broadcasts/"))
    expect(page.get_by_text("Hello @contact.name!").first).to_be_visible()
    assert broadcast.content.text_by_language() == {"eng": "Hello @contact.name!", "fra": "Bonjour @contact.name 🙂"}
    assert broadcast.content.attachments_by_language()["eng"] == [photo.attachment]
