"""Creating workspaces and API tokens from the command line (and for the demo `herald serve` sets up).

Every input is checked here, once, with a message a person can act on; callers turn `ProvisioningError` into
their own kind of failure (a command's non-zero exit).
"""

from collections.abc import Sequence
from typing import cast

import pycountry
import pytz
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, Q
from rest_framework.throttling import ScopedRateThrottle

from herald.languages import is_translation_language

from . import optout_words
from .models import APIToken, Membership, Role, Workspace, hash_token_key
from .send_window import SendWindowError, parse_compact
from .zones import known_zone

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


DEFAULT_TIMEZONE = "UTC"


def parse_timezone(name: str | None, country: str = "") -> str:
    """An IANA zone name, spelled as the database spells it. Without one: the country's zone when it has exactly
    one (RW: Africa/Kigali), else UTC (a country of several zones has no right guess)."""
    if name is None or not name.strip():
        zones = pytz.country_timezones.get(country, []) if country else []
        return zones[0] if len(zones) == 1 else DEFAULT_TIMEZONE
    zone = known_zone(name)
    if zone is None:
        raise ProvisioningError(
            f"Unknown timezone {name!r}: use an IANA zone name such as Africa/Kigali, America/New_York or UTC."
        )
    return zone


def parse_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ProvisioningError("A workspace needs a name.")
    max_length = cast(int, Workspace._meta.get_field("name").max_length)  # a CharField's: never None
    if len(name) > max_length:
        raise ProvisioningError(f"Workspace names have at most {max_length} characters.")
    return name


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


def parse_send_window(text: str) -> dict[str, object] | None:
    """A default send window as the workspace stores it: its zone null (the workspace's) unless the text names one."""
    try:
        window = parse_compact(text, None)
    except SendWindowError as error:
        raise ProvisioningError(
            f"Bad send window: {f'{error.field}: ' if error.field else ''}{error.message}"
        ) from None
    return window.as_json() if window else None


def create_workspace(
    name: str,
    country: str | None = None,
    languages: list[str] | None = None,
    anonymous: bool = False,
    api_rates: list[str] | None = None,
    media_quota: str | None = None,
    timezone: str | None = None,
) -> Workspace:
    country_code = parse_country(country)
    return Workspace.objects.create(
        name=parse_name(name),
        country=country_code,
        languages=parse_languages(languages),
        is_anonymous=anonymous,
        api_rates=parse_api_rates(api_rates),
        media_quota_bytes=parse_media_quota(media_quota),
        timezone=parse_timezone(timezone, country_code),
    )


def update_workspace(
    workspace: Workspace,
    name: str | None = None,
    country: str | None = None,
    languages: list[str] | None = None,
    timezone: str | None = None,
    send_window: str | None = None,
    *,
    stop_words: list[str] | None = None,
    start_words: list[str] | None = None,
    stop_confirmations: list[str] | None = None,
) -> Workspace:
    """Change what is given and nothing else; every value is checked before any is written. A new country doesn't
    move the timezone: a workspace's local time changes only when `timezone` says so. `send_window` is the command
    line's form (`send_window.parse_compact`: `mon-fri 08:00-20:00 [ZONE]`, or `none`); without a zone it follows
    the workspace's timezone. The opt-out options take `LANGUAGE=VALUE` items (herald/workspaces/optout_words.py)."""
    changes: dict[str, object] = {}
    try:
        if stop_words:
            changes["stop_words"] = optout_words.updated_words(workspace.stop_words, stop_words, "--stop-words")
        if start_words:
            changes["start_words"] = optout_words.updated_words(workspace.start_words, start_words, "--start-words")
        if stop_words or start_words:
            optout_words.check_disjoint(
                cast(dict, changes.get("stop_words", workspace.stop_words)),
                cast(dict, changes.get("start_words", workspace.start_words)),
            )
        if stop_confirmations:
            changes["stop_confirmations"] = optout_words.updated_confirmations(
                workspace.stop_confirmations, stop_confirmations
            )
    except optout_words.OptOutWordsError as exc:
        raise ProvisioningError(str(exc)) from None
    if name is not None:
        changes["name"] = parse_name(name)
    if country is not None:
        changes["country"] = parse_country(country)
    if languages is not None:
        changes["languages"] = parse_languages(languages)
    if timezone is not None:
        changes["timezone"] = parse_timezone(timezone or None, str(changes.get("country", workspace.country)))
    if send_window is not None:
        changes["send_window"] = parse_send_window(send_window)
    if not changes:
        raise ProvisioningError(
            "Nothing to change: give --name, --country, --languages, --timezone, --send-window, --stop-words,"
            " --start-words or --stop-confirmation."
        )
    for field, value in changes.items():
        setattr(workspace, field, value)
    workspace.save(update_fields=list(changes))
    return workspace


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
    email = parse_email(email)
    role_value = parse_role(role) if role else None

    with transaction.atomic():
        user, _ = get_user_model().objects.get_or_create(username=email, defaults={"email": email})
        membership, created = Membership.objects.get_or_create(
            workspace=workspace, user=user, defaults={"role": role_value or Role.ADMINISTRATOR}
        )
        if not created and role_value and membership.role != role_value:
            membership.role = role_value
            membership.save(update_fields=["role"])
        if membership.role not in APIToken.ALLOWED_ROLES:
            # Raised inside the transaction: the user and membership it may have made go with it.
            raise ProvisioningError(
                f"{email} would be an agent in {workspace.name}, and agents can't have API tokens: only admins "
                "and editors use the API. Give --role editor or --role admin to make one."
            )
        return APIToken.create_for(workspace, user)


def parse_role(name: str) -> Role:
    try:
        return Role.from_name(name)
    except ValueError as e:
        raise ProvisioningError(str(e)) from None


