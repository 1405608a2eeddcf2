"""Split template text into literal text, `@identifier`s and `@(expression)` blocks.

- `@@` is a literal `@`.
- `@name.path`, `@name[...]...`: an identifier, but only if `name` (case-insensitive) is a known top-level;
  otherwise it stays as written, so `bob@example.com` survives. Trailing dots end a sentence, not the path.
- `@(...)` runs to its matching `)`. Parentheses inside "strings" don't count (Excellent counts them, which breaks
  `@("(")`). An `@(` that is never closed stays literal, and scanning goes on after it.
- A lone `@` (end of text, or before a character that can't start an identifier) stays literal.
"""

from typing import NamedTuple

TEXT, IDENTIFIER, BLOCK = "text", "identifier", "block"


class Segment(NamedTuple):
    kind: str
    source: str  # the literal text (with `@@` already unescaped), identifier, or expression inside `@(...)`


def _is_identifier_character(character: str) -> bool:
    return character.isalnum() or character in "._"


def scan(text: str, top_levels: frozenset[str]) -> list[Segment]:
    segments: list[Segment] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            segments.append(Segment(TEXT, "".join(literal)))
            literal.clear()

    position = 0
    while True:
        at = text.find("@", position)
        if at < 0:
            literal.append(text[position:])
            break
        literal.append(text[position:at])
        following = text[at + 1 : at + 2]
        if following == "@":
            literal.append("@")
            position = at + 2
        elif following == "(":
            close = _closing_parenthesis(text, at + 2)
            if close is None:
                literal.append("@(")
                position = at + 2
            else:
                flush()
                segments.append(Segment(BLOCK, text[at + 2 : close]))
                position = close + 1
        elif following and _is_identifier_character(following):
            identifier = _identifier(text, at + 1)
            top_level = identifier.split(".", 1)[0].split("[", 1)[0].lower()
            if identifier and top_level in top_levels:
                flush()
                segments.append(Segment(IDENTIFIER, identifier))
            else:
                literal.append("@" + identifier)
            position = at + 1 + len(identifier)
        else:
            literal.append("@")
            position = at + 1
    flush()
    return segments


def _identifier(text: str, start: int) -> str:
    """The identifier starting at `start`: name characters and dots, plus complete `[...]` parts."""
    end = start
    while end < len(text):
        if _is_identifier_character(text[end]):
            end += 1
        elif text[end] == "[" and end > start:
            close = _closing_bracket(text, end + 1)
            if close is None:
                break
            end = close + 1
        else:
            break
    identifier = text[start:end]
    stripped = identifier.rstrip(".")
    # A lone "@." stays as written rather than vanishing.
    return stripped if stripped else identifier


def _skip_string(text: str, position: int) -> int | None:
    """Given the index just after an opening quote, the index just after its closing quote (`\\"` escapes)."""
    while position < len(text):
        character = text[position]
        if character == "\\" and text.startswith('"', position + 1):
            position += 2
        elif character == '"':
            return position + 1
        else:
            position += 1
    return None


def _closing(text: str, position: int, opening: str, closing: str) -> int | None:
    depth = 1
    while position < len(text):
        character = text[position]
        if character == '"':
            after = _skip_string(text, position + 1)
            if after is None:
                return None
            position = after
            continue
        if character == opening:
            depth += 1
        elif character == closing:
            depth -= 1
            if depth == 0:
                return position
        position += 1
    return None


def _closing_parenthesis(text: str, position: int) -> int | None:
    return _closing(text, position, "(", ")")


def _closing_bracket(text: str, position: int) -> int | None:
    return _closing(text, position, "[", "]")
