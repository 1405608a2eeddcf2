"""drf-spectacular glue: how the schema names our authentication and which URL variants it shows."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "herald.api.v2.auth.APITokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Your API token prefixed with "Token ", e.g. `Token 401f7ac837da42b97f613d78`',
        }


class BasicScheme(OpenApiAuthenticationExtension):
    target_class = "herald.api.v2.auth.APIBasicAuthentication"
    name = "basic"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "Your e-mail as user name, your API token as password",
        }


def drop_trailing_slash_variants(endpoints, **kwargs):
    """`/api/v2/x.json/` answers like `/api/v2/x.json`; the schema lists only the canonical URL."""
    return [e for e in endpoints if not e[0].endswith(".json/")]
