"""A contact's `ref`: the short code anonymous workspaces show instead of its URNs (`ref` / `anon_display` on the
API), e.g. `XHVY8M`.

RapidPro's shape (`temba/contacts/models.py` `Contact.ref`): six characters of a 32-letter alphabet without the
look-alikes I, O, 0 and 1, seven once ids pass 32**6, computed from the contact's id by a keyed permutation. So
each contact has its own code, the code is easy to read out, and it doesn't tell how many contacts there are or who
came first (the zero-padded id it replaces told both).

The permutation is FF3-1 format-preserving encryption (NIST SP 800-38G, the `ff3` package) over that alphabet,
keyed from the installation's secret key: every process of an installation gives a contact the same ref, and
nobody without the key can turn a ref back into an id. Changing the secret key changes every ref.
"""

import hashlib
import hmac
from functools import cache, lru_cache

from django.conf import settings
from ff3 import FF3Cipher

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SHORTEST = 6
# FF3-1's tweak is 56 bits; the AES key 128.
_KEY_BYTES, _TWEAK_BYTES = 16, 7


def contact_ref(contact_id: int) -> str:
    """The ref of the contact with this id (a positive integer)."""
    if contact_id < 1:
        raise ValueError(f"contact ids start at 1, not {contact_id}")
    return _ref(_cipher(settings.SECRET_KEY), contact_id)


@lru_cache(maxsize=65536)  # a page of an anonymous workspace's contacts asks for 250, often the same ones again
def _ref(cipher: FF3Cipher, contact_id: int) -> str:
    # Ids below 32**6 fill the six-character codes, the next 32**7 the seven-character ones, and so on: codes of
    # different lengths never collide.
    offset, length = contact_id, SHORTEST
    while offset >= len(ALPHABET) ** length:
        offset -= len(ALPHABET) ** length
        length += 1
    return cipher.encrypt(_digits(offset, length))


def _digits(number: int, length: int) -> str:
    digits = []
    for _ in range(length):
        number, digit = divmod(number, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


@cache
def _cipher(secret_key: str) -> FF3Cipher:
    derived = hmac.new(secret_key.encode(), b"herald.contacts.refs", hashlib.sha256).digest()
    key, tweak = derived[:_KEY_BYTES], derived[_KEY_BYTES : _KEY_BYTES + _TWEAK_BYTES]
    return FF3Cipher.withCustomAlphabet(key.hex(), tweak.hex(), ALPHABET)
