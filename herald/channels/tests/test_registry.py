"""The channel-type registry: a type is one folder named after its code, registered by one line of the registry."""

import pytest

from herald.channels.registry import TYPE_CLASSES, TYPES, ChannelConfigError, create_channel


def test_each_type_is_the_type_module_of_the_folder_named_after_its_code():
    assert {code: type(kind).__module__ for code, kind in TYPES.items()} == {
        code: f"herald.channels.{code}.type" for code in TYPES
    }


def test_no_two_registered_types_share_a_code_or_a_callback_route():
    """A type copied from another folder keeps its model's names until they are changed: the registry would drop
    one of two types with the same code, and the callback routes of two types with one path or URL name clash."""
    with_callbacks = [kind for kind in TYPES.values() if kind.callback_path]
    assert len(TYPES) == len(TYPE_CLASSES)
    assert len({kind.callback_path for kind in with_callbacks}) == len(with_callbacks)
    assert len({kind.callback_url_name for kind in with_callbacks}) == len(with_callbacks)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"name": " "}, "name", "name is required"),
        ({"schemes": ["fax"]}, "schemes", "unknown URN scheme 'fax'"),
        ({"country": "ZZ"}, "country", "Unknown country 'ZZ'"),
        ({"tps": 0}, "tps", "tps must be a whole number"),
        ({"config": {}}, "send_url", "send_url is required"),
        ({"config": {"send_url": "https://g.example", "headers": {"Bad Name": "x"}}}, "headers", "invalid header"),
        ({"channel_type": "email", "config": {"host": "smtp.example", "username": "u"}}, "password", "go together"),
        ({"channel_type": "email", "config": {"host": "smtp.example", "password": "p"}}, "username", "go together"),
        ({"channel_type": "twilio", "config": {"account_sid": "AC1", "auth_token": "t"}}, "account_sid", "AC"),
    ],
)
def test_a_config_error_names_the_setting_it_is_about(workspace, kwargs, field, words):
    """Where it is raised: a form puts it beside that field whatever its words quote; the words are the CLI's."""
    given = {"channel_type": "external", "name": "G", "config": {"send_url": "https://g.example"}, **kwargs}
    with pytest.raises(ChannelConfigError, match=words) as raised:
        create_channel(workspace, given.pop("channel_type"), given.pop("name"), **given)
    assert raised.value.field == field


@pytest.mark.django_db
def test_an_unknown_type_is_about_no_one_setting(workspace):
    with pytest.raises(ChannelConfigError) as raised:
        create_channel(workspace, "carrier-pigeon", "G")
    assert raised.value.field is None
