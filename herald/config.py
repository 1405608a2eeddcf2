"""Every HERALD_* environment variable, once: its name, type, default and meaning.

`herald/settings.py` assigns Django's and Herald's settings from `CONFIG`; README.md's configuration table is checked
against `VARIABLES` (herald/tests/test_config.py). Values are parsed by environs (on marshmallow); a bad one raises
`ConfigError` with one line naming the variable, what it must be and what it got, which `herald` prints as is.
An empty variable counts as unset. Reading the configuration writes nothing (see herald/datadir.py for the data dir).

To add a setting: one `Var` here, one row in README.md's table, one assignment in settings.py.
"""

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from environs import Env, EnvError
from marshmallow.validate import OneOf, Range, Regexp

MIB = 1024 * 1024


class ConfigError(ValueError):
    """A HERALD_* variable with a value Herald can't use; its message is one line, fit to show an operator."""


def at_least(low: float) -> Range:
    return Range(min=low, error=f"must be at least {low}")


def more_than(low: float) -> Range:
    return Range(min=low, min_inclusive=False, error=f"must be more than {low}")


def one_of_any_case(choices: list[str]) -> Callable[[str], None]:
    """Names compared upper-cased (`logging` takes its levels in any case; `json` or `JSON` alike)."""
    check = OneOf([choice.upper() for choice in choices], error=f"must be one of {', '.join(choices)}")

    def validate(value: str) -> None:
        check(value.upper())

    return validate


def each(check: Range) -> Callable[[Iterable[float]], None]:
    """A list validator applying `check` to every item."""

    def validate(values: Iterable[float]) -> None:
        for value in values:
            check(value)

    return validate


@dataclass(frozen=True)
class Kind:
    """How a variable's text is read: an environs parser, and what a value must look like (for the error line)."""

    parse: Callable[..., Any]
    must_be: str


_env = Env(expand_vars=False)
WHOLE = Kind(_env.int, "a whole number")
NUMBER = Kind(_env.float, "a number")
SWITCH = Kind(_env.bool, "on or off (1, true, yes, on / 0, false, no, off)")
TEXT = Kind(_env.str, "text")
NAMES = Kind(_env.list, "a comma-separated list")
NUMBERS = Kind(lambda name, **kw: _env.list(name, subcast=float, **kw), "a comma-separated list of numbers")


@dataclass(frozen=True)
class Var:
    name: str
    kind: Kind
    default: Any
    meaning: str
    validate: Callable[[Any], Any] | None = None
    # The default as README.md's table words it, when it isn't simply the value (a computed or empty default).
    shown_default: str | None = None

    @property
    def readme_default(self) -> str:
        if self.shown_default is not None:
            return self.shown_default
        if isinstance(self.default, bool):
            return "on" if self.default else "off"
        if isinstance(self.default, list):
            return f"`{','.join(f'{v:g}' for v in self.default)}`"
        return f"`{self.default}`"

    def read(self) -> Any:
        raw = os.environ.get(self.name, "").strip()
        if not raw:
            return self.default
        try:
            return self.kind.parse(self.name, validate=self.validate)
        except EnvError as error:
            raise ConfigError(f"{self.name} {self._complaint(raw, error)}, got {raw!r}") from None

    def _complaint(self, raw: str, error: EnvError) -> str:
        """What's wrong: the validator's own words for a value out of range, else the type it must have."""
        messages = getattr(error, "error_messages", None) or []
        flat = [m for m in (messages if isinstance(messages, list) else [messages]) if isinstance(m, str)]
        own = [m for m in flat if m.startswith("must")]
        return own[0] if own else f"must be {self.kind.must_be}"


LOG_LEVELS = ["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"]
LOG_FORMATS = ["text", "json"]

