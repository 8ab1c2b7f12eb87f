"""Accounts: who they are (their merged traits), their people, how active, and their health.

Health tiers say which accounts are alive (see `Health`); an account's people are listed by
tracklog/analytics/users.py, with the same fields as everywhere.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from typing import Any

from tracklog.analytics import traits, users
from tracklog.analytics.activity import activity
from tracklog.analytics.scope import ACTIVITY, Scope, identities, person_of
from tracklog.analytics.senders import senders
from tracklog.analytics.timeline import Calendar
from tracklog.events import from_ms, utcnow
from tracklog.events import iso as stored_iso
from tracklog.store.query import Query, new_query
from tracklog.zones import DAY, instant

_EPOCH = instant(0)
_TICK = dt.timedelta(microseconds=1)
SIGN_IN = "signed_in"


@dataclass(frozen=True)
class Health:
    """Account health from recency and frequency, as of `to`, over local days.

    With D the local day holding the last instant before `to`: active when last seen on
    D - (active_days - 1) … D and active on at least `min_active_days` distinct days of
    D - 29 … D; at_risk when not active but last seen on D - (at_risk_days - 1) … D;
    dormant otherwise (or never seen).
    """

    active_days: int = 7
    at_risk_days: int = 30
    min_active_days: int = 2

    def judge(
        self, last: int | None, active_days_30: int, cal: Calendar, today: int
    ) -> tuple[str, str]:
        """The tier of an account last seen on local day `last` (None: never), and a sentence
        saying why, on local day `today` (D: the day of the last instant before `to`)."""
        if last is None:
            return "dormant", "No activity yet."
        age = today - last  # 0: last seen on D
        seen = cal.date(last).isoformat()
        days = f"{active_days_30} day{'' if active_days_30 == 1 else 's'}"
        if age < self.active_days:
            if active_days_30 >= self.min_active_days:
                return "active", (
                    f"Last active on {seen}, within the last {self.active_days} days, and "
                    f"active on {days} of the last 30 (at least {self.min_active_days} needed)."
                )
            return "at_risk", (
                f"Last active on {seen}, within the last {self.active_days} days, but active "
                f"on only {days} of the last 30 ({self.min_active_days} needed to be active)."
            )
        if age < self.at_risk_days:
            return "at_risk", (
                f"Last active on {seen}: not within the last {self.active_days} days, but "
                f"within the last {self.at_risk_days}."
            )
        return "dormant", (
            f"No activity in the last {self.at_risk_days} days; last active on {seen}."
        )


def windows(scope: Scope) -> dict[str, dict[str, str]]:
    """The 7- and 30-day windows as of `to` (local days D-6 … D and D-29 … D), as ISO times."""
    cal = scope.calendar
    last = cal.day(scope.end - _TICK)
    return {
        f"active_users_{n}d": {
            "from": cal.zone.iso(cal.day_start(last - n + 1)),
            "to": stored_iso(scope.end) or "",
        }
        for n in (7, 30)
    }


def _account_rows(store: Any, scope: Scope, q: Query, extra: list[str]) -> list[tuple[Any, ...]]:
    """(group, users, active 7d, active 30d, sign-ins, events, last seen (epoch ms), active
    days of the 30) of every account with an event in the range. Users, sign-ins and events
    count the range; the windows and the last activity are as of `to`, whatever `from` is.

    Read from the day rollup (raw events at the range's cut edges; all of them with `raw`):
    each account's groups of all history, `fresh` telling those in the range. People are
    those with an id: an event with neither a user id nor an anonymous id is the account's
    activity, but nobody's.
    """
    d = q.dialect
    # Active in the 7 days: a bit of the window's last 7 days (23-29) set. No day is after
    # D (the groups stop at `to`), so this is the same as a max over the rows, one aggregate
    # fewer in the GROUP BY of every day row.
    a7 = f"{d.bit_and('days30', d.mask(0b1111111 << 23))} != {d.mask(0)}"
    # coalesce: ClickHouse 18.16 counts no distinct value as NULL, later ones as 0.
    people = [
        f"coalesce(count(DISTINCT CASE WHEN {c} THEN person END), 0)"
        for c in ("r > 0", a7, "days30 != 0")
    ]
    days = d.bit_count(d.or_all("days30"), 30)
    where = ["coalesce(group_id, '') != ''", *extra]
    totals = senders(q, store, scope, where, window=30)
    if totals is not None:
        # Per account and person at once: the block rows are few (one per sender, account
        # and 64 days), so no sum per sender id comes first.
        resolved = (
            f"(SELECT grp, {person_of()} AS person, sum(range_events) AS r, "
            f"sum(range_acts) AS e, sum(range_signins) AS s, max(last_ms) AS last, "
            f"{d.or_all('window_days')} AS days30 "
            f"FROM {totals} AS {q.alias('sent')} {d.left_join} "
            f"{identities(q, scope.workspace)} AS {q.alias('persons')} USING (actor) "
            f"GROUP BY grp, person)"
        )
        counted = [d.count_if(f"person IS NOT NULL AND {c}") for c in ("r > 0", a7, "days30 != 0")]
        rows = q.run(
            store,
            f"SELECT grp, {', '.join(counted)}, sum(s), sum(e), max(last), {days}, sum(r) "
            f"FROM {resolved} AS {q.alias('resolved')} GROUP BY grp",
        )
        return [r[:-1] for r in rows if r[-1]]  # accounts with an event in the range
    last_day = scope.calendar.day(scope.end - _TICK)
    source = activity(
        q, store, scope, where, start=_EPOCH, since=scope.start, persons=False, times=True
    )
    act = "type NOT IN ('identify', 'group', 'alias')"
    signed_in = f"{act} AND fresh = 1 AND event_name = {q.param(SIGN_IN)}"
    recent = f"{act} AND day >= {last_day - 29}"
    sums = (
        f"{d.sum_if('n', 'fresh = 1')} AS r, {d.sum_if('n', f'{act} AND fresh = 1')} AS e, "
        f"{d.sum_if('n', signed_in)} AS s, {d.max_if('hi_ms', act)} AS last"
    )
    # One row per account and sender id, with a mask of the (at most 30) local days of the
    # 30-day window they were active on: a far smaller GROUP BY than one per day (ClickHouse,
    # whose 18.16 has no bit count, did that: 4.2 s at 10M events, 1.4 s with the mask).
    # greatest: a current ClickHouse computes the shift for every row, not only the window's,
    # and refuses a negative one.
    shift = f"greatest(day - {last_day - 29}, 0)"
    window = f"{d.or_if(d.bit(shift), recent)} AS days30"
    # Per sender id first, then resolved to people: the join with the identities meets one
    # row per id instead of one per id, day and name; the distinct counts leave NULL (an
    # event with no sender) out.
    sent = f"(SELECT grp, actor, {sums}, {window} FROM {source} GROUP BY grp, actor)"
    resolved = (
        f"(SELECT grp, r, e, s, last, days30, {person_of()} AS person "
        f"FROM {sent} AS {q.alias('sent')} "
        f"{q.dialect.left_join} {identities(q, scope.workspace)} AS {q.alias('persons')} "
        f"USING (actor))"
    )
    rows = q.run(
        store,
        f"SELECT grp, {', '.join(people)}, sum(s), sum(e), max(last), {days}, sum(r) "
        f"FROM {resolved} AS {q.alias('resolved')} GROUP BY grp",
    )
    return [r[:-1] for r in rows if r[-1]]  # accounts with an event in the range


class _Judge:
    """Tiers of one list's accounts, as of its day D: judged once per (last day, active days)
    pair, of which 5,000 accounts have a few hundred, and local days found by bisecting the
    zone's offsets of the list's span (judging each account took 35 ms at 10M events)."""

    def __init__(self, health: Health, scope: Scope, last_ms: list[int]) -> None:
        self.health, self.cal = health, scope.calendar
        self.today = self.cal.day(scope.end - _TICK)
        self.known: dict[tuple[int | None, int], tuple[str, str]] = {}
        span = [from_ms(min(last_ms, default=0)), from_ms(max(last_ms, default=0))]
        self.offsets = self.cal.zone.segments(*span)  # (from second, offset), oldest first
        self.starts = [at for at, _ in self.offsets]

    def day(self, ms: int) -> int:
        """The local day of epoch milliseconds `ms` within the list's span."""
        s = ms // 1000
        offset = self.offsets[max(bisect.bisect_right(self.starts, s), 1) - 1][1]
        return (s + offset) // DAY

    def __call__(self, last_ms: int | None, active_days_30: int) -> tuple[str, str]:
        key = (self.day(last_ms) if last_ms else None, active_days_30)
        found = self.known.get(key)
        if found is None:
            found = self.known[key] = self.health.judge(*key, self.cal, self.today)
        return found


def _account(row: tuple[Any, ...], name: str | None, judge: _Judge) -> dict[str, Any]:
    # Aggregates over no matching rows may come back NULL (ClickHouse 18.16 does for
    # count(DISTINCT CASE …)), and a missing time as 0: both mean "none".
    grp, users, active7, active30, sign_ins, events, last_ms, days30 = row
    last_ms = int(last_ms or 0)
    tier, reason = judge(last_ms, int(days30 or 0))
    return {
        "group_id": str(grp),
        "name": name,
        "users": int(users or 0),
        "active_users_7d": int(active7 or 0),
        "active_users_30d": int(active30 or 0),
        "sign_ins": int(sign_ins or 0),
        "events": int(events or 0),
        # Milliseconds, as a person's last_seen: an account's is its latest person's.
        "last_seen": stored_iso(last_ms) if last_ms else None,
        "health": tier,
        "health_reason": reason,
    }


TIERS = ("active", "at_risk", "dormant")
ACCOUNT_SORTS = (
    "name", "users", "active_users_7d", "active_users_30d", "sign_ins", "events", "last_seen",
    "health",
)  # fmt: skip
# Each sort's order when none is asked: the most and the newest first, names from A to Z and
# tiers from active to dormant.
ACCOUNT_ORDER = {s: "asc" if s in ("name", "health") else "desc" for s in ACCOUNT_SORTS}


@dataclass(frozen=True)
class AccountList:
    """What an accounts list asks for: whom (search, tiers), in which order, which page."""

    search: str | None = None
    health: tuple[str, ...] = ()  # any of TIERS; none: every tier
    sort: str = "active_users_30d"
    order: str | None = None  # asc or desc; None: the sort's own (ACCOUNT_ORDER)
    limit: int = 100
    offset: int = 0


def _sorted(found: list[dict[str, Any]], sort: str, descending: bool) -> list[dict[str, Any]]:
    """Accounts in the asked order: ties by id ascending (Python's sorts are stable, with
    `reverse` too), and those with no value (no name, never seen) last either way."""

    def key(a: dict[str, Any]) -> Any:
        if sort == "name":
            return (a["name"].lower(), a["name"])
        if sort == "health":
            return TIERS.index(a["health"])
        return a[sort]  # last_seen is ISO text of one form; the others are numbers

    by_id = sorted(found, key=lambda a: str(a["group_id"]))
    present = [a for a in by_id if a[sort] not in (None, "")]
    present.sort(key=key, reverse=descending)
    return present + [a for a in by_id if a[sort] in (None, "")]


def accounts(
    store: Any, scope: Scope, health: Health, req: AccountList | None = None
) -> dict[str, Any]:
    """A page of the accounts seen in the scope (most active first), how many matched, and
    how many of those matching the search are in each tier.

    The whole list is computed (one GROUP BY per account), then filtered, counted, sorted and
    cut in Python: the tiers are judged here (`Health`), and accounts are few next to people.
    """
    req = req or AccountList()
    rows = _account_rows(store, scope, new_query(store), [])
    names = traits.merged(store, scope.workspace, "account", None, traits.ACCOUNT_KEYS)
    judge = _Judge(health, scope, [int(r[6]) for r in rows if r[6]])
    found = [_account(r, traits.account_name(names.get(str(r[0]), {})), judge) for r in rows]
    if req.search:
        needle = req.search.lower()
        found = [
            a
            for a in found
            if needle in a["group_id"].lower() or needle in (a["name"] or "").lower()
        ]
    counts = {tier: sum(1 for a in found if a["health"] == tier) for tier in TIERS}
    if req.health:
        found = [a for a in found if a["health"] in req.health]
    descending = (req.order or ACCOUNT_ORDER[req.sort]) == "desc"
    found = _sorted(found, req.sort, descending)
    return {
        "accounts": found[req.offset : req.offset + req.limit],
        "total": len(found),
        "offset": req.offset,
        "limit": req.limit,
        "counts": counts,
        "thresholds": {
            "active_days": health.active_days,
            "at_risk_days": health.at_risk_days,
            "min_active_days": health.min_active_days,
        },
        "windows": windows(scope),
    }


def account(store: Any, scope: Scope, health: Health, group_id: str) -> dict[str, Any] | None:
    """One account: its numbers, traits, users and daily activity; None if never seen."""
    q = new_query(store)
    rows = _account_rows(store, scope, q, [f"group_id = {q.param(group_id)}"])
    if not rows:
        return None
    found = traits.merged(store, scope.workspace, "account", [group_id]).get(group_id, {})
    summary = _account(
        rows[0], traits.account_name(found), _Judge(health, scope, [int(rows[0][6] or 0)])
    )
    summary["traits"] = found
    people = users.account_users(store, scope, group_id)
    q = new_query(store)
    source = activity(q, store, scope, [f"group_id = {q.param(group_id)}", ACTIVITY])
    daily = q.run(
        store,
        f"SELECT day, sum(n), count(DISTINCT person) FROM {source} GROUP BY day ORDER BY day",
    )
    return {
        "account": summary,
        "users": people,
        "activity": _activity(scope, daily),
        "windows": windows(scope),
    }


def _activity(scope: Scope, daily: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """An account's events and active people per local day (with events) of the range."""
    cal, now = scope.calendar, utcnow()
    return [
        {
            "date": cal.date(int(day)).isoformat(),
            "events": int(events),
            "active_users": int(people),
            "partial": cal.bucket("day", int(day)).partial(scope.start, scope.end, now),
        }
        for day, events, people in daily
    ]


def account_refs(
    store: Any, scope: Scope, among: users.Among, req: users.UserList
) -> dict[str, Any]:
    """A page of the accounts `among` names (a subquery of ids, such as a report's), by id,
    with their names; and how many there are."""
    q = new_query(store)
    rows = q.run(
        store,
        f"SELECT subject FROM {among(q)} AS {q.alias('subjects')} GROUP BY subject "
        f"ORDER BY subject LIMIT {int(req.limit)} OFFSET {int(req.offset)}",
    )
    q = new_query(store)
    # Not count(DISTINCT …): ClickHouse 18.16 answers NULL for none.
    total = q.run(
        store,
        f"SELECT count(*) FROM (SELECT subject FROM {among(q)} AS {q.alias('subjects')} "
        f"GROUP BY subject) AS {q.alias('distinct')}",
    )
    ids = [str(r[0]) for r in rows]
    names = traits.merged(store, scope.workspace, "account", ids, traits.ACCOUNT_KEYS)
    return {
        "accounts": [{"group_id": i, "name": traits.account_name(names.get(i, {}))} for i in ids],
        "total": int(total[0][0]),
        "offset": req.offset,
        "limit": req.limit,
    }
