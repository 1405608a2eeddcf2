"""Which translation each contact gets.

Candidates, in order: the contact's language (when the workspace sends in it), the workspace's primary language,
the broadcast's base language. Text, attachments and quick replies each come from the first candidate that has
them, so a Spanish speaker can get Spanish text with the base language's picture.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Content:
    text: str
    text_language: str | None
    attachments: tuple[str, ...]
    quick_replies: tuple[dict[str, Any], ...]


def candidate_languages(
    contact_language: str | None, workspace_languages: list[str], base_language: str
) -> tuple[str, ...]:
    candidates = []
    if contact_language and contact_language in workspace_languages:
        candidates.append(contact_language)
    if workspace_languages:
        candidates.append(workspace_languages[0])
    candidates.append(base_language)
    return tuple(dict.fromkeys(candidates))


def choose_content(translations: dict[str, dict[str, Any]], candidates: tuple[str, ...]) -> Content:
    def first(part: str) -> tuple[Any, str | None]:
        for language in candidates:
            value = translations.get(language, {}).get(part)
            if value:
                return value, language
        return None, None

    text, text_language = first("text")
    attachments, _ = first("attachments")
    quick_replies, _ = first("quick_replies")
    return Content(text or "", text_language, tuple(attachments or ()), tuple(quick_replies or ()))
