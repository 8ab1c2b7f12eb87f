"""People: the users list, a user's page and an account's users, with one definition of each.

A person's `events` and `sign_ins` count their activity in the range; `first_seen` and
`last_seen` are their first and last activity before `to`, over all their history; their
name and email come from their merged traits (tracklog/analytics/traits.py). See
docs/analytics.md, "A person's fields".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tracklog.analytics import traits
from tracklog.analytics.activity import activity, dayless, masks, user_ids
from tracklog.analytics.filters import Filter, in_list
from tracklog.analytics.scope import ACTIVITY, Scope, events_source, identities, person_of
from tracklog.analytics.senders import senders
from tracklog.events import iso
from tracklog.store import persons
from tracklog.store.query import Query, new_query

ALL_TIME = dt.datetime(1970, 1, 1)
SIGN_IN = "signed_in"


def history(scope: Scope) -> Scope:
    """The scope's workspace and test-event choice, over all time up to its end."""
    return dataclasses.replace(scope, start=ALL_TIME)


def _when(value: Any) -> str | None:
    """Epoch milliseconds as ISO-8601; None (or ClickHouse 18.16's 0 for none) as None."""
    return iso(int(value)) if value else None


def _counts(q: Query) -> str:
    """Aggregates over a person's activity groups of all history (tracklog/analytics/
    activity.py): activity in the range (`fresh`), and their first and last (epoch ms)."""
    return (
        f"sum(CASE WHEN {ACTIVITY} AND fresh = 1 THEN n ELSE 0 END) AS active_n, "
        f"sum(CASE WHEN {ACTIVITY} AND event_name = {q.param(SIGN_IN)} AND fresh = 1 THEN n "
        f"ELSE 0 END) AS sign_in_n, min(CASE WHEN {ACTIVITY} THEN lo_ms END) AS seen_first, "
        f"max(CASE WHEN {ACTIVITY} THEN hi_ms END) AS seen_last"
    )


def _history(q: Query, store: Any, scope: Scope, where: list[str], **kw: Any) -> str:
    """The groups of all history up to `to` (`fresh`: in the range), with first and last
    times, read from the rollup in its own zone (no day is shown)."""
    whole = history(dayless(store, scope))
    return activity(q, store, whole, where, since=scope.start, times=True, **kw)


def _person(
    person: str, row: tuple[Any, ...], found: dict[str, Any], known: bool
) -> dict[str, Any]:
    events, sign_ins, first, last = row
    return {
        "user_id": person,
        "email": traits.email(found),
        "name": traits.display_name(found),
        "events": int(events or 0),
        "sign_ins": int(sign_ins or 0),
        "first_seen": _when(first),
        "last_seen": _when(last),
        "anonymous": not known,
    }


SORTS = ("last_seen", "first_seen", "events", "sign_ins", "name", "email", "user_id")
# Each sort's order when none is asked: the newest and the most first, text from A to Z.
DEFAULT_ORDER = {s: "asc" if s in ("name", "email", "user_id") else "desc" for s in SORTS}
# A subquery of person ids, written on the statement's Query: whom a drill-down lists.
Among = Callable[[Query], str]


@dataclass(frozen=True)
class UserList:
    """What a users list asks for: whom (search, filters), in which order, which page.

    `events`, `group_id` and `filters` keep the people with a matching event in the range:
    with `events` or `filters`, an activity event with one of the names (any name if none)
    that meets every filter, on the account `group_id` if given, as a trends point counts
    it; with `group_id` alone, any event of that account, as the account's page lists its
    users.
    """

    search: str | None = None
    events: tuple[str, ...] = ()
    group_id: str | None = None
    filters: tuple[Filter, ...] = ()
    sort: str = "last_seen"
    order: str | None = None  # asc or desc; None: the sort's own (DEFAULT_ORDER)
    limit: int = 50
    offset: int = 0


