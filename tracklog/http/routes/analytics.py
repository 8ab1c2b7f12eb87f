"""The analytics read path: trends, active users and accounts, people, retention, funnels.

Each endpoint checks its parameters (400s that name the field), builds a Scope from the read
key's workspace and the time range, runs one report in a worker thread, and converts the
report's dict to its answer type (tracklog/http/schemas/analytics.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tracklog.analytics import (
    active,
    funnels,
    lifecycle,
    people,
    retention,
    schema,
    trends,
    users,
)
from tracklog.analytics.filters import OPERATORS, Filter, FilterError
from tracklog.analytics.scope import Scope
from tracklog.analytics.timeline import INTERVALS, Interval
from tracklog.events import utcnow
from tracklog.http import params as qp
from tracklog.http.auth import authorize
from tracklog.http.openapi import READ, Answer, Operation, errors
from tracklog.http.responses import error, json_response
from tracklog.http.routes.read import (
    CURSOR,
    FROM,
    INCLUDE_TEST,
    LIMIT,
    RANGE,
    TO,
    events_page,
    time_range,
)
from tracklog.http.schemas import analytics as answers
from tracklog.http.schemas.read import EventPage
from tracklog.store import events, persons

DEFAULT_DAYS = 30
MAX_BUCKETS = 5000
ALL_TIME = dt.datetime(1970, 1, 1)
T = TypeVar("T")


async def _scope(request: Request, default_start: dt.datetime | None = None) -> Scope:
    principal = await authorize(request, "read")
    end = TO.read(request) or utcnow() + dt.timedelta(milliseconds=1)
    start = FROM.read(request) or default_start or end - dt.timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise qp.ParameterError("from", "`from` must be earlier than `to`.")
    zone = TZ.read(request) or request.app.state.runtime.timezone(principal.workspace)
    return Scope(
        principal.workspace, start, end, INCLUDE_TEST.read(request), zone, RAW.read(request)
    )


# Every report's days, weeks and months are the workspace zone's, or this one's.
TZ = qp.Zone("tz", "IANA time zone of the days, weeks and months (default: the workspace's)")
RAW = qp.Flag(
    "raw", "count from the stored events, not from the day rollup: the same answer, slower"
)
INTERVAL = qp.Choice("interval", options=INTERVALS, default="day")


def _interval(request: Request, scope: Scope) -> Interval:
    interval: Interval = INTERVAL.read(request)  # type: ignore[assignment]
    if scope.calendar.count(interval, scope.start, scope.end) > MAX_BUCKETS:
        raise qp.ParameterError(
            "interval",
            f"That range has more than {MAX_BUCKETS} {interval}s; pick a longer interval.",
        )
    return interval


async def _run(
    answer: type[T], report: Callable[..., Any], store: Any, scope: Scope, *args: Any
) -> T:
    """Run a report in a worker thread and check its dict, with the zone it used, against the
    answer type."""
    found = await run_in_threadpool(report, store, scope, *args)
    return msgspec.convert({**found, "timezone": scope.timezone}, answer)


EVENTS = qp.Names("event", "event name; repeat or comma-separate for several")
MEASURE = qp.Choice("measure", options=("count", "users"), default="count")
BREAKDOWN = qp.Text("breakdown", "a property: one series per value, top N + other")
TREND_LIMIT = qp.Integer("limit", "series at most", default=10, low=1, high=100)
BY_USER = qp.Text("user_id")
BY_GROUP = qp.Text("group_id")
WHERE = qp.Repeated(
    "where", f"PROPERTY:OP:VALUE, OP in {' '.join(OPERATORS)}; repeat for several (all must hold)"
)


async def trends_endpoint(request: Request) -> Response:
    """GET /api/analytics/trends: counts or unique users per bucket, by event or property."""
    scope = await _scope(request)
    filters = list(_where(request))
    req = trends.TrendRequest(
        interval=_interval(request, scope),
        events=EVENTS.read(request),
        measure=MEASURE.read(request),
        breakdown=BREAKDOWN.read(request),
        limit=TREND_LIMIT.read(request),
        user_id=BY_USER.read(request),
        group_id=BY_GROUP.read(request),
        filters=filters,
    )
    result = await run_in_threadpool(trends.trends, request.app.state.store, scope, req)
    answer = {
        **result,
        "from": _iso(scope.start),
        "to": _iso(scope.end),
        "timezone": scope.timezone,
    }
    return json_response(msgspec.convert(answer, answers.Trends))


TOP_LIMIT = qp.Integer("limit", "events at most", default=10, low=1, high=1000)


async def top_events_endpoint(request: Request) -> Response:
    """GET /api/analytics/top-events: the most frequent events."""
    scope = await _scope(request)
    limit = TOP_LIMIT.read(request)
    store = request.app.state.store
    return json_response(await _run(answers.TopEvents, trends.top_events, store, scope, limit))


OF = qp.Choice("of", options=("users", "accounts"), default="users")
ACTIVITY_EVENT = qp.Text("event", "count only this event as activity")


async def active_endpoint(request: Request) -> Response:
    """GET /api/analytics/active: DAU, WAU, MAU and stickiness per day."""
    scope = await _scope(request)
    if (scope.end - scope.start).days > 3660:
        raise qp.ParameterError("from", "The range may span at most ten years.")
    of, event = OF.read(request), ACTIVITY_EVENT.read(request)
    store = request.app.state.store
    return json_response(await _run(answers.Active, active.active, store, scope, of, event))


def _health(request: Request) -> people.Health:
    s = request.app.state.runtime.settings
    return people.Health(s.health_active_days, s.health_at_risk_days, s.health_min_active_days)


SEARCH = qp.Text("q", "matches the id or the name")
ACCOUNTS_LIMIT = qp.Integer("limit", "accounts at most", default=100, low=1, high=10_000)
OFFSET = qp.Integer("offset", "rows of the list to skip (paging)", default=0, low=0, high=10**9)
ORDER = qp.MaybeChoice(
    "order", "asc or desc (default: desc for numbers and times, asc for text)", ("asc", "desc")
)
HEALTH = qp.Choices("health", "tiers to keep; repeat or comma-separate", people.TIERS)
ACCOUNT_SORT = qp.Choice(
    "sort", "column to sort by; ties by group_id", people.ACCOUNT_SORTS, "active_users_30d"
)


def _where(request: Request) -> tuple[Filter, ...]:
    try:
        return tuple(Filter.parse(f) for f in WHERE.read(request))
    except FilterError as exc:
        raise qp.ParameterError("where", str(exc)) from None


async def accounts_endpoint(request: Request) -> Response:
    """GET /api/accounts: a page of the accounts with their users, activity and health."""
    scope = await _scope(request, ALL_TIME)
    req = people.AccountList(
        search=SEARCH.read(request),
        health=tuple(HEALTH.read(request)),
        sort=ACCOUNT_SORT.read(request),
        order=ORDER.read(request),
        limit=ACCOUNTS_LIMIT.read(request),
        offset=OFFSET.read(request),
    )
    store = request.app.state.store
    found = await _run(answers.Accounts, people.accounts, store, scope, _health(request), req)
    return json_response(found)


GROUP_ID = qp.Path("group_id")
USER_ID = qp.Path("user_id")


async def account_endpoint(request: Request) -> Response:
    """GET /api/accounts/{group_id}: one account, its users and its daily activity."""
    scope = await _scope(request, ALL_TIME)
    group_id = GROUP_ID.read(request)
    store = request.app.state.store
    found = await run_in_threadpool(people.account, store, scope, _health(request), group_id)
    if found is None:
        message = f"No events for account {group_id!r} in this workspace."
        return error(404, "not_found", message, "group_id")
    answer = {**found, "timezone": scope.timezone}
    return json_response(msgspec.convert(answer, answers.AccountDetail))


USER_SEARCH = qp.Text("q", "matches the id, email or name")
USERS_LIMIT = qp.Integer("limit", "users at most", default=50, low=1, high=1000)
USER_SORT = qp.Choice("sort", "column to sort by; ties by user_id", users.SORTS, "last_seen")
USER_EVENTS = qp.Names(
    "event", "keep those who did one of these events in the range; repeat or comma-separate"
)
USER_GROUP = qp.Text("group_id", "keep those with an event of this account in the range")
USER_WHERE = qp.Repeated(
    "where", "PROPERTY:OP:VALUE that the `event` filter's events meet (as in trends); repeat"
)
USER_PAGE = (USER_SORT, ORDER, USERS_LIMIT, OFFSET)


def _user_list(request: Request, **extra: Any) -> users.UserList:
    """The order and page of a list of people (the users list's, or a drill-down's)."""
    return users.UserList(
        sort=USER_SORT.read(request),
        order=ORDER.read(request),
        limit=USERS_LIMIT.read(request),
        offset=OFFSET.read(request),
        **extra,
    )


async def users_endpoint(request: Request) -> Response:
    """GET /api/users: a page of users, most recently seen first; `q` searches id, email and
    name; `event`, `group_id` and `where` keep who did something in the range."""
    scope = await _scope(request, ALL_TIME)
    req = _user_list(
        request,
        search=USER_SEARCH.read(request),
        events=tuple(USER_EVENTS.read(request)),
        group_id=USER_GROUP.read(request),
        filters=_where(request),
    )
    store = request.app.state.store
    return json_response(await _run(answers.Users, users.users, store, scope, req))


async def user_endpoint(request: Request) -> Response:
    """GET /api/users/{user_id}: a person's fields, traits, ids, accounts and event counts."""
    scope = await _scope(request, ALL_TIME)
    user_id = USER_ID.read(request)
    found = await run_in_threadpool(users.user, request.app.state.store, scope, user_id)
    if found is None:
        message = f"No events for user {user_id!r} in this workspace."
        return error(404, "not_found", message, "user_id")
    answer = {**found, "timezone": scope.timezone}
    return json_response(msgspec.convert(answer, answers.UserPage))


