"""`HERALD_LOG_FORMAT=json`: each log record as one JSON object on one line, for log collectors that read JSON.

Keys: `time` (UTC, ISO 8601 with milliseconds), `level`, `logger`, `message` (the formatted message; secrets were
already blanked by the handler's filters), and `exception` (the traceback) when the record carries one. Imports
nothing from Django: the logging configuration loads it before the apps are ready.
"""

import json
import logging
from datetime import UTC, datetime


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC)
        entry = {
            "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # One line whatever the message holds: json.dumps escapes newlines, ensure_ascii keeps odd bytes out.
        return json.dumps(entry, ensure_ascii=True)
