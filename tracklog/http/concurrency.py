"""The in-flight request limit: past `--max-concurrent-requests`, 503 with Retry-After at once.

Each request being served holds its body (up to the batch limit) and its decoded events, so
the number in progress is what bounds the server's memory under a flood; the commit queue
bounds only what waits for the writer. Past the limit a request is answered before its body
is read, in the API's error shape. uvicorn's own `limit_concurrency` (`--max-connections`)
stays as the outer ceiling on open connections: it counts idle keep-alive and live-stream
connections too, and answers a bare text 503 without Retry-After, so it is set well above
this limit.

Health checks, /metrics and the live event stream are not counted: an operator must be able
to see an overloaded server, and a live stream is open for minutes by design.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from starlette.types import ASGIApp, Receive, Scope, Send

EXEMPT = ("/healthz", "/metrics", "/api/live")
RETRY_AFTER = "1"


@dataclass
class InFlight:
    """Requests in progress, the limit, and how many were refused (for /metrics)."""

    limit: int
    current: int = 0
    refused: int = 0


_BODY = msgspec.json.encode(
    {
        "error": {
            "code": "overloaded",
            "message": "The server has too many requests in progress; retry shortly.",
        }
    }
)


class ConcurrencyLimit:
    """ASGI middleware that refuses HTTP requests past `state.limit` in progress (0: none)."""

    def __init__(self, app: ASGIApp, state: InFlight) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state
        if scope["type"] != "http" or state.limit <= 0 or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        if state.current >= state.limit:
            state.refused += 1
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(_BODY)).encode()),
                        (b"retry-after", RETRY_AFTER.encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _BODY})
            return
        # One event loop runs every request, so a plain counter needs no lock.
        state.current += 1
        try:
            await self.app(scope, receive, send)
        finally:
            state.current -= 1