async def user_events_endpoint(request: Request) -> Response:
    """GET /api/users/{user_id}/events: a person's timeline, whichever of their ids sent it."""
    principal = await authorize(request, "read")
    base = time_range(request, principal.workspace)
    store = request.app.state.store
    person = await run_in_threadpool(persons.resolve, store, base.workspace, USER_ID.read(request))
    wanted = events.EventFilter(
        base.workspace,
        person=person,
        start=base.start,
        end=base.end,
        include_test=base.include_test,
    )
    return await events_page(request, wanted)


START_EVENT = qp.Text("start_event", "the event that puts a person in a cohort")
RETURN_EVENT = qp.Text("return_event", "the event that counts as coming back")
PERIOD = qp.Choice("period", options=("day", "week", "month"), default="week")
PERIODS = qp.Integer("periods", "periods after the cohort's", default=8, low=1, high=60)


async def retention_endpoint(request: Request) -> Response:
    """GET /api/analytics/retention: cohorts by first start event, share returning later."""
    scope = await _scope(request)
    start_event = START_EVENT.read(request) or "signed_up"
    return_event = RETURN_EVENT.read(request) or "signed_in"
    period: Interval = PERIOD.read(request)  # type: ignore[assignment]
    periods = PERIODS.read(request)
    store = request.app.state.store
    found = await _run(
        answers.Retention,
        retention.retention,
        store,
        scope,
        start_event,
        return_event,
        period,
        periods,
    )
    return json_response(found)


