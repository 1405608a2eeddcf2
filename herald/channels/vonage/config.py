"""A `vonage` channel's configuration: the keys of Vonage's SMS API (RapidPro's "Vonage" channel asks for the same
two credentials), checked by the base's `validate_config` (required, one-line, `base_url` an http(s) URL)."""

DEFAULT_BASE_URL = "https://rest.nexmo.com"

KEYS = {
    "base_url": f"Vonage's REST API (default {DEFAULT_BASE_URL}; another for a proxy or a test server)",
    "api_key": "the account's API key (Vonage dashboard, API settings)",
    "api_secret": "the account's API secret",
    "signature_secret": "optional: the account's signature secret (MD5 hash); when set, receipts and incoming "
    "messages must carry a valid signature",
}
REQUIRED = ("api_key", "api_secret")
DEFAULTS = {"base_url": DEFAULT_BASE_URL}
