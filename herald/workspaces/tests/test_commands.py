"""`herald workspace create` / `update`, `herald token create` / `list` / `revoke` and `herald member list` /
`update` / `remove`."""

import json
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from herald.testing.fixtures import token_client
from herald.workspaces.models import APIToken, Membership, Role, Workspace

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_workspace_create_prints_the_uuid_of_the_new_workspace():
    printed = run(
        "workspace", "create", "--name", "Acme", "--country", "rw", "--languages", "eng, spa,eng", "--anonymous"
    )
    workspace = Workspace.objects.get()
    assert printed == str(workspace.uuid)
    assert (workspace.name, workspace.country, workspace.languages) == ("Acme", "RW", ["eng", "spa"])
    assert workspace.is_anonymous
    assert workspace.api_rates == {}


def test_workspace_create_defaults():
    run("workspace", "create", "--name", "Acme")
    workspace = Workspace.objects.get()
    assert (workspace.country, workspace.languages, workspace.is_anonymous) == ("", ["eng"], False)
    assert workspace.timezone == "UTC"


@pytest.mark.parametrize(
    ("args", "timezone"),
    [
        # A country of one zone gives it (pytz.country_timezones, from IANA's zone.tab) ...
        (["--country", "RW"], "Africa/Kigali"),
        (["--country", "fr"], "Europe/Paris"),
        # ... one of several gives none: UTC until told.
        (["--country", "US"], "UTC"),
        (["--country", "BR"], "UTC"),
        # Given, it wins over the country, and is spelled as the IANA database spells it.
        (["--country", "RW", "--timezone", "America/Sao_Paulo"], "America/Sao_Paulo"),
        (["--country", "US", "--timezone", " america/new_york "], "America/New_York"),
        (["--timezone", "UTC"], "UTC"),
        (["--timezone", "Etc/GMT-3"], "Etc/GMT-3"),
    ],
)
def test_workspace_create_timezone_is_given_or_comes_from_a_country_of_one_zone(args, timezone):
    printed = json.loads(run("workspace", "create", "--name", "Acme", *args, "--json"))
    assert printed["timezone"] == Workspace.objects.get().timezone == timezone


