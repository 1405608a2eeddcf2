"""The config keys of a `whatsapp` channel (WhatsApp Cloud API), all required but `base_url` and
`business_account_id`."""

# Meta's Graph API, versioned in the path (v26.0 is current in 12/2026; v20.0 was retired 2026-09-24): a channel
# keeps the version it was made with, so a new version is a config change, tested first.
GRAPH_URL = "https://graph.facebook.com/v26.0"

KEYS = {
    "base_url": f"the Graph API's base URL, version included (default {GRAPH_URL})",
    "access_token": "a system user's access token with the whatsapp_business_messaging permission",
    "phone_number_id": "the business phone number's ID (WhatsApp Manager > API Setup), not the number itself",
    "app_secret": "the Meta app's secret, which signs webhooks (X-Hub-Signature-256)",
    "verify_token": "any string you choose, pasted with the callback URL into the app's webhook settings",
    "business_account_id": "optional: the WhatsApp Business Account's ID (WABA ID), to sync its message templates",
}
REQUIRED = ("access_token", "phone_number_id", "app_secret", "verify_token")