def change_role(workspace: Workspace, email: str, role: str) -> tuple[Membership, int]:
    """Give a member another role; returns the membership and how many working tokens they have there (which stop
    working while the role is one that can't use tokens, and work again once it can)."""
    membership = _membership(workspace, parse_email(email))
    membership.role = parse_role(role)
    membership.save(update_fields=["role"])
    tokens = workspace.api_tokens.filter(user=membership.user, is_active=True).count()
    return membership, tokens


def _membership(workspace: Workspace, email: str) -> Membership:
    membership = Membership.objects.select_related("user").filter(workspace=workspace, user__username=email).first()
    if membership is None:
        raise ProvisioningError(
            f"{email} is not a member of workspace {workspace.uuid}: `herald member list --workspace "
            f"{workspace.uuid}` shows who is."
        )
    return membership


def parse_email(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ProvisioningError(f"Not an e-mail address: {email!r}.") from None
    return email


def active_tokens(workspace: Workspace):
    """The workspace's working tokens, oldest first, with their user and role at hand."""
    roles = dict(Membership.objects.filter(workspace=workspace).values_list("user_id", "role"))
    tokens = list(workspace.api_tokens.filter(is_active=True).select_related("user").order_by("created_on", "id"))
    for token in tokens:
        token.role_name = Role(roles[token.user_id]).label if token.user_id in roles else None
    return tokens


def find_tokens(workspace: Workspace, reference: str) -> list[APIToken]:
    """The workspace's tokens `reference` names: its id or key prefix as `herald token list` shows them, or the
    whole key. Refused unless it names exactly one."""
    reference = (reference or "").strip()
    tokens = workspace.api_tokens.select_related("user")
    if len(reference) == APIToken.KEY_LENGTH:
        found = list(tokens.filter(key_hash=hash_token_key(reference)))
    else:
        by_id = Q(id=int(reference)) if reference.isdigit() else Q(pk__in=[])
        by_prefix = Q(prefix=reference) if len(reference) == APIToken.PREFIX_LENGTH else Q(pk__in=[])
        found = list(tokens.filter(by_id | by_prefix))
    if not found:
        raise ProvisioningError(
            f"No token {reference!r} in workspace {workspace.uuid}: give its id or key prefix as "
            f"`herald token list --workspace {workspace.uuid}` shows them."
        )
    if len(found) > 1:
        raise ProvisioningError(f"{reference!r} names {len(found)} tokens: give the id of the one you mean.")
    return found


def revoke_tokens(workspace: Workspace, references: Sequence[str] = (), email: str | None = None) -> list[APIToken]:
    """Revoke the tokens named by `references` and every token of `email` in `workspace`; all or nothing: any name
    that matches nothing refuses the lot. Returns the tokens that were still active (now revoked)."""
    if not references and not email:
        raise ProvisioningError("Name the tokens to revoke (their ids or key prefixes) or give --email.")
    tokens = {token.id: token for reference in references for token in find_tokens(workspace, reference)}
    if email:
        user = _member_or_token_holder(workspace, parse_email(email))
        tokens.update((token.id, token) for token in workspace.api_tokens.filter(user=user).select_related("user"))
    revoked = [token for token in tokens.values() if token.is_active]
    APIToken.objects.filter(id__in=[token.id for token in revoked]).update(is_active=False)
    return sorted(revoked, key=lambda token: token.id)


def _member_or_token_holder(workspace: Workspace, email: str):
    user = (
        get_user_model()
        .objects.filter(Q(memberships__workspace=workspace) | Q(api_tokens__workspace=workspace), username=email)
        .distinct()
        .first()
    )
    if user is None:
        raise ProvisioningError(f"{email} is not a member of workspace {workspace.uuid} and has no token there.")
    return user


def members(workspace: Workspace):
    """The workspace's memberships, oldest first, each with `active_tokens`: how many working tokens it has."""
    return (
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .annotate(
            active_tokens=Count(
                "user__api_tokens", filter=Q(user__api_tokens__workspace=workspace, user__api_tokens__is_active=True)
            )
        )
        .order_by("id")
    )


def remove_member(workspace: Workspace, email: str) -> tuple[Membership, list[APIToken]]:
    """End `email`'s membership of `workspace` and revoke their tokens there (their other workspaces are untouched).
    Returns the membership that was removed and the tokens that were revoked."""
    email = parse_email(email)
    with transaction.atomic():
        membership = _membership(workspace, email)
        revoked = revoke_tokens(workspace, email=email)
        membership.delete()
    return membership, revoked


def create_user(workspace: Workspace, email: str, role: str | None, password: str) -> Membership:
    """A user who signs in to the web interface with `email` and `password`, a member of `workspace` (as admin unless
    `role` says otherwise). An existing user keeps their other memberships; their role here and their password are
    set to what is given."""
    email = parse_email(email)
    role_value = parse_role(role) if role else Role.ADMINISTRATOR
    with transaction.atomic():
        user, _ = get_user_model().objects.get_or_create(username=email, defaults={"email": email})
        _set_password(user, password)
        membership, _ = Membership.objects.update_or_create(
            workspace=workspace, user=user, defaults={"role": role_value}
        )
    return membership


def change_password(email: str, password: str) -> None:
    """Give an existing user a new password; their signed-in sessions end (Django checks the password's hash)."""
    user = get_user_model().objects.filter(username=parse_email(email)).first()
    if user is None:
        raise ProvisioningError(f"No user {email!r}: `herald user create` makes one.")
    _set_password(user, password)


def _set_password(user, password: str) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ProvisioningError("That password won't do: " + " ".join(error.messages)) from None
    user.set_password(password)
    user.save()