def test_workspace_update_changes_only_what_is_given(workspace_uuid):
    before = Workspace.objects.get()
    output = run("workspace", "update", "--workspace", workspace_uuid, "--timezone", "Africa/Kigali")
    assert output == f"Updated Acme ({workspace_uuid})."
    # A new country leaves the timezone alone: local time moves only when told.
    printed = json.loads(
        run("workspace", "update", "--workspace", workspace_uuid, "--country", "fr", "--languages", "fra,eng", "--json")
    )
    after = Workspace.objects.get()
    assert (after.name, after.country, after.languages, after.timezone) == (
        "Acme",
        "FR",
        ["fra", "eng"],
        "Africa/Kigali",
    )
    assert printed == {
        "uuid": workspace_uuid,
        "name": "Acme",
        "country": "FR",
        "languages": ["fra", "eng"],
        "timezone": "Africa/Kigali",
        "anon": False,
        "api_rates": {},
        "media_quota_bytes": None,
        "send_window": None,
    }
    assert (after.is_anonymous, after.api_rates, after.created_on) == (False, {}, before.created_on)
    # An empty --timezone goes back to the default: here France's only zone.
    run("workspace", "update", "--workspace", workspace_uuid, "--timezone", "")
    assert Workspace.objects.get().timezone == "Europe/Paris"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timezone", "Mars/Olympus_Mons"], "Unknown timezone 'Mars/Olympus_Mons': use an IANA zone name"),
        (["--timezone", "+02:00"], "Unknown timezone '+02:00'"),
        (["--timezone", "../../etc/passwd"], "Unknown timezone '../../etc/passwd'"),
        # The server's own zone, whatever it is, is no workspace's.
        (["--timezone", "localtime"], "Unknown timezone 'localtime'"),
        (["--timezone", "Europe/Paris", "--country", "XX"], "Unknown country 'XX'"),
        (["--timezone", "Europe/Paris", "--name", " "], "A workspace needs a name."),
        ([], "Nothing to change: give --name, --country, --languages, --timezone or --send-window."),
        (["--send-window", "mon-fri 08:00"], "Bad send window: Write DAYS START-END [TIMEZONE]"),
        (["--send-window", "mon-xyz 08:00-20:00"], "Bad send window: days: Unknown day 'xyz'"),
        (["--send-window", "mon,funday 08:00-20:00"], "Bad send window: days: Unknown day 'funday'"),
        (["--send-window", "mon 25:00-20:00"], "Bad send window: start: Must be a time of day as HH:MM or HH:MM:SS"),
        (["--send-window", "mon 08:00-8pm"], "Bad send window: end: Must be a time of day as HH:MM or HH:MM:SS"),
        (["--send-window", "mon 08:00-08:00"], "Bad send window: end: Must differ from start"),
        (["--send-window", "mon 08:00-20:00 Mars/Base"], "Bad send window: timezone: Unknown timezone 'Mars/Base'"),
        (["--send-window", "mon 08:00-20:00", "--timezone", "Mars/Base"], "Unknown timezone 'Mars/Base'"),
    ],
)
def test_workspace_update_refuses_bad_input_and_changes_nothing(workspace_uuid, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run("workspace", "update", "--workspace", workspace_uuid, *args)
    workspace = Workspace.objects.get()
    assert (workspace.name, workspace.country, workspace.timezone, workspace.send_window) == ("Acme", "", "UTC", None)


def test_workspace_update_sets_and_clears_the_default_send_window(workspace_uuid):
    update = ("workspace", "update", "--workspace", workspace_uuid, "--json")
    # Without a zone it keeps none of its own: it follows the workspace's timezone.
    printed = json.loads(run(*update, "--send-window", "fri-mon 22:00-06:30"))
    expected = {"days": ["mon", "fri", "sat", "sun"], "start": "22:00", "end": "06:30", "timezone": None}
    assert printed["send_window"] == Workspace.objects.get().send_window == expected
    printed = json.loads(run(*update, "--send-window", "mon,wed 08:00-24:00 africa/kigali"))
    expected = {"days": ["mon", "wed"], "start": "08:00", "end": "24:00", "timezone": "Africa/Kigali"}
    assert printed["send_window"] == Workspace.objects.get().send_window == expected
    assert json.loads(run(*update, "--send-window", "none"))["send_window"] is None
    assert Workspace.objects.get().send_window is None


def test_workspace_update_needs_an_existing_workspace(db):
    with pytest.raises(CommandError, match="No workspace with UUID 'nope'"):
        run("workspace", "update", "--workspace", "nope", "--name", "B")


def test_workspace_create_json():
    printed = run("workspace", "create", "--name", "Acme", "--country", "US", "--api-rate", "v2=20/minute", "--json")
    workspace = Workspace.objects.get()
    assert json.loads(printed) == {
        "uuid": str(workspace.uuid),
        "name": "Acme",
        "country": "US",
        "languages": ["eng"],
        # The United States have many zones: no guess.
        "timezone": "UTC",
        "anon": False,
        "api_rates": {"v2": "20/minute"},
        "media_quota_bytes": None,
        "send_window": None,
    }


def test_api_rates_may_be_given_together_or_repeated():
    run("workspace", "create", "--name", "A", "--api-rate", "v2=20/minute", "v2.contacts=5/s", "--api-rate", "v2=9/h")
    assert Workspace.objects.get().api_rates == {"v2": "9/h", "v2.contacts": "5/s"}


def test_api_rate_is_what_the_throttle_enforces():
    workspace_uuid = run("workspace", "create", "--name", "Acme", "--api-rate", "v2=1/minute")
    client = token_client(run("token", "create", "--workspace", workspace_uuid, "--email", "bob@example.com"))
    assert client.get("/api/v2/workspace.json").status_code == 200
    assert client.get("/api/v2/workspace.json").status_code == 429


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", " "], "A workspace needs a name."),
        (["--name", "x" * 129], "Workspace names have at most 128 characters."),
        (["--name", "A", "--country", "XX"], "Unknown country 'XX'"),
        (["--name", "A", "--country", "RWA"], "Unknown country 'RWA'"),
        (["--name", "A", "--languages", "eng,xyz"], "Unknown language 'xyz'"),
        (["--name", "A", "--languages", "english"], "Unknown language 'english'"),
        (["--name", "A", "--timezone", "Africa/Wakanda"], "Unknown timezone 'Africa/Wakanda'"),
        (["--name", "A", "--country", "RW", "--timezone", "CAT"], "Unknown timezone 'CAT'"),
        (["--name", "A", "--api-rate", "v3=1/m"], "Bad API rate 'v3=1/m': write SCOPE=RATE"),
        (["--name", "A", "--api-rate", "20/minute"], "Bad API rate '20/minute': write SCOPE=RATE"),
        (["--name", "A", "--api-rate", "v2=abc"], "Bad API rate 'abc' for v2"),
        (["--name", "A", "--api-rate", "v2=20"], "Bad API rate '20' for v2"),
        (["--name", "A", "--api-rate", "v2=20/fortnight"], "Bad API rate '20/fortnight' for v2"),
        (["--name", "A", "--api-rate", "v2=0/minute"], "Bad API rate '0/minute' for v2"),
        (["--name", "A", "--api-rate", "v2=-5/minute"], "Bad API rate '-5/minute' for v2"),
        (["--name", "A", "--api-rate", "v2=1/2/m"], "Bad API rate '1/2/m' for v2"),
        (["--name", "A", "--media-quota", "-1"], "The media quota is a number of bytes (0 for no limit), not '-1'."),
        (["--name", "A", "--media-quota", "1GB"], "The media quota is a number of bytes (0 for no limit), not '1GB'."),
        (["--name", "A", "--media-quota", str(2**63)], "The media quota is a number of bytes"),
        ([], "the following arguments are required: --name"),
    ],
)
def test_workspace_create_refuses_bad_input_clearly(args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run("workspace", "create", *args)
    assert not Workspace.objects.exists()


@pytest.mark.parametrize("quota", ["5000", "0"])
def test_media_quota_override_is_kept_and_printed(quota):
    printed = run("workspace", "create", "--name", "Acme", "--media-quota", quota, "--json")
    assert json.loads(printed)["media_quota_bytes"] == int(quota)
    assert Workspace.objects.get().media_quota_bytes == int(quota)


def test_workspace_needs_an_action():
    with pytest.raises(CommandError, match="required: ACTION"):
        run("workspace")


@pytest.fixture
def workspace_uuid():
    return run("workspace", "create", "--name", "Acme")


def test_token_create_makes_an_admin_and_prints_a_working_key(workspace_uuid):
    key = run("token", "create", "--workspace", workspace_uuid, "--email", "ana@example.com")
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    membership = Membership.objects.get(user__email="ana@example.com")
    assert membership.role == Role.ADMINISTRATOR
    assert str(membership.workspace.uuid) == workspace_uuid
    # Only the hash is kept.
    assert not APIToken.objects.filter(key_hash=key).exists()

    response = token_client(key).get("/api/v2/workspace.json")
    assert response.status_code == 200
    assert response.json()["uuid"] == workspace_uuid


def test_token_create_with_role_for_a_new_member(workspace_uuid):
    run("token", "create", "--workspace", workspace_uuid, "--email", "ed@example.com", "--role", "editor")
    assert Membership.objects.get(user__email="ed@example.com").role == Role.EDITOR


def test_token_create_keeps_or_changes_an_existing_members_role(workspace_uuid):
    first = run("token", "create", "--workspace", workspace_uuid, "--email", "ed@example.com", "--role", "editor")
    second = run("token", "create", "--workspace", workspace_uuid, "--email", "ed@example.com")
    assert Membership.objects.get(user__email="ed@example.com").role == Role.EDITOR
    run("token", "create", "--workspace", workspace_uuid, "--email", "ed@example.com", "--role", "admin")
    assert Membership.objects.get(user__email="ed@example.com").role == Role.ADMINISTRATOR

    assert get_user_model().objects.filter(email="ed@example.com").count() == 1
    assert first != second
    for key in (first, second):
        assert token_client(key).get("/api/v2/workspace.json").status_code == 200


AGENTS_GET_NO_TOKEN = "agents can't have API tokens: only admins and editors use the API"


def test_agents_get_no_token_and_nothing_is_written(workspace_uuid):
    # RapidPro: APIToken.ALLOWED_ROLES (temba/api/models.py); temba/api/tests/test_token.py "can't create tokens for
    # agent users".
    with pytest.raises(
        CommandError, match=re.escape(f"new@example.com would be an agent in Acme, and {AGENTS_GET_NO_TOKEN}")
    ):
        run("token", "create", "--workspace", workspace_uuid, "--email", "new@example.com", "--role", "agent")
    assert not get_user_model().objects.exists()
    assert not Membership.objects.exists()

    editor_key = new_key(workspace_uuid, "ag@example.com", "--role", "editor")
    run("member", "update", "--workspace", workspace_uuid, "--email", "ag@example.com", "--role", "agent")
    for extra in ([], ["--role", "agent"]):
        with pytest.raises(CommandError, match=re.escape(AGENTS_GET_NO_TOKEN)):
            run("token", "create", "--workspace", workspace_uuid, "--email", "ag@example.com", *extra)
    assert APIToken.objects.count() == 1
    assert Membership.objects.get().role == Role.AGENT
    # Promoting is how an agent gets one: the old token works again and a new one is made.
    assert api_status(editor_key) == 403
    assert api_status(new_key(workspace_uuid, "ag@example.com", "--role", "editor")) == 200
    assert api_status(editor_key) == 200


def test_member_update_demotes_and_the_members_tokens_stop_working_until_promoted(workspace_uuid):
    keys = [new_key(workspace_uuid, "ana@example.com") for _ in range(2)]
    colleague = new_key(workspace_uuid, "ed@example.com", "--role", "editor")

    output = run("member", "update", "--workspace", workspace_uuid, "--email", "ana@example.com", "--role", "agent")

    assert output == (
        "ana@example.com is now agent in Acme. Their 2 token(s) there stop working until they are an admin or "
        "editor again."
    )
    response = token_client(keys[0]).get("/api/v2/workspace.json")
    assert (response.status_code, response.json()) == (
        403,
        {"detail": "You do not have permission to perform this action."},
    )
    assert [api_status(key) for key in (*keys, colleague)] == [403, 403, 200]
    # Still listed, with the role that keeps them idle.
    assert [(t["email"], t["role"]) for t in listed_tokens(workspace_uuid)][:2] == [("ana@example.com", "agent")] * 2

    output = run("member", "update", "--workspace", workspace_uuid, "--email", "ana@example.com", "--role", "editor")
    assert output == "ana@example.com is now editor in Acme."
    assert [api_status(key) for key in keys] == [200, 200]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "zoe@example.com", "--role", "editor"], "zoe@example.com is not a member of workspace"),
        (["--email", "nope", "--role", "editor"], "Not an e-mail address: 'nope'."),
        (["--email", "ana@example.com", "--role", "owner"], "argument --role: invalid choice: 'owner'"),
        (["--email", "ana@example.com"], "the following arguments are required: --role"),
    ],
)
def test_member_update_refuses_clearly(workspace_uuid, args, message):
    key = new_key(workspace_uuid, "ana@example.com")
    with pytest.raises(CommandError, match=re.escape(message)):
        run("member", "update", "--workspace", workspace_uuid, *args)
    assert Membership.objects.get().role == Role.ADMINISTRATOR
    assert api_status(key) == 200


