"""ISO-639-3 language codes, validated the way RapidPro does.

Broadcast translation keys must be ISO-639-3 codes that also have a two-letter ISO-639-1 form (plus `mul` and
`und`); a contact's language may be any ISO-639-3 code.
"""

from functools import cache

import pycountry

NON_ISO6391_LANGUAGES = frozenset({"mul", "und"})


@cache
def _translation_codes() -> frozenset[str]:
    codes = {lang.alpha_3 for lang in pycountry.languages if hasattr(lang, "alpha_2")}
    return frozenset(codes | NON_ISO6391_LANGUAGES)


@cache
def _all_codes() -> frozenset[str]:
    return frozenset(lang.alpha_3 for lang in pycountry.languages)


def is_translation_language(code) -> bool:
    """True for codes allowed as broadcast translation keys and base languages."""
    return isinstance(code, str) and code in _translation_codes()


def is_contact_language(code) -> bool:
    """True for any ISO-639-3 code (what a contact's `language` accepts)."""
    return isinstance(code, str) and code in _all_codes()


def provider_locale(code: str) -> str:
    """A provider's language code (`en`, `en_US`, `fil`, WhatsApp's form) in Herald's: ISO-639-3 with the country
    after a dash (`eng`, `eng-US`, `fil`), as RapidPro keeps a template's locale; a code it doesn't know is kept."""
    language, _, country = code.partition("_")
    if len(language) == 2:
        found = pycountry.languages.get(alpha_2=language.lower())
        language = found.alpha_3 if found is not None else language
    return f"{language}-{country}" if country else language


def language_name(code: str) -> str:
    """The English name of an ISO-639-3 code (`fra` → French), or the code itself when it names none."""
    found = pycountry.languages.get(alpha_3=code)
    return found.name if found is not None else code
