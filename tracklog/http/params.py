"""Reading and checking query-string parameters of the read API, with clear 400s.

Each parameter is declared once (`Text`, `Integer`, `Choice`, …): the route reads its value
with `read(request)` and the OpenAPI document shows the same name, bounds and default.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import Request

from tracklog.ingest.timestamps import TimestampError, parse_timestamp
from tracklog.zones import UnknownZone, check


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


def timezone(request: Request, name: str = "tz") -> str | None:
    """An optional IANA time-zone name (America/Los_Angeles)."""
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return check(value)
    except UnknownZone as exc:
        raise ParameterError(name, f"`{name}`: {exc}") from None


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


def parse_uuid(value: str, field: str) -> uuid.UUID:
    """A UUID from the client, or a 400 that names the field."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ParameterError(field, f"`{field}` must be a UUID.") from None


@dataclass(frozen=True)
class Param:
    """A declared parameter: its name, where it is sent and what it means."""

    name: str
    description: str = ""
    # Documented as required (the endpoint refuses a request without it).
    required: bool = field(default=False, kw_only=True)

    @property
    def where(self) -> Literal["query", "path"]:
        """The parameter's place in the request."""
        return "query"

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of its value."""
        return {"type": "string"}

    def parameter(self) -> dict[str, Any]:
        """The OpenAPI Parameter object."""
        spec: dict[str, Any] = {"name": self.name, "in": self.where, "schema": self.schema()}
        if self.where == "path" or self.required:
            spec["required"] = True
        if self.description:
            spec["description"] = self.description
        return spec


@dataclass(frozen=True)
class Path(Param):
    """A path parameter (`{user_id}`): any text, of at most `max_len` characters if given."""

    max_len: int | None = None

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of its value."""
        if self.max_len is None:
            return {"type": "string"}
        return {"type": "string", "minLength": 1, "maxLength": self.max_len}

    @property
    def where(self) -> Literal["query", "path"]:
        """The parameter's place in the request."""
        return "path"

    def read(self, request: Request) -> str:
        """Its value."""
        value: str = request.path_params[self.name]
        return value


@dataclass(frozen=True)
class Text(Param):
    """An optional string of at most `max_len` characters (empty means absent)."""

    max_len: int = 255

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of its value."""
        return {"type": "string", "maxLength": self.max_len}

    def read(self, request: Request) -> str | None:
        """Its value, or None."""
        return text(request, self.name, self.max_len)


@dataclass(frozen=True)
class Zone(Param):
    """An optional IANA time-zone name (America/Los_Angeles); a 400 names any other."""

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of its value."""
        return {"type": "string", "maxLength": 64, "examples": ["America/Los_Angeles"]}

    def read(self, request: Request) -> str | None:
        """Its value, or None."""
        return timezone(request, self.name)


@dataclass(frozen=True)
class Integer(Param):
    """A whole number within [low, high], `default` when absent."""

    default: int = 0
    low: int = 0
    high: int = 0

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of its value."""
        return {
            "type": "integer",
            "minimum": self.low,
            "maximum": self.high,
            "default": self.default,
        }

    def read(self, request: Request) -> int:
        """Its value."""
        return integer(request, self.name, self.default, self.low, self.high)


@dataclass(frozen=True)
class Choice(Param):
    """One of `options`, `default` when absent."""

    options: tuple[str, ...] = ()
    default: str = ""

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of its value."""
        return {"type": "string", "enum": list(self.options), "default": self.default}

    def read(self, request: Request) -> str:
        """Its value."""
        value = request.query_params.get(self.name) or self.default
        if value not in self.options:
            raise ParameterError(
                self.name, f"`{self.name}` must be one of {', '.join(self.options)}."
            )
        return value


@dataclass(frozen=True)
class MaybeChoice(Param):
    """One of `options`, or None when absent (the endpoint picks a default that depends on
    other parameters)."""

    options: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of its value."""
        return {"type": "string", "enum": list(self.options)}

    def read(self, request: Request) -> str | None:
        """Its value, or None."""
        value = request.query_params.get(self.name)
        if not value:
            return None
        if value not in self.options:
            raise ParameterError(
                self.name, f"`{self.name}` must be one of {', '.join(self.options)}."
            )
        return value


@dataclass(frozen=True)
class Choices(Param):
    """Any of `options`: comma-separated, or the parameter repeated; none when absent."""

    options: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of its value (one option, the usual form; commas join several)."""
        return {"type": "string", "examples": list(self.options)}

    def read(self, request: Request) -> list[str]:
        """The options asked for, in order, each once."""
        found: list[str] = []
        for raw in request.query_params.getlist(self.name):
            for value in (v.strip() for v in raw.split(",")):
                if value and value not in self.options:
                    raise ParameterError(
                        self.name, f"`{self.name}` values must be among {', '.join(self.options)}."
                    )
                if value and value not in found:
                    found.append(value)
        return found


@dataclass(frozen=True)
class Flag(Param):
    """A boolean: true/1/yes or false/0/no; false when absent."""

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of its value."""
        return {"type": "boolean", "default": False}

    def read(self, request: Request) -> bool:
        """Its value."""
        return flag(request, self.name)


@dataclass(frozen=True)
class Time(Param):
    """An optional ISO-8601 time, read as naive UTC."""

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of its value."""
        return {"type": "string", "format": "date-time"}

    def read(self, request: Request) -> dt.datetime | None:
        """Its value, or None."""
        return time(request, self.name)


@dataclass(frozen=True)
class Names(Param):
    """Names of at most 255 characters: comma-separated, or the parameter repeated."""

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of its value (one comma-separated string, the usual form)."""
        return {"type": "string"}

    def read(self, request: Request) -> list[str]:
        """Its values, in order, blanks dropped."""
        values: list[str] = []
        for raw in request.query_params.getlist(self.name):
            values.extend(v.strip() for v in raw.split(",") if v.strip())
        for v in values:
            if len(v) > 255:
                raise ParameterError(self.name, f"`{self.name}` values are at most 255 characters.")
        return values


@dataclass(frozen=True)
class Repeated(Param):
    """A parameter that may be given more than once; every value, as sent."""

    def read(self, request: Request) -> list[str]:
        """Its values, in order."""
        return request.query_params.getlist(self.name)


@dataclass(frozen=True)
class Cursor(Param):
    """Where a page starts: the `next_cursor` of the previous page."""

    def read(self, request: Request) -> tuple[dt.datetime, uuid.UUID] | None:
        """The position it names, or None for the first page."""
        return decode_cursor(request, self.name)