VARIABLES: list[Var] = [
    # Storage
    Var(
        "HERALD_DATA_DIR",
        TEXT,
        "./var",
        "where the SQLite database, media, the queue and the generated secret key live (private to Herald's user)",
    ),
    Var(
        "HERALD_DATABASE_URL",
        TEXT,
        "",
        "the database, e.g. postgres://user:pass@host:5432/herald",
        shown_default="`sqlite:///<data dir>/herald.sqlite3`",
    ),
    Var("HERALD_MEDIA_MAX_BYTES", WHOLE, 25 * MIB, "largest upload to media.json", at_least(1), "`26214400` (25 MiB)"),
    Var(
        "HERALD_MEDIA_QUOTA_BYTES",
        WHOLE,
        1024 * MIB,
        "uploads one workspace may keep, in bytes (0: no limit)",
        at_least(0),
        "`1073741824` (1 GiB)",
    ),
    Var(
        "HERALD_MAX_BODY_BYTES",
        WHOLE,
        2 * MIB,
        "largest request body, uploaded files aside",
        at_least(1),
        "`2097152` (2 MiB)",
    ),
    # Work queue
    Var(
        "HERALD_BROKER_URL",
        TEXT,
        "",
        "the Celery broker, e.g. redis://host:6379/0 (empty: a queue folder in the data dir)",
        shown_default="empty: a queue in `<data dir>/queue`",
    ),
    Var(
        "HERALD_REDIS_URL",
        TEXT,
        "",
        "the Redis for rate limits and shared counters, when it is not the broker's",
        shown_default="the broker's, if it is Redis",
    ),
    Var("HERALD_TASKS_EAGER", SWITCH, False, "run tasks inside the request instead of on a worker (debugging only)"),
    Var("HERALD_TICK_SECONDS", NUMBER, 1.0, "how often each worker's tick runs", more_than(0), "`1`"),
    # Sending: fan-out
    Var("HERALD_FANOUT_BATCH", WHOLE, 1000, "recipients whose messages are written in one transaction", at_least(1)),
    Var("HERALD_FANOUT_TASK_SIZE", WHOLE, 10000, "recipients per fan-out task of a big broadcast", at_least(1)),
    Var("HERALD_FANOUT_PARALLEL_TASKS", WHOLE, 4, "fan-out tasks of one broadcast queued at once", at_least(1)),
    Var(
        "HERALD_BROADCAST_STALL_SECONDS",
        NUMBER,
        30.0,
        "an unfinished broadcast untouched this long is resumed by the tick",
        more_than(0),
        "`30`",
    ),
    Var(
        "HERALD_BROADCAST_MAX_FAILURES",
        WHOLE,
        3,
        "fan-out attempts in a row that may fail before the broadcast is marked failed",
        at_least(1),
    ),
    # Sending: delivery through channels
    Var("HERALD_DELIVERY_CONCURRENCY", WHOLE, 16, "requests a worker makes at once to one channel", at_least(1)),
    Var(
        "HERALD_DELIVERY_LEASE_SECONDS",
        NUMBER,
        30.0,
        "how long a send lease outlives a worker that died holding it",
        more_than(0),
        "`30`",
    ),
    Var(
        "HERALD_DELIVERY_TASK_SECONDS",
        NUMBER,
        2.0,
        "longest one delivery task sends for a channel before it goes to the back of the queue (if another has work)",
        more_than(0),
        "`2`",
    ),
    Var(
        "HERALD_CHANNEL_BREAKER_FAILURES",
        WHOLE,
        10,
        "sends in a row without an answer that pause a channel (0: never pause)",
        at_least(0),
    ),
    Var("HERALD_CHANNEL_BREAKER_SECONDS", NUMBER, 60.0, "how long such a pause lasts", at_least(0), "`60`"),
    Var("HERALD_CHANNEL_CONNECT_TIMEOUT", NUMBER, 5.0, "seconds to connect to a gateway", more_than(0), "`5`"),
    Var("HERALD_CHANNEL_SEND_TIMEOUT", NUMBER, 30.0, "seconds for a whole request to a gateway", more_than(0), "`30`"),
    Var(
        "HERALD_SEND_RETRY_DELAYS",
        NUMBERS,
        [10.0, 60.0, 300.0],
        "back-off in seconds between attempts after a transient gateway error",
        each(at_least(0)),
    ),
    Var("HERALD_SEND_MAX_RETRIES", WHOLE, 3, "retries a message gets before it fails", at_least(0)),
    Var(
        "HERALD_CHANNEL_LOG_DAYS",
        NUMBER,
        7.0,
        "days a channel log (a gateway request and its answer, a callback) is kept",
        more_than(0),
        "`7`",
    ),
    # Receiving
    Var(
        "HERALD_REPLY_WINDOW_HOURS",
        NUMBER,
        24.0,
        "an incoming message this soon after the last message sent to its URN on its channel answers that message",
        at_least(0),
        "`24`",
    ),
    # Webhooks
    Var(
        "HERALD_WEBHOOKS_ALLOW_PRIVATE",
        SWITCH,
        False,
        "let webhook URLs reach loopback, private, link-local and reserved addresses (tests, closed networks)",
    ),
    Var("HERALD_WEBHOOKS_TIMEOUT", NUMBER, 10.0, "seconds a webhook receiver has to answer", more_than(0), "`10`"),
    Var("HERALD_WEBHOOKS_CONCURRENCY", WHOLE, 4, "requests in flight at once to one webhook URL", at_least(1)),
    Var(
        "HERALD_WEBHOOKS_BACKOFF_SECONDS",
        NUMBER,
        10.0,
        "a failed webhook delivery's first retry delay; it doubles each time, up to an hour",
        more_than(0),
        "`10`",
    ),
    Var(
        "HERALD_WEBHOOKS_RETRY_HOURS",
        NUMBER,
        24.0,
        "how long a webhook delivery is retried before it fails",
        more_than(0),
        "`24`",
    ),
    # Web and API
    Var(
        "HERALD_SECRET_KEY",
        TEXT,
        "",
        "Django's secret key; it also keys anonymous contacts' `ref` codes, which change with it",
        shown_default="generated once into `<data dir>/secret_key`",
    ),
    Var(
        "HERALD_ALLOWED_HOSTS",
        NAMES,
        [],
        "comma-separated host names the server answers to, besides HERALD_BASE_URL's",
        shown_default="`localhost`, `127.0.0.1`, `[::1]` and the address `herald serve` / `herald web` is bound to",
    ),
    Var(
        "HERALD_BASE_URL",
        TEXT,
        "",
        "public address used in media and callback URLs",
        Regexp(r"^https?://[^/]", error="must be an http:// or https:// URL"),
        "empty: taken from each request (among the allowed hosts)",
    ),
    Var("HERALD_REQUIRE_HTTPS", SWITCH, False, "refuse plain-HTTP API requests with 403"),
    Var(
        "HERALD_API_RATE",
        TEXT,
        "3600/hour",
        "requests each workspace may make per API scope",
        Regexp(r"^\d+/[smhd]", error="must be a rate such as 3600/hour (a number, then /second, /minute, /hour, /day)"),
    ),
    Var("HERALD_LOG_LEVEL", TEXT, "INFO", "log level", one_of_any_case(LOG_LEVELS)),
    Var(
        "HERALD_LOG_FORMAT",
        TEXT,
        "text",
        "`text` (one line a record) or `json` (one JSON object a line)",
        one_of_any_case(LOG_FORMATS),
    ),
    # Following delivery: metrics and health
    Var("HERALD_METRICS", SWITCH, False, "serve Prometheus metrics at /metrics"),
    Var(
        "HERALD_METRICS_TOKEN",
        TEXT,
        "",
        "if set, /metrics needs `Authorization: Bearer <token>`",
        shown_default="empty: no token needed",
    ),
    Var("HERALD_DEBUG", SWITCH, False, "Django's debug mode, for development on loopback only"),
]


@dataclass(frozen=True)
class Config:
    """The values read, by variable name without the HERALD_ prefix (`config.FANOUT_BATCH`)."""

    values: dict[str, Any]

    def __getattr__(self, short: str) -> Any:
        try:
            return self.values[short]
        except KeyError:
            raise AttributeError(short) from None

    @property
    def data_dir(self) -> Path:
        return Path(self.DATA_DIR).resolve()

    @property
    def embedded_queue(self) -> bool:
        return not self.BROKER_URL


def read() -> Config:
    """Every variable's value, from the environment; `ConfigError` for the first bad one."""
    values = {var.name.removeprefix("HERALD_"): var.read() for var in VARIABLES}
    values["LOG_LEVEL"] = values["LOG_LEVEL"].upper()
    values["LOG_FORMAT"] = values["LOG_FORMAT"].lower()
    return Config(values)
