"""Every endpoint and method of `/api/v2/openapi.json`, fed generated requests by schemathesis: no answer is a 5xx,
and every answer (status code, content type, body) is one the schema describes."""

from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from herald.channels.registry import create_channel
from herald.contacts.models import ContactField
from herald.msgs import schedules
from herald.msgs.recurrence import Recurrence
from herald.testing.factories import (
    create_user_token,
    make_broadcast,
    make_contact,
    make_group,
    make_media,
    make_msg,
)
from herald.workspaces.models import Global
from herald.wsgi import application

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Requests go straight to the WSGI app, not through Django's test client, so disconnect what the test client
    disconnects: Django would otherwise close the test's database connection (and its transaction) around each
    request on PostgreSQL."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def token(workspace):
    """An admin token, in a workspace with one of everything, so lookups and filters can find something."""
    ann = make_contact(workspace, "Ann", ["tel:+250788111111"], language="eng")
    make_group(workspace, "Reporters", [ann])
    ContactField.objects.create(workspace=workspace, key="nickname", name="Nickname")
    make_msg(ann, broadcast=make_broadcast(workspace, "Hello", contacts=[ann]), status="F", failed_reason="E")
    make_media(workspace)
    repeating = make_broadcast(workspace, "Good morning", contacts=[ann])
    schedules.create(repeating, Recurrence.checked("FREQ=DAILY", "UTC", timezone.now() + timedelta(hours=1)), "daily")
    create_channel(workspace, "console", "Console", address="+250788000000")
    Global.objects.create(workspace=workspace, key="org_name", name="Org Name", value="Acme Ltd")
    _, key = create_user_token(workspace, "admin")
    return key


# Loaded while collecting: serving the schema needs no database. (`schemathesis.pytest.from_fixture` would be the
# lazier way, but it reads a pytest attribute that pytest 9 no longer has.)
schema = schemathesis.openapi.from_wsgi("/api/v2/openapi.json", application)


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_schema_says(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
