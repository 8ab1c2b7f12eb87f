"""The canonical event every wire format decodes into, and the problems found on the way."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

import msgspec

EventType = Literal["track", "identify", "group", "page", "screen", "alias"]
EVENT_TYPES: tuple[str, ...] = ("track", "identify", "group", "page", "screen", "alias")


class Problem(msgspec.Struct, frozen=True):
    """Why an event was rejected, or what a warning is about: a code, the field, a sentence."""

    code: str
    field: str
    message: str


class Event(msgspec.Struct, kw_only=True):
    """One message after decoding, in the shape every store keeps.

    `timestamp` is the effective UTC time used by analytics: the client's time corrected for
    clock skew when `sent_at` was given, else the client's time, else the time received.
    """

    id: uuid.UUID
    workspace: str
    type: EventType = "track"
    event_name: str | None = None
    user_id: str | None = None
    anonymous_id: str | None = None
    group_id: str | None = None
    timestamp: dt.datetime
    original_timestamp: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    received_at: dt.datetime
    properties: dict[str, Any] = msgspec.field(default_factory=dict)
    context: dict[str, Any] = msgspec.field(default_factory=dict)
    message_id: str | None = None
    source: str = "native"
    is_test: bool = False


class Rejected(msgspec.Struct, kw_only=True):
    """An event that could not be stored, kept in quarantine with its raw JSON and reasons."""

    id: uuid.UUID
    workspace: str
    received_at: dt.datetime
    source: str
    raw: str
    reasons: list[Problem]


def utcnow() -> dt.datetime:
    """The current time as a naive UTC datetime, the form the stores keep, to the millisecond."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
