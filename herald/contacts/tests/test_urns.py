"""URN parsing, normalisation and validation: the reference's §8.1 examples and rejects."""

import pytest

from herald.contacts import urns


@pytest.mark.parametrize(
    "text, country, expected",
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
    "text, country",
    [
        ("tel:800-123-4567", ""),  # no country code and no workspace country
        ("12345", ""),  # no scheme
        ("tel:0788123123", ""),
        ("tel:+12", ""),
        ("tel:", ""),
        (":abc", ""),
        ("TEL:+250788123123", ""),  # schemes are lowercase
        ("external:abc", ""),
        ("deleted:abc", ""),  # RapidPro lets its internal scheme through; Herald doesn't
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
