"""Fixtures for channel tests: the fake gateway (see tests/gateway.py) and a contact to send to."""

import pytest

from herald.channels.tests.gateway import gateway  # noqa: F401 - a fixture, shared with every test below
from herald.testing import make_contact


@pytest.fixture
def bob(workspace):
    return make_contact(workspace, "Bob", urns=["tel:+250788123123"])
