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

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracklog import openapi
from tracklog.api import json_response
from tracklog.auth import AuthError, Principal, authorize, presented_key
from tracklog.events import utcnow
from tracklog.ingest import read_body
from tracklog.rate_limit import RateLimited
from tracklog.runtime import Runtime
from tracklog.wire import segment
from tracklog.wire.common import BodyError

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
    status: int, code: str, message: str, field: str | None = None, **extra: Any
) -> Response:
    """An error as Segment's clients read it (top-level code and message), plus ours."""
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return json_response(
        {"success": False, "code": code, "message": message, "error": error, **extra}, status
    )


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
    except AuthError as exc:
        return segment_error(exc.status, exc.code, exc.message)
    except RateLimited as exc:
        response = segment_error(429, "rate_limited", exc.message)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except BodyError as exc:
        return segment_error(exc.status, exc.code, exc.message)
    receipt = await runtime.ingestor.ingest(items, principal.workspace, segment.source(call))
    if call != "batch" and receipt.rejected:
        first = receipt.results[0]
        assert first.code is not None and first.message is not None
        return segment_error(400, first.code, first.message, first.field, receipt=receipt)
    return json_response({"success": True, "receipt": receipt})


def _endpoint(call: segment.Call) -> Any:
    async def endpoint(request: Request) -> Response:
        return await _call(request, call)

    endpoint.__doc__ = f"POST /v1/{call}: Segment's {call} call."
    endpoint.__name__ = f"segment_{call}"
    return endpoint


routes = [Route(f"/v1/{call}", _endpoint(call), methods=["POST"]) for call in segment.CALLS] + [
    Route(f"/v1/{short}", _endpoint(call), methods=["POST"]) for short, call in SHORT.items()
]

_STR: dict[str, Any] = {"type": "string"}
_OBJ: dict[str, Any] = {"type": "object"}
_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
_COMMON = {
    "userId": _STR,
    "anonymousId": _STR,
    "messageId": _STR,
    "timestamp": _TIME,
    "sentAt": _TIME,
    "context": _OBJ,
    "integrations": _OBJ,
    "writeKey": _STR,
}
_CALL_FIELDS: dict[str, dict[str, Any]] = {
    "track": {"event": _STR, "properties": _OBJ},
    "identify": {"traits": _OBJ},
    "group": {"groupId": _STR, "traits": _OBJ},
    "page": {"name": _STR, "category": _STR, "properties": _OBJ},
    "screen": {"name": _STR, "category": _STR, "properties": _OBJ},
    "alias": {"previousId": _STR},
}
_MESSAGE = {
    "type": "object",
    "properties": {"type": {"enum": list(_CALL_FIELDS)}, **_COMMON}
    | {k: v for fields in _CALL_FIELDS.values() for k, v in fields.items()},
}
_BATCH = {
    "type": "object",
    "properties": {
        "batch": {"type": "array", "items": _MESSAGE},
        "context": _OBJ,
        "integrations": _OBJ,
        "sentAt": _TIME,
        "writeKey": _STR,
    },
    "required": ["batch"],
}
_OK = {
    "type": "object",
    "properties": {"success": {"type": "boolean"}, "receipt": {"type": "object"}},
}
_ERR = {
    "type": "object",
    "properties": {
        "success": {"type": "boolean"},
        "code": _STR,
        "message": _STR,
        "error": _OBJ,
    },
}


def _op(call: str, schema: dict[str, Any]) -> dict[str, Any]:
    def body(s: dict[str, Any]) -> dict[str, Any]:
        return {"content": {"application/json": {"schema": s}}}

    return {
        "post": {
            "summary": f"Segment: {call}",
            "tags": ["Segment"],
            "security": [{"basic": []}, {"bearer": []}],
            "requestBody": {"required": True, **body(schema)},
            "responses": {
                "200": {"description": "stored (a batch: see the receipt)", **body(_OK)},
                **{
                    str(s): {"description": "error", **body(_ERR)}
                    for s in (400, 401, 403, 408, 413, 415, 429, 503)
                },
            },
        }
    }


openapi.register(
    {
        f"/v1/{call}": _op(
            call,
            _BATCH
            if call == "batch"
            else {"type": "object", "properties": {**_COMMON, **_CALL_FIELDS[call]}},
        )
        for call in segment.CALLS
    }
)
