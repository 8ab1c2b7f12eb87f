"""The core read path: events, quarantine, health. Read keys only."""

from __future__ import annotations

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tracklog.http import params as qp
from tracklog.http.auth import authorize
from tracklog.http.openapi import READ, Answer, AnyOf, Operation, errors
from tracklog.http.responses import json_response
from tracklog.http.schemas.read import Degraded, EventPage, Healthy, QuarantinePage, Unhealthy
from tracklog.ingest.committer import Committer
from tracklog.store import events, maintenance, quarantine
from tracklog.store.base import Store, StoreFull, StoreUnavailable

LIMIT = qp.Integer("limit", "events per page", default=100, low=1, high=1000)
CURSOR = qp.Cursor("cursor", "next_cursor of the previous page")
FROM = qp.Time("from", "the earliest time (inclusive)")
TO = qp.Time("to", "the latest time (exclusive)")
INCLUDE_TEST = qp.Flag("include_test", "include development-mode events")
RANGE = (FROM, TO, INCLUDE_TEST)
PAGING = (LIMIT, CURSOR)


async def events_page(request: Request, wanted: events.EventFilter) -> Response:
    """One page of `wanted` events as the API answers it (limit and cursor from the query)."""
    store: Store = request.app.state.store
    limit = LIMIT.read(request)
    found = await run_in_threadpool(events.page, store, wanted, limit, CURSOR.read(request))
    cursor = found.next_cursor
    page = {"events": found.events, "next_cursor": qp.encode_cursor(*cursor) if cursor else None}
    return json_response(msgspec.convert(page, EventPage))


def time_range(request: Request, workspace: str) -> events.EventFilter:
    """The workspace's events in the request's `from`/`to`, test events if asked for."""
    return events.EventFilter(
        workspace,
        start=FROM.read(request),
        end=TO.read(request),
        include_test=INCLUDE_TEST.read(request),
    )


EVENT_NAME = qp.Text("event_name")
TYPE = qp.Text("type", "track, identify, group, page, screen or alias")
BY_USER = qp.Text("user_id")
BY_GROUP = qp.Text("group_id")


async def list_events(request: Request) -> Response:
    """GET /api/events: filter by event_name, type, user_id, group_id, from, to; paged."""
    principal = await authorize(request, "read")
    base = time_range(request, principal.workspace)
    wanted = events.EventFilter(
        base.workspace,
        event_name=EVENT_NAME.read(request),
        type=TYPE.read(request),
        user_id=BY_USER.read(request),
        group_id=BY_GROUP.read(request),
        start=base.start,
        end=base.end,
        include_test=base.include_test,
    )
    return await events_page(request, wanted)


async def list_quarantine(request: Request) -> Response:
    """GET /api/quarantine: rejected events with their raw JSON and reasons, newest first."""
    principal = await authorize(request, "read")
    held, cursor = await run_in_threadpool(
        quarantine.page,
        request.app.state.store,
        principal.workspace,
        LIMIT.read(request),
        CURSOR.read(request),
    )
    page = {
        "items": [h.shown() for h in held],
        "next_cursor": qp.encode_cursor(*cursor) if cursor else None,
    }
    return json_response(msgspec.convert(page, QuarantinePage))


def write_failure(failure: StoreUnavailable) -> str:
    """Why writes fail, for /healthz and the 503 (details stay in the server log)."""
    if isinstance(failure, StoreFull):
        return (
            "disk full: the store has no space left to write; writes get 503 until space is freed"
        )
    return "writes failing: the store refused the last write (see the server log)"


async def healthz(request: Request) -> Response:
    """GET /healthz: 200 `ok` when the store answers and writes; 503 `unavailable` when it
    does not answer, `degraded` with the reason when it answers but cannot write (a full
    disk). Needs no key."""
    committer: Committer = request.app.state.committer
    try:
        await run_in_threadpool(maintenance.ping, request.app.state.store)
    except Exception:  # any failure means unhealthy; the reason is in the server log
        return json_response(Unhealthy("unavailable"), 503)
    failure = await run_in_threadpool(committer.failing)
    if failure is not None:
        reason = write_failure(failure)
        return json_response(
            Degraded("degraded", reason, isinstance(failure, StoreFull), committer.queued), 503
        )
    return json_response(Healthy("ok", committer.queued))


operations = (
    Operation(
        "GET",
        "/api/events",
        list_events,
        "Events, newest first.",
        {200: Answer("a page of events", EventPage), **errors(400, 401, 403, 503)},
        params=(EVENT_NAME, TYPE, BY_USER, BY_GROUP, *PAGING, *RANGE),
        security=READ,
    ),
    Operation(
        "GET",
        "/api/quarantine",
        list_quarantine,
        "Rejected events with their raw JSON and reasons.",
        {
            200: Answer("a page of quarantined elements", QuarantinePage),
            **errors(400, 401, 403, 503),
        },
        params=PAGING,
        security=READ,
    ),
    Operation(
        "GET",
        "/healthz",
        healthz,
        "Health: 200 ok; 503 unavailable (the store does not answer) or degraded (it refuses "
        "writes, e.g. a full disk).",
        {
            200: Answer("the store answers and writes", Healthy),
            503: Answer("the store does not answer, or refuses writes", AnyOf(Unhealthy, Degraded)),
        },
        security=(),
    ),
)
routes = [op.route() for op in operations]