COHORT = qp.Time("cohort", "the cohort's `start`, as the retention report gives it", required=True)
K = qp.Integer(
    "k", "0: the cohort; k: who of it came back k periods later", default=0, low=0, high=59
)


def _cohort(request: Request, scope: Scope, period: Interval) -> int:
    """The period number of the `cohort` parameter, which must start a period of the zone."""
    start = COHORT.read(request)
    if start is None:
        raise qp.ParameterError("cohort", "`cohort` is required: a cohort's `start`.")
    cal = scope.calendar
    number = cal.bucket_of(period, start)
    if cal.bucket(period, number).start != start:
        raise qp.ParameterError(
            "cohort",
            f"`cohort` is not the start of a {period} in {scope.timezone}: give a cohort's "
            "`start` as the retention report answers it.",
        )
    return number


async def retention_people_endpoint(request: Request) -> Response:
    """GET /api/analytics/retention/people: the people of a cohort, or those of it who came
    back k periods later."""
    scope = await _scope(request)
    start_event = START_EVENT.read(request) or "signed_up"
    return_event = RETURN_EVENT.read(request) or "signed_in"
    period: Interval = PERIOD.read(request)  # type: ignore[assignment]
    periods, k = PERIODS.read(request), K.read(request)
    if k >= periods:
        raise qp.ParameterError("k", f"`k` must be less than `periods` ({periods}).")
    cohort = _cohort(request, scope, period)
    found = await _run(
        answers.Users,
        retention.people,
        request.app.state.store,
        scope,
        start_event,
        return_event,
        period,
        cohort,
        k,
        _user_list(request),
    )
    return json_response(found)


