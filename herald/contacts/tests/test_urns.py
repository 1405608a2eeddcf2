"""URN parsing, normalisation and validation: RapidPro's examples and rejects (`temba/contacts/models.py` `URN`),
and hostile input."""

import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from herald.contacts import urns
from herald.controlchars import has_control_characters, printable


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        ("tel:+1-800-123-4567", "", "tel:+18001234567"),
        ("tel:0788 123 123", "RW", "tel:+250788123123"),
        ("tel:(078) 812-3123", "RW", "tel:+250788123123"),
        ("tel:+250 788 123 123", "", "tel:+250788123123"),
        # 11+ digits without a leading 0 are read as international.
        ("tel:250788123123", "", "tel:+250788123123"),
        # A number a spreadsheet turned into a float.
        ("tel:2.50788123123e+11", "", "tel:+250788123123"),
        ("twitter:@Bob_99", "", "twitter:bob_99"),
        ("twitterid:12345#@Bob", "", "twitterid:12345#bob"),
        ("mailto:Bob@Example.COM", "", "mailto:bob@example.com"),
        ("whatsapp:250788123123", "", "whatsapp:250788123123"),
        ("whatsapp:rw.abc123", "", "whatsapp:RW.abc123"),
        ("bsuid:rw.abc", "", "bsuid:RW.abc"),
        ("facebook:12345", "", "facebook:12345"),
        ("facebook:ref:abc", "", "facebook:ref:abc"),
        ("telegram:12345", "", "telegram:12345"),
        ("viber:abc=+/", "", "viber:abc=+/"),
        ("ext:  anything  ", "", "ext:anything"),
        ("tel:+250788123123#Bob", "", "tel:+250788123123#Bob"),
        (
            "freshchat:0b8e2e94-0b7d-4b36-8a2e-02dd1c8bb6e8/1c0b0a4b-79d7-4ea8-8c68-32b9a4b1c4f6",
            "",
            "freshchat:0b8e2e94-0b7d-4b36-8a2e-02dd1c8bb6e8/1c0b0a4b-79d7-4ea8-8c68-32b9a4b1c4f6",
        ),
    ],
)
def test_normalises(text, country, expected):
    assert str(urns.parse_and_normalize(text, country)) == expected


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("tel:800-123-4567", ""),  # no country code and no workspace country
        ("12345", ""),  # no scheme
        ("tel:0788123123", ""),
        ("tel:+12", ""),
        ("tel:", ""),
        (":abc", ""),
        ("TEL:+250788123123", ""),  # schemes are lowercase
        ("external:abc", ""),
        ("deleted:abc", ""),  # RapidPro lets its internal scheme through; Herald doesn't (docs/COMPATIBILITY.md, C13)
        ("twitter:much_too_long_handle", ""),
        ("twitterid:abc", ""),
        ("mailto:not-an-email", ""),
        ("facebook:abc", ""),
        ("telegram:abc", ""),
        ("instagram:abc", ""),
        ("whatsapp:+250788123123", ""),
        ("bsuid:abc", ""),
        ("viber:not valid!", ""),
        ("freshchat:abc/def", ""),
    ],
)
def test_rejects(text, country):
    with pytest.raises(urns.InvalidURN):
        urns.parse_and_normalize(text, country)


def test_a_local_number_needs_the_workspace_country():
    assert str(urns.parse_and_normalize("tel:0788123123", "RW")) == "tel:+250788123123"
    with pytest.raises(urns.InvalidURN):
        urns.parse_and_normalize("tel:0788123123", "")


def test_parse_splits_query_and_display_and_unescapes():
    urn = urns.parse("tel:+250788123123?channel=abc#Bob%20B")
    assert (urn.scheme, urn.path, urn.query, urn.display) == ("tel", "+250788123123", "channel=abc", "Bob B")
    assert urn.identity == "tel:+250788123123"
    assert urns.parse("ext:a%23b").path == "a#b"


@pytest.mark.parametrize("value", [None, 123, "", "tel", "tel:"])
def test_parse_rejects_what_is_not_a_urn(value):
    with pytest.raises(urns.InvalidURN):
        urns.parse(value)


