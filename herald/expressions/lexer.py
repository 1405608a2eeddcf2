"""Tokenizer for the inside of an expression, e.g. `title(contact.name) & "!"`."""

from typing import NamedTuple

from .errors import ExpressionSyntaxError

NAME, NUMBER, TEXT, SYMBOL, END = "name", "number", "text", "symbol", "end"

# Two-character symbols first so `<=` is not read as `<` then `=`.
_DIGITS = frozenset("0123456789")
_SYMBOLS = ("!=", "<=", ">=", "(", ")", "[", "]", ",", ".", "+", "-", "*", "/", "^", "=", "<", ">", "&")


class Token(NamedTuple):
    kind: str
    value: str
    position: int


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    length = len(source)
    while position < length:
        character = source[position]
        if character.isspace():
            position += 1
        elif character == '"':
            position = _text(source, position, tokens)
        elif character in _DIGITS:
            position = _number(source, position, tokens)
        elif character.isalpha() or character == "_":
            end = position + 1
            while end < length and (source[end].isalnum() or source[end] == "_"):
                end += 1
            tokens.append(Token(NAME, source[position:end], position))
            position = end
        else:
            symbol = next((s for s in _SYMBOLS if source.startswith(s, position)), None)
            if symbol is None:
                raise ExpressionSyntaxError(f"unexpected '{character}' at {position}")
            tokens.append(Token(SYMBOL, symbol, position))
            position += len(symbol)
    tokens.append(Token(END, "", length))
    return tokens


def _text(source: str, start: int, tokens: list[Token]) -> int:
    """A double-quoted string; `\\"` is an escaped quote, any other backslash is kept as written."""
    position = start + 1
    parts = []
    while position < len(source):
        character = source[position]
        if character == "\\" and source.startswith('"', position + 1):
            parts.append('"')
            position += 2
        elif character == '"':
            tokens.append(Token(TEXT, "".join(parts), start))
            return position + 1
        else:
            parts.append(character)
            position += 1
    raise ExpressionSyntaxError(f"unterminated string at {start}")


def _number(source: str, start: int, tokens: list[Token]) -> int:
    """Digits, optionally `.` and more digits. `groups.0.name` lexes as 0 then `.`: a dot needs a digit after it."""
    position = start
    while position < len(source) and source[position] in _DIGITS:
        position += 1
    if source.startswith(".", position) and position + 1 < len(source) and source[position + 1] in _DIGITS:
        position += 1
        while position < len(source) and source[position] in _DIGITS:
            position += 1
    tokens.append(Token(NUMBER, source[start:position], start))
    return position