STEPS = qp.Names("steps", "2 to 10 event names, comma-separated", required=True)
WINDOW_HOURS = qp.Integer(
    "window_hours", "hours from entering to the last step", default=24 * 7, low=1, high=24 * 366
)
BY = qp.Choice("by", options=("users", "accounts"), default="users")
FUNNEL_BREAKDOWN = qp.Text(
    "breakdown", "a property of each subject's entry event: one funnel per value, top 10 + other"
)


def _steps(request: Request) -> list[str]:
    steps = STEPS.read(request)
    if not 2 <= len(steps) <= 10:
        raise qp.ParameterError("steps", "`steps` needs 2 to 10 event names, comma-separated.")
    return steps


async def funnel_endpoint(request: Request) -> Response:
    """GET /api/analytics/funnel: ordered steps within a conversion window."""
    scope = await _scope(request)
    steps = _steps(request)
    window = WINDOW_HOURS.read(request) * 3600
    by, breakdown = BY.read(request), FUNNEL_BREAKDOWN.read(request)
    store = request.app.state.store
    found = await _run(answers.Funnel, funnels.funnel, store, scope, steps, window, by, breakdown)
    return json_response(found)


STEP = qp.Integer("step", "the step (1 is the first)", default=1, low=1, high=10)
OUTCOME = qp.Choice(
    "outcome",
    "reached: who reached the step; dropped: who reached it but not the next",
    ("reached", "dropped"),
    "reached",
)
VALUE = qp.Text(
    "value", "with `breakdown`: the series' value (default empty: events without the property)"
)


def _value(request: Request, breakdown: str | None) -> str | None:
    """The breakdown value asked for ('' when absent: the subjects whose entry event lacks
    the property); None without a breakdown."""
    value = request.query_params.get("value") or ""
    if breakdown is None:
        return None
    if len(value) > VALUE.max_len:
        raise qp.ParameterError("value", f"`value` is longer than {VALUE.max_len} characters.")
    return value


async def funnel_people_endpoint(request: Request) -> Response:
    """GET /api/analytics/funnel/people: who reached a step, or dropped off after it."""
    scope = await _scope(request)
    steps = _steps(request)
    window = WINDOW_HOURS.read(request) * 3600
    by, step, outcome = BY.read(request), STEP.read(request), OUTCOME.read(request)
    if step > len(steps):
        raise qp.ParameterError("step", f"`step` must be between 1 and {len(steps)}.")
    if outcome == "dropped" and step == len(steps):
        raise qp.ParameterError(
            "outcome", "Nobody drops off after the last step: `dropped` needs an earlier step."
        )
    breakdown = FUNNEL_BREAKDOWN.read(request)
    value = _value(request, breakdown)
    found = await _run(
        answers.FunnelPeople,
        funnels.people,
        request.app.state.store,
        scope,
        steps,
        window,
        by,
        step,
        outcome,
        _user_list(request),
        breakdown,
        value,
    )
    return json_response(found)


LIFECYCLE_PERIOD = qp.Choice("period", options=("day", "week", "month"), default="week")
LIFECYCLE_EVENT = qp.Text("event", "count only this event as activity")


