"""Finding contacts by what a person types (herald/contacts/search.py), on whichever database the run uses: the
name prefix is one index range, exact for punctuation and letters beyond ASCII."""

import pytest

from herald.contacts import search
from herald.testing.factories import make_contact

pytestmark = pytest.mark.django_db


def names(workspace, typed: str) -> list[str | None]:
    found = search.read_query(typed, workspace)
    assert found.urn is None, typed
    return [contact.name for contact in search.by_name_prefix(workspace, found.name_prefix)]


def test_a_prefix_finds_exactly_the_names_that_start_with_it(workspace, other_workspace):
    for name in ("a-b", "a-z", "a.b", "ab", "A-Team", "b", "Émile", "Émilienne", "Zoë"):
        make_contact(workspace, name)
    make_contact(other_workspace, "a-c")
    make_contact(workspace, None)  # no name: never found by one
    assert names(workspace, "a-") == ["a-b", "A-Team", "a-z"]
    assert names(workspace, "A") == ["a-b", "A-Team", "a-z", "a.b", "ab"]
    assert names(workspace, "Émil") == ["Émile", "Émilienne"]
    assert names(workspace, "zoë") == ["Zoë"]
    assert names(workspace, "zz") == []


def test_phone_numbers_and_urns_are_read_as_urns_in_the_workspaces_country(workspace):
    assert search.read_query("0788 123 456", workspace).urn.identity == "tel:+250788123456"
    assert search.read_query("telegram:1234", workspace).urn.identity == "telegram:1234"
    assert search.read_query("Ann", workspace).urn is None
    assert search.read_query("tel:", workspace) == search.Search(name_prefix="tel:")  # no URN: a name then


def test_an_anonymous_workspace_reads_everything_as_a_name(workspace):
    workspace.is_anonymous = True
    assert search.read_query("+250788123456", workspace) == search.Search(name_prefix="+250788123456")
