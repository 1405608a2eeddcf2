"""The form that adds a channel of one type, made from the type's own description (`config_keys`,
`required_config`, `config_defaults`, `default_tps`: herald/channels/base.py) and checked by nothing but
`registry.create_channel`, so the web refuses what `herald channel add` refuses, in the same words.

    form = channel_form(kind, request.POST)
    form.add(workspace)  # the Channel, or None with each ChannelConfigError beside the field it names

Secret-named keys (herald/channels/redaction.py) are password inputs and never rendered back, not even after a
refused submit; nor is a nested key such as the external type's `headers` (they often carry an API key), nor a
value holding a secret the channel logs would blank (a `send_url` with `?api_key=…`).
"""

from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from herald.channels.base import ChannelType
from herald.channels.models import Channel
from herald.channels.redaction import Redactor, channel_secrets, is_secret_name
from herald.channels.registry import ChannelConfigError, create_channel
from herald.workspaces.models import Workspace

# Config keys whose value is an object of names to values (the CLI's `--config headers.X-Api-Key=…`): a textarea
# of `Name: value` lines here.
NESTED_KEYS = frozenset({"headers"})
# The channel's own fields, before the type's config keys: the `field`s of `create_channel`'s errors.
CHANNEL_FIELDS = ("name", "address", "schemes", "country", "tps")
CONFIG_PREFIX = "config_"


class ChannelForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), required=False)
    address = forms.CharField(
        label=gettext_lazy("Address"),
        required=False,
        help_text=gettext_lazy("What it sends from, e.g. its phone number."),
    )
    schemes = forms.CharField(label=gettext_lazy("URN schemes"), required=False)
    country = forms.CharField(
        label=gettext_lazy("Country"),
        required=False,
        help_text=gettext_lazy("Two-letter code of its number's country: tel URNs of other countries avoid it."),
    )
    tps = forms.CharField(label=gettext_lazy("Messages per second"), required=False)

    def __init__(self, kind: ChannelType, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["schemes"].help_text = _("Comma-separated; default: %(schemes)s.") % {
            "schemes": ", ".join(kind.schemes)
        }
        self.fields["tps"].help_text = (
            _("Default: %(tps)d.") % {"tps": kind.default_tps} if kind.default_tps else _("Default: unlimited.")
        )
        for key, meaning in kind.config_keys.items():
            self.fields[CONFIG_PREFIX + key] = _config_field(kind, key, meaning)

    def config(self) -> dict[str, Any]:
        """The config keys given (empty ones left out, so the type's defaults apply)."""
        config: dict[str, Any] = {}
        for key in self.kind.config_keys:
            value = self.cleaned_data.get(CONFIG_PREFIX + key) or ""
            if key in NESTED_KEYS:
                nested = _name_values(value)
                if nested:
                    config[key] = nested
            elif value.strip():
                config[key] = value
        return config

    def add(self, workspace: Workspace) -> Channel | None:
        """The new channel, or None with the reason beside its field (or above the form)."""
        if not self.is_valid():
            return None
        data, config = self.cleaned_data, self.config()
        try:
            return create_channel(
                workspace,
                self.kind.code,
                data["name"],
                address=data["address"],
                schemes=data["schemes"].split(",") if data["schemes"].strip() else None,
                country=data["country"],
                tps=cast(Any, _tps(data["tps"])),  # a str is refused by create_channel, in its words
                config=config,
            )
        except ChannelConfigError as exc:
            # A provider's words may quote what was typed: never a secret of it.
            message = Redactor(channel_secrets(config)).text(str(exc))
            self.add_error(self.form_field(exc.field), message)
            return None

    def form_field(self, setting: str | None) -> str | None:
        """The form's field for the setting a `ChannelConfigError` is about (its `field`, set where it is raised);
        None, the form as a whole, for an error about no one setting."""
        if setting in CHANNEL_FIELDS:
            return setting
        return CONFIG_PREFIX + setting if setting in self.kind.config_keys else None

    def hide_secrets(self) -> None:
        """Before a refused form is shown again: what was typed into a secret field is not sent back."""
        if not self.is_bound:
            return
        data = cast(QueryDict, self.data).copy()  # a bound form's data: the request's POST
        # Also any value holding a secret the logs would blank (a send_url with `?api_key=…`, a URL's password).
        secrets = channel_secrets(self.config()) if hasattr(self, "cleaned_data") else []
        for key in self.kind.config_keys:
            name = CONFIG_PREFIX + key
            if is_secret_name(key) or key in NESTED_KEYS or any(secret in data.get(name, "") for secret in secrets):
                data[name] = ""
        self.data = data


def _config_field(kind: ChannelType, key: str, meaning: str) -> forms.Field:
    default = kind.config_defaults.get(key)
    help_text = meaning + (" " + _("Default: %(value)s.") % {"value": default} if default else "")
    label = key + ("" if key not in kind.required_config else " " + _("(required)"))
    if key in NESTED_KEYS:
        widget: forms.Widget = forms.Textarea(attrs={"rows": 3, "placeholder": "X-Api-Key: …"})
        help_text += " " + _("One “Name: value” a line.")
    elif is_secret_name(key):
        widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
    else:
        widget = forms.TextInput(attrs={"placeholder": default} if default else {})
    return forms.CharField(label=label, required=False, strip=False, widget=widget, help_text=help_text)


def _name_values(text: str) -> dict[str, str]:
    """`Name: value` lines → {name: value}; a line without a colon keeps it in the name, which the type's check
    then refuses in its own words ("invalid header name …")."""
    pairs = {}
    for line in text.splitlines():
        if line.strip():
            name, _, value = line.partition(":")
            pairs[name.strip()] = value.strip()
    return pairs


def _tps(text: str) -> int | str | None:
    """A whole number, or the text itself for `create_channel` to refuse with its message (None: the default)."""
    text = text.strip()
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() else text