def _lifecycle_period(request: Request, scope: Scope) -> Interval:
    period: Interval = LIFECYCLE_PERIOD.read(request)  # type: ignore[assignment]
    if scope.calendar.count(period, scope.start, scope.end) > MAX_BUCKETS:
        raise qp.ParameterError(
            "period", f"That range has more than {MAX_BUCKETS} {period}s; pick a longer period."
        )
    return period


async def lifecycle_endpoint(request: Request) -> Response:
    """GET /api/analytics/lifecycle: new, returning, resurrecting and dormant per period."""
    scope = await _scope(request)
    of, period = OF.read(request), _lifecycle_period(request, scope)
    event = LIFECYCLE_EVENT.read(request)
    store = request.app.state.store
    found = await _run(answers.Lifecycle, lifecycle.lifecycle, store, scope, of, period, event)
    return json_response(found)


PERIOD_START = qp.Time(
    "start", "the period's `start`, as the lifecycle report gives it", required=True
)
STATUS = qp.Choice("status", "which number of the period", lifecycle.STATUSES, "new")


async def lifecycle_people_endpoint(request: Request) -> Response:
    """GET /api/analytics/lifecycle/people: who was new, returning, resurrecting or went
    dormant in one period."""
    scope = await _scope(request)
    of, period = OF.read(request), _lifecycle_period(request, scope)
    event, status = LIFECYCLE_EVENT.read(request), STATUS.read(request)
    start = PERIOD_START.read(request)
    if start is None:
        raise qp.ParameterError("start", "`start` is required: a period's `start`.")
    cal = scope.calendar
    number = cal.bucket_of(period, start)
    grid = cal.periods(period, scope.start, scope.end)
    if cal.bucket(period, number).start != start or not grid[0].number <= number <= grid[-1].number:
        raise qp.ParameterError(
            "start",
            f"`start` is not the start of a {period} of the range in {scope.timezone}: give a "
            "period's `start` as the lifecycle report answers it.",
        )
    found = await _run(
        answers.LifecyclePeople,
        lifecycle.people,
        request.app.state.store,
        scope,
        of,
        period,
        event,
        number,
        status,
        _user_list(request),
    )
    return json_response(found)


async def schema_endpoint(request: Request) -> Response:
    """GET /api/schema: event names, their properties with types and top values."""
    scope = await _scope(request)
    store = request.app.state.store
    return json_response(await _run(answers.Schema, schema.schema, store, scope))


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="milliseconds") + "Z"


_READ_ERRORS = errors(400, 401, 403, 503)


def _report(path: str, endpoint: Any, summary: str, answer: Answer, *params: qp.Param) -> Operation:
    return Operation(
        "GET", path, endpoint, summary, {200: answer, **_READ_ERRORS}, params=params, security=READ
    )


