"""A workspace's opt-out vocabulary: the words that stop a contact (`STOP` ...) or start it again (`START` ...), and
the confirmation a contact who stopped is sent, per language.

The defaults always apply; a workspace adds words per language (`kin`: `HAGARIKA`) with `herald workspace update
--stop-words kin=HAGARIKA`. A message is a keyword when its whole text, trimmed and case-folded, is one of the
words: "Stop" and " stop " are, "stop sending me this" is not (an ordinary reply). What a keyword does to the contact
is herald.msgs.inbound's.
"""

from dataclasses import dataclass
from typing import Literal

from herald.languages import is_contact_language

from .models import Workspace

DEFAULT_STOP_WORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")
DEFAULT_START_WORDS = ("START", "UNSTOP")
# What workspace.json and the command call the defaults beside the languages' additions (not an ISO 639-3 code).
DEFAULTS = "default"

MAX_WORD_LENGTH = 32
MAX_WORDS_PER_LANGUAGE = 20
MAX_CONFIRMATION_LENGTH = 640

Kind = Literal["stop", "start"]


class OptOutWordsError(ValueError):
    """A word list or confirmation that can't be stored; the message names the language and the problem."""


@dataclass(frozen=True)
class Keyword:
    """What a message's text is: a stop or start word, and the language it was added for (None: a default)."""

    kind: Kind
    language: str | None


def _fold(text: str) -> str:
    return text.strip().casefold()


def match_keyword(workspace: Workspace, text: str) -> Keyword | None:
    """The keyword `text` is in this workspace, or None for an ordinary message."""
    folded = _fold(text)
    if not folded:
        return None
    for kind, defaults, added in (
        ("stop", DEFAULT_STOP_WORDS, workspace.stop_words),
        ("start", DEFAULT_START_WORDS, workspace.start_words),
    ):
        for language, words in (added or {}).items():
            if folded in (_fold(w) for w in words):
                return Keyword(kind, language)  # type: ignore[arg-type]  # one of the two literals above
        if folded in (_fold(w) for w in defaults):
            return Keyword(kind, None)  # type: ignore[arg-type]
    return None


def confirmation_for(workspace: Workspace, keyword: Keyword, contact_language: str | None) -> tuple[str, str] | None:
    """`(language, text)` of the confirmation a contact who just stopped gets: in the keyword's language, else the
    contact's, else the workspace's primary language; None when the workspace has none in any of them."""
    confirmations = workspace.stop_confirmations or {}
    for language in (keyword.language, contact_language, workspace.primary_language):
        if language and confirmations.get(language):
            return language, confirmations[language]
    return None


def described(workspace: Workspace) -> dict[str, dict[str, list[str]] | dict[str, str]]:
    """The vocabulary as workspace.json and `herald workspace ... --json` show it."""
    return {
        "stop_words": {DEFAULTS: list(DEFAULT_STOP_WORDS), **(workspace.stop_words or {})},
        "start_words": {DEFAULTS: list(DEFAULT_START_WORDS), **(workspace.start_words or {})},
        "stop_confirmations": dict(workspace.stop_confirmations or {}),
    }


def _split(item: str, option: str) -> tuple[str, str]:
    language, sep, value = item.partition("=")
    language = language.strip().lower()
    if not sep or not is_contact_language(language):
        raise OptOutWordsError(
            f"{option} takes LANGUAGE=VALUE with an ISO 639-3 language code, e.g. kin=..., got {item!r}"
        )
    return language, value.strip()


def updated_words(current: dict[str, list[str]], items: list[str], option: str) -> dict[str, list[str]]:
    """`current` with each `LANGUAGE=WORD,WORD` of `items` replacing that language's words (`LANGUAGE=` removes
    them). Words are kept upper-cased, once each."""
    words_by_language = dict(current or {})
    for item in items:
        language, value = _split(item, option)
        words = list(dict.fromkeys(w.strip().upper() for w in value.split(",") if w.strip()))
        for word in words:
            if len(word) > MAX_WORD_LENGTH or any(c.isspace() for c in word):
                raise OptOutWordsError(
                    f"{option}: {word!r} ({language}) must be one word of at most {MAX_WORD_LENGTH} characters"
                )
        if len(words) > MAX_WORDS_PER_LANGUAGE:
            raise OptOutWordsError(f"{option}: at most {MAX_WORDS_PER_LANGUAGE} words per language ({language})")
        if words:
            words_by_language[language] = words
        else:
            words_by_language.pop(language, None)
    return words_by_language


def updated_confirmations(current: dict[str, str], items: list[str]) -> dict[str, str]:
    """`current` with each `LANGUAGE=TEXT` of `items` set (`LANGUAGE=` removes that language's confirmation)."""
    confirmations = dict(current or {})
    for item in items:
        language, text = _split(item, "--stop-confirmation")
        if len(text) > MAX_CONFIRMATION_LENGTH:
            raise OptOutWordsError(
                f"--stop-confirmation: the {language} text is longer than {MAX_CONFIRMATION_LENGTH} characters"
            )
        if text:
            confirmations[language] = text
        else:
            confirmations.pop(language, None)
    return confirmations


def check_disjoint(stop_words: dict[str, list[str]], start_words: dict[str, list[str]]) -> None:
    """A word can't both stop and start a contact."""
    stops = {_fold(w) for w in DEFAULT_STOP_WORDS} | {_fold(w) for ws in stop_words.values() for w in ws}
    starts = {_fold(w) for w in DEFAULT_START_WORDS} | {_fold(w) for ws in start_words.values() for w in ws}
    both = sorted(stops & starts)
    if both:
        raise OptOutWordsError(f"{both[0].upper()!r} can't be both a stop word and a start word")
