"""Vero's Track API endpoints, answered in Vero's shape: {"status": 200, "message": "Success."}.

The write key is Vero's `auth_token`, in the query string or the JSON body (or, as on every
Tracklog endpoint, in an Authorization or x-api-key header). Errors keep Vero's shape
({"status": 4xx, "message": …}) and add Tracklog's `error` object and the receipt.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from msgspec import UNSET, UnsetType
from starlette.requests import Request
from starlette.responses import Response

from tracklog.events import utcnow
from tracklog.http.auth import AuthError, Principal, authorize, presented_key
from tracklog.http.body import read_body
from tracklog.http.openapi import Answer, Operation, errors
from tracklog.http.rate_limit import RateLimited
from tracklog.http.responses import in_shape, json_response
from tracklog.http.runtime import Runtime
from tracklog.http.schemas.common import error_detail
from tracklog.http.schemas.vero import (
    VeroAnswer,
    VeroError,
    VeroEventTrack,
    VeroHeartbeat,
    VeroReidentify,
    VeroSubscription,
    VeroTags,
    VeroUserEdit,
    VeroUserTrack,
)
from tracklog.ingest.pipeline import Receipt
from tracklog.ingest.wire import vero
from tracklog.ingest.wire.common import BodyError

SUCCESS = "Success."


def vero_error(
    status: int,
    code: str,
    message: str,
    field: str | UnsetType = UNSET,
    receipt: Receipt | UnsetType = UNSET,
) -> Response:
    """An error in Vero's shape, with Tracklog's error object beside it."""
    detail = error_detail(code, message, field if isinstance(field, str) and field else None)
    return json_response(VeroError(status, message, detail, receipt), status)


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
    except (AuthError, RateLimited, BodyError) as exc:
        return in_shape(exc, vero_error)
    receipt = await runtime.ingestor.ingest(
        items, principal.workspace, vero.source(kind), test=principal.test
    )
    first = receipt.results[0]
    # The call's own event decides the answer; an identify made from `identity` rides along.
    if first.status == "rejected":
        assert isinstance(first.code, str) and isinstance(first.message, str)
        return vero_error(400, first.code, first.message, first.field, receipt)
    return json_response(VeroAnswer(200, SUCCESS, receipt))


def _endpoint(kind: vero.Kind) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint for one Vero call; what each kind becomes is in tracklog/ingest/wire/vero.py."""

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
    return json_response(VeroHeartbeat(200, SUCCESS))


_ERRORS = errors(400, 401, 403, 408, 413, 415, 429, 503, shape=VeroError)
_OK = {200: Answer("stored", VeroAnswer), **_ERRORS}
# The write key: Vero's `auth_token` in the query (or the body), or a header.
_SECURITY = ("veroToken", "bearer", "apiKey")
_TAGS = ("Vero",)


def _call_operation(method: str, path: str, kind: vero.Kind, summary: str, body: Any) -> Operation:
    return Operation(
        method, path, _endpoint(kind), summary, _OK, body=body, security=_SECURITY, tags=_TAGS
    )


operations = (
    _call_operation(
        "POST",
        "/api/v2/events/track",
        "event",
        "Vero: track an event (identity.id → user_id, data → properties).",
        VeroEventTrack,
    ),
    _call_operation(
        "POST",
        "/api/v2/users/track",
        "user",
        "Vero: create or update a user (→ identify).",
        VeroUserTrack,
    ),
    _call_operation(
        "PUT",
        "/api/v2/users/edit",
        "edit",
        "Vero: change a user's traits (→ identify).",
        VeroUserEdit,
    ),
    _call_operation(
        "PUT",
        "/api/v2/users/reidentify",
        "reidentify",
        "Vero: change a user's id (→ alias).",
        VeroReidentify,
    ),
    _call_operation(
        "PUT",
        "/api/v2/users/tags/edit",
        "tags",
        "Vero: add or remove a user's tags (→ a tags_edited event).",
        VeroTags,
    ),
    _call_operation(
        "POST",
        "/api/v2/users/unsubscribe",
        "unsubscribe",
        "Vero: the user opted out (→ trait unsubscribed: true).",
        VeroSubscription,
    ),
    _call_operation(
        "POST",
        "/api/v2/users/resubscribe",
        "resubscribe",
        "Vero: the user opted back in (→ trait unsubscribed: false).",
        VeroSubscription,
    ),
    Operation(
        "DELETE",
        "/api/v2/users/delete",
        delete_user,
        "Vero: delete a user — refused (403): erasure needs an admin key on "
        "DELETE /api/users/{user_id}.",
        {403: Answer("needs an admin key", VeroError)},
        security=(),
        tags=_TAGS,
    ),
    Operation(
        "GET",
        "/api/v2/heartbeat",
        heartbeat,
        "Vero: liveness",
        {200: Answer("ok", VeroHeartbeat)},
        security=(),
        tags=_TAGS,
    ),
)
routes = [op.route() for op in operations]
