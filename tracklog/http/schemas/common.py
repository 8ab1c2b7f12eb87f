"""Types more than one surface answers with: the error shape, a stored event, a quarantined one.

Times are strings as the stores give them out (ISO-8601 UTC with a Z, to the millisecond):
typed as `str`, so encoding an answer writes them back byte for byte.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from tracklog.events import EventType, Problem

Time = Annotated[str, Meta(extra_json_schema={"format": "date-time"})]
Date = Annotated[str, Meta(extra_json_schema={"format": "date"})]
Id = Annotated[str, Meta(extra_json_schema={"format": "uuid"})]
Object = dict[str, Any]  # a free-form JSON object (properties, traits, context)


class ErrorDetail(msgspec.Struct):
    """What went wrong: a code to branch on, the field to correct (if one), a sentence."""

    code: str
    message: str
    field: str | UnsetType = UNSET


class ErrorAnswer(msgspec.Struct):
    """The one error shape of Tracklog's own API."""

    error: ErrorDetail


def error_detail(code: str, message: str, field: str | None = None) -> ErrorDetail:
    """The error object; `field` is left out when there is none."""
    return ErrorDetail(code, message, UNSET if field is None else field)


class StoredEvent(msgspec.Struct):
    """One stored event. `timestamp` is the effective time (clock skew corrected);
    `original_timestamp` the client's, `sent_at` its send time, `received_at` the server's."""

    id: Id
    type: EventType
    event_name: str | None
    user_id: str | None
    anonymous_id: str | None
    group_id: str | None
    timestamp: Time
    original_timestamp: Time | None
    sent_at: Time | None
    received_at: Time
    properties: Object
    context: Object
    message_id: str | None
    source: str
    is_test: bool


class QuarantinedElement(msgspec.Struct):
    """A rejected element kept with its raw JSON (a string, as received) and the reasons."""

    id: Id
    received_at: Time
    source: str
    raw: str
    reasons: list[Problem]


__all__ = [
    "Date",
    "ErrorAnswer",
    "ErrorDetail",
    "Id",
    "Object",
    "Problem",
    "QuarantinedElement",
    "StoredEvent",
    "Time",
    "error_detail",
]
