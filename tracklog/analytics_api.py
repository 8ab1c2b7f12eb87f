"""The analytics read path: trends, active users and accounts, people, retention, funnels, live.

Each endpoint checks its parameters (400s that name the field), builds a Scope from the read
key's workspace and the time range, and runs one report in a worker thread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tracklog import query_params as qp
from tracklog.analytics import active, funnels, people, retention, trends
from tracklog.analytics.filters import Filter, FilterError
from tracklog.analytics.scope import Scope
from tracklog.analytics.timeline import INTERVALS, Interval, buckets
from tracklog.api import json_response, page_of_events
from tracklog.auth import authorize
from tracklog.events import utcnow
from tracklog.live import Broadcaster
from tracklog.openapi import RANGE_PARAMETERS, query_param, read_operation, register

DEFAULT_DAYS = 30
MAX_BUCKETS = 5000
ALL_TIME = dt.datetime(1970, 1, 1)


async def _scope(request: Request, default_start: dt.datetime | None = None) -> Scope:
    principal = await authorize(request, "read")
    end = qp.time(request, "to") or utcnow() + dt.timedelta(milliseconds=1)
    start = qp.time(request, "from") or default_start or end - dt.timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise qp.ParameterError("from", "`from` must be earlier than `to`.")
    return Scope(principal.workspace, start, end, qp.flag(request, "include_test"))


def _choice(request: Request, name: str, options: tuple[str, ...], default: str) -> str:
    value = request.query_params.get(name) or default
    if value not in options:
        raise qp.ParameterError(name, f"`{name}` must be one of {', '.join(options)}.")
    return value


def _names(request: Request, name: str) -> list[str]:
    """A repeatable or comma-separated list of names."""
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    for v in values:
        if len(v) > 255:
            raise qp.ParameterError(name, f"`{name}` values are at most 255 characters.")
    return values


def _interval(request: Request, scope: Scope) -> Interval:
    interval: Interval = _choice(request, "interval", INTERVALS, "day")  # type: ignore[assignment]
    if len(buckets(interval, scope.start, scope.end)) > MAX_BUCKETS:
        raise qp.ParameterError(
            "interval",
            f"That range has more than {MAX_BUCKETS} {interval}s; pick a longer interval.",
        )
    return interval


async def _run(report: Callable[..., Any], *args: Any) -> Any:
    return await run_in_threadpool(report, *args)


async def trends_endpoint(request: Request) -> Response:
    """GET /api/analytics/trends: counts or unique users per bucket, by event or property."""
    scope = await _scope(request)
    try:
        filters = [Filter.parse(f) for f in request.query_params.getlist("where")]
    except FilterError as exc:
        raise qp.ParameterError("where", str(exc)) from None
    req = trends.TrendRequest(
        interval=_interval(request, scope),
        events=_names(request, "event"),
        measure=_choice(request, "measure", ("count", "users"), "count"),
        breakdown=qp.text(request, "breakdown"),
        limit=qp.integer(request, "limit", 10, 1, 100),
        user_id=qp.text(request, "user_id"),
        group_id=qp.text(request, "group_id"),
        filters=filters,
    )
    store = request.app.state.store
    result = await _run(trends.trends, store, scope, req)
    return json_response({**result, "from": _iso(scope.start), "to": _iso(scope.end)})


async def top_events_endpoint(request: Request) -> Response:
    """GET /api/analytics/top-events: the most frequent events."""
    scope = await _scope(request)
    limit = qp.integer(request, "limit", 10, 1, 1000)
    return json_response(await _run(trends.top_events, request.app.state.store, scope, limit))


async def active_endpoint(request: Request) -> Response:
    """GET /api/analytics/active: DAU, WAU, MAU and stickiness per day."""
    scope = await _scope(request)
    if (scope.end - scope.start).days > 3660:
        raise qp.ParameterError("from", "The range may span at most ten years.")
    of = _choice(request, "of", ("users", "accounts"), "users")
    event = qp.text(request, "event")
    return json_response(await _run(active.active, request.app.state.store, scope, of, event))


def _health(request: Request) -> people.Health:
    s = request.app.state.runtime.settings
    return people.Health(s.health_active_days, s.health_at_risk_days, s.health_min_active_days)


async def accounts_endpoint(request: Request) -> Response:
    """GET /api/accounts: every account with its users, activity and health."""
    scope = await _scope(request, ALL_TIME)
    search = qp.text(request, "q")
    limit = qp.integer(request, "limit", 100, 1, 10_000)
    store = request.app.state.store
    return json_response(await _run(people.accounts, store, scope, _health(request), search, limit))


async def account_endpoint(request: Request) -> Response:
    """GET /api/accounts/{group_id}: one account, its users and its daily activity."""
    scope = await _scope(request, ALL_TIME)
    group_id = request.path_params["group_id"]
    store = request.app.state.store
    found = await _run(people.account, store, scope, _health(request), group_id)
    if found is None:
        message = f"No events for account {group_id!r} in this workspace."
        return json_response(
            {"error": {"code": "not_found", "field": "group_id", "message": message}}, 404
        )
    return json_response(found)


async def users_endpoint(request: Request) -> Response:
    """GET /api/users: users, most recently seen first; `q` searches id, email and name."""
    scope = await _scope(request, ALL_TIME)
    search = qp.text(request, "q")
    limit = qp.integer(request, "limit", 50, 1, 1000)
    return json_response(await _run(people.users, request.app.state.store, scope, search, limit))


async def user_events_endpoint(request: Request) -> Response:
    """GET /api/users/{user_id}/events: a user's timeline, with their anonymous history."""
    principal = await authorize(request, "read")
    store = request.app.state.store
    p = store.placeholder
    condition = (
        f"(user_id = {p('uid')} OR anonymous_id IN (SELECT anonymous_id FROM events "
        f"WHERE workspace = {p('ws')} AND user_id = {p('uid')} "
        f"AND coalesce(anonymous_id, '') != ''))"
    )
    params = {"uid": request.path_params["user_id"]}
    return json_response(
        await page_of_events(request, store, principal.workspace, [condition], params)
    )


