"""Compiled expression nodes and the per-render state they evaluate against.

The parser builds a tree of these nodes once per template; `evaluate(state)` runs it for one context. Nodes are
immutable and hold no per-render data, so one tree serves every contact (and every thread).
"""

from decimal import Decimal

from . import values
from .errors import MAX_COST, MAX_DEPTH, BudgetExceeded, EvaluationError, ExpressionSyntaxError

_MISSING = object()


class State:
    """One render: the context being read and the cost budget left."""

    __slots__ = ("context", "remaining")

    def __init__(self, context, budget: int = MAX_COST):
        self.context = context
        self.remaining = budget

    def spend(self, cost: int) -> None:
        self.remaining -= cost
        if self.remaining < 0:
            raise BudgetExceeded()

    def afford(self, cost: int) -> None:
        """Fail before building something the budget couldn't pay for (it is paid for once built)."""
        if cost > self.remaining:
            raise BudgetExceeded()


class Node:
    __slots__ = ("depth",)
    depth: int

    def _set_depth(self, *children: "Node") -> None:
        self.depth = 1 + max((child.depth for child in children), default=0)
        if self.depth > MAX_DEPTH:
            raise ExpressionSyntaxError(f"expression nested more than {MAX_DEPTH} deep")

    def evaluate(self, state: State):
        raise NotImplementedError


class Literal(Node):
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value
        self.depth = 1

    def evaluate(self, state):
        return self.value


class Path(Node):
    """A name and its dotted properties, e.g. `contact.fields.age`: one node so lookups run in a tight loop."""

    __slots__ = ("keys",)

    def __init__(self, keys: tuple[str, ...]):
        self.keys = keys
        self.depth = 1

    def with_key(self, key: str) -> "Path":
        return Path((*self.keys, key))

    def resolve(self, context):
        value = context
        for key in self.keys:
            # Inlined exact-key hit on a dict, the common case; values.lookup handles everything else.
            if type(value) is dict:
                found = value.get(key, _MISSING)
                if found is not _MISSING:
                    value = found
                    continue
            value = values.lookup(value, key)
        return value

    def evaluate(self, state):
        value = self.resolve(state.context)
        # A text value is paid for by its length, as if it were built here: a lookup is not a free way to copy a
        # long value around (into `&`, a function's arguments...).
        state.spend(len(self.keys) + (len(value) if type(value) is str else 0))
        return value


class Lookup(Node):
    """`target.key` on something that isn't a plain path (strict), or `target[expression]` (lenient)."""

    __slots__ = ("key", "strict", "target")

    def __init__(self, target: Node, key: Node, strict: bool):
        self.target, self.key, self.strict = target, key, strict
        self._set_depth(target, key)

    def evaluate(self, state):
        state.spend(1)
        return values.lookup(self.target.evaluate(state), self.key.evaluate(state), self.strict)


class Negate(Node):
    __slots__ = ("operand",)

    def __init__(self, operand: Node):
        self.operand = operand
        self._set_depth(operand)

    def evaluate(self, state):
        state.spend(1)
        return values.arithmetic(values.NUMBERS.minus, values.to_number(self.operand.evaluate(state)))


def _divide(left: Decimal, right: Decimal) -> Decimal:
    if right == 0:
        raise EvaluationError("division by zero")
    quotient = values.NUMBERS.divide(left, right)
    # Excellent keeps 16 decimal places: 10 / 3 renders 3.3333333333333333.
    exponent = quotient.as_tuple().exponent  # an int: a quotient of finite numbers is finite
    if isinstance(exponent, int) and exponent < -16:
        quotient = values.NUMBERS.quantize(quotient, Decimal("1e-16"))
    return quotient


_ARITHMETIC = {
    "+": values.NUMBERS.add,
    "-": values.NUMBERS.subtract,
    "*": values.NUMBERS.multiply,
    "/": _divide,
    "^": values.NUMBERS.power,
}
_COMPARISONS = {
    "<": Decimal.__lt__,
    "<=": Decimal.__le__,
    ">": Decimal.__gt__,
    ">=": Decimal.__ge__,
}
OPERATORS = frozenset({*_ARITHMETIC, *_COMPARISONS, "=", "!=", "&"})


class Binary(Node):
    """Arithmetic and comparisons work on numbers, `=` / `!=` compare text, `&` joins text (as Excellent)."""

    __slots__ = ("left", "operator", "right")

    def __init__(self, operator: str, left: Node, right: Node):
        self.operator, self.left, self.right = operator, left, right
        self._set_depth(left, right)

    def evaluate(self, state):
        state.spend(1)
        operator = self.operator
        left = self.left.evaluate(state)
        right = self.right.evaluate(state)
        if operator == "&":
            joined = values.to_text(left) + values.to_text(right)
            state.spend(len(joined))
            return joined
        if operator == "=":
            return values.to_text(left) == values.to_text(right)
        if operator == "!=":
            return values.to_text(left) != values.to_text(right)
        left, right = values.to_number(left), values.to_number(right)
        if operator in _COMPARISONS:
            return _COMPARISONS[operator](left, right)
        return values.arithmetic(_ARITHMETIC[operator], left, right)


class Call(Node):
    """A built-in function call. Lazy functions (if, default, and, or, is_error) get the argument nodes."""

    __slots__ = ("arguments", "function")

    def __init__(self, function, arguments: tuple[Node, ...]):
        self.function, self.arguments = function, arguments
        self._set_depth(*arguments)

    def evaluate(self, state):
        state.spend(1)
        if self.function.lazy:
            result = self.function.implementation(state, *self.arguments)
        else:
            result = self.function.implementation(*[argument.evaluate(state) for argument in self.arguments])
        if isinstance(result, str):
            state.spend(len(result))
        return result
