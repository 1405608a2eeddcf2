"""Anonymous contacts' refs (`herald/contacts/refs.py`): RapidPro's shape of code (`temba/contacts/models.py`
`Contact.ref`, `temba/utils/text/obfuscate.py`: six characters of a 32-letter alphabet, seven past 32**6 ids),
one per contact, from which the id can't be read without the installation's key."""

import itertools

import pytest

from herald.contacts.refs import ALPHABET, contact_ref

SIX_CHARACTER_CODES = len(ALPHABET) ** 6


def test_the_alphabet_has_no_look_alikes():
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set(ALPHABET) & set("IO01")


def test_each_id_has_its_own_six_character_code():
    refs = [contact_ref(contact_id) for contact_id in range(1, 3001)]
    assert len(set(refs)) == len(refs)
    assert all(len(ref) == 6 and set(ref) <= set(ALPHABET) for ref in refs)
    # Neighbouring ids don't give neighbouring codes.
    assert sum(a[:4] == b[:4] for a, b in itertools.pairwise(refs)) < 10


def test_codes_grow_to_seven_characters_past_the_six_character_ones():
    assert len(contact_ref(SIX_CHARACTER_CODES - 1)) == 6
    assert len(contact_ref(SIX_CHARACTER_CODES)) == 7
    assert len(contact_ref(9_999_999_999)) == 7  # RapidPro's largest id
    seven = {contact_ref(SIX_CHARACTER_CODES + i) for i in range(1000)}
    assert len(seven) == 1000


def test_codes_depend_on_the_installations_secret_key(settings):
    before = [contact_ref(contact_id) for contact_id in range(1, 20)]
    assert [contact_ref(contact_id) for contact_id in range(1, 20)] == before
    settings.SECRET_KEY = "another installation"
    after = [contact_ref(contact_id) for contact_id in range(1, 20)]
    assert all(a != b for a, b in zip(before, after, strict=True))


@pytest.mark.parametrize("contact_id", [0, -1])
def test_ids_start_at_one(contact_id):
    with pytest.raises(ValueError, match="contact ids start at 1"):
        contact_ref(contact_id)
