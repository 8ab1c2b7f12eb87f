"""Where the overview reports read events from: the day rollup, and raw events at the edges.

`activity` gives a report the scope's events as groups: (day, event_name, type, grp, person,
n), n events of one sender, name, type and account on one local day. Whole local days of the
range come from the rollup the stores keep at commit time (tracklog/store/rollups.py), so a
report costs what the active people and days cost, not what the events cost; the parts of
the first and last day that the range cuts, and every day when the rollup counts another
zone than the request's, come from the events themselves, grouped the same way. Either way
the groups are the same, so a report reads them without knowing where they came from.

Reports that need what a group does not keep (a property breakdown or filter, hours, the
order of events) read `events_source` instead, whose rows are single events (n = 1).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from tracklog.analytics.scope import Scope, identities, person_of
from tracklog.store import events
from tracklog.store.clock import wall_sql
from tracklog.store.persons import user_ids as stored_user_ids
from tracklog.store.query import CLICKHOUSE_TIMES, SENDER, Query, new_query
from tracklog.store.rollups import BLOCK_DAYS, NOT_ACTIVITY
from tracklog.zones import DAY

_TICK = dt.timedelta(microseconds=1)
_EPOCH = dt.datetime(1970, 1, 1)
# The columns a report's conditions may name: both the events and the rollup have them.
COLUMNS = ("event_name", "type", "group_id")


def rollup_days(store: Any, scope: Scope, start: dt.datetime) -> tuple[int, int] | None:
    """The local days of [start, scope.end) the rollup can answer, or None.

    Those are the days wholly inside the range, and a first or last day the range cuts when
    the part it cuts off holds no event (a range ending now: nothing is stored after now,
    so today's rows are exactly today's events so far).
    """
    zone = getattr(store, "rollup_zone", None)
    if scope.raw or zone is None or zone(scope.workspace) != scope.timezone:
        return None
    cal = scope.calendar
    first, last = cal.day(start), cal.day(scope.end - _TICK)
    before = (cal.day_start(first), start)
    if before[0] != start and events.any_between(store, scope.workspace, *before):
        first += 1
    after = (scope.end, cal.day_start(last + 1))
    if after[1] != scope.end and events.any_between(store, scope.workspace, *after):
        last -= 1
    return (first, last) if first <= last else None


def activity(
    q: Query,
    store: Any,
    scope: Scope,
    where: list[str],
    person: str | Sequence[str] | None = None,
    start: dt.datetime | None = None,
    persons: bool = True,
    since: dt.datetime | None = None,
    times: bool = False,
) -> str:
    """A subquery of (day, event_name, type, grp, actor, person, n, fresh) for the scope's
    events (from `start`, when rolling windows or all history are needed).

    `where` may only name the COLUMNS; `person` (resolved; or several) keeps the events any
    of their ids sent; test events count only when the scope includes them. `persons=False`
    leaves person NULL for reports that only count events (and actor and grp '' in the
    groups of a cut day's events). `fresh` is 1 for events at or after `since` (always,
    without it): a report over all history still counts "in the range" exactly, the day
    holding `since` being read from the events. `times` adds (lo_ms, hi_ms), the first and
    last epoch milliseconds of each group.
    """
    start = start or scope.start
    conditions = list(where)
    if not scope.include_test:
        conditions.append("NOT is_test")
    if person is not None:
        # `{actor}`: the sender, as each source spells it. Their ids are looked up first: a
        # list of values filters a scan far faster than a subquery in an OR.
        people = [person] if isinstance(person, str) else list(person)
        conditions.append(q.one_of("{actor}", [*people, *ids_of(store, scope, people)]))
    days = rollup_days(store, scope, start)
    parts, spans = [], [(start, scope.end)]
    if days is not None:
        # Counting events only: the per-day counts, far fewer rows than per sender.
        counts = not persons and person is None and not times
        cal = scope.calendar
        runs, cut = _split(store, scope, days, since)
        parts += [
            _from_rollup(q, scope, (lo, hi), conditions, counts, fresh, times)
            for lo, hi, fresh in runs
        ]
        spans = [(start, cal.day_start(days[0])), (cal.day_start(days[1] + 1), scope.end)]
        if cut is not None:  # the day holding `since`, from the events
            spans.append((max(start, cal.day_start(cut)), min(scope.end, cal.day_start(cut + 1))))
    else:
        counts = False
    # The cut days' events, grouped only as finely as the counts need.
    parts += [
        _from_events(q, store, scope, lo, hi, conditions, counts, since, times)
        for lo, hi in spans
        if lo < hi
    ]
    if not parts:  # an empty span (all history up to a `to` before 1970): no rows
        parts.append(
            _from_events(q, store, scope, scope.end, scope.end, conditions, counts, since, times)
        )
    groups = " UNION ALL ".join(parts)
    extra = ", lo_ms, hi_ms" if times else ""
    if not persons:
        return (
            f"(SELECT day, event_name, type, grp, actor, NULL AS person, n, fresh{extra} "
            f"FROM ({groups}) AS {q.alias('groups')})"
        )
    return (
        f"(SELECT day, event_name, type, grp, actor, {person_of()} AS person, n, fresh{extra} "
        f"FROM ({groups}) AS {q.alias('groups')} {q.dialect.left_join} "
        f"{identities(q, scope.workspace)} AS {q.alias('persons')} USING (actor))"
    )


def _split(
    store: Any, scope: Scope, days: tuple[int, int], since: dt.datetime | None
) -> tuple[list[tuple[int, int, int]], int | None]:
    """The rollup's days [first, last] as runs of (first, last, fresh), and the day left to
    the events, if any: days before the one holding `since` are not fresh, those after it
    are; that day itself is fresh when nothing of it comes before `since`, else it is read
    from the events (which tell each event's side)."""
    first, last = days
    if since is None:
        return [(first, last, 1)], None
    cal = scope.calendar
    cut = cal.day(since)
    if cut < first or (cut == first and cal.day_start(cut) >= since):
        return [(first, last, 1)], None
    if cut > last:
        return [(first, last, 0)], None
    clean = cal.day_start(cut) >= since or not events.any_between(
        store, scope.workspace, cal.day_start(cut), since
    )
    runs = [(first, cut - 1, 0), (cut if clean else cut + 1, last, 1)]
    return [(lo, hi, fresh) for lo, hi, fresh in runs if lo <= hi], None if clean else cut


def _from_rollup(
    q: Query,
    scope: Scope,
    days: tuple[int, int],
    conditions: list[str],
    counts: bool,
    fresh: int = 1,
    times: bool = False,
) -> str:
    matching = " AND ".join(
        [
            f"workspace = {q.param(scope.workspace)}",
            f"day >= {q.param(days[0])}",
            f"day <= {q.param(days[1])}",
            *(c.replace("{actor}", "actor") for c in conditions),
        ]
    )
    table, actor = ("event_days", "''") if counts else ("activity_days", "actor")
    columns = (
        f"{q.dialect.int64('day')} AS day, {actor} AS actor, group_id AS grp, event_name, type"
    )
    # Partial rows of one key (not merged yet) add up in the report's sums, on both stores:
    # on ClickHouse, merging states per key first (sumMerge … GROUP BY every key, 1-6M
    # groups at 10M events) was most of a report's time.
    d = q.dialect
    spans = f", {d.row_value('first_ms')} AS lo_ms, {d.row_value('last_ms')} AS hi_ms"
    return (
        f"SELECT {columns}, {d.row_value('events')} AS n, {fresh} AS fresh"
        f"{spans if times else ''} FROM {table} WHERE {matching}"
    )


def _from_events(
    q: Query,
    store: Any,
    scope: Scope,
    lo: dt.datetime,
    hi: dt.datetime,
    conditions: list[str],
    counts: bool = False,
    since: dt.datetime | None = None,
    times: bool = False,
) -> str:
    """Groups of the events in [lo, hi); `counts`: per day, name and type only (sender and
    account ''), for reports that count events: far fewer groups than per sender."""
    d = q.dialect
    day = d.idiv(wall_sql(scope.calendar.zone, d.epoch("timestamp"), lo, hi), str(DAY))
    matching = " AND ".join(
        [
            f"workspace = {q.param(scope.workspace)}",
            q.during(lo, hi),
            *(c.replace("{actor}", SENDER) for c in conditions),
        ]
    )
    fresh = "1" if since is None else f"CASE WHEN timestamp >= {q.time(since)} THEN 1 ELSE 0 END"
    ms = store.epoch_ms("timestamp") if times else "0"
    spans = ", min(ms) AS lo_ms, max(ms) AS hi_ms" if times else ""
    if counts:
        inner, outer, keys = "", "'' AS actor, '' AS grp", "day, name, type, fresh"
    else:
        inner = f"{SENDER} AS actor, ifNull(group_id, '') AS grp, "
        outer, keys = "actor, grp", "day, actor, grp, name, type, fresh"
    return (
        f"SELECT day, {outer}, name AS event_name, type, count(*) AS n, fresh{spans} FROM "
        f"(SELECT {d.int64(day)} AS day, {inner}ifNull(event_name, '') AS name, type, "
        f"{fresh} AS fresh, {ms} AS ms FROM {q.table} WHERE {matching}) AS {q.alias('edge')} "
        f"GROUP BY {keys}"
    )


def ids_of(store: Any, scope: Scope, people: list[str]) -> list[str]:
    """The ids that belong to `people` (resolved persons), besides their own."""
    if not people:
        return []
    q = new_query(store)
    rows = q.run(
        store,
        f"SELECT id FROM {q.identities} WHERE workspace = {q.param(scope.workspace)} "
        f"AND {q.one_of('person', people)}",
    )
    return sorted({str(r[0]) for r in rows} - set(people))


def user_ids(store: Any, scope: Scope, ids: Sequence[str]) -> set[str]:
    """Which of `ids` some event carried as its user id (test events only if the scope
    includes them): the rollup's rows that are not `anonymous` are sent by a user id."""
    if scope.raw or not ids or getattr(store, "rollup_zone", None) is None:
        return stored_user_ids(store, scope.workspace, ids, scope.include_test)
    q = new_query(store)
    test = "" if scope.include_test else " AND NOT is_test"
    # The block rows count the events sent with a user id: a row per block, not per day.
    table, named = (
        ("sender_blocks", f"{q.dialect.row_value('named')} > 0")
        if getattr(store, "sender_blocks", False)
        else ("activity_days", "NOT anonymous")
    )
    rows = q.run(
        store,
        f"SELECT DISTINCT actor FROM {table} WHERE workspace = "
        f"{q.param(scope.workspace)} AND {named} AND {q.one_of('actor', ids)}{test}",
    )
    return {str(r[0]) for r in rows}


def dayless(store: Any, scope: Scope) -> Scope:
    """The scope in the zone of the rollup's days, for a report that shows no day: its
    range's ends are instants, cut exactly in any zone, so another zone asked for (`tz`)
    need not make it scan the events."""
    zone = getattr(store, "rollup_zone", None)
    if scope.raw or zone is None:
        return scope
    return dataclasses.replace(scope, timezone=zone(scope.workspace))


def masks(
    q: Query,
    store: Any,
    scope: Scope,
    names: list[str] | None = None,
    start: dt.datetime | None = None,
    kind: str = "actor",
) -> str | None:
    """A subquery of (block, days, subject, event_name): the days of each 64-day block on
    which each person (kind "actor") or account ("group") had activity of each event name,
    within [start, scope.end); None where the rollup cannot answer (another zone, `raw`).

    Whole days come from the rollup's masks (bits of days outside the range cleared); the
    cut ends of the first and last day from the day rows' first and last times (from the
    events only for a day cut at both ends), a bit each. A key may have several
    rows (parts the table has not merged yet, and the edges): callers OR them.
    """
    start = start or scope.start
    full = rollup_days(store, scope, start)
    if full is None:
        return None
    d = q.dialect
    cal = scope.calendar
    conditions = [f"workspace = {q.param(scope.workspace)}"]
    if names is not None:
        conditions.append(q.one_of("event_name", names))
    if not scope.include_test:
        conditions.append("NOT is_test")
    first, last = full[0] // BLOCK_DAYS, full[1] // BLOCK_DAYS
    # Only the first and last blocks hold days outside the range: every block between keeps
    # all its bits (one branch per block would grow with the range, and years are many).
    keep = " ".join(
        f"WHEN block = {b} THEN {d.mask(day_bits(b, full[0], full[1]))}" for b in {first, last}
    )
    mine = " AND ".join(
        [*conditions, f"kind = {q.param(kind)}", f"block >= {first}", f"block <= {last}"]
    )
    # Each row's own mask, not the states merged per key: every caller ORs (or counts) a
    # subject's rows itself, and a GROUP BY per key cost ClickHouse seconds (1M groups).
    days = d.row_value("days")
    # Each part names its columns apart from the tables' (ClickHouse reads `x AS x` as a loop).
    rollup = (
        f"SELECT {d.int64('block')} AS blk, "
        f"{d.bit_and(days, f'CASE {keep} ELSE {d.mask(ALL_DAYS)} END')} AS bits, "
        f"subject AS sub, event_name AS name FROM activity_masks WHERE {mine}"
    )
    parts = [rollup]
    subject = SENDER if kind == "actor" else "ifNull(group_id, '')"
    edges = [(start, cal.day_start(full[0])), (cal.day_start(full[1] + 1), scope.end)]
    for lo, hi in edges:
        if lo >= hi:
            continue
        if (edge := _edge_from_days(q, scope, lo, hi, conditions, kind)) is not None:
            parts.append(edge)
            continue
        day = d.idiv(wall_sql(cal.zone, d.epoch("timestamp"), lo, hi), str(DAY))
        matching = " AND ".join(
            [
                *conditions,
                q.during(lo, hi),
                "type NOT IN ('identify', 'group', 'alias')",
            ]
        )
        parts.append(
            f"SELECT {d.int64(d.idiv('local', str(BLOCK_DAYS)))} AS blk, "
            f"{d.bit(d.mod('local', str(BLOCK_DAYS)))} AS bits, sub, name FROM "
            f"(SELECT {day} AS local, {subject} AS sub, ifNull(event_name, '') AS name "
            f"FROM {q.table} WHERE {matching}) AS {q.alias('edge')} WHERE sub != ''"
        )
    groups = " UNION ALL ".join(parts)
    if kind != "actor":
        return (
            f"(SELECT blk AS block, bits AS days, sub AS subject, name AS event_name "
            f"FROM ({groups}) AS {q.alias('masks')})"
        )
    return (
        f"(SELECT blk AS block, bits AS days, {person_of()} AS subject, name AS event_name "
        f"FROM (SELECT blk, bits, sub AS actor, name FROM ({groups}) AS {q.alias('masks')}) "
        f"AS {q.alias('sent')} {d.left_join} {identities(q, scope.workspace)} "
        f"AS {q.alias('persons')} USING (actor))"
    )


def _edge_from_days(
    q: Query, scope: Scope, lo: dt.datetime, hi: dt.datetime, conditions: list[str], kind: str
) -> str | None:
    """masks()'s rows for [lo, hi), a day cut at one end, from the day rows' first and last
    times instead of the events (whose scan grows with them), or None if both ends cut it.

    Someone was active in a day's part from `lo` to its end when one of their rows' last
    times is at or after `lo` (a row's last time is its events' latest), and in the part
    from its start to `hi` when a first time is before `hi`.
    """
    d, cal = q.dialect, scope.calendar
    day = cal.day(lo)
    if day != cal.day(hi - _TICK):
        return None
    if hi == cal.day_start(day + 1):
        test = f"{d.row_value('last_ms')} >= {q.param(_ms(q, lo, end=False))}"
    elif lo == cal.day_start(day):
        test = f"{d.row_value('first_ms')} < {q.param(_ms(q, hi, end=True))}"
    else:
        return None
    subject = "actor" if kind == "actor" else "group_id"
    matching = " AND ".join(
        [*conditions, f"day = {day}", f"type NOT IN {NOT_ACTIVITY}", f"{subject} != ''", test]
    )
    return (
        f"SELECT {d.int64(str(day // BLOCK_DAYS))} AS blk, {d.mask(1 << day % BLOCK_DAYS)} "
        f"AS bits, {subject} AS sub, event_name AS name FROM activity_days WHERE {matching}"
    )


def _ms(q: Query, t: dt.datetime, end: bool) -> int:
    """The epoch milliseconds a stored time must reach (start) or stay under (`end`) to be
    in a range bounded by `t`, as the store compares times (ClickHouse: whole seconds)."""
    if q.dialect.name == "clickhouse":
        if t.microsecond:
            t = t.replace(microsecond=0) + (dt.timedelta(seconds=1) if end else dt.timedelta())
        t = min(max(t, CLICKHOUSE_TIMES[0]), CLICKHOUSE_TIMES[1])
    return -((_EPOCH - t) // dt.timedelta(milliseconds=1))  # rounded up: times are whole ms


ALL_DAYS = (1 << BLOCK_DAYS) - 1


def day_bits(block: int, first: int, last: int) -> int:
    """The bits, in a block's mask, of the days first … last that fall in it."""
    lo = max(first, block * BLOCK_DAYS) - block * BLOCK_DAYS
    hi = min(last, block * BLOCK_DAYS + BLOCK_DAYS - 1) - block * BLOCK_DAYS
    return 0 if hi < lo else ((1 << (hi + 1)) - 1) ^ ((1 << lo) - 1)


def any_day(d: Any, columns: dict[int, str], first: int, last: int) -> str:
    """SQL: one of the per-block masks `columns` ({block: column}) has a day first … last."""
    tests = [
        f"{d.bit_and(column, d.mask(bits))} != {d.mask(0)}"
        for block, column in columns.items()
        if (bits := day_bits(block, first, last))
    ]
    return "(" + " OR ".join(tests) + ")" if tests else "1 = 0"


def pivot(d: Any, blocks: range) -> tuple[str, dict[int, str]]:
    """SQL of one OR-ed mask column per block (m0, m1, …) and which block each holds."""
    columns = {b: f"m{i}" for i, b in enumerate(blocks)}
    sql = ", ".join(
        f"{d.or_all(f'CASE WHEN block = {b} THEN days ELSE {d.mask(0)} END')} AS {c}"
        for b, c in columns.items()
    )
    return sql, columns