async def retention_endpoint(request: Request) -> Response:
    """GET /api/analytics/retention: cohorts by first start event, share returning later."""
    scope = await _scope(request)
    start_event = qp.text(request, "start_event") or "signed_up"
    return_event = qp.text(request, "return_event") or "signed_in"
    period: Interval = _choice(request, "period", ("day", "week", "month"), "week")  # type: ignore[assignment]
    periods = qp.integer(request, "periods", 8, 1, 60)
    return json_response(
        await _run(
            retention.retention,
            request.app.state.store,
            scope,
            start_event,
            return_event,
            period,
            periods,
        )
    )


async def funnel_endpoint(request: Request) -> Response:
    """GET /api/analytics/funnel: ordered steps within a conversion window."""
    scope = await _scope(request)
    steps = _names(request, "steps")
    if not 2 <= len(steps) <= 10:
        raise qp.ParameterError("steps", "`steps` needs 2 to 10 event names, comma-separated.")
    window = qp.integer(request, "window_hours", 24 * 7, 1, 24 * 366) * 3600
    by = _choice(request, "by", ("users", "accounts"), "users")
    return json_response(
        await _run(funnels.funnel, request.app.state.store, scope, steps, window, by)
    )


async def live_endpoint(request: Request) -> Response:
    """GET /api/live: Server-Sent Events of events as they are committed, and rejections."""
    principal = await authorize(request, "read")
    broadcaster: Broadcaster = request.app.state.broadcaster
    return StreamingResponse(
        broadcaster.stream(principal.workspace),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="milliseconds") + "Z"


