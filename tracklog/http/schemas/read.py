"""The read path's answers: pages of events and of the quarantine, a user's summary, health."""

from __future__ import annotations

from typing import Literal

import msgspec

from tracklog.http.schemas.common import QuarantinedElement, StoredEvent


class EventPage(msgspec.Struct):
    """Events, newest first; `next_cursor` fetches the next page (null: this was the last)."""

    events: list[StoredEvent]
    next_cursor: str | None


class QuarantinePage(msgspec.Struct):
    """Quarantined elements still waiting for a replay, newest first."""

    items: list[QuarantinedElement]
    next_cursor: str | None


class Healthy(msgspec.Struct):
    """The store answers; `queued`: events waiting for the next group commit."""

    status: Literal["ok"]
    queued: int


class Degraded(msgspec.Struct):
    """The store answers but refuses writes (`disk_full` when that is why): writes get 503
    until it is mended; `reason` says what to do in a sentence."""

    status: Literal["degraded"]
    reason: str
    disk_full: bool
    queued: int


class Unhealthy(msgspec.Struct):
    """The store does not answer (the reason is in the server log)."""

    status: Literal["unavailable"]
