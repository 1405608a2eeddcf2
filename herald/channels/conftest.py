"""Fixtures for channel tests: a contact to send to (the fake `gateway` comes with herald.testing.fixtures)."""

import pytest

from herald.testing.factories import make_contact


@pytest.fixture
def bob(workspace):
    return make_contact(workspace, "Bob", urns=["tel:+250788123123"])
