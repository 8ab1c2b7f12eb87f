"""The core read path: events, quarantine, one user's summary, health. Read keys only."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracklog import query_params as qp
from tracklog.auth import authorize
from tracklog.store.base import Store

TIME_COLUMNS = ("timestamp", "original_timestamp", "sent_at", "received_at")
_decode = msgspec.json.Decoder()


def json_response(data: Any, status: int = 200) -> Response:
    """A JSON response encoded by msgspec (datetimes as ISO-8601, UUIDs as strings)."""
    return Response(msgspec.json.encode(data), status, media_type="application/json")


def event_columns(store: Store) -> str:
    """The events columns the API shows, times as epoch milliseconds (exact on every store)."""
    times = ", ".join(store.epoch_ms(c) for c in TIME_COLUMNS)
    return (
        f"id, type, event_name, user_id, anonymous_id, group_id, {times}, "
        "properties, context, message_id, source, is_test"
    )


_EPOCH = dt.datetime(1970, 1, 1)


def from_ms(value: int) -> dt.datetime:
    """Epoch milliseconds as a naive-UTC time."""
    return _EPOCH + dt.timedelta(milliseconds=int(value))


def to_ms(value: dt.datetime) -> int:
    """A naive-UTC time as epoch milliseconds."""
    return (value - _EPOCH) // dt.timedelta(milliseconds=1)


def iso(value: dt.datetime | int | None) -> str | None:
    """A stored naive-UTC time (or epoch milliseconds) as ISO-8601 with a Z."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = from_ms(value)
    return value.isoformat(timespec="milliseconds") + "Z"


def event_row(row: tuple[Any, ...]) -> dict[str, Any]:
    """One events row (in `event_columns` order) as the API shows it."""
    return {
        "id": str(row[0]),
        "type": row[1],
        "event_name": row[2],
        "user_id": row[3] or None,
        "anonymous_id": row[4] or None,
        "group_id": row[5] or None,
        "timestamp": iso(row[6]),
        "original_timestamp": iso(row[7]),
        "sent_at": iso(row[8]),
        "received_at": iso(row[9]),
        "properties": _decode.decode(row[10]) if row[10] else {},
        "context": _decode.decode(row[11]) if row[11] else {},
        "message_id": row[12] or None,
        "source": row[13],
        "is_test": bool(row[14]),
    }


async def page_of_events(
    request: Request,
    store: Store,
    workspace: str,
    conditions: list[str],
    params: dict[str, Any],
    default_limit: int = 100,
) -> dict[str, Any]:
    """Newest-first events matching `conditions`, one page, with a cursor for the next."""
    p = store.placeholder
    limit = qp.integer(request, "limit", default_limit, 1, 1000)
    where = [f"workspace = {p('ws')}", *conditions]
    params = {**params, "ws": workspace, "limit": limit + 1}
    if not qp.flag(request, "include_test"):
        where.append("NOT is_test")
    start, end = qp.time(request, "from"), qp.time(request, "to")
    ts = store.epoch_ms("timestamp")
    if start is not None:
        where.append(f"{ts} >= {p('start')}")
        params["start"] = to_ms(start)
    if end is not None:
        where.append(f"{ts} < {p('end')}")
        params["end"] = to_ms(end)
    cursor = qp.decode_cursor(request)
    if cursor is not None:
        where.append(f"({ts} < {p('cts')} OR ({ts} = {p('cts')} AND id < {p('cid')}))")
        params["cts"], params["cid"] = to_ms(cursor[0]), cursor[1]
    sql = (
        f"SELECT {event_columns(store)} FROM {store.events_table} WHERE {' AND '.join(where)} "
        f"ORDER BY {ts} DESC, id DESC LIMIT {p('limit')}"
    )
    rows = await run_in_threadpool(store.query, sql, params)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "events": [event_row(r) for r in rows],
        "next_cursor": qp.encode_cursor(from_ms(rows[-1][6]), rows[-1][0]) if more else None,
    }


async def list_events(request: Request) -> Response:
    """GET /api/events: filter by event_name, type, user_id, group_id, from, to; paged."""
    principal = await authorize(request, "read")
    store: Store = request.app.state.store
    conditions: list[str] = []
    params: dict[str, Any] = {}
    for name in ("event_name", "type", "user_id", "group_id"):
        value = qp.text(request, name)
        if value is not None:
            conditions.append(f"{name} = {store.placeholder(name)}")
            params[name] = value
    return json_response(
        await page_of_events(request, store, principal.workspace, conditions, params)
    )


