"""Vero's Track API endpoints, answered in Vero's shape: {"status": 200, "message": "Success."}.

The write key is Vero's `auth_token`, in the query string or the JSON body (or, as on every
Tracklog endpoint, in an Authorization or x-api-key header). Errors keep Vero's shape
({"status": 4xx, "message": …}) and add Tracklog's `error` object and the receipt.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
from tracklog.wire import vero
from tracklog.wire.common import BodyError

SUCCESS = "Success."


def vero_error(
    status: int, code: str, message: str, field: str | None = None, **extra: Any
) -> Response:
    """An error in Vero's shape, with Tracklog's error object beside it."""
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return json_response({"status": status, "message": message, "error": error, **extra}, status)


async def _call(request: Request, kind: vero.Kind) -> Response:
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    try:
        # A key outside the body is checked before the body is read.
        outer_key = request.query_params.get("auth_token") or presented_key(request)
        principal: Principal | None = None
        if outer_key:
            principal = await authorize(request, "write", outer_key)
            runtime.limiter.check(principal.key_id)
        body = await read_body(request, settings.max_batch_bytes, settings.body_timeout)
        _doc, token, raw = vero.parse(body)
        if principal is None:
            if not token:
                raise AuthError(
                    401,
                    "missing_key",
                    "No auth_token: send the write key as `auth_token` in the JSON body "
                    "or the query string.",
                )
            principal = await authorize(request, "write", token)
        items = vero.decode_raw(raw, principal.workspace, utcnow(), kind)
        runtime.limiter.charge(principal.key_id, len(items))
    except AuthError as exc:
        return vero_error(exc.status, exc.code, exc.message)
    except RateLimited as exc:
        response = vero_error(429, "rate_limited", exc.message)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except BodyError as exc:
        return vero_error(exc.status, exc.code, exc.message)
    receipt = await runtime.ingestor.ingest(items, principal.workspace, vero.source(kind))
    first = receipt.results[0]
    # The call's own event decides the answer; an identify made from `identity` rides along.
    if first.status == "rejected":
        assert first.code is not None and first.message is not None
        return vero_error(400, first.code, first.message, first.field, receipt=receipt)
    return json_response({"status": 200, "message": SUCCESS, "receipt": receipt})


def _endpoint(kind: vero.Kind) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint for one Vero call; what each kind becomes is in tracklog/wire/vero.py."""

    async def endpoint(request: Request) -> Response:
        return await _call(request, kind)

    endpoint.__name__ = f"vero_{kind}"
    return endpoint


async def delete_user(request: Request) -> Response:
    """DELETE /api/v2/users/delete: refused here, because Vero's token is a write key.

    Erasing a person is a privacy request: it takes an admin key on Tracklog's own API, so a
    leaked write key embedded in an app cannot erase anyone's data.
    """
    return vero_error(
        403,
        "wrong_scope",
        "Deleting a user needs an admin key: call DELETE /api/users/{user_id} with an admin "
        "key (see docs/privacy.md). Vero's auth_token is a write key and cannot delete.",
    )


async def heartbeat(request: Request) -> Response:
    """GET /api/v2/heartbeat: Vero's liveness check; needs no key."""
    return json_response({"status": 200, "message": SUCCESS})


routes = [
    Route("/api/v2/events/track", _endpoint("event"), methods=["POST"]),
    Route("/api/v2/users/track", _endpoint("user"), methods=["POST"]),
    Route("/api/v2/users/edit", _endpoint("edit"), methods=["PUT"]),
    Route("/api/v2/users/reidentify", _endpoint("reidentify"), methods=["PUT"]),
    Route("/api/v2/users/tags/edit", _endpoint("tags"), methods=["PUT"]),
    Route("/api/v2/users/unsubscribe", _endpoint("unsubscribe"), methods=["POST"]),
    Route("/api/v2/users/resubscribe", _endpoint("resubscribe"), methods=["POST"]),
    Route("/api/v2/users/delete", delete_user, methods=["DELETE"]),
    Route("/api/v2/heartbeat", heartbeat, methods=["GET"]),
]

_VERO_OK = {
    "type": "object",
    "properties": {
        "status": {"type": "integer", "example": 200},
        "message": {"type": "string", "example": SUCCESS},
        "receipt": {"type": "object"},
    },
}
_VERO_ERROR = {
    "type": "object",
    "properties": {
        "status": {"type": "integer", "example": 400},
        "message": {"type": "string"},
        "error": {"type": "object"},
    },
}


def _op(method: str, summary: str, fields: dict[str, Any]) -> dict[str, Any]:
    json = {"application/json": {"schema": {"type": "object", "properties": fields}}}
    error = {"description": "error", "content": {"application/json": {"schema": _VERO_ERROR}}}
    return {
        method: {
            "summary": summary,
            "tags": ["Vero"],
            # The write key: Vero's `auth_token` in the query (or the body), or a header.
            "security": [{"veroToken": []}, {"bearer": []}, {"apiKey": []}],
            "requestBody": {"required": True, "content": json},
            "responses": {
                "200": {
                    "description": "stored",
                    "content": {"application/json": {"schema": _VERO_OK}},
                },
                **{str(s): error for s in (400, 401, 403, 408, 413, 415, 429, 503)},
            },
        }
    }


_TOKEN = {"auth_token": {"type": "string"}, "development_mode": {"type": "boolean"}}
_OBJ: dict[str, Any] = {"type": "object"}
_STR: dict[str, Any] = {"type": "string"}
openapi.register(
    {
        "/api/v2/events/track": _op(
            "post",
            "Vero: track an event (identity.id → user_id, data → properties).",
            {
                **_TOKEN,
                "identity": {
                    "type": "object",
                    "properties": {"id": _STR, "email": _STR},
                    "required": ["id"],
                },
                "event_name": _STR,
                "data": _OBJ,
                "extras": {"type": "object", "properties": {"created_at": _STR, "source": _STR}},
            },
        ),
        "/api/v2/users/track": _op(
            "post",
            "Vero: create or update a user (→ identify).",
            {**_TOKEN, "id": _STR, "email": _STR, "data": _OBJ},
        ),
        "/api/v2/users/edit": _op(
            "put",
            "Vero: change a user's traits (→ identify).",
            {**_TOKEN, "id": _STR, "changes": _OBJ},
        ),
        "/api/v2/users/reidentify": _op(
            "put", "Vero: change a user's id (→ alias).", {**_TOKEN, "id": _STR, "new_id": _STR}
        ),
        "/api/v2/users/tags/edit": _op(
            "put",
            "Vero: add or remove a user's tags (→ a tags_edited event).",
            {**_TOKEN, "id": _STR, "add": {"type": "array"}, "remove": {"type": "array"}},
        ),
        "/api/v2/users/unsubscribe": _op(
            "post", "Vero: the user opted out (→ trait unsubscribed: true).", {**_TOKEN, "id": _STR}
        ),
        "/api/v2/users/resubscribe": _op(
            "post",
            "Vero: the user opted back in (→ trait unsubscribed: false).",
            {**_TOKEN, "id": _STR},
        ),
        "/api/v2/users/delete": {
            "delete": {
                "summary": "Vero: delete a user — refused (403): erasure needs an admin key on "
                "DELETE /api/users/{user_id}.",
                "tags": ["Vero"],
                "responses": {
                    "403": {
                        "description": "needs an admin key",
                        "content": {"application/json": {"schema": _VERO_ERROR}},
                    }
                },
            }
        },
        "/api/v2/heartbeat": {
            "get": {"summary": "Vero: liveness", "responses": {"200": {"description": "ok"}}}
        },
    }
)
