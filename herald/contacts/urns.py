"""URNs: `scheme:path[?query][#display]` addresses of contacts, parsed, normalised and validated.

Normalisation makes one identity per address (`tel:0788 123 123` in Rwanda and `tel:+250788123123` are the same
contact); validation rejects what no channel could ever send to.

Every URN input (API bodies and filters, CSV cells) is attacker-chosen text, so each step does work bounded by
MAX_INPUT_LENGTH: nothing here grows with a number the text spells out (`tel:1e999999`), and a URN holds no control
character once its escapes are decoded. The one error raised for bad input is InvalidURN (URNTooLong for length).
"""

import re
import uuid
from dataclasses import dataclass
from urllib.parse import unquote

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from herald.controlchars import has_control_characters

SCHEMES = frozenset(
    {
        "tel", "mailto", "bsuid", "ext", "facebook", "fcm", "freshchat", "instagram", "jiochat", "line",
        "rocketchat", "slack", "telegram", "twitterid", "twitter", "viber", "vk", "webchat", "wechat", "whatsapp",
    }
)  # fmt: skip

# A normalised URN (its string form) fits the identity, path and display columns.
MAX_LENGTH = 255
# What `parse` reads at most: a MAX_LENGTH URN with every character percent-escaped. Longer text can't normalise
# to a URN Herald keeps, so it is refused before any work is done on it.
MAX_INPUT_LENGTH = 3 * MAX_LENGTH
# ITU-T E.164: no phone number, country code included, has more digits. A spreadsheet keeps no more either (15
# significant digits), so a longer number in exponent form is not a phone number, whatever it expands to.
E164_MAX_DIGITS = 15

# What anonymous workspaces show instead of a URN's path (RapidPro's mask), in the API and in message text alike.
REDACTED_PATH = "********"

_TWITTER_HANDLE = re.compile(r"^[a-zA-Z0-9_]{1,15}$")
_COUNTRY_SCOPED_ID = re.compile(r"^[A-Z]{2}\.[a-zA-Z0-9]{1,128}$")
_VIBER = re.compile(r"^[a-zA-Z0-9_=+/]{1,24}$")
_SPREADSHEET_NUMBER = re.compile(r"^([0-9]+)(?:\.([0-9]+))?e\+?([0-9]+)$")


class InvalidURN(ValueError):
    """The text is not a URN Herald accepts (the only exception this module raises for bad input)."""


class URNTooLong(InvalidURN):
    """The URN is longer than MAX_LENGTH characters (before or after normalisation)."""


@dataclass(frozen=True)
class URN:
    scheme: str
    path: str
    query: str = ""
    display: str = ""

    @property
    def identity(self) -> str:
        return f"{self.scheme}:{self.path}"

    def __str__(self) -> str:
        # The reverse of `parse`: characters that would split the URN differently are escaped.
        text = f"{self.scheme}:{_escape(self.path)}"
        if self.query:
            text += f"?{_escape(self.query)}"
        if self.display:
            text += f"#{_escape(self.display)}"
        return text


def redacted(scheme: str) -> str:
    """A URN as an anonymous workspace shows it: `tel:********`, the scheme only, never the path or display."""
    return f"{scheme}:{REDACTED_PATH}"


def _escape(value: str) -> str:
    return value.replace("%", "%25").replace("?", "%3F").replace("#", "%23")


def parse(text: str) -> URN:
    """Split a URN into its parts and decode their escapes, without normalising or validating it.

    Refuses text over MAX_INPUT_LENGTH, and control characters in any part *after* decoding (`ext:a%00b`,
    `ext:a%0Ab`): this is the one place URN text is decoded, so the check can't be bypassed by escaping.
    """
    if not isinstance(text, str) or ":" not in text:
        raise InvalidURN(text)
    if len(text) > MAX_INPUT_LENGTH:
        raise URNTooLong(text[:MAX_LENGTH])
    scheme, rest = text.split(":", 1)
    rest, _, display = rest.partition("#")
    rest, _, query = rest.partition("?")
    urn = URN(scheme, _unescape(rest), _unescape(query), _unescape(display))
    if not urn.scheme or not urn.path or _has_control_characters(urn):
        raise InvalidURN(text)
    return urn


def _has_control_characters(urn: URN) -> bool:
    return any(has_control_characters(part) for part in (urn.scheme, urn.path, urn.query, urn.display))


def _unescape(value: str) -> str:
    return unquote(value) if "%" in value else value