routes = [
    Route("/api/analytics/trends", trends_endpoint, methods=["GET"]),
    Route("/api/analytics/top-events", top_events_endpoint, methods=["GET"]),
    Route("/api/analytics/active", active_endpoint, methods=["GET"]),
    Route("/api/analytics/retention", retention_endpoint, methods=["GET"]),
    Route("/api/analytics/funnel", funnel_endpoint, methods=["GET"]),
    Route("/api/accounts", accounts_endpoint, methods=["GET"]),
    Route("/api/accounts/{group_id}", account_endpoint, methods=["GET"]),
    Route("/api/users", users_endpoint, methods=["GET"]),
    Route("/api/users/{user_id}/events", user_events_endpoint, methods=["GET"]),
    Route("/api/live", live_endpoint, methods=["GET"]),
]


def _event_stream(operation: dict[str, Any]) -> dict[str, Any]:
    """A read operation whose 200 is a text/event-stream, not JSON."""
    ok = {"description": "a stream of events", "content": {"text/event-stream": {}}}
    operation["get"]["responses"] = {**operation["get"]["responses"], "200": ok}
    return operation


_S, _I = {"type": "string"}, {"type": "integer", "minimum": 1}
_PATH_ID = {"in": "path", "required": True, "schema": _S}
register(
    {
        "/api/analytics/trends": read_operation(
            "Event counts (or unique users) per hour, day, week or month.",
            [
                query_param("interval", {"enum": list(INTERVALS)}),
                query_param("event", _S, "event name; repeat or comma-separate for several"),
                query_param("measure", {"enum": ["count", "users"]}),
                query_param("breakdown", _S, "a property: one series per value, top N + other"),
                query_param("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
                query_param("user_id", _S),
                query_param("group_id", _S),
                query_param("where", _S, "PROPERTY:OP:VALUE, OP in eq neq contains gt gte lt lte"),
                *RANGE_PARAMETERS,
            ],
        ),
        "/api/analytics/top-events": read_operation(
            "The most frequent events with counts and unique users.",
            [query_param("limit", _I), *RANGE_PARAMETERS],
        ),
        "/api/analytics/active": read_operation(
            "DAU, WAU, MAU and stickiness (DAU/MAU) per day, of users or accounts.",
            [
                query_param("of", {"enum": ["users", "accounts"]}),
                query_param("event", _S, "count only this event as activity"),
                *RANGE_PARAMETERS,
            ],
        ),
        "/api/analytics/retention": read_operation(
            "Cohorts by first start event; how many return in each following period.",
            [
                query_param("start_event", _S),
                query_param("return_event", _S),
                query_param("period", {"enum": ["day", "week", "month"]}),
                query_param("periods", {"type": "integer", "minimum": 1, "maximum": 60}),
                *RANGE_PARAMETERS,
            ],
        ),
        "/api/analytics/funnel": read_operation(
            "Ordered steps within a conversion window, by users or accounts.",
            [
                query_param("steps", _S, "2 to 10 event names, comma-separated"),
                query_param("window_hours", _I),
                query_param("by", {"enum": ["users", "accounts"]}),
                *RANGE_PARAMETERS,
            ],
        ),
        "/api/accounts": read_operation(
            "Accounts with users, active users, sign-ins, last activity and health.",
            [query_param("q", _S), query_param("limit", _I), *RANGE_PARAMETERS],
        ),
        "/api/accounts/{group_id}": read_operation(
            "One account: its numbers, traits, users and daily activity.",
            [{"name": "group_id", **_PATH_ID}, *RANGE_PARAMETERS],
        ),
        "/api/users": read_operation(
            "Users, most recently seen first; q searches id, email and name.",
            [query_param("q", _S), query_param("limit", _I), *RANGE_PARAMETERS],
        ),
        "/api/users/{user_id}/events": read_operation(
            "A user's timeline, newest first, including their anonymous history.",
            [
                {"name": "user_id", **_PATH_ID},
                query_param("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                query_param("cursor", _S),
                *RANGE_PARAMETERS,
            ],
        ),
        "/api/live": _event_stream(
            read_operation(
                "Server-Sent Events: `accepted` events as they are committed, `rejected` ones "
                "with their reasons.",
                [],
            )
        ),
    }
)