def test_country_of_tel():
    assert urns.country_of_tel("+250788123123") == "RW"
    assert urns.country_of_tel("not a number") == ""


# -- bounded work on hostile input (issue 8: F1, F13, F17) -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tel:2.50788123123e+11", "tel:+250788123123"),
        ("tel:2.50788123123E11", "tel:+250788123123"),
        ("tel:+2.50788123123e11", "tel:+250788123123"),
        ("tel:250788123123e0", "tel:+250788123123"),
        ("tel:2.5078812312399e11", "tel:+250788123123"),  # the integer part, as a spreadsheet shows it
    ],
)
def test_spreadsheet_numbers_expand_to_their_integer_part(text, expected):
    assert str(urns.parse_and_normalize(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "tel:1e999999",  # a million digits: seconds of CPU before the bound
        "tel:1e9999999",  # beyond decimal's exponent range: InvalidOperation before the bound
        "tel:+9" + "9" * 600 + "e99",
        "tel:1e16",  # 17 digits: more than E.164 allows
        "tel:1234567890123456e0",
        "tel:1e" + "0" * 400 + "999",
    ],
)
def test_spreadsheet_numbers_longer_than_any_phone_number_are_refused(text):
    with pytest.raises(urns.InvalidURN):
        urns.parse_and_normalize(text)


def test_a_number_whose_e164_form_reads_back_as_another_is_refused():
    # libphonenumber writes +43 000000 as "+4300000", which reads back as "+430000": storing it would change the
    # number each time a broadcast's URNs are read again.
    with pytest.raises(urns.InvalidURN):
        urns.parse_and_normalize("tel:+43e6")
    assert str(urns.parse_and_normalize("tel:+4300000")) == "tel:+430000"
    assert str(urns.parse_and_normalize("tel:+430000")) == "tel:+430000"


@pytest.mark.parametrize(
    "text",
    [
        "ext:a%00b",
        "ext:a\x00b",
        "ext:a%0Ab",
        "ext:a%0D%0Ab",
        "ext:a\r\nb",
        "ext:a\tb",
        "ext:%1B[31mred",  # a terminal escape sequence
        "ext:a%7Fb",  # DEL
        "ext:a\x85b",  # NEL, a C1 control
        "ext:a\u2028b",  # LINE SEPARATOR
        "ext:a%C2%85b",  # NEL, UTF-8 percent-encoded
        "mailto:a@b.c%0ABcc:x@y.z",
        "tel:+250788123123%00",
        "tel:+250788123123\n",  # normalising would quietly drop it
        "twitterid:12345#bob%0A",  # in the display
        "ext:abc?channel=%00",  # in the query
        "ext\n:abc",
    ],
)
def test_control_characters_are_refused_in_every_part_after_decoding(text):
    with pytest.raises(urns.InvalidURN):
        urns.parse(text)
    with pytest.raises(urns.InvalidURN):
        urns.parse_and_normalize(text, "RW")


def test_a_urn_is_at_most_255_characters_once_normalised():
    longest = "ext:" + "x" * (urns.MAX_LENGTH - 4)
    assert str(urns.parse_and_normalize(longest)) == longest
    assert str(urns.parse_and_normalize("ext:" + "%78" * (urns.MAX_LENGTH - 4))) == longest
    with pytest.raises(urns.URNTooLong):
        urns.parse_and_normalize(longest + "x")
    with pytest.raises(urns.URNTooLong):  # its string form escapes the "%"
        urns.parse_and_normalize("ext:%25" + "x" * (urns.MAX_LENGTH - 5))
    with pytest.raises(urns.URNTooLong):
        urns.parse_and_normalize("tel:+250788123123#" + "B" * urns.MAX_LENGTH)


def test_text_too_long_for_any_urn_is_refused_before_it_is_read():
    with pytest.raises(urns.URNTooLong):
        urns.parse("ext:" + "x" * urns.MAX_INPUT_LENGTH)
    with pytest.raises(urns.URNTooLong):
        urns.parse("tel:" + "9" * 10_000_000)


