"""Reading and checking query-string parameters of the read API, with clear 400s."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid

from starlette.requests import Request

from tracklog.timestamps import TimestampError, parse_timestamp


class ParameterError(Exception):
    """A query parameter the client must correct (400 invalid_parameter)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def text(request: Request, name: str, max_len: int = 255) -> str | None:
    """An optional string parameter of bounded length."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if len(value) > max_len:
        raise ParameterError(name, f"`{name}` is longer than {max_len} characters.")
    return value


def integer(request: Request, name: str, default: int, low: int, high: int) -> int:
    """An integer parameter within [low, high]."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ParameterError(name, f"`{name}` must be a whole number.") from None
    if not low <= number <= high:
        raise ParameterError(name, f"`{name}` must be between {low} and {high}.")
    return number


def flag(request: Request, name: str) -> bool:
    """A boolean parameter: true/1/yes or false/0/no."""
    value = (request.query_params.get(name) or "false").lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise ParameterError(name, f"`{name}` must be true or false.")


def time(request: Request, name: str) -> dt.datetime | None:
    """An optional ISO-8601 time parameter, as naive UTC."""
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return parse_timestamp(value, name)
    except TimestampError as exc:
        raise ParameterError(name, str(exc)) from None


def encode_cursor(ts: dt.datetime, event_id: uuid.UUID) -> str:
    """An opaque cursor for keyset paging by (timestamp, id) descending."""
    return base64.urlsafe_b64encode(f"{ts.isoformat()}|{event_id}".encode()).decode()


def decode_cursor(request: Request, name: str = "cursor") -> tuple[dt.datetime, uuid.UUID] | None:
    """The position a cursor names, or None for the first page."""
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        ts_text, _, id_text = base64.urlsafe_b64decode(value.encode()).decode().partition("|")
        return dt.datetime.fromisoformat(ts_text), uuid.UUID(id_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ParameterError(name, f"`{name}` is not a cursor this server gave out.") from None
