"""The Track API's endpoints (write path): track, identify, group, and quarantine replay."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracklog.api import from_ms, json_response, parse_uuid
from tracklog.auth import authorize
from tracklog.events import EventType, Problem, utcnow
from tracklog.ingest import read_body
from tracklog.runtime import Runtime
from tracklog.wire import REPLAYERS, native
from tracklog.wire.common import BodyError, Item


async def _ingest(request: Request, type_: EventType) -> Response:
    runtime: Runtime = request.app.state.runtime
    principal = await authorize(request, "write")
    runtime.limiter.check(principal.key_id)
    body = await read_body(request, runtime.settings.max_batch_bytes, runtime.settings.body_timeout)
    items = native.decode(body, principal.workspace, utcnow(), type_)
    runtime.limiter.charge(principal.key_id, len(items))
    receipt = await runtime.ingestor.ingest(items, principal.workspace, native.source(type_))
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


class ReplayItem(msgspec.Struct):
    """A quarantined event to replay, optionally with corrected JSON in place of the raw."""

    id: str
    raw: Any = msgspec.UNSET


class ReplayRequest(msgspec.Struct):
    """POST /api/quarantine/replay body: some items, or all of the workspace's quarantine."""

    items: list[ReplayItem] = []
    all: bool = False


async def replay(request: Request) -> Response:
    """Run quarantined events through the plan again (after the plan or the data was fixed).

    Those now accepted (or found already stored) leave the quarantine; those still rejected
    stay, and the receipt says why.
    """
    runtime: Runtime = request.app.state.runtime
    principal = await authorize(request, "write")
    body = await read_body(request, runtime.settings.max_batch_bytes)
    try:
        wanted = msgspec.json.decode(body or b"{}", type=ReplayRequest)
    except msgspec.DecodeError as exc:
        raise BodyError("invalid_body", f"The replay request is not valid: {exc}.") from None
    store = runtime.store
    p = store.placeholder
    params: dict[str, Any] = {"ws": principal.workspace}
    where = (
        f"workspace = {p('ws')} AND id NOT IN "
        f"(SELECT id FROM quarantine_replays WHERE workspace = {p('ws')})"
    )
    corrected: dict[uuid.UUID, bytes] = {}
    if not wanted.all:
        ids = [parse_uuid(item.id, "items.id") for item in wanted.items]
        if not ids:
            raise BodyError("invalid_body", "Name the quarantined items to replay, or all: true.")
        for qid, item in zip(ids, wanted.items, strict=True):
            if item.raw is not msgspec.UNSET:
                corrected[qid] = msgspec.json.encode(item.raw)
        where += " AND id IN (" + ", ".join(p(f"q{i}") for i in range(len(ids))) + ")"
        params.update({f"q{i}": qid for i, qid in enumerate(ids)})
    rows = await run_in_threadpool(
        store.query,
        f"SELECT id, source, raw, {store.epoch_ms('received_at')} FROM quarantine "
        f"WHERE {where} ORDER BY received_at LIMIT 10000",
        params,
    )
    items: list[Item] = []
    for qid, source, raw, received_ms in rows:
        data = corrected.get(qid, raw.encode() if isinstance(raw, str) else raw)
        # Decoded as of its first arrival: a missing timestamp means then, and a `sent_at`
        # clock-skew correction measures against then, not against the time of the replay.
        items.append(decode_for_replay(source, data, principal.workspace, from_ms(received_ms)))
    receipt = await runtime.ingestor.ingest(items, principal.workspace, "replay", quarantine=False)
    done = [
        row[0]
        for row, result in zip(rows, receipt.results, strict=True)
        if result.status != "rejected"
    ]
    await run_in_threadpool(store.mark_replayed, principal.workspace, done)
    return json_response(
        {
            "replayed": len(done),
            "still_rejected": len(rows) - len(done),
            "results": [
                {"quarantine_id": str(row[0]), **msgspec.to_builtins(result)}
                for row, result in zip(rows, receipt.results, strict=True)
            ],
        }
    )


def decode_for_replay(source: str, raw: bytes, workspace: str, received_at: dt.datetime) -> Item:
    """The item of one stored raw element, decoded by the wire format that first received it.

    Always one item: what cannot be decoded comes back rejected, with the reason.
    """
    decoder = REPLAYERS.get(source)
    try:
        if decoder is None:
            raise BodyError("unknown_source", f"No decoder for quarantined source {source!r}.")
        # The element's own item comes first (a Vero event may bring an identify after it).
        decoded = decoder(raw, workspace, received_at)
    except BodyError as exc:
        decoded = [Item(raw=raw)]
        decoded[0].reject(Problem(exc.code, "raw", exc.message))
    if not decoded:  # the element was an empty array: nothing in it can be an event
        decoded = [Item(raw=raw)]
        decoded[0].reject(
            Problem("invalid_event", "", "Each event must be a JSON object, not an array.")
        )
    return decoded[0]


routes = [
    Route("/api/track", track, methods=["POST"]),
    Route("/api/identify", identify, methods=["POST"]),
    Route("/api/group", group, methods=["POST"]),
    Route("/api/quarantine/replay", replay, methods=["POST"]),
]
