from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from herald.expressions import parse

from .helpers import CONTEXT, make_context, render


def test_rapidpro_example():
    text = "hi @(title(contact.name)) from @globals.org_name goflow URN: @urns.tel Gender: @fields.gender"
    context = make_context(name="ann")
    assert render(text, context) == "hi Ann from TextIt goflow URN: tel:+12065551212 Gender: F"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@@", "@"),
        ("@@contact.name", "@contact.name"),
        ("a @@@contact.name", "a @Ann"),
        ("write to bob@example.com", "write to bob@example.com"),
        ("@run.results.color stays", "@run.results.color stays"),
        ("@ alone, @", "@ alone, @"),
        ("50% @!", "50% @!"),
    ],
)
def test_at_signs(text, expected):
    assert render(text) == expected


def test_an_email_at_a_top_level_name_is_an_identifier_like_excellent():
    # `contact.org` is read as a property of contact, which doesn't exist, so it renders empty (as in RapidPro).
    assert render("mail ann@contact.org") == "mail ann"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi @contact.name.", "Hi Ann."),
        ("Hi @contact.name...", "Hi Ann..."),
        ("Hi @contact.name, bye", "Hi Ann, bye"),
        ("Hi @contact.name!", "Hi Ann!"),
        ("(@fields.gender)", "(F)"),
        ("@CONTACT.Name", "Ann"),
        ("@contact.groups.1.name", "Males"),
        ("@contact.groups[0].name", "Testers"),
        ('@contact.fields["gender"]', "F"),
        ("@contact.groups[5]", ""),
        ("@contact.name[", "Ann["),
    ],
)
def test_identifier_paths(text, expected):
    assert render(text) == expected


def test_keys_are_case_insensitive_both_ways():
    context = {"contact": {"Name": "Bob"}, "fields": {"Favourite_Colour": "red"}}
    assert parse("@contact.name @FIELDS.favourite_colour").render(context) == "Bob red"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@contact", "Ann"),
        ("@contact.groups", "Testers, Males"),
        ("@fields.nickname", ""),
        ("@fields.age", "23"),
        ("@contact.created_on", "2024-05-01T14:30:05.123456Z"),
        ("@urns", '{"tel": "tel:+12065551212", "mailto": null}'),
    ],
)
def test_value_rendering(text, expected):
    assert render(text) == expected


def test_other_value_types_render():
    context = {
        "fields": {
            "yes": True,
            "ratio": 0.5,
            "big": Decimal("1.50"),
            "day": date(2024, 1, 2),
            "naive": datetime(2024, 1, 2, 3, 4, 5),
            "local": datetime.fromisoformat("2024-01-02T03:04:05-05:00"),
        }
    }
    text = "@fields.yes @fields.ratio @fields.big @fields.day @fields.naive @fields.local"
    assert parse(text).render(context) == (
        "true 0.5 1.5 2024-01-02 2024-01-02T03:04:05.000000 2024-01-02T03:04:05.000000-05:00"
    )


@pytest.mark.parametrize(
    "text",
    [
        "@fields.unknown",
        "@contact.fields.unknown",
        "@contact.name.first",
        "@(fields.unknown)",
        "@(1 / 0)",
        "@(nosuchfunction(1))",
        "@(upper(1, 2))",
        "@(1 +)",
        '@(upper("a" "b"))',
        "@(contact.name $ 1)",
        "@()",
    ],
)
def test_failing_expressions_render_empty_and_keep_the_rest(text):
    assert render(f"<{text}> @contact.first_name") == "<> Ann"


def test_top_level_missing_from_context_renders_empty():
    assert parse("Hi @globals.org_name!").render({"contact": {}}) == "Hi !"


def test_unclosed_block_stays_literal_and_later_expressions_still_render():
    assert render("@(upper(contact.name) and @contact.name") == "@(upper(contact.name) and Ann"
    assert render('@("unterminated) @contact.name') == '@("unterminated) Ann'


def test_parentheses_inside_strings_do_not_end_a_block():
    assert render('@(concat("(", contact.name, ")"))') == "(Ann)"


def test_custom_top_levels():
    template = parse("@run.name and @contact.name", top_levels=frozenset({"Run"}))
    assert template.render({"run": {"name": "R1"}, "contact": {"name": "x"}}) == "R1 and @contact.name"


def test_template_without_expressions_is_constant():
    template = parse("plain text, bob@example.com, 100@@")
    assert not template.has_expressions
    assert template.render({}) == "plain text, bob@example.com, 100@"
    assert parse("@contact").has_expressions
    assert parse("@(1)").has_expressions


def test_one_template_renders_contexts_independently():
    template = parse('@contact.name @(upper(contact.name)) @(default(fields.nickname, "-")) @contact.groups')
    first = make_context(name="Ann", groups=["A"])
    second = make_context(name="Bob", groups=[])
    second["fields"] = {"nickname": "B"}
    assert template.render(first) == "Ann ANN - A"
    assert template.render(second) == "Bob BOB B "
    assert template.render(first) == "Ann ANN - A"
    assert first["contact"]["groups"] == ["A"]  # the context is read, never written


def test_render_does_not_mutate_the_context():
    context = make_context()
    snapshot = repr(context)
    render('@(replace(contact.name, "A", "B")) @contact.groups @(sum(1, fields.age))', context)
    assert repr(context) == snapshot


def test_datetime_in_the_context_and_naive_values():
    context = {"contact": {"created_on": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)}}
    assert parse('@(format_date(contact.created_on, "D/M/YY"))').render(context) == "2/1/24"


def test_render_with_an_odd_context_value_never_raises():
    class Weird:
        def __str__(self):
            raise RuntimeError("boom")

    assert parse("[@contact.x]").render({"contact": {"x": Weird()}}) == "[]"
    assert parse("[@contact.x]").render({"contact": None}) == "[]"
    assert parse("[@contact.x]").render(None) == "[]"


def test_attachment_and_quick_reply_texts_render_like_text():
    assert (
        render("image/jpeg:https://example.com/@(lower(contact.name)).jpg") == "image/jpeg:https://example.com/ann.jpg"
    )
    assert CONTEXT["contact"]["name"] == "Ann"
