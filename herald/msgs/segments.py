"""How many SMS parts a text takes (what an SMS gateway bills for `tel` messages).

A text that fits the GSM 03.38 7-bit alphabet travels as GSM-7: 160 characters in one SMS, or 153 per part once it
has to be split (the rest carries the part header); characters from the extension table (`^{}\\[~]|€` and form
feed) take an escape plus the character, so they count twice. Anything else (an emoji, most non-Latin scripts)
sends the whole text as UCS-2: 70 UTF-16 code units in one SMS, 67 per part (an emoji is two units).

The alphabet lives in `herald.channels.gsm7` (SMS channel types need it too).
"""

from herald.channels.gsm7 import EXTENSION as GSM7_EXTENSION
from herald.channels.gsm7 import is_gsm7

__all__ = ("count_segments", "is_gsm7")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def count_segments(text: str) -> int:
    """SMS parts for `text`; an empty text is still one message."""
    if is_gsm7(text):
        length = len(text) + sum(text.count(char) for char in GSM7_EXTENSION)
        single, part = GSM7_SINGLE, GSM7_PART
    else:
        length = len(text.encode("utf-16-le")) // 2
        single, part = UCS2_SINGLE, UCS2_PART
    if length <= single:
        return 1
    return -(-length // part)  # ceiling division