def _did(q: Query, store: Any, scope: Scope, req: UserList) -> str:
    """A subquery of the people with an event in the range that the list's filters name."""
    if req.events and not req.filters and req.group_id is None:
        # Activity of some names: a mask per person, block and name (not a row per day).
        found = masks(q, store, dayless(store, scope), list(req.events))
        if found is not None:
            none = q.dialect.mask(0)
            return f"(SELECT subject FROM {found} AS {q.alias('did')} WHERE days != {none})"
    if not req.events and not req.filters:
        # Any event of the account: the sender totals of that account.
        sent = senders(q, store, dayless(store, scope), [f"group_id = {q.param(req.group_id)}"])
        if sent is not None:
            return (
                f"(SELECT {person_of()} AS person FROM {sent} AS {q.alias('sent')} "
                f"{q.dialect.left_join} {identities(q, scope.workspace)} "
                f"AS {q.alias('persons')} USING (actor) GROUP BY actor, person_of "
                f"HAVING sum(range_events) > 0)"
            )
    if req.events or req.filters:
        where = [ACTIVITY, "coalesce(event_name, '') != ''"]
        if req.events:
            where.append(in_list(q, "event_name", list(req.events)))
        if req.group_id is not None:
            where.append(f"group_id = {q.param(req.group_id)}")
    else:
        where = [f"group_id = {q.param(req.group_id)}"]
    if req.filters:  # properties: only the events have them
        where.extend(f.sql(q) for f in req.filters)
        return f"(SELECT person FROM {events_source(q, scope, where)})"
    return f"(SELECT person FROM {activity(q, store, dayless(store, scope), where)})"


def _listed(q: Query, store: Any, scope: Scope, req: UserList, among: Among | None) -> str:
    """The list's people, one row each: (person, active_n, sign_in_n, seen_first, seen_last,
    acts), acts being their activity before `to`. The one place the list's SQL is written:
    its page and its total both read it."""
    where = ["person IS NOT NULL"]
    if req.search:
        needle = q.param(req.search)
        matched = traits.matching_people(q, scope.workspace, req.search)
        where.append(f"({q.dialect.contains('person', needle)} OR person IN {matched})")
    if req.events or req.filters or req.group_id is not None:
        where.append(f"person IN {_did(q, store, scope, req)}")
    if among is not None:
        where.append(f"person IN {among(q)}")
    d = q.dialect
    # The sender ids' totals are resolved to people in one join, then summed per person.
    totals = senders(q, store, dayless(store, scope), [])
    if totals is not None:
        return (
            f"(SELECT person, sum(range_acts) AS active_n, sum(range_signins) AS sign_in_n, "
            f"{d.min_if('first_ms', 'all_acts > 0')} AS seen_first, max(last_ms) AS seen_last, "
            f"sum(all_acts) AS acts "
            f"FROM (SELECT {person_of()} AS person, range_events, range_acts, range_signins, "
            f"all_acts, first_ms, last_ms FROM {totals} AS {q.alias('sent')} {d.left_join} "
            f"{identities(q, scope.workspace)} AS {q.alias('persons')} USING (actor)) "
            f"AS {q.alias('resolved')} WHERE {' AND '.join(where)} "
            f"GROUP BY person HAVING sum(range_events) > 0)"
        )
    # Summed per sender id first, then per person: the join with the identities meets one
    # row per id instead of one per id, day and name.
    source = _history(q, store, scope, [], persons=False)
    fresh = f"fresh = 1 AND {ACTIVITY}"
    signed_in = f"{fresh} AND event_name = {q.param(SIGN_IN)}"
    sent = (
        f"(SELECT actor, {d.sum_if('n', fresh)} AS sent_active, "
        f"{d.sum_if('n', signed_in)} AS sent_signins, {d.min_if('lo_ms', ACTIVITY)} AS sent_first, "
        f"{d.max_if('hi_ms', ACTIVITY)} AS sent_last, {d.sum_if('n', ACTIVITY)} AS sent_acts, "
        f"max(fresh) AS sent_fresh FROM {source} GROUP BY actor)"
    )
    resolved = (
        f"(SELECT {person_of()} AS person, sent_active, sent_signins, sent_first, sent_last, "
        f"sent_acts, sent_fresh FROM {sent} AS {q.alias('sent')} {q.dialect.left_join} "
        f"{identities(q, scope.workspace)} AS {q.alias('persons')} USING (actor))"
    )
    return (
        # An id never active has no first time (ClickHouse: 0, not NULL): its sent_acts is 0,
        # as every group counts at least one event.
        f"(SELECT person, sum(sent_active) AS active_n, sum(sent_signins) AS sign_in_n, "
        f"{d.min_if('sent_first', 'sent_acts > 0')} AS seen_first, max(sent_last) AS seen_last, "
        f"sum(sent_acts) AS acts "
        f"FROM {resolved} AS {q.alias('resolved')} WHERE {' AND '.join(where)} "
        f"GROUP BY person HAVING max(sent_fresh) = 1)"
    )