async def list_quarantine(request: Request) -> Response:
    """GET /api/quarantine: rejected events with their raw JSON and reasons, newest first."""
    principal = await authorize(request, "read")
    store: Store = request.app.state.store
    p = store.placeholder
    limit = qp.integer(request, "limit", 100, 1, 1000)
    params: dict[str, Any] = {"ws": principal.workspace, "limit": limit + 1}
    where = [
        f"workspace = {p('ws')}",
        f"id NOT IN (SELECT id FROM quarantine_replays WHERE workspace = {p('ws')})",
    ]
    received = store.epoch_ms("received_at")
    cursor = qp.decode_cursor(request)
    if cursor is not None:
        where.append(f"({received} < {p('cts')} OR ({received} = {p('cts')} AND id < {p('cid')}))")
        params["cts"], params["cid"] = to_ms(cursor[0]), cursor[1]
    rows = await run_in_threadpool(
        store.query,
        f"SELECT id, {received}, source, raw, reasons FROM quarantine "
        f"WHERE {' AND '.join(where)} ORDER BY {received} DESC, id DESC LIMIT {p('limit')}",
        params,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        {
            "id": str(r[0]),
            "received_at": iso(r[1]),
            "source": r[2],
            "raw": r[3],
            "reasons": _decode.decode(r[4]),
        }
        for r in rows
    ]
    return json_response(
        {
            "items": items,
            "next_cursor": qp.encode_cursor(from_ms(rows[-1][1]), rows[-1][0]) if more else None,
        }
    )


async def user_summary(request: Request) -> Response:
    """GET /api/users/{user_id}: traits, first and last seen, sign-ins, event counts."""
    principal = await authorize(request, "read")
    store: Store = request.app.state.store
    p = store.placeholder
    user_id = request.path_params["user_id"]
    params = {"ws": principal.workspace, "uid": user_id}
    ts = store.epoch_ms("timestamp")
    rows = await run_in_threadpool(
        store.query,
        f"SELECT type, event_name, count(*), min({ts}), max({ts}) FROM {store.events_table} "
        f"WHERE workspace = {p('ws')} AND user_id = {p('uid')} GROUP BY type, event_name",
        params,
    )
    if not rows:
        return json_response(
            {
                "error": {
                    "code": "not_found",
                    "field": "user_id",
                    "message": f"No events for user {user_id!r} in this workspace.",
                }
            },
            404,
        )
    identities = await run_in_threadpool(
        store.query,
        f"SELECT type, properties, anonymous_id, group_id, {ts} FROM {store.events_table} "
        f"WHERE workspace = {p('ws')} AND user_id = {p('uid')} "
        f"AND type IN ('identify', 'group', 'alias') ORDER BY {ts}",
        params,
    )
    traits: dict[str, Any] = {}
    anonymous_ids: set[str] = set()
    for type_, props, anonymous_id, _group, _ts in identities:
        if type_ == "identify" and props:
            traits.update(_decode.decode(props))
        if anonymous_id:
            anonymous_ids.add(anonymous_id)
    groups = await run_in_threadpool(
        store.query,
        f"SELECT DISTINCT group_id FROM {store.events_table} WHERE workspace = {p('ws')} "
        f"AND user_id = {p('uid')} AND group_id IS NOT NULL AND group_id != ''",
        params,
    )
    counts: dict[str, int] = {}
    for type_, name, count, _first, _last in rows:
        key = name if type_ == "track" else name or type_
        counts[key] = counts.get(key, 0) + int(count)
    return json_response(
        {
            "user_id": user_id,
            "traits": traits,
            "first_seen": iso(min(r[3] for r in rows)),
            "last_seen": iso(max(r[4] for r in rows)),
            "sign_in_count": sum(
                int(r[2]) for r in rows if r[0] == "track" and r[1] == "signed_in"
            ),
            "event_counts": counts,
            "anonymous_ids": sorted(anonymous_ids),
            "groups": sorted(g[0] for g in groups),
        }
    )


async def healthz(request: Request) -> Response:
    """GET /healthz: whether the store answers; needs no key."""
    store: Store = request.app.state.store
    try:
        await run_in_threadpool(store.query, "SELECT 1", {})
    except Exception:  # any failure means unhealthy; the reason is in the server log
        return json_response({"status": "unavailable"}, 503)
    return json_response({"status": "ok", "queued": request.app.state.committer.queued})


def parse_uuid(value: str, field: str) -> uuid.UUID:
    """A UUID from the client, or a 400."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise qp.ParameterError(field, f"`{field}` must be a UUID.") from None


routes = [
    Route("/api/events", list_events, methods=["GET"]),
    Route("/api/quarantine", list_quarantine, methods=["GET"]),
    Route("/api/users/{user_id}", user_summary, methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
]
