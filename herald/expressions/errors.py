"""Errors and guard-rail limits shared by the expression modules."""

# Nesting limit for one expression: parser recursion and the depth of the compiled tree. It keeps a hostile
# template from blowing Python's stack (evaluation recurses once per level). Same figure as Excellent's.
MAX_DEPTH = 100

# Work allowed for one Template.render: one unit per evaluated node plus one per character of text produced,
# looked up or emitted (plain `@fields.x` lookups included). Generous for any real message, small enough that a
# hostile template can't hang a worker or blow up its memory.
MAX_COST = 1_000_000


class ExpressionSyntaxError(Exception):
    """An expression could not be parsed (its block renders empty)."""


class EvaluationError(Exception):
    """An expression failed at run time: missing key, bad argument, division by zero...

    `default()` and `is_error()` can observe it; anywhere else the enclosing block renders empty.
    """


class BudgetExceeded(Exception):
    """The per-render cost budget ran out.

    Deliberately not an EvaluationError, so `default()` can't swallow it and keep a runaway going.
    """
