"""Control characters: what no address, name in a URL or terminal line should hold once its escapes are decoded.

C0 and C1 controls (NUL, CR, LF, ESC, DEL, ...), the Unicode line and paragraph separators, and lone surrogates:
PostgreSQL can't store NUL or a surrogate, and a terminal or a log obeys line breaks and escape sequences.
"""

import re

CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def has_control_characters(text: str) -> bool:
    return CONTROL_CHARACTERS.search(text) is not None


def printable(text: str) -> str:
    """`text` with its control characters shown as escapes (`\\n`), to echo refused input on one line."""
    return CONTROL_CHARACTERS.sub(lambda match: repr(match.group())[1:-1], text)