def test_token_create_json(workspace_uuid):
    printed = json.loads(
        run("token", "create", "--workspace", workspace_uuid, "--email", "ed@example.com", "--role", "editor", "--json")
    )
    assert set(printed) == {"token", "workspace", "email", "role"}
    assert (printed["workspace"], printed["email"], printed["role"]) == (workspace_uuid, "ed@example.com", "editor")
    assert token_client(printed["token"]).get("/api/v2/workspace.json").status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workspace", "not-a-uuid", "--email", "a@example.com"], "No workspace with UUID 'not-a-uuid'"),
        (
            ["--workspace", "00000000-0000-4000-8000-000000000000", "--email", "a@example.com"],
            "No workspace with UUID '00000000-0000-4000-8000-000000000000'",
        ),
        (["--email", "a@example.com"], "the following arguments are required: --workspace"),
    ],
)
def test_token_create_needs_an_existing_workspace(args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run("token", "create", *args)
    assert not APIToken.objects.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--email", "not an email"], "Not an e-mail address: 'not an email'."),
        (["--email", "a@example.com", "--role", "owner"], "argument --role: invalid choice: 'owner'"),
    ],
)
def test_token_create_refuses_bad_input_clearly(workspace_uuid, extra, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run("token", "create", "--workspace", workspace_uuid, *extra)
    assert not APIToken.objects.exists()
    assert not get_user_model().objects.exists()


def api_status(key: str) -> int:
    return token_client(key).get("/api/v2/workspace.json").status_code


def new_key(workspace_uuid: str, email: str, *extra) -> str:
    return run("token", "create", "--workspace", workspace_uuid, "--email", email, *extra)


def listed_tokens(workspace_uuid: str) -> list[dict]:
    return [json.loads(line) for line in run("token", "list", "--workspace", workspace_uuid, "--json").splitlines()]


def test_token_list_shows_who_and_when_but_never_the_key(workspace_uuid):
    ana = new_key(workspace_uuid, "ana@example.com")
    ed = new_key(workspace_uuid, "ed@example.com", "--role", "editor")
    other_workspace = run("workspace", "create", "--name", "Other")
    new_key(other_workspace, "ana@example.com")
    assert api_status(ana) == 200

    text = run("token", "list", "--workspace", workspace_uuid)
    listed = listed_tokens(workspace_uuid)

    for key in (ana, ed):
        assert key not in text
        assert key not in json.dumps(listed)
    assert [(t["email"], t["role"], t["prefix"]) for t in listed] == [
        ("ana@example.com", "admin", ana[:8]),
        ("ed@example.com", "editor", ed[:8]),
    ]
    assert listed[0]["last_used_on"] is not None
    assert listed[1]["last_used_on"] is None
    assert {t["id"] for t in listed} == set(
        APIToken.objects.filter(workspace__uuid=workspace_uuid).values_list("id", flat=True)
    )
    header, first, second = text.splitlines()
    assert header.split() == ["ID", "KEY", "EMAIL", "ROLE", "CREATED", "LAST", "USED"]
    assert first.split()[:4] == [str(listed[0]["id"]), f"{ana[:8]}…", "ana@example.com", "admin"]
    assert second.split()[1:4] == [f"{ed[:8]}…", "ed@example.com", "editor"]
    assert second.endswith("never")


def test_a_token_made_before_prefixes_were_kept_is_listed_by_id(workspace_uuid):
    key = new_key(workspace_uuid, "ana@example.com")
    APIToken.objects.update(prefix="")

    (listed,) = listed_tokens(workspace_uuid)
    assert listed["prefix"] is None
    assert run("token", "list", "--workspace", workspace_uuid).splitlines()[1].split()[:2] == [str(listed["id"]), "-"]

    run("token", "revoke", "--workspace", workspace_uuid, str(listed["id"]))
    assert api_status(key) == 403


@pytest.mark.parametrize("by", ["id", "prefix", "key"])
def test_token_revoke_ends_one_token_at_once(workspace_uuid, by):
    doomed = new_key(workspace_uuid, "ana@example.com")
    kept = new_key(workspace_uuid, "ana@example.com")
    assert api_status(doomed) == 200
    token = APIToken.objects.get(prefix=doomed[:8])
    reference = {"id": str(token.id), "prefix": doomed[:8], "key": doomed}[by]

    output = run("token", "revoke", "--workspace", workspace_uuid, reference)

    assert output == f"Revoked token {token.id} ({doomed[:8]}…) of ana@example.com."
    response = token_client(doomed).get("/api/v2/workspace.json")
    assert (response.status_code, response.json()) == (403, {"detail": "Invalid token"})
    assert api_status(kept) == 200
    assert [t["prefix"] for t in listed_tokens(workspace_uuid)] == [kept[:8]]
    assert run("token", "revoke", "--workspace", workspace_uuid, str(token.id)) == (
        "Nothing to revoke: those tokens were revoked already."
    )


def test_token_revoke_by_email_ends_all_of_theirs_in_that_workspace_only(workspace_uuid):
    first, second = new_key(workspace_uuid, "ana@example.com"), new_key(workspace_uuid, "ana@example.com")
    colleague = new_key(workspace_uuid, "ed@example.com")
    elsewhere = new_key(run("workspace", "create", "--name", "Other"), "ana@example.com")

    output = run("token", "revoke", "--workspace", workspace_uuid, "--email", "ana@example.com")

    assert len(output.splitlines()) == 2
    assert [api_status(key) for key in (first, second, colleague, elsewhere)] == [403, 403, 200, 200]
    # Still a member: a new token works again.
    assert api_status(new_key(workspace_uuid, "ana@example.com")) == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Name the tokens to revoke (their ids or key prefixes) or give --email."),
        (["999999"], "No token '999999' in workspace"),
        (["deadbeef"], "No token 'deadbeef' in workspace"),
        (["0" * 40], f"No token '{'0' * 40}' in workspace"),
        (["--email", "zoe@example.com"], "zoe@example.com is not a member of workspace"),
        (["--email", "not an email"], "Not an e-mail address: 'not an email'."),
    ],
)
def test_token_revoke_refuses_what_names_nothing_and_revokes_nothing(workspace_uuid, args, message):
    key = new_key(workspace_uuid, "ana@example.com")
    token_id = str(APIToken.objects.get().id)

    with pytest.raises(CommandError, match=re.escape(message)):
        # A good id beside the bad one: all or nothing.
        run("token", "revoke", "--workspace", workspace_uuid, *([token_id] if args else []), *args)
    assert api_status(key) == 200