operations = (
    _report(
        "/api/analytics/trends",
        trends_endpoint,
        "Event counts (or unique users) per hour, day, week or month.",
        Answer("one series per event name or property value", answers.Trends),
        INTERVAL,
        EVENTS,
        MEASURE,
        BREAKDOWN,
        TREND_LIMIT,
        BY_USER,
        BY_GROUP,
        WHERE,
        *RANGE,
        TZ,
        RAW,
    ),
    _report(
        "/api/analytics/top-events",
        top_events_endpoint,
        "The most frequent events with counts and unique users.",
        Answer("events, most frequent first", answers.TopEvents),
        TOP_LIMIT,
        *RANGE,
        TZ,
        RAW,
    ),
    _report(
        "/api/analytics/active",
        active_endpoint,
        "DAU, WAU, MAU and stickiness (DAU/MAU) per day, of users or accounts.",
        Answer("one point per day", answers.Active),
        OF,
        ACTIVITY_EVENT,
        *RANGE,
        TZ,
        RAW,
    ),
    _report(
        "/api/analytics/retention",
        retention_endpoint,
        "Cohorts by first start event; how many return in each following period.",
        Answer("the cohort table", answers.Retention),
        START_EVENT,
        RETURN_EVENT,
        PERIOD,
        PERIODS,
        *RANGE,
        TZ,
        RAW,
    ),
    _report(
        "/api/analytics/retention/people",
        retention_people_endpoint,
        "The people of a retention cohort (k=0), or those of it who came back k periods later.",
        Answer("a page of people, as the users list shows them", answers.Users),
        START_EVENT,
        RETURN_EVENT,
        PERIOD,
        PERIODS,
        COHORT,
        K,
        *USER_PAGE,
        *RANGE,
        TZ,
        RAW,
    ),
    _report(
        "/api/analytics/funnel",
        funnel_endpoint,
        "Ordered steps within a conversion window, by users or accounts.",
        Answer("each step's count and conversion", answers.Funnel),
        STEPS,
        WINDOW_HOURS,
        BY,
        FUNNEL_BREAKDOWN,
        *RANGE,
        TZ,
        RAW,
    ),
    _report(
        "/api/analytics/funnel/people",
        funnel_people_endpoint,
        "The people (or accounts) who reached a funnel step, or reached it and not the next.",
        Answer("a page of people or accounts", answers.FunnelPeople),
        STEPS,
        WINDOW_HOURS,
        BY,
        STEP,
        OUTCOME,
        FUNNEL_BREAKDOWN,
        VALUE,
        *USER_PAGE,
        *RANGE,
        TZ,
        RAW,
    ),
    _report(
        "/api/analytics/lifecycle",
        lifecycle_endpoint,
        "New, returning, resurrecting and dormant users or accounts per day, week or month.",
        Answer("one entry per period of the range", answers.Lifecycle),
        OF,
        LIFECYCLE_PERIOD,
        LIFECYCLE_EVENT,
        *RANGE,
        TZ,
        RAW,
    ),
    _report(
        "/api/analytics/lifecycle/people",
        lifecycle_people_endpoint,
        "The users or accounts behind one lifecycle number: one status in one period.",
        Answer("a page of people or accounts", answers.LifecyclePeople),
        OF,
        LIFECYCLE_PERIOD,
        LIFECYCLE_EVENT,
        PERIOD_START,
        STATUS,
        *USER_PAGE,
        *RANGE,
        TZ,
        RAW,
    ),
    _report(
        "/api/schema",
        schema_endpoint,
        "The workspace's events in the range, with their properties, types and top values.",
        Answer("events, most frequent first", answers.Schema),
        *RANGE,
        TZ,
        RAW,
    ),
    _report(
        "/api/accounts",
        accounts_endpoint,
        "Accounts with users, active users, sign-ins, last activity and health, a page at a time.",
        Answer("a page of accounts, most active first", answers.Accounts),
        SEARCH,
        HEALTH,
        ACCOUNT_SORT,
        ORDER,
        ACCOUNTS_LIMIT,
        OFFSET,
        *RANGE,
        TZ,
        RAW,
    ),
    Operation(
        "GET",
        "/api/accounts/{group_id}",
        account_endpoint,
        "One account: its numbers, traits, users and daily activity.",
        {200: Answer("the account", answers.AccountDetail), **errors(400, 401, 403, 404, 503)},
        params=(GROUP_ID, *RANGE, TZ, RAW),
        security=READ,
    ),
    _report(
        "/api/users",
        users_endpoint,
        "Users, most recently seen first, a page at a time; q searches id, email and name; "
        "event, group_id and where keep who did something (a trends point's people).",
        Answer("a page of users, most recently seen first", answers.Users),
        USER_SEARCH,
        USER_EVENTS,
        USER_GROUP,
        USER_WHERE,
        *USER_PAGE,
        *RANGE,
        TZ,
        RAW,
    ),
    Operation(
        "GET",
        "/api/users/{user_id}",
        user_endpoint,
        "A person (any of their ids): fields, merged traits, ids, accounts, event counts.",
        {200: Answer("the person", answers.UserPage), **errors(400, 401, 403, 404, 503)},
        params=(USER_ID, *RANGE, TZ, RAW),
        security=READ,
    ),
    Operation(
        "GET",
        "/api/users/{user_id}/events",
        user_events_endpoint,
        "A user's timeline, newest first, including their anonymous history.",
        {200: Answer("a page of events", EventPage), **errors(400, 401, 403, 404, 503)},
        params=(USER_ID, LIMIT, CURSOR, *RANGE),
        security=READ,
    ),
)
routes = [op.route() for op in operations]
