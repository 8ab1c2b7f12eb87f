"""Live events: every commit's new and rejected events, fanned out to Server-Sent Events streams.

The committer calls `publish` on the event loop after each durable write, so a stream shows
only what is stored. Each subscriber has a bounded queue: a reader too slow to keep up loses
messages and is told how many (`event: lagged`), rather than making the server hold them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import msgspec

from tracklog.events import Event, Rejected

QUEUE_SIZE = 1000
HEARTBEAT_SECONDS = 15.0
_encode = msgspec.json.Encoder()


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat(timespec="milliseconds") + "Z"


def event_message(e: Event) -> dict[str, Any]:
    """An event as /api/events shows it."""
    return {
        "id": str(e.id),
        "type": e.type,
        "event_name": e.event_name,
        "user_id": e.user_id,
        "anonymous_id": e.anonymous_id,
        "group_id": e.group_id,
        "timestamp": _iso(e.timestamp),
        "original_timestamp": _iso(e.original_timestamp),
        "sent_at": _iso(e.sent_at),
        "received_at": _iso(e.received_at),
        "properties": e.properties,
        "context": e.context,
        "message_id": e.message_id,
        "source": e.source,
        "is_test": e.is_test,
    }


class Subscriber:
    """One open stream of one workspace."""

    def __init__(self, workspace: str) -> None:
        self.workspace = workspace
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_SIZE)
        self.lost = 0

    def offer(self, message: bytes) -> None:
        """Queue a message, or count it lost if the reader is behind."""
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.lost += 1


class Broadcaster:
    """The set of open streams; a Committer listener."""

    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()

    def publish(self, events: Sequence[Event], rejected: Sequence[Rejected]) -> None:
        """Send one commit's events to the streams of their workspaces."""
        if not self.subscribers:
            return
        for sub in list(self.subscribers):
            for e in events:
                if e.workspace == sub.workspace:
                    sub.offer(sse("accepted", event_message(e)))
            for r in rejected:
                if r.workspace == sub.workspace:
                    body = {
                        "id": str(r.id),
                        "received_at": _iso(r.received_at),
                        "source": r.source,
                        "raw": r.raw,
                        "reasons": r.reasons,
                    }
                    sub.offer(sse("rejected", body))

    async def stream(self, workspace: str) -> AsyncIterator[bytes]:
        """The SSE byte stream of one workspace until the client goes away."""
        sub = Subscriber(workspace)
        self.subscribers.add(sub)
        try:
            yield b"retry: 3000\n: connected\n\n"
            while True:
                try:
                    message = await asyncio.wait_for(sub.queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield b": heartbeat\n\n"
                    continue
                if sub.lost:
                    yield sse("lagged", {"lost": sub.lost})
                    sub.lost = 0
                yield message
        finally:
            self.subscribers.discard(sub)


def sse(kind: str, data: Any) -> bytes:
    """One Server-Sent Events message."""
    return b"event: " + kind.encode() + b"\ndata: " + _encode.encode(data) + b"\n\n"
