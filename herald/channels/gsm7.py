"""The GSM 03.38 7-bit alphabet: a text made only of these characters travels as GSM-7, anything else (an emoji,
most non-Latin scripts) as UCS-2. Here, below `herald.msgs`, because SMS channel types must say which (Vonage's
`type=unicode`); `herald.msgs.segments` counts SMS parts with it.

Written here rather than taken from a library: the only codec on PyPI (gsm0338) encodes character by character in
Python, while a set look-up does the job at C speed.
"""

BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Characters of the extension table: an escape plus the character, so each counts twice.
EXTENSION = frozenset("\f^{}\\[~]|€")
ALPHABET = BASIC | EXTENSION


def is_gsm7(text: str) -> bool:
    return ALPHABET.issuperset(text)
