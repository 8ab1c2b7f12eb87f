"""The native Track API's bodies: track, identify and group requests, the receipt, replays.

The request types describe what tracklog/ingest/wire/native.py accepts, for the document
only: the decoder reads every element loosely (so a wrong type is a rejection that names the
field, not an unreadable body) and keeps its own fast path. Each body is one object or an
array of them; ids may be strings or integers; null means absent.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from tracklog.events import Problem
from tracklog.http.schemas.common import Object, Time
from tracklog.ingest.pipeline import Receipt, Result
from tracklog.ingest.replay import ReplayRequest

Name = Annotated[str, Meta(max_length=255)]
AnId = Annotated[str, Meta(max_length=255)] | int
Timestamp = Annotated[
    Time, Meta(description="ISO-8601 with a four-digit year, any offset; stored as UTC")
]


class Context(msgspec.Struct):
    """Free-form context: `group_id` names the account when there is no top-level one;
    `test: true` marks a test event; `traits` are an identify's traits when it has none."""

    group_id: AnId | None = None
    test: bool | None = None
    traits: Object | None = None


class TrackEvent(msgspec.Struct):
    """One event. It needs a name (`event_name`, or `event`) and a user (`user_id` or
    `anonymous_id`); `timestamp` absent means the time received; `sent_at` is the sender's
    clock at sending, to correct its skew; `message_id` makes retries dedupe."""

    event_name: Name | None = None
    event: Annotated[Name | None, Meta(description="another name for `event_name`")] = None
    user_id: AnId | None = None
    anonymous_id: AnId | None = None
    properties: Object | None = None
    timestamp: Timestamp | None = None
    sent_at: Timestamp | None = None
    context: Context | None = None
    group_id: Annotated[AnId | None, Meta(description="the account; or context.group_id")] = None
    message_id: AnId | None = None
    test: Annotated[bool | None, Meta(description="true: a test event (or context.test)")] = None


class Identify(msgspec.Struct):
    """A user's traits (email, name, first_name, last_name, …); `user_id` or `anonymous_id`."""

    user_id: AnId | None = None
    anonymous_id: AnId | None = None
    traits: Object | None = None
    properties: Annotated[Object | None, Meta(description="the traits, if `traits` is absent")] = (
        None
    )
    timestamp: Timestamp | None = None
    sent_at: Timestamp | None = None
    context: Context | None = None
    group_id: AnId | None = None
    message_id: AnId | None = None


class Group(msgspec.Struct):
    """An account's traits (account_name, plan, …), and optionally the user who joined it.
    `group_id` is required, top-level or in `context`."""

    group_id: AnId | None = None
    user_id: AnId | None = None
    anonymous_id: AnId | None = None
    traits: Object | None = None
    properties: Annotated[Object | None, Meta(description="the traits, if `traits` is absent")] = (
        None
    )
    timestamp: Timestamp | None = None
    sent_at: Timestamp | None = None
    context: Context | None = None
    message_id: AnId | None = None


TrackBody = list[TrackEvent] | TrackEvent
IdentifyBody = list[Identify] | Identify
GroupBody = list[Group] | Group


class ReplayResult(msgspec.Struct):
    """What became of one replayed element (the receipt's result, with its quarantine id)."""

    quarantine_id: str
    index: int
    status: Literal["accepted", "duplicate", "rejected"]
    warnings: list[Problem]
    id: str | UnsetType = UNSET
    code: str | UnsetType = UNSET
    field: str | UnsetType = UNSET
    message: str | UnsetType = UNSET


class ReplayAnswer(msgspec.Struct):
    """How many replayed elements were stored (and left the quarantine), how many stay."""

    replayed: int
    still_rejected: int
    results: list[ReplayResult]


__all__ = [
    "Group",
    "GroupBody",
    "Identify",
    "IdentifyBody",
    "Receipt",
    "ReplayAnswer",
    "ReplayRequest",
    "Result",
    "TrackBody",
    "TrackEvent",
]
