"""WhatsApp's message templates: listed by `GET {base_url}/{business_account_id}/message_templates` (Graph API,
paged: `{"data": [...], "paging": {"cursors": {"after"}, "next"}}`), and sent as a `template` message.

A listed template is `{"name", "language": "en_US", "status": "APPROVED", "category", "id", "components": [{"type":
"BODY", "text": "Hi {{1}}"}, {"type": "HEADER", "format": "TEXT" | "IMAGE" ...}, {"type": "BUTTONS", "buttons":
[...]}]}`; it is kept in RapidPro's simplified components (see TemplateTranslation). Herald fills in the body's
variables only: a template with header or button variables is kept but a broadcast can't use it.
"""

import re
from typing import Any

from herald.channels import http
from herald.channels.base import ChannelConfigError, ProviderTemplate, SendError
from herald.channels.models import Channel, TemplateStatus
from herald.languages import provider_locale

from . import errors

STATUSES = {
    "PENDING": TemplateStatus.PENDING,
    "APPROVED": TemplateStatus.APPROVED,
    "REJECTED": TemplateStatus.REJECTED,
    "PAUSED": TemplateStatus.PAUSED,
    "DISABLED": TemplateStatus.DISABLED,
    "IN_APPEAL": TemplateStatus.IN_APPEAL,
}  # anything else (DELETED, PENDING_DELETION, LIMIT_EXCEEDED ...) is not kept
VARIABLE = re.compile(r"{{\s*(\d+)\s*}}")
PAGE_SIZE = 100
# A business account with more than this many pages of templates is surely answering in a loop.
MAX_PAGES = 100


def fetch(channel: Channel, headers: dict[str, str]) -> list[ProviderTemplate]:
    account = channel.config.get("business_account_id")
    if not account:
        raise ChannelConfigError(
            "the channel has no business_account_id: add it to sync its message templates", field="business_account_id"
        )
    url = f"{channel.config['base_url']}/{account}/message_templates"
    listed: list[ProviderTemplate] = []
    after = ""
    for _ in range(MAX_PAGES):
        page = _page(url + f"?limit={PAGE_SIZE}" + (f"&after={after}" if after else ""), headers)
        listed += [t for raw in _list(page.get("data")) if (t := _template(raw)) is not None]
        paging = _object(page.get("paging"))
        cursors = _object(paging.get("cursors"))
        after = str(cursors.get("after") or "")
        if not paging.get("next") or not after:  # Graph leaves `next` out on the last page
            return listed
    raise ChannelConfigError(f"WhatsApp listed more than {MAX_PAGES} pages of templates")


def _page(url: str, headers: dict[str, str]) -> dict[str, Any]:
    try:
        answer = http.request("GET", url, headers=headers, check=False)
    except SendError as exc:
        raise ChannelConfigError(f"could not ask WhatsApp for the templates: {exc.detail}") from None
    if answer.status_code != 200:
        _, detail = errors.describe(answer)
        raise ChannelConfigError(f"WhatsApp refused the template list: {detail}")
    body = answer.json()
    if not isinstance(body, dict):
        raise ChannelConfigError(f"WhatsApp's template list is not a JSON object: {answer.snippet or '(empty)'}")
    return body


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _template(raw: dict[str, Any]) -> ProviderTemplate | None:
    status = STATUSES.get(str(raw.get("status", "")).upper())
    name, language = raw.get("name"), raw.get("language")
    if status is None or not isinstance(name, str) or not name or not isinstance(language, str) or not language:
        return None
    components, variables = _components(_list(raw.get("components")))
    return ProviderTemplate(
        name=name[:512],
        locale=provider_locale(language)[:8],
        external_locale=language[:16],
        status=status,
        components=components,
        variables=variables,
        external_id=str(raw.get("id") or "")[:64],
        namespace=str(raw.get("namespace") or "")[:64],
    )


def _components(raw: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """RapidPro's simplified components, in header, body, footer, buttons order, and their variables' types."""
    by_type = {str(c.get("type", "")).upper(): c for c in raw}
    components: list[dict[str, Any]] = []
    variables: list[dict[str, str]] = []

    def numbered(names: list[str], kind: str) -> dict[str, int]:
        indexes = {}
        for name in names:
            variables.append({"type": kind})
            indexes[name] = len(variables) - 1
        return indexes

    def placeholders(text: str) -> list[str]:
        return sorted(set(VARIABLE.findall(text)), key=int)

    if header := by_type.get("HEADER"):
        text, kind = str(header.get("text") or ""), str(header.get("format") or "TEXT").upper()
        names = placeholders(text) if kind == "TEXT" else ["1"]
        subtype = "text" if kind == "TEXT" else "media"
        components.append({"name": "header", "type": f"header/{subtype}", "content": text,
                           "variables": numbered(names, kind.lower())})  # fmt: skip
    if body := by_type.get("BODY"):
        text = str(body.get("text") or "")
        components.append({"name": "body", "type": "body/text", "content": text,
                           "variables": numbered(placeholders(text), "text")})  # fmt: skip
    if footer := by_type.get("FOOTER"):
        components.append({"name": "footer", "type": "footer/text", "content": str(footer.get("text") or ""),
                           "variables": {}})  # fmt: skip
    for i, button in enumerate(_list((by_type.get("BUTTONS") or {}).get("buttons"))):
        kind = str(button.get("type", "")).lower()
        content = str(button.get("url") or button.get("phone_number") or button.get("text") or "")
        names = placeholders(content) if kind in ("url", "quick_reply") else []
        components.append({"name": f"button.{i}", "type": f"button/{kind}", "content": content,
                           "display": str(button.get("text") or ""), "variables": numbered(names, "text")})  # fmt: skip
    return components, variables


def template_message(templating: dict[str, Any]) -> dict[str, Any]:
    """A `template` message's object, from a message's `templating` (herald/msgs/compose.py): its name, language
    (`deterministic`: exactly this one) and the body's parameters, in order."""
    content: dict[str, Any] = {
        "name": templating["template"]["name"],
        "language": {"policy": "deterministic", "code": templating["language"]},
    }
    values = templating.get("variables") or []
    if values:
        content["components"] = [{"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}]
    return content
