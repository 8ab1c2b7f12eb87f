"""Logging setup: plain text or one JSON object per line, and never an API key in either.

Keys are only ever held as hashes, and no code logs a presented key; the redaction here is
the second line of defence, for a key that reaches a log inside an exception message or a
third-party library's output. Store URLs lose their passwords the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys

# Keys are a scope prefix and 32 url-safe characters (tracklog.keys.new_key).
_KEY = re.compile(r"\btl[wra]_[A-Za-z0-9_-]{16,}")
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+@")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    """`text` with API keys and URL passwords replaced."""
    return _URL_PASSWORD.sub(r"\1***@", _KEY.sub(lambda m: m.group(0)[:4] + "***", text))


class TextFormatter(logging.Formatter):
    """The usual one-line text format, redacted."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JSONFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str))


def configure(log_format: str = "text", level: str = "INFO") -> None:
    """Send every logger's records to stderr in `log_format` (text or json)."""
    if log_format not in ("text", "json"):
        raise ValueError(f"log format must be text or json, not {log_format!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
