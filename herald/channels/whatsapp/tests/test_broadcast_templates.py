"""A broadcast with a template, end to end: POSTed to broadcasts.json, fanned out and sent to FakeWhatsApp as a
`template` message in each contact's language with its variables rendered for them; the text on other channels;
what the API refuses; what WhatsApp refuses fails the message with its code."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from herald.channels.models import Template
from herald.channels.registry import create_channel
from herald.msgs import schedules
from herald.msgs.models import Broadcast, BroadcastSchedule, Msg, MsgStatus
from herald.testing.factories import make_contact
from herald.testing.providers.whatsapp import BUSINESS_ACCOUNT_ID, listed_template

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def templates(workspace, whatsapp, channel):
    """The channel knows its business account, and its templates are synced as an operator would."""
    channel.config = {**channel.config, "business_account_id": BUSINESS_ACCOUNT_ID}
    channel.save(update_fields=["config"])
    call_command("channel", "sync-templates", str(channel.uuid), stdout=io.StringIO())
    whatsapp.requests.clear()
    return {t.name: t for t in Template.objects.filter(workspace=workspace)}


def post(admin, body, capture):
    with capture(execute=True):
        return admin.post("/api/v2/broadcasts.json", body, content_type="application/json")


def template_sends(whatsapp) -> dict[str, dict]:
    return {r.json["to"]: r.json["template"] for r in whatsapp.requests if r.json.get("type") == "template"}


def test_a_broadcast_goes_as_the_template_in_each_contacts_language_with_rendered_variables(
    admin, workspace, whatsapp, templates, django_capture_on_commit_callbacks
):
    # Neither has written in the last 24 hours: only a template may reach them.
    bob = make_contact(workspace, "Bob", urns=["whatsapp:250788123123"], language="eng")
    aimee = make_contact(workspace, "Aimée", urns=["whatsapp:250788123124"], language="fra")
    zoe = make_contact(workspace, "Zoé", urns=["whatsapp:250788123125"], language="deu")
    body = {
        "contacts": [str(bob.uuid), str(aimee.uuid), str(zoe.uuid)],
        "text": "Hi @contact.name, see you on Monday",
        "template": str(templates["appointment"].uuid),
        "template_variables": ["@contact.name", "Monday"],
    }

    response = post(admin, body, django_capture_on_commit_callbacks)

    assert response.status_code == 201, response.json()
    answer = response.json()
    assert (answer["template"], answer["template_variables"]) == (
        {"uuid": str(templates["appointment"].uuid), "name": "appointment"},
        ["@contact.name", "Monday"],
    )
    listed = admin.get(f"/api/v2/broadcasts.json?uuid={answer['uuid']}").json()["results"][0]
    assert (listed["template"], listed["template_variables"]) == (answer["template"], answer["template_variables"])

    def sent(code, *values):
        parameters = [{"type": "text", "text": value} for value in values]
        return {"name": "appointment", "language": {"policy": "deterministic", "code": code},
                "components": [{"type": "body", "parameters": parameters}]}  # fmt: skip

    # Zoé's German has no translation: the oldest approved one (en_US) goes.
    assert template_sends(whatsapp) == {
        "250788123123": sent("en_US", "Bob", "Monday"),
        "250788123124": sent("fr", "Aimée", "Monday"),
        "250788123125": sent("en_US", "Zoé", "Monday"),
    }
    msgs = Msg.objects.filter(broadcast__uuid=answer["uuid"]).order_by("id")
    assert [(m.status, m.text) for m in msgs] == [(MsgStatus.WIRED, f"Hi {n}, see you on Monday") for n in
                                                  ("Bob", "Aimée", "Zoé")]  # fmt: skip
    assert msgs[1].templating == {
        "template": {"uuid": str(templates["appointment"].uuid), "name": "appointment"},
        "language": "fr",
        "namespace": "",
        "variables": ["Aimée", "Monday"],
    }


def test_other_channel_types_send_the_text(admin, workspace, whatsapp, templates, django_capture_on_commit_callbacks):
    create_channel(workspace, "console", "Console", schemes=["tel"])
    ann = make_contact(workspace, "Ann", urns=["tel:+250788555555"])
    body = {"contacts": [str(ann.uuid)], "text": "Hi @contact.name", "template": str(templates["welcome"].uuid)}

    assert post(admin, body, django_capture_on_commit_callbacks).status_code == 201

    (msg,) = Msg.objects.filter(contact=ann)
    assert (msg.status, msg.text, msg.templating) == (MsgStatus.WIRED, "Hi Ann", None)
    assert whatsapp.requests == []


def test_a_template_whatsapp_no_longer_has_fails_the_message_with_its_code(
    admin, workspace, whatsapp, templates, django_capture_on_commit_callbacks
):
    bob = make_contact(workspace, "Bob", urns=["whatsapp:250788123123"])
    whatsapp.templates = [listed_template("welcome", "en_US", "Welcome {{1}}")]  # changed since the sync
    body = {"contacts": [str(bob.uuid)], "text": "Welcome", "template": str(templates["welcome"].uuid)}

    assert post(admin, body, django_capture_on_commit_callbacks).status_code == 201

    (msg,) = Msg.objects.filter(contact=bob)
    assert msg.status == MsgStatus.FAILED
    assert msg.error_detail.startswith(
        "WhatsApp error 132000: (#132000) Number of parameters does not match the expected number of params"
    )


def test_a_dry_run_shows_what_each_message_would_go_as(admin, workspace, templates):
    bob = make_contact(workspace, "Bob", urns=["whatsapp:250788123123"], language="fra")
    body = {"contacts": [str(bob.uuid)], "text": "Hi", "template": str(templates["appointment"].uuid),
            "template_variables": ["@contact.name", "lundi"], "dry_run": True}  # fmt: skip

    response = admin.post("/api/v2/broadcasts.json", body, content_type="application/json")

    assert response.status_code == 200, response.json()
    assert response.json()["sample"][0]["templating"] == {
        "template": {"uuid": str(templates["appointment"].uuid), "name": "appointment"},
        "language": "fr",
        "namespace": "",
        "variables": ["Bob", "lundi"],
    }
    assert not Broadcast.objects.exists()


def test_bad_templates_are_refused_and_nothing_is_written(admin, workspace, templates):
    bob = make_contact(workspace, "Bob", urns=["whatsapp:250788123123"])
    unknown = "019ad3b0-5c2e-7d41-9a0f-3e6b1c8d2f47"
    cases = [
        ({"template": unknown}, {"template": [f"No such template: {unknown}."]}),
        ({"template": "not-a-uuid"}, {"template": ["Must be a valid UUID."]}),
        (
            {"template": str(templates["appointment"].uuid), "template_variables": ["@contact.name"]},
            {"template_variables": ["Template 'appointment' takes 2 body variables, got 1."]},
        ),
        (
            {"template": str(templates["welcome"].uuid), "template_variables": ["x"]},
            {"template_variables": ["Template 'welcome' takes 0 body variables, got 1."]},
        ),
        (
            {"template": str(templates["promo"].uuid), "template_variables": ["x"]},
            {"template": ["Template 'promo' has no approved translation on any channel."]},
        ),
        ({"template_variables": ["x"]}, {"template_variables": ["Only with a template."]}),
        (
            {"template": str(templates["appointment"].uuid), "template_variables": ["x", 3]},
            {"template_variables": {"1": ["Not a valid string."]}},
        ),
    ]
    for extra, errors in cases:
        body = {"contacts": [str(bob.uuid)], "text": "Hi", **extra}
        response = admin.post("/api/v2/broadcasts.json", body, content_type="application/json")
        assert (response.status_code, response.json()) == (400, errors), extra
    assert not Broadcast.objects.exists()


def test_each_occurrence_of_a_repeating_broadcast_keeps_its_template(admin, workspace, templates):
    bob = make_contact(workspace, "Bob", urns=["whatsapp:250788123123"])
    first = timezone.now().replace(microsecond=0) + timedelta(days=1)
    body = {"contacts": [str(bob.uuid)], "text": "Hi", "template": str(templates["appointment"].uuid),
            "template_variables": ["@contact.name", "Monday"], "schedule": {"repeat": "daily"},
            "send_at": first.isoformat()}  # fmt: skip
    parent = admin.post("/api/v2/broadcasts.json", body, content_type="application/json").json()

    fired = schedules.fire(BroadcastSchedule.objects.get(broadcast__uuid=parent["uuid"]).id, now=first)

    child = admin.get(f"/api/v2/broadcasts.json?uuid={Broadcast.objects.get(id=fired.child_id).uuid}").json()
    (shown,) = child["results"]
    assert (shown["template"], shown["template_variables"]) == (parent["template"], ["@contact.name", "Monday"])
