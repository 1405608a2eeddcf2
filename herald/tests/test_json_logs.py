"""`HERALD_LOG_FORMAT=json`: a real Herald process writes each log record as one JSON object a line (herald/
logformat.py), the traceback of an exception included and a callback secret still blanked; `text`, the default,
stays one plain line a record."""

import json
import subprocess
import sys

from herald.testing.processes import herald_env

# Logs through the settings' LOGGING in a fresh process, as any Herald command does once Django is set up.
SCRIPT = """
import logging
import django
django.setup()
log = logging.getLogger("herald.example")
log.warning("refused %s", "/c/ex/0b7c6a54-5a3c-4c53-9c36-1f7f6e8c1d2a/s3cr3t-segment/delivered")
try:
    1 / 0
except ZeroDivisionError:
    log.exception("multi\\nline")
"""


def run(tmp_path, **settings: str) -> list[str]:
    env = herald_env(tmp_path, DJANGO_SETTINGS_MODULE="herald.settings", **settings)
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stderr.splitlines()


def test_json_lines_parse_with_time_level_logger_message_and_exception(tmp_path):
    warning, error = (json.loads(line) for line in run(tmp_path, HERALD_LOG_FORMAT="json"))
    assert list(warning) == ["time", "level", "logger", "message"]
    assert (warning["level"], warning["logger"]) == ("WARNING", "herald.example")
    assert warning["message"] == "refused /c/ex/0b7c6a54-5a3c-4c53-9c36-1f7f6e8c1d2a/<secret>/delivered"
    assert warning["time"].endswith("Z")
    assert (error["level"], error["message"]) == ("ERROR", "multi\nline")
    assert error["exception"].startswith("Traceback (most recent call last):")
    assert error["exception"].endswith("ZeroDivisionError: division by zero")


def test_text_is_the_default(tmp_path):
    lines = run(tmp_path)
    assert lines[0].endswith(
        " WARNING herald.example: refused /c/ex/0b7c6a54-5a3c-4c53-9c36-1f7f6e8c1d2a/<secret>/delivered"
    )
    assert lines[1].endswith(" ERROR herald.example: multi")
