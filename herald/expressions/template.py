"""Parse a message template once, render it for many contacts.

    template = parse("Hi @contact.first_name, @(upper(fields.code))")
    template.render({"contact": {...}, "fields": {...}, "globals": {...}, "urns": {...}})

Rendering never raises: an expression that fails (unknown key, bad argument, parse error, budget or depth limit)
renders as empty text and the rest of the message is kept, as RapidPro does. An `@(` without its `)` and an
`@word` whose top-level isn't known stay as written.
"""

import contextlib

from .errors import ExpressionSyntaxError
from .evaluator import Node, Path, State
from .parser import parse_expression
from .scanner import BLOCK, TEXT, scan
from .values import to_text

TOP_LEVELS = frozenset({"contact", "fields", "globals", "urns"})


def parse(text: str, top_levels: frozenset[str] = TOP_LEVELS) -> "Template":
    return Template(text, top_levels)


class _Broken:
    """An expression that didn't parse: renders empty (RapidPro's behaviour for a malformed expression)."""

    def render(self, state: State) -> str:
        return ""


_BROKEN = _Broken()


class _Expression:
    """`@(...)` or a bracketed identifier: evaluated with the render's budget."""

    __slots__ = ("node",)

    def __init__(self, node: Node):
        self.node = node

    def render(self, state: State) -> str:
        value = self.node.evaluate(state)
        text = to_text(value)
        if text is not value:  # text made here (a list, a dict, a number...); text values were paid for when made
            state.spend(len(text))
        return text


class _Lookup:
    """A plain `@a.b.c`: the common case, kept fast: straight lookups, then one charge for the text it emits (the
    value may be as long as a contact field's, and a template may repeat it hundreds of times)."""

    __slots__ = ("path",)

    def __init__(self, path: Path):
        self.path = path

    def render(self, state: State) -> str:
        text = to_text(self.path.resolve(state.context))
        state.spend(len(text))
        return text


def _compile(source: str, is_identifier: bool):
    try:
        node = parse_expression(source)
    except ExpressionSyntaxError:
        return _BROKEN
    if is_identifier and isinstance(node, Path):
        return _Lookup(node)
    return _Expression(node)


class Template:
    """Immutable once built: literal parts plus compiled expressions; safe to share across contacts and threads."""

    __slots__ = ("_constant", "_expressions", "_parts", "source")

    def __init__(self, text: str, top_levels: frozenset[str] = TOP_LEVELS):
        self.source = text
        parts: list[str] = []
        expressions = []
        for segment in scan(text, frozenset(name.lower() for name in top_levels)):
            if segment.kind == TEXT:
                parts.append(segment.source)
            else:
                expressions.append((len(parts), _compile(segment.source, segment.kind != BLOCK)))
                parts.append("")
        self._parts = tuple(parts)
        self._expressions = tuple(expressions)
        self._constant = "".join(parts) if not expressions else None

    @property
    def has_expressions(self) -> bool:
        return bool(self._expressions)

    def render(self, context: dict) -> str:
        if self._constant is not None:
            return self._constant
        parts = list(self._parts)
        state = State(context)  # one budget for the whole render
        for index, expression in self._expressions:
            # EvaluationError / BudgetExceeded render empty, like RapidPro, and the message still goes. Anything else
            # (an odd value in the context, a bug here) gets the same treatment: never stop a broadcast.
            with contextlib.suppress(Exception):
                parts[index] = expression.render(state)
        return "".join(parts)

    def __repr__(self) -> str:
        return f"Template({self.source!r})"
