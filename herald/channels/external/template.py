"""How an `external` channel's request is filled in: its URL and body are templates of `{{variables}}`.

Variables: `{{text}}` (text, then one attachment URL per line), `{{to}}`, `{{to_no_plus}}`, `{{from}}`,
`{{from_no_plus}}`, `{{id}}` (the message UUID, which delivery reports quote back), `{{channel}}` (channel UUID),
`{{quick_replies}}`, and `{{session_status}}` (always empty, kept so RapidPro's default body works unchanged).
Each value is escaped for where it lands: `quote_plus` in the URL and urlencoded bodies, a JSON string in JSON
bodies (so `{"text": {{text}}}`; a quoted `"{{text}}"` is also accepted), XML character escapes in XML bodies.
`{{quick_replies}}` becomes `&quick_reply=Yes&quick_reply=No` in URLs and urlencoded bodies, a JSON array of
strings in JSON bodies and `<item>Yes</item><item>No</item>` in XML bodies.

Unlike RapidPro (docs/COMPATIBILITY.md, C16), variables are filled in one pass, so a message text that itself
contains `{{to}}` is sent as written, and a long text is sent in one request (the gateway splits SMS parts).
"""

import json
import re
from urllib.parse import quote_plus
from xml.sax.saxutils import escape as xml_escape

VARIABLES = ("text", "to", "to_no_plus", "from", "from_no_plus", "id", "channel", "quick_replies", "session_status")

# `{{name}}`, optionally wrapped in matching quotes (which JSON bodies drop: the JSON value brings its own).
_VARIABLE = re.compile(r"""(?P<quote>["']?)\{\{(?P<name>\w+)\}\}(?P=quote)""")


def escape(value: str, content_type: str) -> str:
    if content_type == "json":
        return json.dumps(value, ensure_ascii=False)
    if content_type == "xml":
        return xml_escape(value, {'"': "&quot;", "'": "&apos;"})
    return quote_plus(value)


def render_quick_replies(replies: list[str], content_type: str) -> str:
    if content_type == "json":
        return json.dumps(replies, ensure_ascii=False)
    if content_type == "xml":
        return "".join(f"<item>{escape(reply, 'xml')}</item>" for reply in replies)
    return "".join(f"&quick_reply={quote_plus(reply)}" for reply in replies)


def render(template: str, values: dict[str, str], replies: list[str], content_type: str) -> str:
    """Fill in `template` in one pass, each value escaped for `content_type`."""

    def fill(match: re.Match[str]) -> str:
        name: str = match["name"]
        quote: str = match["quote"]
        if name == "quick_replies":
            value = render_quick_replies(replies, content_type)
        elif name in values:
            value = escape(values[name], content_type)
        else:
            return match[0]  # not ours: left as written (validation rejects these up front)
        return value if content_type == "json" else f"{quote}{value}{quote}"

    return _VARIABLE.sub(fill, template)


def braced(name: str) -> str:
    return "{{" + name + "}}"


def unknown_variables(template: str) -> list[str]:
    return [m["name"] for m in _VARIABLE.finditer(template) if m["name"] not in VARIABLES]