def test_printable_shows_control_characters_as_escapes():
    assert printable("Invalid URN: ext:a\r\nb\x1b[2J\u2028é") == "Invalid URN: ext:a\\r\\nb\\x1b[2J\\u2028é"


# -- the guard: any text is handled in bounded work and raises nothing but InvalidURN ----------------------------

DIGIT_RUN = st.integers(min_value=1, max_value=20_000).map(lambda n: "9" * n)
SPREADSHEET_NUMBER = st.builds(
    "{}{}{}{}".format,
    st.from_regex(r"\+?[0-9]{1,40}", fullmatch=True),
    st.just("") | st.from_regex(r"\.[0-9]{1,40}", fullmatch=True),
    st.sampled_from(["e", "E", "e+", "E+"]),
    st.integers(min_value=0, max_value=20).map(str)
    | st.integers(min_value=0, max_value=10**12).map(str)
    | st.from_regex(r"0{0,500}[0-9]{1,3}", fullmatch=True),
)
PHONE_LIKE = st.from_regex(r"\+?[0-9 ().-]{6,24}", fullmatch=True)
PERCENT_ESCAPED = st.binary(max_size=40).map(lambda raw: "".join(f"%{byte:02X}" for byte in raw))
SEPARATORS = st.lists(st.sampled_from(["#", ":", "?", "%", "%25", "%3F", "%23", "/", "+", "@", "e", "."]), max_size=400)
PATH = (
    st.text()
    | DIGIT_RUN
    | SPREADSHEET_NUMBER
    | PERCENT_ESCAPED
    | SEPARATORS.map("".join)
    | st.lists(st.text(max_size=4) | PERCENT_ESCAPED | SPREADSHEET_NUMBER, max_size=8).map("".join)
)
URN_TEXT = (
    st.text()
    | st.builds("{}:{}".format, st.sampled_from(sorted(urns.SCHEMES)) | st.text(max_size=6), PATH)
    | st.builds("tel:{}{}".format, PHONE_LIKE | SPREADSHEET_NUMBER, st.just("") | st.builds("#{}".format, st.text()))
)


@settings(
    max_examples=500,
    # Generous: every input is handled in microseconds; the unbounded expansion took seconds to minutes.
    deadline=timedelta(seconds=2),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=URN_TEXT, country=st.sampled_from(["", "RW", "US", "DE"]))
@example(text="tel:1e999999", country="")
@example(text="tel:1e9999999", country="")
@example(text="tel:+1e999999999999", country="RW")
@example(text="ext:a%00b", country="")
@example(text="ext:a%0D%0Ab", country="")
@example(text="tel:" + "9" * 10_000_000, country="")
@example(text="tel:0788 123 123#B%25b", country="RW")
@example(text="tel:+49 333 333 333 333 333 33", country="DE")
@example(text="ext:a%25b%3Fc%23d", country="")
@example(text="tel:+43e6", country="")  # its E.164 form read back as another number
def test_any_text_is_handled_in_bounded_work_and_raises_only_invalid_urn(text, country):
    try:
        parsed = urns.parse(text)
        urns.is_valid(urns.normalize(parsed, country))
    except urns.InvalidURN:
        pass
    try:
        urn = urns.parse_and_normalize(text, country)
    except urns.InvalidURN:
        return
    # What is accepted is bounded: a short URN, no control character, a tel path of a phone number's length ...
    assert len(str(urn)) <= urns.MAX_LENGTH
    assert not any(has_control_characters(part) for part in (urn.scheme, urn.path, urn.query, urn.display))
    if urn.scheme == "tel":
        # E.164 allows 15 digits; libphonenumber calls a few longer numbers possible (Germany: 17 in all).
        assert re.fullmatch(r"\+[0-9]{1,20}", urn.path), urn.path
    # ... and its stored form reads back as itself (broadcasts keep normalised strings and parse them again).
    assert urns.parse(str(urn)) == urn
    assert urns.parse_and_normalize(str(urn), country) == urn
