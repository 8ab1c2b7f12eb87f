"""Segment's HTTP Tracking API as spoken here: its request bodies and its answers.

The request types describe what tracklog/ingest/wire/segment.py accepts, for the document
only (the decoder reads every message loosely, so a wrong type is a rejection that names the
field). Names are camelCase; ids may be strings or integers; null means absent. Every
message needs `userId` or `anonymousId`. The key may ride in the body as `writeKey`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from tracklog.http.schemas.common import ErrorDetail, Object, Time
from tracklog.ingest.pipeline import Receipt

AnId = Annotated[str, Meta(max_length=255)] | int
Name = Annotated[str, Meta(max_length=255)]
Timestamp = Annotated[Time, Meta(description="ISO-8601, any offset")]


class SegmentMessage(msgspec.Struct, rename="camel", kw_only=True):
    """What every Segment message may carry. `timestamp` (or `originalTimestamp`) is when it
    happened, `sentAt` the sender's clock at sending (to correct its skew); `integrations`
    is kept in the context. The account is `groupId`, `context.groupId` or
    `context.group_id`; `context.test: true` marks a test event; an identify without
    `traits` takes `context.traits` (as RudderStack's SDKs send them)."""

    user_id: AnId | None = None
    anonymous_id: AnId | None = None
    message_id: AnId | None = None
    timestamp: Timestamp | None = None
    original_timestamp: Timestamp | None = None
    sent_at: Timestamp | None = None
    context: Object | None = None
    integrations: Object | None = None
    write_key: Annotated[str | None, Meta(description="the write key")] = None
    group_id: Annotated[AnId | None, Meta(description="the account (or in context)")] = None


class SegmentTrack(SegmentMessage, kw_only=True):
    """track: an event (`event` required) and its properties."""

    event: Name | None = None
    properties: Object | None = None


class SegmentIdentify(SegmentMessage, kw_only=True):
    """identify: a user's traits."""

    traits: Object | None = None


class SegmentGroup(SegmentMessage, kw_only=True):
    """group: an account (`groupId` required) and its traits."""

    traits: Object | None = None


class SegmentPage(SegmentMessage, kw_only=True):
    """page: a page view (`name`, or "page"); `category` joins the properties."""

    name: Name | None = None
    category: str | None = None
    properties: Object | None = None


class SegmentScreen(SegmentMessage, kw_only=True):
    """screen: a screen view (`name`, or "screen"); `category` joins the properties."""

    name: Name | None = None
    category: str | None = None
    properties: Object | None = None


class SegmentAlias(SegmentMessage, kw_only=True):
    """alias: `previousId` (required) is the same person as `userId`."""

    previous_id: AnId | None = None


class BatchTrack(SegmentTrack, tag_field="type", tag="track", kw_only=True):
    """A track message of a batch."""


class BatchIdentify(SegmentIdentify, tag_field="type", tag="identify", kw_only=True):
    """An identify message of a batch."""


class BatchGroup(SegmentGroup, tag_field="type", tag="group", kw_only=True):
    """A group message of a batch."""


class BatchPage(SegmentPage, tag_field="type", tag="page", kw_only=True):
    """A page message of a batch."""


class BatchScreen(SegmentScreen, tag_field="type", tag="screen", kw_only=True):
    """A screen message of a batch."""


class BatchAlias(SegmentAlias, tag_field="type", tag="alias", kw_only=True):
    """An alias message of a batch."""


class SegmentBatch(msgspec.Struct, rename="camel", kw_only=True):
    """Messages of any type, each naming its own; the batch's `context` and `integrations`
    are laid under each message's (the message's keys win), and its `sentAt` stands for
    messages that carry none. A rejected message does not fail the batch."""

    batch: list[BatchTrack | BatchIdentify | BatchGroup | BatchPage | BatchScreen | BatchAlias]
    context: Object | None = None
    integrations: Object | None = None
    sent_at: Timestamp | None = None
    write_key: Annotated[str | None, Meta(description="the write key")] = None


BODIES = {
    "track": SegmentTrack,
    "identify": SegmentIdentify,
    "group": SegmentGroup,
    "page": SegmentPage,
    "screen": SegmentScreen,
    "alias": SegmentAlias,
    "batch": SegmentBatch,
}


class SegmentAnswer(msgspec.Struct):
    """Stored (a batch: see the receipt for each message), with Tracklog's receipt."""

    success: bool
    receipt: Receipt


class SegmentError(msgspec.Struct):
    """An error as Segment's clients read it (top-level `code` and `message`), Tracklog's
    error object, and the receipt when the call's one message was rejected."""

    success: bool
    code: str
    message: str
    error: ErrorDetail
    receipt: Receipt | UnsetType = UNSET
