"""The native Track API (write path): track, identify, group, and quarantine replay."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from tracklog.events import EventType, utcnow
from tracklog.http import params as qp
from tracklog.http.auth import authorize
from tracklog.http.body import read_body
from tracklog.http.openapi import Answer, AnyOf, Operation, errors
from tracklog.http.responses import json_response
from tracklog.http.runtime import Runtime
from tracklog.http.schemas.common import ErrorAnswer
from tracklog.http.schemas.native import (
    GroupBody,
    IdentifyBody,
    Receipt,
    ReplayAnswer,
    ReplayRequest,
    TrackBody,
)
from tracklog.ingest import replay as replaying
from tracklog.ingest.wire import native
from tracklog.ingest.wire.common import BodyError, not_json


async def _ingest(request: Request, type_: EventType) -> Response:
    runtime: Runtime = request.app.state.runtime
    principal = await authorize(request, "write")
    runtime.limiter.check(principal.key_id)
    body = await read_body(request, runtime.settings.max_batch_bytes, runtime.settings.body_timeout)
    received_at = utcnow()
    items = native.decode(body, principal.workspace, received_at, type_)
    runtime.limiter.charge(principal.key_id, len(items))
    receipt = await runtime.ingestor.ingest(
        items,
        principal.workspace,
        native.source(type_),
        test=principal.test,
        received_at=received_at,
    )
    return json_response(receipt, receipt.status_code)


async def track(request: Request) -> Response:
    """POST /api/track: a JSON array of events (or one event object)."""
    return await _ingest(request, "track")


async def identify(request: Request) -> Response:
    """POST /api/identify: user_id and traits (email, user_name, first_name, last_name, …)."""
    return await _ingest(request, "identify")


async def group(request: Request) -> Response:
    """POST /api/group: group_id, user_id and account traits (account_name, …)."""
    return await _ingest(request, "group")


async def replay(request: Request) -> Response:
    """POST /api/quarantine/replay: run quarantined events through the plan again."""
    runtime: Runtime = request.app.state.runtime
    principal = await authorize(request, "write")
    body = await read_body(request, runtime.settings.max_batch_bytes)
    try:
        wanted = msgspec.json.decode(body or b"{}", type=ReplayRequest)
    except msgspec.ValidationError as exc:
        raise BodyError("invalid_body", f"The replay request is not valid: {exc}.") from None
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        raise BodyError("invalid_json", not_json(body, exc)) from None
    ids = None if wanted.all else [qp.parse_uuid(item.id, "items.id") for item in wanted.items]
    if ids is not None and not ids:
        raise BodyError("invalid_body", "Name the quarantined items to replay, or all: true.")
    answer = await replaying.replay(
        runtime.ingestor, principal.workspace, wanted, ids, test=principal.test
    )
    return json_response(msgspec.convert(answer, ReplayAnswer))


_INGEST = {
    200: Answer("all accepted or duplicate", Receipt),
    # A body that cannot be read at all (not JSON, empty, …) is a 400 in the error shape.
    400: Answer(
        "some rejected (the rest are stored): the receipt; or a body that cannot be read, "
        "of which nothing is stored: an error",
        AnyOf(Receipt, ErrorAnswer),
    ),
    **errors(401, 403, 408, 413, 415, 429, 503),
}

operations = (
    Operation(
        "POST",
        "/api/track",
        track,
        "Track events (a JSON array, or one event object).",
        _INGEST,
        body=TrackBody,
    ),
    Operation(
        "POST",
        "/api/identify",
        identify,
        "Set a user's traits.",
        _INGEST,
        body=IdentifyBody,
    ),
    Operation(
        "POST",
        "/api/group",
        group,
        "Set an account's traits and link a user to it.",
        _INGEST,
        body=GroupBody,
    ),
    Operation(
        "POST",
        "/api/quarantine/replay",
        replay,
        "Replay quarantined events through the current plan (write key).",
        {
            200: Answer("what became of each element named (or of all)", ReplayAnswer),
            **errors(400, 401, 403, 408, 413, 415, 503),
        },
        body=ReplayRequest,
        body_required=False,
    ),
)
routes = [op.route() for op in operations]
