"""Checking an external channel's config up front, with errors that name the key to fix."""

import pytest

from herald.channels.base import ChannelConfigError
from herald.channels.external.config import DEFAULT_BODIES
from herald.channels.registry import get_type

EXTERNAL = get_type("external")
URL = "http://127.0.0.1:9/send"


def test_defaults_are_filled_in():
    assert EXTERNAL.validate_config({"send_url": URL}) == {
        "send_url": URL,
        "send_method": "POST",
        "content_type": "urlencoded",
        "send_body": DEFAULT_BODIES["urlencoded"],
        "headers": {},
    }


def test_get_needs_no_body_and_values_are_normalised():
    config = EXTERNAL.validate_config({"send_url": URL + "?to={{to}}", "send_method": "get", "content_type": "JSON"})
    assert config["send_method"] == "GET"
    assert config["content_type"] == "json"
    assert "send_body" not in config


def test_rapidpro_aliases_become_our_keys():
    config = EXTERNAL.validate_config({"send_url": URL, "method": "PUT", "body": "t={{text}}"})
    assert (config["send_method"], config["send_body"]) == ("PUT", "t={{text}}")
    assert "method" not in config
    assert "body" not in config


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({}, "send_url is required"),
        ({"send_url": "  "}, "send_url is required"),
        ({"send_url": "ftp://example.com"}, "send_url must be an http:// or https:// URL"),
        ({"send_url": "{{to}}"}, "send_url must be an http:// or https:// URL"),
        ({"send_url": URL + "?x={{nope}}"}, r"send_url uses an unknown variable \{\{nope\}\} \(known: \{\{text\}\}"),
        ({"send_url": URL, "send_method": "PATCH"}, "send_method must be one of GET, POST, PUT, got 'PATCH'"),
        ({"send_url": URL, "content_type": "yaml"}, "content_type must be one of urlencoded, json, xml, got 'yaml'"),
        ({"send_url": URL, "send_body": "{{txt}}"}, r"send_body uses an unknown variable \{\{txt\}\}"),
        (
            {"send_url": URL, "content_type": "json", "send_body": '{"text": {{text}}'},
            "send_body is not valid JSON once its variables are filled in",
        ),
        (
            {"send_url": URL, "content_type": "xml", "send_body": "<a>{{text}}</b>"},
            "send_body is not well-formed XML once filled in",
        ),
        ({"send_url": URL, "max_length": "160"}, "unknown config key 'max_length' for channel type 'external'"),
        ({"send_url": URL, "method": "GET", "send_method": "POST"}, "either 'send_method' or its alias 'method'"),
        ({"send_url": URL, "headers": "X-Key: 1"}, "headers must be an object"),
        ({"send_url": URL, "headers": {"Bad Name": "1"}}, "invalid header name 'Bad Name'"),
        ({"send_url": URL, "headers": {"X-Key": "a\r\nInjected: 1"}}, "header X-Key must be a one-line string"),
        ({"send_url": URL, "send_authorization": "a\nb"}, "send_authorization must be on one line"),
        ({"send_url": 42}, "send_url must be a string"),
    ],
)
def test_invalid_configs(config, error):
    with pytest.raises(ChannelConfigError, match=error):
        EXTERNAL.validate_config(config)


def test_json_bodies_with_quoted_variables_are_valid():
    body = '{"text": "{{text}}", "to": {{to}}}'
    assert EXTERNAL.validate_config({"send_url": URL, "content_type": "json", "send_body": body})["send_body"] == body
