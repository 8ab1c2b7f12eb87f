"""GET /api/live: every commit's new and rejected events, fanned out to Server-Sent Events.

The committer calls `publish` on the event loop after each durable write, so a stream shows
only what is stored. Each subscriber has a bounded queue: a reader too slow to keep up loses
messages and is told how many (`event: lagged`), rather than making the server hold them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Sequence

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from tracklog.events import Event, Rejected, context_object, id_text
from tracklog.http.auth import authorize
from tracklog.http.openapi import READ, Answer, AnyOf, Operation, errors
from tracklog.http.schemas.common import QuarantinedElement, StoredEvent
from tracklog.http.schemas.live import AcceptedMessage, Lagged, LaggedMessage, RejectedMessage

QUEUE_SIZE = 1000
HEARTBEAT_SECONDS = 15.0
STREAM = "text/event-stream"
_encode = msgspec.json.Encoder()


def _iso(value: dt.datetime) -> str:
    return value.isoformat(timespec="milliseconds") + "Z"


def event_message(e: Event) -> StoredEvent:
    """An event as /api/events shows it."""
    return StoredEvent(
        id=id_text(e.id),
        type=e.type,
        event_name=e.event_name,
        user_id=e.user_id,
        anonymous_id=e.anonymous_id,
        group_id=e.group_id,
        timestamp=_iso(e.timestamp),
        original_timestamp=None if e.original_timestamp is None else _iso(e.original_timestamp),
        sent_at=None if e.sent_at is None else _iso(e.sent_at),
        received_at=_iso(e.received_at),
        properties=e.properties,
        context=context_object(e.context),
        message_id=e.message_id,
        source=e.source,
        is_test=e.is_test,
    )


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
                    body = QuarantinedElement(
                        str(r.id), _iso(r.received_at), r.source, r.raw, r.reasons
                    )
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
                    yield sse("lagged", Lagged(sub.lost))
                    sub.lost = 0
                yield message
        finally:
            self.subscribers.discard(sub)


def sse(kind: str, data: StoredEvent | QuarantinedElement | Lagged) -> bytes:
    """One Server-Sent Events message."""
    return b"event: " + kind.encode() + b"\ndata: " + _encode.encode(data) + b"\n\n"


async def live_endpoint(request: Request) -> Response:
    """GET /api/live: Server-Sent Events of events as they are committed, and rejections."""
    principal = await authorize(request, "read")
    broadcaster: Broadcaster = request.app.state.broadcaster
    return StreamingResponse(
        broadcaster.stream(principal.workspace),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


operations = (
    Operation(
        "GET",
        "/api/live",
        live_endpoint,
        "Server-Sent Events: `accepted` events as they are committed, `rejected` ones "
        "with their reasons.",
        {
            200: Answer(
                "a stream of events, until the client leaves (the schema is one message's)",
                AnyOf(AcceptedMessage, RejectedMessage, LaggedMessage),
                STREAM,
            ),
            **errors(401, 403),
        },
        security=READ,
    ),
)
routes = [op.route() for op in operations]
