"""SMS part counts: GSM-7 (extension characters count twice) or UCS-2 (UTF-16 code units)."""

import pytest

from herald.msgs.segments import count_segments, is_gsm7


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", 1),
        ("Hello", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!¤%&¡ÄÖÑÜ§¿äöñüà\n\r" * 3, 1),  # basic table, all single
        ("€" * 80, 1),  # 160 septets
        ("€" * 81, 2),  # 162 septets
        ("a" * 159 + "^", 2),  # the escape makes it 161
        ("[]{}~|\\^€\f", 1),
        ("ç" * 70, 1),  # not in GSM-7 (only Ç is): UCS-2
        ("ç" * 71, 2),
        ("Muraho " + "ŝ" * 127, 2),  # 134 UCS-2 units: exactly two parts
        ("Muraho " + "ŝ" * 128, 3),  # 135
        ("😀" * 35, 1),  # 70 UTF-16 units
        ("😀" * 36, 2),  # 72 units
        ("a" * 67 * 3 + "й", 4),  # 202 units
    ],
)
def test_count_segments(text, parts):
    assert count_segments(text) == parts


def test_is_gsm7():
    assert is_gsm7("Hello {world} €5")
    assert not is_gsm7("Hello ✓")
    assert not is_gsm7("\x1b")  # the escape itself is not text
