"""Pratt parser: expression source -> tree of evaluator nodes.

Precedence follows Excellent, tightest first: unary `-`, `^`, `* /`, `+ -`, `< <= > >=`, `= !=`, `&`. Binary
operators are left-associative (so `2 ^ 3 ^ 2` is 64, and `-2 ^ 2` is 4, as in Excellent).
"""

from decimal import Decimal
from typing import NoReturn

from .errors import MAX_DEPTH, ExpressionSyntaxError
from .evaluator import Binary, Call, Literal, Lookup, Negate, Node, Path
from .functions import FUNCTIONS
from .lexer import END, NAME, NUMBER, SYMBOL, TEXT, Token, tokenize

_BINDING_POWER = {
    "&": 10,
    "=": 20,
    "!=": 20,
    "<": 30,
    "<=": 30,
    ">": 30,
    ">=": 30,
    "+": 40,
    "-": 40,
    "*": 50,
    "/": 50,
    "^": 60,
}
_NEGATION_POWER = 70
_KEYWORDS = {"true": True, "false": False, "null": None}


def parse_expression(source: str) -> Node:
    """Parse a whole expression; raises ExpressionSyntaxError (also for nesting deeper than MAX_DEPTH)."""
    return _Parser(tokenize(source)).parse()


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.index = 0
        self.nesting = 0

    def parse(self) -> Node:
        node = self.expression(0)
        if self.peek().kind != END:
            self.fail(self.peek())
        return node

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != END:
            self.index += 1
        return token

    def at_symbol(self, symbol: str) -> bool:
        token = self.tokens[self.index]
        return token.kind == SYMBOL and token.value == symbol

    def expect(self, symbol: str) -> None:
        if not self.at_symbol(symbol):
            self.fail(self.peek())
        self.advance()

    @staticmethod
    def fail(token: Token) -> NoReturn:
        found = "end of expression" if token.kind == END else f"'{token.value}'"
        raise ExpressionSyntaxError(f"unexpected {found} at {token.position}")

    def expression(self, min_power: int) -> Node:
        # Parentheses and arguments nest through here without growing the tree, so count them separately.
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise ExpressionSyntaxError(f"expression nested more than {MAX_DEPTH} deep")
        left = self.prefix()
        while True:
            token = self.peek()
            power = _BINDING_POWER.get(token.value) if token.kind == SYMBOL else None
            if power is None or power <= min_power:
                break
            self.advance()
            left = Binary(token.value, left, self.expression(power))
        self.nesting -= 1
        return left

    def prefix(self) -> Node:
        token = self.advance()
        if token.kind == NUMBER:
            return self.postfix(Literal(Decimal(token.value)))
        if token.kind == TEXT:
            return self.postfix(Literal(token.value))
        if token.kind == NAME:
            return self.postfix(self.name(token))
        if token.kind == SYMBOL and token.value == "-":
            return Negate(self.expression(_NEGATION_POWER))
        if token.kind == SYMBOL and token.value == "(":
            inner = self.expression(0)
            self.expect(")")
            return self.postfix(inner)
        self.fail(token)

    def name(self, token: Token) -> Node:
        lowered = token.value.lower()
        if self.at_symbol("("):
            return self.call(lowered, token)
        if lowered in _KEYWORDS:
            return Literal(_KEYWORDS[lowered])
        return Path((lowered,))

    def call(self, name: str, token: Token) -> Node:
        function = FUNCTIONS.get(name)
        if function is None:
            raise ExpressionSyntaxError(f"unknown function '{token.value}' at {token.position}")
        self.expect("(")
        arguments = []
        if not self.at_symbol(")"):
            arguments.append(self.expression(0))
            while self.at_symbol(","):
                self.advance()
                arguments.append(self.expression(0))
        self.expect(")")
        maximum = function.max_arguments
        if len(arguments) < function.min_arguments or (maximum is not None and len(arguments) > maximum):
            raise ExpressionSyntaxError(f"wrong number of arguments to {name}() at {token.position}")
        return Call(function, tuple(arguments))

    def postfix(self, node: Node) -> Node:
        """Property access after a value: `.name`, `.0` (list index) and `[expression]`."""
        while True:
            if self.at_symbol("."):
                self.advance()
                token = self.advance()
                if token.kind not in (NAME, NUMBER):
                    self.fail(token)
                # `groups.1.2` lexes its tail as the number 1.2: read it back as two keys.
                for key in token.value.lower().split("."):
                    node = node.with_key(key) if isinstance(node, Path) else Lookup(node, Literal(key), strict=True)
            elif self.at_symbol("["):
                self.advance()
                index = self.expression(0)
                self.expect("]")
                node = Lookup(node, index, strict=False)
            else:
                return node
