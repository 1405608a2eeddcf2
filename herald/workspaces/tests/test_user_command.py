"""`herald user create` and `herald user password`: the password asked twice, or read from standard input; the user
then signs in to the web interface with it."""

import io
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from herald.testing.fixtures import sign_in
from herald.workspaces.models import Membership, Role

pytestmark = pytest.mark.django_db
PASSWORD = "a long enough passphrase"


def run(monkeypatch, *args, stdin: str = "", typed: tuple[str, ...] = ()) -> str:
    """`herald user ARGS`, with `stdin` on standard input and `typed` the answers to its password prompts."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    answers = iter(typed)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    out = io.StringIO()
    call_command("user", *args, stdout=out)
    return out.getvalue()


def test_create_reads_the_password_from_stdin_and_the_user_signs_in(monkeypatch, workspace):
    args = ["create", "--workspace", str(workspace.uuid), "--email", "nurse@example.com", "--role", "agent"]
    out = run(monkeypatch, *args, "--password-stdin", stdin=PASSWORD + "\n")
    assert out.strip() == "nurse@example.com (agent) can sign in to Nyaruka at /."
    assert Membership.objects.get(user__email="nurse@example.com").role == Role.AGENT
    assert sign_in(Client(), "nurse@example.com", PASSWORD).status_code == 302


def test_create_asks_twice_and_refuses_two_different_answers(monkeypatch, workspace):
    args = ["create", "--workspace", str(workspace.uuid), "--email", "nurse@example.com"]
    with pytest.raises(CommandError, match="The two passwords differ"):
        run(monkeypatch, *args, typed=(PASSWORD, PASSWORD + "!"))
    assert not Membership.objects.exists()
    run(monkeypatch, *args, typed=(PASSWORD, PASSWORD))
    assert Membership.objects.get().role == Role.ADMINISTRATOR


def test_a_weak_password_is_refused_with_the_validators_words(monkeypatch, workspace):
    args = ["create", "--workspace", str(workspace.uuid), "--email", "nurse@example.com", "--password-stdin"]
    with pytest.raises(CommandError, match="This password is too short"):
        run(monkeypatch, *args, stdin="12345\n")
    assert not Membership.objects.exists()


def test_password_changes_it_for_an_existing_user_only(monkeypatch, workspace):
    run(monkeypatch, "create", "--workspace", str(workspace.uuid), "--email", "a@example.com", typed=(PASSWORD,) * 2)
    new = "another long passphrase"
    assert "Changed the password" in run(monkeypatch, "password", "--email", "a@example.com", typed=(new, new))
    assert sign_in(Client(), "a@example.com", PASSWORD).status_code == 400
    assert sign_in(Client(), "a@example.com", new).status_code == 302
    with pytest.raises(CommandError, match=r"No user 'b@example\.com'"):
        run(monkeypatch, "password", "--email", "b@example.com", "--password-stdin", stdin=new)