def normalize(urn: URN, country: str = "") -> URN:
    path = urn.path.strip()
    display = urn.display
    if urn.scheme == "tel":
        path = _normalize_tel(path, country)
    elif urn.scheme == "twitter":
        path = path.lower().removeprefix("@")
    elif urn.scheme == "twitterid":
        display = display.lower().removeprefix("@")
    elif urn.scheme == "mailto":
        path = path.lower()
    elif urn.scheme in ("whatsapp", "bsuid") and re.match(r"^[a-zA-Z]{2}\.", path):
        path = path[:2].upper() + path[2:]
    return URN(urn.scheme, path, urn.query, display)


def _normalize_tel(path: str, country: str) -> str:
    raw = path.lower()
    had_plus = raw.startswith("+")
    spreadsheet = _SPREADSHEET_NUMBER.match(raw.lstrip("+"))
    if spreadsheet:  # a number mangled by a spreadsheet, e.g. 2.50788123123e+11
        raw = _spreadsheet_digits(*spreadsheet.groups())
    digits = re.sub(r"[^0-9a-z]", "", raw)
    if had_plus or (len(digits) >= 11 and not digits.startswith("0")):
        digits = "+" + digits
    try:
        number = phonenumbers.parse(digits, country.upper() or None)
    except phonenumbers.NumberParseException:
        return digits.lstrip("+")
    if phonenumbers.is_possible_number(number):
        e164 = _e164(number)
        # libphonenumber drops leading zeros of some national numbers ("+43 000000" becomes "+4300000", which reads
        # back as "+430000"): a number whose stored form is another number is no phone number.
        if _e164(phonenumbers.parse(e164, None)) == e164:
            return e164
    return digits.lstrip("+")


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _spreadsheet_digits(whole: str, fraction: str | None, exponent: str) -> str:
    """The integer part of `<whole>.<fraction>e<exponent>` as digits, e.g. 250788123123 for 2.50788123123e+11.

    Bounded before expanding: `1e999999` would be a million digits (and seconds of CPU), and no phone number has
    more than E164_MAX_DIGITS.
    """
    significant = len(whole.lstrip("0"))
    if len(exponent.lstrip("0")) > 2 or significant + int(exponent) > E164_MAX_DIGITS:
        raise InvalidURN(f"{whole}e{exponent} has more digits than any phone number")
    shift = int(exponent)
    return (whole + (fraction or "")[:shift].ljust(shift, "0")).lstrip("0") or "0"


def is_valid(urn: URN) -> bool:
    """Validate an already normalised URN."""
    scheme, path = urn.scheme, urn.path
    if scheme not in SCHEMES or not path:
        return False
    if scheme == "tel":
        if not path.startswith("+"):
            return False
        try:
            return phonenumbers.is_possible_number(phonenumbers.parse(path, None))
        except phonenumbers.NumberParseException:
            return False
    if scheme == "twitter":
        return bool(_TWITTER_HANDLE.match(path))
    if scheme == "twitterid":
        return path.isdigit() and (not urn.display or bool(_TWITTER_HANDLE.match(urn.display)))
    if scheme == "mailto":
        try:
            validate_email(path)
        except ValidationError:
            return False
        return True
    if scheme == "facebook":
        return path.isdigit() or path.startswith("ref:")
    if scheme in ("telegram", "instagram"):
        return path.isdigit()
    if scheme == "whatsapp":
        return path.isdigit() or bool(_COUNTRY_SCOPED_ID.match(path))
    if scheme == "bsuid":
        return bool(_COUNTRY_SCOPED_ID.match(path))
    if scheme == "viber":
        return bool(_VIBER.match(path))
    if scheme == "freshchat":
        parts = path.split("/")
        return len(parts) == 2 and all(_is_uuid(p) for p in parts)
    return True


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def parse_and_normalize(text: str, country: str = "") -> URN:
    """Parse, normalise and validate; raises InvalidURN for anything that can't be a real address (URNTooLong when
    it is longer than MAX_LENGTH characters once normalised)."""
    try:
        urn = normalize(parse(text), country)
    except InvalidURN:
        raise
    except (ValueError, OverflowError) as exc:
        raise InvalidURN(text) from exc
    # A normalised tel path has a "+" only when phonenumbers found it possible: no need to parse it again.
    valid = urn.path.startswith("+") if urn.scheme == "tel" else is_valid(urn)
    if not valid:
        raise InvalidURN(text)
    if len(str(urn)) > MAX_LENGTH:
        raise URNTooLong(text)
    return urn


def country_of_tel(path: str) -> str:
    """The ISO country of an E.164 number, or "" if it can't be told."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(path, None)) or ""
    except phonenumbers.NumberParseException:
        return ""