def test_token_revoke_never_reaches_another_workspace(workspace_uuid):
    theirs = new_key(run("workspace", "create", "--name", "Other"), "eve@example.com")
    their_id = str(APIToken.objects.get(prefix=theirs[:8]).id)

    for reference in (their_id, theirs[:8], theirs):
        with pytest.raises(CommandError, match="No token"):
            run("token", "revoke", "--workspace", workspace_uuid, reference)
    with pytest.raises(CommandError, match=r"eve@example\.com is not a member"):
        run("token", "revoke", "--workspace", workspace_uuid, "--email", "eve@example.com")
    assert api_status(theirs) == 200


def test_member_remove_ends_the_membership_and_its_tokens_there(workspace_uuid):
    ana = [new_key(workspace_uuid, "ana@example.com", "--role", "editor") for _ in range(2)]
    ed = new_key(workspace_uuid, "ed@example.com")
    other_workspace = run("workspace", "create", "--name", "Other")
    elsewhere = new_key(other_workspace, "ana@example.com")

    members = [json.loads(line) for line in run("member", "list", "--workspace", workspace_uuid, "--json").splitlines()]
    assert members == [
        {"email": "ana@example.com", "role": "editor", "tokens": 2},
        {"email": "ed@example.com", "role": "admin", "tokens": 1},
    ]

    output = run("member", "remove", "--workspace", workspace_uuid, "--email", "ana@example.com")

    assert output == "Removed ana@example.com (editor) from Acme; revoked 2 of their tokens there."
    assert [api_status(key) for key in (*ana, ed, elsewhere)] == [403, 403, 200, 200]
    remaining = run("member", "list", "--workspace", workspace_uuid).splitlines()
    assert remaining == ["ed@example.com  admin  working tokens: 1"]
    assert not Membership.objects.filter(workspace__uuid=workspace_uuid, user__email="ana@example.com").exists()
    assert Membership.objects.filter(workspace__uuid=other_workspace, user__email="ana@example.com").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "zoe@example.com"], "zoe@example.com is not a member of workspace"),
        (["--email", "nope"], "Not an e-mail address: 'nope'."),
        ([], "the following arguments are required: --email"),
    ],
)
def test_member_remove_refuses_clearly(workspace_uuid, args, message):
    key = new_key(workspace_uuid, "ana@example.com")
    with pytest.raises(CommandError, match=re.escape(message)):
        run("member", "remove", "--workspace", workspace_uuid, *args)
    assert api_status(key) == 200


def test_member_and_token_commands_need_an_existing_workspace(db):
    for args in (
        ["member", "list"],
        ["member", "remove", "--email", "a@example.com"],
        ["token", "list"],
        ["token", "revoke", "1"],
    ):
        with pytest.raises(CommandError, match="No workspace with UUID 'nope'"):
            run(*args, "--workspace", "nope")


def test_last_use_is_written_once_a_minute_at_most(workspace_uuid):
    key = new_key(workspace_uuid, "ana@example.com")
    client = token_client(key)

    def token_writes() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v2/workspace.json").status_code == 200
        return sum(q["sql"].startswith("UPDATE") and "apitoken" in q["sql"] for q in queries)

    assert token_writes() == 1
    first_use = APIToken.objects.get().last_used_on
    assert token_writes() == 0  # a busy token costs no write per request
    APIToken.objects.update(last_used_on=first_use - APIToken.LAST_USED_PRECISION)
    assert token_writes() == 1
    assert APIToken.objects.get().last_used_on > first_use
