"""The live stream's messages (GET /api/live, Server-Sent Events).

OpenAPI 3.1 cannot say "a stream of", so the document gives one message's schema: its
`event:` line and its `data:` line (one JSON object). Comment lines (`: heartbeat`) keep the
connection open and carry nothing.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from tracklog.http.schemas.common import QuarantinedElement, StoredEvent


class Lagged(msgspec.Struct):
    """The reader fell behind: this many messages were dropped for it."""

    lost: int


class AcceptedMessage(msgspec.Struct):
    """An event, as soon as it is committed."""

    event: Literal["accepted"]
    data: StoredEvent


class RejectedMessage(msgspec.Struct):
    """A rejected element, as soon as it is quarantined."""

    event: Literal["rejected"]
    data: QuarantinedElement


class LaggedMessage(msgspec.Struct):
    """Messages a slow reader lost since the last one it got."""

    event: Literal["lagged"]
    data: Lagged
