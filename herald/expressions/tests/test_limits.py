"""Guard rails: hostile templates render (partly) empty instead of hanging a worker or blowing the stack."""

import pytest

from herald.expressions import parse
from herald.expressions.errors import MAX_COST, MAX_DEPTH, BudgetExceeded, ExpressionSyntaxError
from herald.expressions.evaluator import State
from herald.expressions.parser import parse_expression

from .helpers import render


def _nested_calls(depth: int) -> str:
    return "upper(" * depth + "contact.name" + ")" * depth


def test_nesting_up_to_the_limit_works():
    assert render(f"@({_nested_calls(MAX_DEPTH - 1)})") == "ANN"
    assert render("@(" + "(" * (MAX_DEPTH - 2) + "1 + 1" + ")" * (MAX_DEPTH - 2) + ")") == "2"


@pytest.mark.parametrize(
    "expression",
    [
        _nested_calls(50_000),
        "(" * 50_000 + "1" + ")" * 50_000,
        "-" * 50_000 + "1",
        "1" + " + 1" * 50_000,  # a flat chain is a deep tree too
        "contact.groups" + "[0]" * 50_000,
        "contact" + ".name" * 50_000 + " & 1",
    ],
)
def test_huge_expressions_render_empty_without_crashing(expression):
    assert render(f"before @({expression}) after") == "before  after"


def test_depth_limit_is_a_syntax_error():
    with pytest.raises(ExpressionSyntaxError):
        parse_expression(_nested_calls(MAX_DEPTH + 1))


def _squaring(levels: int) -> str:
    """replace() whose output is the square of its input's size at each level: 2**(2**levels) characters."""
    expression = '"AA"'
    for _ in range(levels):
        expression = f'replace({expression}, "A", {expression})'
    return expression


def test_runaway_text_growth_is_stopped_by_the_budget():
    assert len(render(f"@({_squaring(3)})")) == 256
    assert render(f"[@({_squaring(6)})] @contact.name") == "[] Ann"


def test_budget_is_shared_by_the_whole_render():
    heavy = _squaring(4)  # 65,536 characters
    state = State({})
    parse_expression(heavy).evaluate(state)
    blocks_within_budget = MAX_COST // (MAX_COST - state.remaining)

    template = parse(f"@({heavy})" * (blocks_within_budget + 10) + " @contact.name")
    output = template.render({"contact": {"name": "B"}})
    # Heavy blocks after the budget ran out render empty; a short lookup still fits in what it has left.
    assert output == "A" * 65_536 * blocks_within_budget + " B"


def test_plain_lookups_are_charged_for_the_text_they_emit():
    """A 1.2 KB template of `@fields.bio` over a long value made a message of 150 M characters: no more."""
    bio = "x" * 5_000
    context = {"fields": {"bio": bio}, "contact": {"name": "Ann"}}
    within_budget = MAX_COST // len(bio)
    output = parse("@fields.bio" * (within_budget + 50) + " @contact.name!").render(context)
    assert output == bio * within_budget + " !"
    # The same through every other way of reaching the value: the budget is the one limit on what a render makes.
    for template in ("@(fields.bio)", "@fields.bio.__default__", "@(upper(fields.bio))", '@(fields.bio & "")'):
        assert len(parse(template * (within_budget + 50)).render(context)) <= MAX_COST


def test_a_lookup_of_a_huge_value_renders_empty():
    huge = {"fields": {"bio": "x" * (MAX_COST + 1)}, "contact": {"name": "Ann"}}
    assert parse("[@fields.bio] [@(fields.bio)] [@(len(fields.bio))]").render(huge) == "[] [] []"
    assert parse("Hi @contact.name").render(huge) == "Hi Ann"


def test_text_made_from_lists_and_objects_is_charged():
    context = {"fields": {f"k{i}": "v" * 600 for i in range(250)}}
    rendered = parse("@fields" * 100).render(context)
    assert 0 < len(rendered) <= MAX_COST


def test_budget_starts_afresh_for_every_render():
    template = parse(f"@({_squaring(4)})" * 5)
    assert template.render({}) == template.render({}) == "A" * 65_536 * 5


def test_default_cannot_swallow_an_exhausted_budget():
    state = State({}, budget=10)
    with pytest.raises(BudgetExceeded):
        parse_expression(f'default({_squaring(3)}, "x")').evaluate(state)
