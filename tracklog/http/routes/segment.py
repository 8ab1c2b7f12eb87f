"""Segment's HTTP Tracking API endpoints: /v1/track, identify, group, page, screen, alias, batch.

Auth as Segment's clients send it: HTTP Basic with the write key as the user name, or
`writeKey` in the body (analytics.js does this to avoid a CORS preflight). Answers are what the
clients expect, 200 {"success": true}, with Tracklog's per-message receipt beside it. A batch
answers 200 even when some of its messages were rejected: they are in the quarantine and the
receipt says why, and a 4xx would make a client report the whole batch as lost. A single call
whose one message was rejected answers 400, since nothing of it was stored.
"""

from __future__ import annotations

from typing import Any

from msgspec import UNSET, UnsetType
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracklog.events import utcnow
from tracklog.http.auth import AuthError, Principal, authorize, presented_key
from tracklog.http.body import read_body
from tracklog.http.openapi import Answer, Operation, errors
from tracklog.http.rate_limit import RateLimited
from tracklog.http.responses import in_shape, json_response
from tracklog.http.runtime import Runtime
from tracklog.http.schemas.common import error_detail
from tracklog.http.schemas.segment import BODIES, SegmentAnswer, SegmentError
from tracklog.ingest.pipeline import Receipt
from tracklog.ingest.wire import segment
from tracklog.ingest.wire.common import BodyError

# analytics.js posts to one-letter paths (/v1/t, /v1/i, …); they are the same calls.
SHORT: dict[str, segment.Call] = {
    "t": "track",
    "i": "identify",
    "g": "group",
    "p": "page",
    "s": "screen",
    "a": "alias",
    "b": "batch",
}


def segment_error(
    status: int,
    code: str,
    message: str,
    field: str | UnsetType = UNSET,
    receipt: Receipt | UnsetType = UNSET,
) -> Response:
    """An error as Segment's clients read it (top-level code and message), plus ours."""
    detail = error_detail(code, message, field if isinstance(field, str) and field else None)
    return json_response(SegmentError(False, code, message, detail, receipt), status)


async def _call(request: Request, call: segment.Call) -> Response:
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    try:
        header_key = presented_key(request)
        principal: Principal | None = None
        if header_key:  # checked before the body is read
            principal = await authorize(request, "write", header_key)
            runtime.limiter.check(principal.key_id)
        body = await read_body(request, settings.max_batch_bytes, settings.body_timeout)
        envelope, body_key = segment.parse(body, call)
        if principal is None:
            if not body_key:
                raise AuthError(
                    401,
                    "missing_key",
                    "No write key: send it as the HTTP Basic user name (Segment's libraries "
                    "do) or as `writeKey` in the body.",
                )
            principal = await authorize(request, "write", body_key)
        items = segment.decode_envelope(envelope, body, principal.workspace, utcnow(), call)
        runtime.limiter.charge(principal.key_id, len(items))
    except (AuthError, RateLimited, BodyError) as exc:
        return in_shape(exc, segment_error)
    receipt = await runtime.ingestor.ingest(
        items, principal.workspace, segment.source(call), test=principal.test
    )
    if call != "batch" and receipt.rejected:
        first = receipt.results[0]
        assert isinstance(first.code, str) and isinstance(first.message, str)
        return segment_error(400, first.code, first.message, first.field, receipt)
    return json_response(SegmentAnswer(True, receipt))


def _endpoint(call: segment.Call) -> Any:
    async def endpoint(request: Request) -> Response:
        return await _call(request, call)

    endpoint.__doc__ = f"POST /v1/{call}: Segment's {call} call."
    endpoint.__name__ = f"segment_{call}"
    return endpoint


_ANSWERS = {
    200: Answer("stored (a batch: see the receipt)", SegmentAnswer),
    **errors(400, 401, 403, 408, 413, 415, 429, 503, shape=SegmentError),
}
operations = tuple(
    Operation(
        "POST",
        f"/v1/{call}",
        _endpoint(call),
        f"Segment: {call}",
        _ANSWERS,
        body=BODIES[call],
        security=("basic", "bearer"),
        tags=("Segment",),
    )
    for call in segment.CALLS
)
# The one-letter paths are the same calls; the document lists each call once.
routes = [op.route() for op in operations] + [
    Route(f"/v1/{short}", _endpoint(call), methods=["POST"]) for short, call in SHORT.items()
]
