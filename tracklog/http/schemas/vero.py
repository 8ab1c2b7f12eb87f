"""Vero's Events API as spoken here: its request bodies and its answers.

The request types describe what tracklog/ingest/wire/vero.py accepts, for the document only
(the decoder reads every body loosely, so a wrong type is a rejection that names the field).
`auth_token` is the write key; it may ride in the body instead of the query string.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from tracklog.http.schemas.common import ErrorDetail, Object, Time
from tracklog.ingest.pipeline import Receipt

AnId = Annotated[str, Meta(max_length=255)] | int
Tag = Annotated[Any, Meta(description="a tag, usually a string")]
DevelopmentMode = Annotated[
    bool | Literal["true", "false", "1", "0", ""],
    Meta(description="test data: kept out of analytics unless include_test=true"),
]


class Identity(msgspec.Struct):
    """The user: `id` (or, without one, `email`); every other attribute is a trait."""

    id: AnId | None = None
    email: AnId | None = None


class Extras(msgspec.Struct):
    """Kept in the event's context.extras; `created_at` is the event's time."""

    created_at: Annotated[Time, Meta(description="ISO-8601, any offset")] | None = None
    source: str | None = None


class VeroBase(msgspec.Struct, kw_only=True):
    """What every Vero call may carry."""

    auth_token: Annotated[str | None, Meta(description="the write key")] = None
    development_mode: DevelopmentMode | None = False


class VeroEventTrack(VeroBase, kw_only=True):
    """events/track: an event of a user (`identity` and `event_name` required); `data`
    becomes its properties."""

    identity: Identity | None = None
    event_name: Annotated[str, Meta(max_length=255)] | None = None
    data: Object | None = None
    extras: Extras | None = None


class VeroUserTrack(VeroBase, kw_only=True):
    """users/track: create or update a user (`id` or `email`); `data` are traits."""

    id: AnId | None = None
    email: AnId | None = None
    data: Object | None = None


class VeroUserEdit(VeroBase, kw_only=True):
    """users/edit: set some of a user's traits (`changes`, required)."""

    id: AnId | None = None
    email: AnId | None = None
    changes: Object | None = None


class VeroReidentify(VeroBase, kw_only=True):
    """users/reidentify: the user's id changes from `id` to `new_id` (both required)."""

    id: AnId | None = None
    new_id: AnId | None = None


class VeroTags(VeroBase, kw_only=True):
    """users/tags/edit: tags to `add` and to `remove` (at least one list)."""

    id: AnId | None = None
    email: AnId | None = None
    add: list[Tag] | None = None
    remove: list[Tag] | None = None


class VeroSubscription(VeroBase, kw_only=True):
    """users/unsubscribe and users/resubscribe: the user (`id` or `email`)."""

    id: AnId | None = None
    email: AnId | None = None


class VeroAnswer(msgspec.Struct):
    """Stored, in Vero's shape, with Tracklog's receipt beside it."""

    status: int
    message: str
    receipt: Receipt


class VeroHeartbeat(msgspec.Struct):
    """Vero's liveness answer."""

    status: int
    message: str


class VeroError(msgspec.Struct):
    """An error in Vero's shape (`status`, `message`) with Tracklog's error object, and the
    receipt when the call's event was rejected."""

    status: int
    message: str
    error: ErrorDetail
    receipt: Receipt | UnsetType = UNSET
