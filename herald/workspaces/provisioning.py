"""Creating workspaces and API tokens from the command line (and for the demo `herald serve` sets up).

Every input is checked here, once, with a message a person can act on; callers turn `ProvisioningError` into
their own kind of failure (a command's non-zero exit).
"""

import pycountry
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from rest_framework.throttling import ScopedRateThrottle

from herald.languages import is_translation_language

from .models import APIToken, Membership, Role, Workspace

DEFAULT_LANGUAGES = ("eng",)


class ProvisioningError(ValueError):
    """Input that can't make a workspace or token; the message says what to fix."""


def parse_country(code: str | None) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased; empty for none."""
    if not code:
        return ""
    country = pycountry.countries.get(alpha_2=code.strip().upper())
    if country is None:
        raise ProvisioningError(f"Unknown country {code!r}: use a two-letter ISO 3166-1 code such as RW or US.")
    return country.alpha_2


def parse_languages(codes: list[str] | None) -> list[str]:
    """ISO-639-3 codes that broadcasts can be translated into; the first is the primary language."""
    if not codes:
        return list(DEFAULT_LANGUAGES)
    languages = []
    for code in codes:
        code = code.strip().lower()
        if not is_translation_language(code):
            raise ProvisioningError(
                f"Unknown language {code!r}: use ISO 639-3 codes that have a two-letter form, such as eng or spa."
            )
        if code not in languages:
            languages.append(code)
    return languages


def parse_api_rates(specs: list[str] | None) -> dict[str, str]:
    """`["v2=20/minute", ...]` → `{"v2": "20/minute"}`, in the format and scopes the API throttle understands."""
    scopes = sorted(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    rates = {}
    for spec in specs or []:
        scope, sep, rate = spec.partition("=")
        scope, rate = scope.strip(), rate.strip()
        if not sep or scope not in scopes:
            raise ProvisioningError(f"Bad API rate {spec!r}: write SCOPE=RATE with a scope among {', '.join(scopes)}.")
        try:
            # DRF's own parser, the one the API throttle uses: what is accepted here is what it will enforce.
            count, _ = ScopedRateThrottle().parse_rate(rate)
        except (ValueError, KeyError, IndexError):
            count = None
        if count is None or count < 1:
            raise ProvisioningError(
                f"Bad API rate {rate!r} for {scope}: write a number of requests per second, minute, hour or day, "
                "such as 20/minute or 3600/hour."
            )
        rates[scope] = rate
    return rates


def parse_media_quota(value: str | None) -> int | None:
    """`--media-quota`: a number of bytes (0 for no limit), or None for HERALD_MEDIA_QUOTA_BYTES."""
    if value is None:
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or int(text) >= 2**63:
        raise ProvisioningError(f"The media quota is a number of bytes (0 for no limit), not {value!r}.")
    return int(text)


def create_workspace(
    name: str,
    country: str | None = None,
    languages: list[str] | None = None,
    anonymous: bool = False,
    api_rates: list[str] | None = None,
    media_quota: str | None = None,
) -> Workspace:
    name = (name or "").strip()
    if not name:
        raise ProvisioningError("A workspace needs a name.")
    max_length = Workspace._meta.get_field("name").max_length
    if len(name) > max_length:
        raise ProvisioningError(f"Workspace names have at most {max_length} characters.")
    return Workspace.objects.create(
        name=name,
        country=parse_country(country),
        languages=parse_languages(languages),
        is_anonymous=anonymous,
        api_rates=parse_api_rates(api_rates),
        media_quota_bytes=parse_media_quota(media_quota),
    )


def find_workspace(uuid: str) -> Workspace:
    try:
        workspace = Workspace.objects.filter(uuid=uuid).first()
    except ValidationError:
        workspace = None
    if workspace is None:
        raise ProvisioningError(f"No workspace with UUID {uuid!r}: `herald workspace create` prints it.")
    return workspace


def create_token(workspace: Workspace, email: str, role: str | None = None) -> tuple[APIToken, str]:
    """A new API key for `email` in `workspace`: (token, key). The user and membership are made if missing
    (as admin unless `role` says otherwise); an existing member's role changes only when `role` is given."""
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ProvisioningError(f"Not an e-mail address: {email!r}.") from None
    try:
        role_value = Role.from_name(role) if role else None
    except ValueError as e:
        raise ProvisioningError(str(e)) from None

    with transaction.atomic():
        user, _ = get_user_model().objects.get_or_create(username=email, defaults={"email": email})
        membership, created = Membership.objects.get_or_create(
            workspace=workspace, user=user, defaults={"role": role_value or Role.ADMINISTRATOR}
        )
        if not created and role_value and membership.role != role_value:
            membership.role = role_value
            membership.save(update_fields=["role"])
        return APIToken.create_for(workspace, user)