def _page_sql(q: Query, scope: Scope, req: UserList, listed: str) -> str:
    """The page of `listed` in the list's order, each row ending with the size of the whole
    list; ties by id, so offsets page stably."""
    direction = "DESC" if (req.order or DEFAULT_ORDER[req.sort]) == "desc" else "ASC"
    columns = "person, active_n, sign_in_n, seen_first, seen_last"
    if req.sort in ("name", "email"):
        # Who has none (no trait, or not text) comes last either way; then case-insensitively.
        value = "sort_mail" if req.sort == "email" else "sort_name"
        names = traits.people_names(q, scope.workspace, "sort")
        source = (
            f"(SELECT {columns}, {value} FROM {listed} AS {q.alias('listed')} "
            f"{q.dialect.left_join} (SELECT subject AS person, {value} FROM {names} "
            f"AS {q.alias('names')}) AS {q.alias('named')} USING (person))"
        )
        text = f"coalesce({value}, '')"  # none: no trait (NULL), or not text ('')
        keys = [
            f"CASE WHEN {text} = '' THEN 1 ELSE 0 END",
            f"{q.dialect.fold(text)} {direction}",
            f"{text} {direction}",
        ]
    else:
        column = {
            "last_seen": "seen_last",
            "first_seen": "seen_first",
            "events": "active_n",
            "sign_ins": "sign_in_n",
            "user_id": "person",
        }[req.sort]
        keys = [f"{column} {direction}"]
        if column.startswith("seen"):
            # Never active: no first or last seen, last either way (ClickHouse 18.16 may
            # have no NULL there, but 0). Times compare to the second (docs/analytics.md).
            keys = [
                "CASE WHEN acts = 0 THEN 1 ELSE 0 END",
                f"{q.dialect.idiv(column, '1000')} {direction}",
            ]
        value = "acts"
        source = f"(SELECT {columns}, acts FROM {listed} AS {q.alias('listed')})"
    if q.dialect.name == "duckdb":
        total = "count(*) OVER ()"  # over the whole list, before the LIMIT
    else:
        source, total = _counted(q, source, [*columns.split(", "), value]), "total"
    return (
        f"SELECT {columns}, {total} FROM {source} AS {q.alias('page')} ORDER BY "
        f"{', '.join(keys)}, person LIMIT {int(req.limit)} OFFSET {int(req.offset)}"
    )


def _counted(q: Query, source: str, names: list[str]) -> str:
    """`source`'s rows (its columns `names`), each with `total`, how many rows there are.

    ClickHouse 18.16 has no window functions: the rows are gathered into one array beside
    their count and unrolled again, so the list is computed once for its page and its total
    (a second statement that counted it computed it again: a third of the list's time at 10M
    events). An exact count: the driver's rows_before_limit_at_least is a lower bound.
    """
    fields = ", ".join(f"tupleElement(row_, {i}) AS {name}" for i, name in enumerate(names, 1))
    return (
        f"(SELECT {fields}, total FROM (SELECT groupArray(tuple({', '.join(names)})) AS rows_, "
        f"count(*) AS total FROM {source} AS {q.alias('all')}) AS {q.alias('gathered')} "
        f"ARRAY JOIN rows_ AS row_)"
    )


def users(
    store: Any, scope: Scope, req: UserList | None = None, among: Among | None = None
) -> dict[str, Any]:
    """A page of the people with an event in the range (of `among`, if given), in the asked
    order (last seen first), and how many there are in all."""
    req = req or UserList()
    q = new_query(store)
    rows = q.run(store, _page_sql(q, scope, req, _listed(q, store, scope, req, among)))
    if rows or not req.offset:
        total = int(rows[0][-1]) if rows else 0
        rows = [r[:-1] for r in rows]
    else:  # a page past the end: no row says how many there are
        q = new_query(store)
        listed = _listed(q, store, scope, req, among)
        total = int(q.run(store, f"SELECT count(*) FROM {listed}")[0][0])
    ids = [str(r[0]) for r in rows]
    found = traits.merged(store, scope.workspace, "person", ids, traits.LIST_KEYS)
    known = user_ids(store, scope, ids)
    return {
        "users": [
            _person(i, r[1:], found.get(i, {}), i in known) for i, r in zip(ids, rows, strict=True)
        ],
        "total": total,
        "offset": req.offset,
        "limit": req.limit,
    }


