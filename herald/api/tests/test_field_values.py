"""Contact field values on `contacts.json`: each field's type checks and normalises what a contact is given.

RapidPro lists a number field's value without trailing zeros (`temba/contacts/models.py`
`Contact.get_field_serialized`; "40" in `temba/api/v2/tests/test_contacts.py::ContactsEndpointTest::test_as_agent`)
and a datetime field's in the workspace's timezone, seconds and offset, no fraction when there is none
(`"2018-03-05T04:31:00+02:00"` for `2018-03-05T02:31:00.000Z` in
`temba/contacts/tests/test_contact.py::ContactTest::test_field_json`). What it does with a value the type can't
take (keeps the text, drops the typed value: "NaN" there) Herald refuses instead (docs/COMPATIBILITY.md, C28)."""

import pytest

from herald.contacts.models import Contact, ContactField

URL = "/api/v2/contacts.json"
NUMBER_ERROR = "Value of 'age' must be a number."
DATETIME_ERROR = (
    "Value of 'registered' must be a date, such as 2026-01-15, 2026-01-15T10:30:00+02:00 or 15-01-2026 10:30."
)


@pytest.fixture
def typed_fields(workspace):
    workspace.timezone = "Africa/Kigali"  # UTC+2, no daylight saving
    workspace.save(update_fields=["timezone"])
    for key, name, value_type in [
        ("nick", "Nick", "text"),
        ("age", "Age", "number"),
        ("registered", "Registered", "datetime"),
        ("province", "Province", "state"),
        ("district", "District", "district"),
        ("cell", "Cell", "ward"),
    ]:
        ContactField.objects.create(workspace=workspace, key=key, name=name, value_type=value_type)


def create(admin, fields):
    return admin.post(URL, {"name": "Ann", "fields": fields}, format="json")


def listed_fields(response):
    return {key: value for key, value in response.json()["fields"].items() if value is not None}


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("40", "40"),
        ("12.50", "12.5"),
        (" 007 ", "7"),
        ("+3", "3"),
        ("-0.0", "0"),
        ("-1.25", "-1.25"),
        ("1000000000000000000000.000", "1000000000000000000000"),
    ],
)
def test_a_number_field_stores_the_number_without_trailing_zeros(typed_fields, admin, given, stored):
    response = create(admin, {"age": given})
    assert response.status_code == 201, response.content
    assert listed_fields(response) == {"age": stored}
    assert Contact.objects.get().fields == {"age": stored}


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2026-01-15", "2026-01-15T00:00:00+02:00"),
        ("2026-01-15T10:30", "2026-01-15T10:30:00+02:00"),
        ("2026-01-15 10:30:05.25", "2026-01-15T10:30:05.25+02:00"),
        ("2026-01-15T08:30:00Z", "2026-01-15T10:30:00+02:00"),
        ("2026-01-15T10:30:00-05:00", "2026-01-15T17:30:00+02:00"),
        # Day first, as the workspace's date_style (`day_first`) says.
        ("15-01-2026", "2026-01-15T00:00:00+02:00"),
        ("15/1/2026 9:05", "2026-01-15T09:05:00+02:00"),
        ("15.01.2026 21:05:07", "2026-01-15T21:05:07+02:00"),
    ],
)
def test_a_datetime_field_stores_iso_8601_in_the_workspace_timezone(typed_fields, admin, given, stored):
    response = create(admin, {"registered": given})
    assert response.status_code == 201, response.content
    assert listed_fields(response) == {"registered": stored}


def test_datetimes_take_the_timezone_of_their_workspace(workspace, admin):
    ContactField.objects.create(workspace=workspace, key="registered", name="Registered", value_type="datetime")
    response = create(admin, {"registered": "2026-07-01 09:00"})
    assert listed_fields(response) == {"registered": "2026-07-01T09:00:00Z"}  # UTC, as mailroom writes it
    workspace.timezone = "America/New_York"
    workspace.save(update_fields=["timezone"])
    response = create(admin, {"registered": "2026-07-01 09:00"})
    assert listed_fields(response) == {"registered": "2026-07-01T09:00:00-04:00"}  # daylight saving time


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"age": "forty"}, NUMBER_ERROR),
        ({"age": "1e5"}, NUMBER_ERROR),
        ({"age": "12,5"}, NUMBER_ERROR),
        ({"age": "NaN"}, NUMBER_ERROR),
        ({"registered": "tomorrow"}, DATETIME_ERROR),
        ({"registered": "31-02-2026"}, DATETIME_ERROR),
        ({"registered": "2026-13-01"}, DATETIME_ERROR),
        ({"registered": "0001-01-01T00:00:00+05:00"}, DATETIME_ERROR),
        ({"nick": "Jo", "age": "forty"}, NUMBER_ERROR),
    ],
)
def test_a_value_its_type_cant_take_is_a_400_and_nothing_is_written(typed_fields, admin, fields, error):
    response = create(admin, fields)
    assert response.status_code == 400
    assert response.json() == {"fields": [error]}
    assert not Contact.objects.exists()


def test_an_update_is_checked_too_and_leaves_the_contact_as_it_was(typed_fields, admin):
    uuid = create(admin, {"age": "40"}).json()["uuid"]
    response = admin.post(f"{URL}?uuid={uuid}", {"fields": {"age": "old"}}, format="json")
    assert response.status_code == 400
    assert response.json() == {"fields": [NUMBER_ERROR]}
    assert Contact.objects.get().fields == {"age": "40"}
    # An empty value or null clears it, whatever the type.
    response = admin.post(f"{URL}?uuid={uuid}", {"fields": {"age": "", "registered": None}}, format="json")
    assert response.status_code == 200
    assert Contact.objects.get().fields == {}


# docs/COMPATIBILITY.md, C29: no boundary data, the text is kept as given.
def test_location_fields_keep_the_text_as_given(typed_fields, admin):
    fields = {"province": "Kigali City", "district": "Nyarugenge", "cell": "Rugenge"}
    response = create(admin, fields)
    assert response.status_code == 201
    assert listed_fields(response) == fields


def test_text_fields_keep_any_text(typed_fields, admin):
    response = create(admin, {"nick": "12.50 or so"})
    assert listed_fields(response) == {"nick": "12.50 or so"}
