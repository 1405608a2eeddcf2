"""The compose form as the body of `POST /api/v2/broadcasts.json`, and the API's errors placed beside the form's fields.

The page keeps no rule of its own: `ComposeForm.body` only changes the shape of what was typed (chips into `groups`,
`contacts` and `urns`; one text box per language into `text`; a local date and time into an ISO 8601 instant), and
the API's serializer judges the result. `placed_errors` files each of the serializer's messages, unchanged, under the
form field it is about.
"""

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.http import QueryDict

from herald.msgs.recurrence import instant_of
from herald.workspaces.models import Workspace

from . import recipients as recipient_refs

# Where the send window comes from: the workspace's default (left out of the body), none (`null`), or the form's.
WINDOW_WORKSPACE, WINDOW_ANY, WINDOW_CUSTOM = "workspace", "any", "custom"
REPEATS = ("", "daily", "weekly", "monthly", "yearly")
PER_LANGUAGE = ("text", "attachments", "quick_replies")
# Where the API's errors go: a top-level key's slot, or (for objects) each inner key's; the rest go above the form.
SLOTS = {
    "urns": "recipients",
    "contacts": "recipients",
    "groups": "recipients",
    "send_at": "send_at",
    "expire_at": "expire_at",
    "max_per_second": "max_per_second",
}
INNER_SLOTS = {
    "schedule": {"repeat": "repeat", "until": "repeat_until"},
    "send_window": {"days": "window_days", "start": "window_start", "end": "window_end"},
}
FORM = "form"


@dataclass
class ComposeForm:
    """What the compose form holds, as typed (the page shows it back as typed)."""

    languages: list[str]
    recipients: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    attachments: dict[str, list[str]] = field(default_factory=dict)  # media UUIDs from POST media.json
    quick_replies: dict[str, str] = field(default_factory=dict)  # one a line
    send_at: str = ""  # the workspace's local time, as <input type="datetime-local"> gives it
    repeat: str = ""
    repeat_until: str = ""
    window: str = WINDOW_WORKSPACE
    window_days: list[str] = field(default_factory=list)
    window_start: str = ""
    window_end: str = ""
    expire_at: str = ""  # local time, as send_at
    max_per_second: str = ""

    @classmethod
    def from_post(cls, post: QueryDict, languages: list[str]) -> "ComposeForm":
        return cls(
            languages=languages,
            recipients=[v for v in post.getlist("recipients") if v],
            texts={lang: post.get(f"text_{lang}", "") for lang in languages},
            attachments={lang: [v for v in post.getlist(f"attachments_{lang}") if v] for lang in languages},
            quick_replies={lang: post.get(f"quick_replies_{lang}", "") for lang in languages},
            send_at=post.get("send_at", "").strip(),
            repeat=post.get("repeat", ""),
            repeat_until=post.get("repeat_until", "").strip(),
            window=post.get("window", WINDOW_WORKSPACE),
            window_days=post.getlist("window_days"),
            window_start=post.get("window_start", "").strip(),
            window_end=post.get("window_end", "").strip(),
            expire_at=post.get("expire_at", "").strip(),
            max_per_second=post.get("max_per_second", "").strip(),
        )

    def body(self, workspace: Workspace) -> dict[str, Any]:
        """The JSON body the API takes for this form. Languages keep the workspace's order, so the base language
        (the API's default: the first with text) is the primary one whenever it has a text."""
        body: dict[str, Any] = {}
        refs: dict[str, list[str]] = defaultdict(list)
        for value in self.recipients:
            kind, reference = recipient_refs.split(value)
            refs[kind].append(reference)
        for kind, key in (("urn", "urns"), ("contact", "contacts"), ("group", "groups")):
            if refs[kind]:
                body[key] = refs[kind]
        parts: dict[str, dict[str, Any]] = {
            "text": {lang: text for lang, text in self.texts.items() if text.strip()},
            "attachments": {lang: media for lang, media in self.attachments.items() if media},
            "quick_replies": {
                lang: [{"text": line.strip()} for line in replies.splitlines() if line.strip()]
                for lang, replies in self.quick_replies.items()
            },
        }
        for key, by_language in parts.items():
            if any(by_language.values()):
                body[key] = {lang: value for lang, value in by_language.items() if value}
        if self.send_at:
            body["send_at"] = as_instant(self.send_at, workspace.timezone)
        if self.expire_at:
            body["expire_at"] = as_instant(self.expire_at, workspace.timezone)
        if self.max_per_second:
            body["max_per_second"] = as_number(self.max_per_second)
        if self.repeat:
            body["schedule"] = {"repeat": self.repeat, **({"until": self.repeat_until} if self.repeat_until else {})}
        if self.window == WINDOW_ANY:
            body["send_window"] = None
        elif self.window == WINDOW_CUSTOM:
            body["send_window"] = {"days": self.window_days, "start": self.window_start, "end": self.window_end}
        return body


def as_instant(local: str, zone_name: str) -> str:
    """A datetime-local value (`2027-01-31T18:00`) as the ISO 8601 instant it names in the workspace's timezone;
    anything else as typed, for the API to refuse in its words."""
    try:
        moment = datetime.fromisoformat(local)
    except ValueError:
        return local
    if moment.tzinfo is None:
        moment = instant_of(moment, ZoneInfo(zone_name))
    return moment.isoformat()


def as_number(typed: str) -> int | str:
    """A whole number typed, as the JSON number a client would send; anything else as typed, for the API to refuse in
    its words."""
    return int(typed) if typed.isascii() and typed.isdigit() and len(typed) <= 18 else typed


def digest(body: dict[str, Any]) -> str:
    """A fingerprint of a body: Send sends only the body that was previewed."""
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def placed_errors(errors: dict[str, Any], languages: list[str]) -> dict[str, list[str]]:
    """The API's 400 body as messages by form slot: `recipients`, `text_<lang>`, `attachments_<lang>`,
    `quick_replies_<lang>`, `send_at`, `expire_at`, `max_per_second`, `repeat`, `repeat_until`, `window_*`, and
    `form` for the rest."""
    placed: dict[str, list[str]] = defaultdict(list)
    for key, value in errors.items():
        if key in SLOTS:
            placed[SLOTS[key]] += messages(value)
        elif key in PER_LANGUAGE and isinstance(value, dict):
            for lang, inner in value.items():
                placed[f"{key}_{lang}" if lang in languages else FORM] += messages(inner)
        elif key in INNER_SLOTS and isinstance(value, dict):
            for inner_key, inner in value.items():
                placed[INNER_SLOTS[key].get(inner_key, FORM)] += messages(inner)
        else:
            placed[FORM] += messages(value)
    return dict(placed)


def messages(value: Any) -> list[str]:
    """Every message in a (nested) DRF error value, in order: `{"0": ["Invalid URN: x."]}` gives the one message."""
    if isinstance(value, dict):
        return [m for inner in value.values() for m in messages(inner)]
    if isinstance(value, list):
        return [m for inner in value for m in messages(inner)]
    return [str(value)]