def user(store: Any, scope: Scope, some_id: str) -> dict[str, Any] | None:
    """A person's page: their fields, traits, ids, accounts and event counts; None if unseen.

    `some_id` may be any of their ids: a merged or anonymous id answers for its person.
    """
    ws = scope.workspace
    person = persons.find(store, ws, some_id)
    q = new_query(store)
    source = _history(q, store, scope, [], person=person.user_id)
    rows = q.run(
        store,
        f"SELECT type, event_name, grp, {_counts(q)} FROM {source} GROUP BY type, event_name, grp",
    )
    if not rows:
        return None
    counts: dict[str, int] = {}
    for type_, name, _, n, *_ in rows:  # activity only: identify, group and alias are not
        key = name or type_
        if n:
            counts[key] = counts.get(key, 0) + int(n)
    total = (
        sum(int(r[3] or 0) for r in rows),
        sum(int(r[4] or 0) for r in rows),
        min((int(r[5]) for r in rows if r[5]), default=None),
        max((int(r[6]) for r in rows if r[6]), default=None),
    )
    found = traits.merged(store, ws, "person", [person.user_id]).get(person.user_id, {})
    # An id of theirs that some event carried as its user id was merged in; the others are
    # anonymous ids.
    users_ = user_ids(store, scope, [person.user_id, *person.other_ids])
    return {
        **_person(person.user_id, total, found, person.user_id in users_),
        "traits": found,
        "sign_in_count": total[1],
        "event_counts": counts,
        "anonymous_ids": [i for i in person.other_ids if i not in users_],
        "merged_ids": [i for i in person.other_ids if i in users_],
        "groups": sorted({str(r[2]) for r in rows if r[2]}),
    }


def account_users(
    store: Any, scope: Scope, group_id: str, limit: int = 1000
) -> list[dict[str, Any]]:
    """An account's people: their events and sign-ins on it in the range, last seen first."""
    rows = _account_people(store, scope, group_id)
    if rows is not None:
        return _account_page(store, scope, rows, limit)
    q = new_query(store)
    source = activity(q, store, dayless(store, scope), [f"group_id = {q.param(group_id)}"])
    rows = q.run(
        store,
        f"SELECT person, sum(CASE WHEN {ACTIVITY} THEN n ELSE 0 END), "
        f"sum(CASE WHEN {ACTIVITY} AND event_name = {q.param(SIGN_IN)} THEN n ELSE 0 END) "
        f"FROM {source} WHERE person IS NOT NULL GROUP BY person",
    )
    ids = [str(r[0]) for r in rows]
    q = new_query(store)
    source = _history(q, store, scope, [ACTIVITY], person=ids)
    last = dict(
        q.run(
            store,
            f"SELECT person, max(hi_ms) FROM {source} WHERE {q.one_of('person', ids)} "
            f"GROUP BY person",
        )
    )
    return _account_page(store, scope, [(*r[:3], last.get(r[0])) for r in rows], limit)


def _account_people(store: Any, scope: Scope, group_id: str) -> list[tuple[Any, ...]] | None:
    """(person, events, sign-ins on the account in the range, last activity anywhere before
    `to`) of the people with an event of the account in the range, from the block rows; None
    where they cannot answer."""
    q = new_query(store)
    whole = dayless(store, scope)
    mine = senders(q, store, whole, [f"group_id = {q.param(group_id)}"])
    anywhere = senders(q, store, whole, [])
    if mine is None or anywhere is None:
        return None
    d = q.dialect
    resolve = (
        f"{d.left_join} {identities(q, scope.workspace)} AS {q.alias('persons')} USING (actor)"
    )
    people = (
        f"(SELECT {person_of()} AS person, sum(range_acts) AS acts_n, "
        f"sum(range_signins) AS signins_n FROM {mine} AS {q.alias('mine')} {resolve} "
        f"GROUP BY person HAVING sum(range_events) > 0 AND person IS NOT NULL)"
    )
    last = (
        f"(SELECT {person_of()} AS person, max(last_ms) AS last "
        f"FROM {anywhere} AS {q.alias('anywhere')} {resolve} GROUP BY person)"
    )
    return q.run(
        store,
        f"SELECT person, acts_n, signins_n, last FROM {people} AS {q.alias('people')} "
        f"{d.left_join} {last} AS {q.alias('last')} USING (person)",
    )


def _account_page(
    store: Any, scope: Scope, rows: list[tuple[Any, ...]], limit: int
) -> list[dict[str, Any]]:
    """An account's people as the page shows them: (person, events, sign-ins, last) rows with
    names, last seen first."""
    ids = [str(r[0]) for r in rows]
    known = traits.merged(store, scope.workspace, "person", ids, traits.LIST_KEYS)
    found = [
        {
            "user_id": str(r[0]),
            "name": traits.display_name(known.get(str(r[0]), {})),
            "email": traits.email(known.get(str(r[0]), {})),
            "events": int(r[1] or 0),
            "sign_ins": int(r[2] or 0),
            "last_seen": _when(r[3]),
        }
        for r in rows
    ]
    found.sort(key=lambda u: str(u["user_id"]))
    found.sort(key=lambda u: u["last_seen"] or "", reverse=True)  # stable: ties stay by id
    return found[:limit]
