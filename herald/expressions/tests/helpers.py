"""A contact context shaped like the one the sending pipeline builds."""

from datetime import UTC, datetime

from herald.expressions import parse


def make_context(**contact_overrides) -> dict:
    contact = {
        "__default__": "Ann",
        "uuid": "0b4f7d2e-5a44-4c1b-9a3e-2f1d1b2c3d4e",
        "name": "Ann",
        "first_name": "Ann",
        "language": "eng",
        "urn": "tel:+12065551212",
        "created_on": datetime(2024, 5, 1, 14, 30, 5, 123456, tzinfo=UTC),
        "groups": [{"__default__": "Testers", "name": "Testers"}, {"__default__": "Males", "name": "Males"}],
        "fields": {"gender": "F", "age": 23, "nickname": None, "score": "7.5"},
    }
    contact.update(contact_overrides)
    return {
        "contact": contact,
        "fields": contact["fields"],
        "globals": {"org_name": "TextIt"},
        "urns": {"tel": "tel:+12065551212", "mailto": None},
    }


CONTEXT = make_context()


def render(text: str, context: dict | None = None) -> str:
    return parse(text).render(CONTEXT if context is None else context)
