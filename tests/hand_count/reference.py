"""Every number of the definitions (docs/analytics.md) counted by hand from logical
events, in plain Python.

Written from that document, not from Tracklog's code, and importing nothing from `tracklog`:
where the document leaves a choice open, the choice made is said at the function (`Reading:`).

A report takes a `World` (the events and whether test events count; built once, since who
each person is depends on all of them), a `Range` (from inclusive, to exclusive, and the
`now` that decides which periods are still running) and a zone, and answers with plain
values keyed the way the API keys them: instants as aware datetimes, days as dates.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import functools
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from tests.hand_count.dataset import Event

UTC = dt.UTC
ACTIVITY = ("track", "page")  # and screen: every event but identify, group and alias calls
IDENTITY_PROPERTIES = ("email", "user_name", "name", "first_name", "last_name")
ACCOUNT_PROPERTIES = ("account_name",)
NAME_TRAITS = ("name", "user_name", "username", "full_name")
SIGN_IN = "signed_in"
MAX_MERGE_STEPS = 8
Zone = ZoneInfo | dt.timezone


@dataclass(frozen=True)
class Range:
    """[start, end) as aware instants; `now` decides which periods have not ended yet."""

    start: dt.datetime
    end: dt.datetime
    now: dt.datetime


def fill_received(events: Iterable[Event], at: dt.datetime) -> list[Event]:
    """The events with the calls that carry no time (Vero's users/*) timed `at` (received)."""
    return [e if e.timestamp else dataclasses.replace(e, timestamp=at) for e in events]


def ts(e: Event) -> dt.datetime:
    assert e.timestamp is not None, "fill_received first"
    return e.timestamp


def utc(e: Event) -> Event:
    """The event with its time in UTC."""
    return dataclasses.replace(e, timestamp=ts(e).astimezone(UTC))


# -- calendar ---------------------------------------------------------------------------------


def midnight(day: dt.date, zone: Zone) -> dt.datetime:
    """The instant a local day starts (a day is 23 or 25 hours across a DST change)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(UTC)


def period_start(t: dt.datetime, unit: str, zone: Zone) -> dt.datetime:
    """The start of the local hour, day, week (Monday) or month holding instant t.

    Hours start where the local clock is on the hour: the repeated hour of a DST change is
    two hours (their offsets differ), and in Asia/Kolkata an hour starts at :30 UTC.
    """
    t = t.astimezone(UTC)  # arithmetic on instants, never on a local wall clock
    local = t.astimezone(zone)
    if unit == "hour":
        into = dt.timedelta(minutes=local.minute, seconds=local.second)
        return (t - into - dt.timedelta(microseconds=local.microsecond)).astimezone(UTC)
    day = local.date()
    if unit == "week":
        day -= dt.timedelta(days=day.weekday())
    elif unit == "month":
        day = day.replace(day=1)
    return midnight(day, zone)


def next_start(start: dt.datetime, unit: str, zone: Zone) -> dt.datetime:
    """The start of the period after the one starting at `start`."""
    if unit == "hour":
        return period_start(start + dt.timedelta(hours=1), unit, zone)
    day = start.astimezone(zone).date()
    if unit == "day":
        return midnight(day + dt.timedelta(days=1), zone)
    if unit == "week":
        return midnight(day + dt.timedelta(days=7), zone)
    return midnight((day.replace(day=28) + dt.timedelta(days=4)).replace(day=1), zone)


def periods(r: Range, unit: str, zone: Zone) -> list[tuple[dt.datetime, dt.datetime]]:
    """Every period touching [r.start, r.end), as (start, end)."""
    found = []
    start = period_start(r.start, unit, zone)
    while start < r.end:
        end = next_start(start, unit, zone)
        found.append((start, end))
        start = end
    return found


def partial(start: dt.datetime, end: dt.datetime, r: Range) -> bool:
    """Not wholly inside the measured time: starts before from, ends after to or after now."""
    return start < r.start or end > r.end or end > r.now


def last_day(r: Range, zone: Zone) -> dt.date:
    """D: the local day holding the last instant before `to`."""
    return (r.end - dt.timedelta(microseconds=1)).astimezone(zone).date()


# -- who is a person --------------------------------------------------------------------------


class World:
    """The events a report sees and each one's person.

    Links and merges are read from the events that are not test events (whatever
    include_test says: a development-mode call must not move a real person), over all time:
    "identity changes apply to all history at once", so a merge after `to` still applies to
    a range that ends before it.
    """

    def __init__(self, events: Iterable[Event], include_test: bool) -> None:
        # Times as UTC instants: two aware times in one ZoneInfo compare and subtract by wall
        # clock, which gets the repeated hour of a DST change wrong.
        seen = [utc(e) for e in events if include_test or not e.is_test]
        self.events = sorted(seen, key=lambda e: (ts(e), e.seq))
        self.times = [ts(e) for e in self.events]
        self.index = {e.seq: i for i, e in enumerate(self.events)}
        self.user_ids = {e.user_id for e in self.events if e.user_id}
        self.links: dict[str, str] = {}  # anonymous id -> the smallest user id seen with it
        self.merges: dict[str, str] = {}  # previous id -> new id, the latest merge winning
        for e in self.events:  # in time order, so a later merge of the same id wins
            if e.is_test:
                continue
            if e.kind == "alias" and e.previous_id and e.user_id and e.previous_id != e.user_id:
                self.merges[e.previous_id] = e.user_id
            elif e.anonymous_id and e.user_id:
                known = self.links.get(e.anonymous_id)
                self.links[e.anonymous_id] = min(known or e.user_id, e.user_id)
        self.person = {e.seq: self.person_of(e) for e in self.events}
        self.by_person: dict[str, list[Event]] = defaultdict(list)
        self.by_group: dict[str, list[Event]] = defaultdict(list)
        self.anonymous_ids: dict[str, set[str]] = defaultdict(set)  # person -> linked ones
        for e in self.events:
            self.by_person[self.person[e.seq]].append(e)
            if e.group_id:
                self.by_group[e.group_id].append(e)
            for a in (e.anonymous_id, e.previous_id):
                if a and a not in self.user_ids:
                    self.anonymous_ids[self.resolve(self.links.get(a) or a)].add(a)

    def resolve(self, some_id: str) -> str:
        """Follow merges (A → B → C), at most 8 steps."""
        for _ in range(MAX_MERGE_STEPS):
            if some_id not in self.merges:
                break
            some_id = self.merges[some_id]
        return some_id

    def person_of(self, e: Event) -> str:
        """The user id, else the anonymous id's linked user, else the anonymous id; merged."""
        start = e.user_id or self.links.get(e.anonymous_id or "") or e.anonymous_id
        assert start, f"event {e.seq} names nobody"
        return self.resolve(start)

    def anonymous(self, person: str) -> bool:
        """A person whose id never was a user id."""
        return person not in self.user_ids

    def within(self, r: Range) -> list[Event]:
        """The events with from <= timestamp < to."""
        lo, hi = bisect.bisect_left(self.times, r.start), bisect.bisect_left(self.times, r.end)
        return self.events[lo:hi]


def active(e: Event) -> bool:
    return e.kind in ACTIVITY


@functools.cache
def _starts(w: World, unit: str, zone: Zone) -> list[dt.datetime]:
    return [period_start(t, unit, zone) for t in w.times]


@functools.cache
def _dates(w: World, zone: Zone) -> list[dt.date]:
    return [t.astimezone(zone).date() for t in w.times]


def bucket(w: World, e: Event, unit: str, zone: Zone) -> dt.datetime:
    """The start of the local period holding the event (computed once per world and zone)."""
    return _starts(w, unit, zone)[w.index[e.seq]]


def local_date(w: World, e: Event, zone: Zone) -> dt.date:
    """The event's local date."""
    return _dates(w, zone)[w.index[e.seq]]


def _merged(values: Iterable[tuple[dt.datetime, dict[str, Any]]]) -> dict[str, Any]:
    """Per key, the latest non-null value."""
    traits: dict[str, Any] = {}
    for _, piece in sorted(values, key=lambda v: v[0]):
        traits.update({k: v for k, v in piece.items() if v is not None})
    return traits


@functools.cache
def person_traits(w: World, person: str) -> dict[str, Any]:
    """identify traits (context.traits counted as traits), Vero identity attributes, and the
    identity properties of every other event.

    Reading: a group call's traits describe the account, not the person (its traits are
    not "properties"), so a Segment group call's `name` trait is not the person's name.
    Traits are all-time: "every key ever set", not cut at `to`.
    """
    pieces = []
    for e in w.by_person.get(person, []):
        if e.is_test:  # test events set no traits, whatever include_test says
            continue
        if e.kind == "identify":
            pieces.append((ts(e), e.traits))
        elif active(e):
            props = {k: e.properties[k] for k in IDENTITY_PROPERTIES if k in e.properties}
            pieces.append((ts(e), {**e.traits, **props}))
    return _merged(pieces)


def display_name(traits: dict[str, Any]) -> str | None:
    """name, user_name, username, full_name (first non-empty), else "first_name last_name"."""
    for key in NAME_TRAITS:
        if isinstance(traits.get(key), str) and traits[key]:
            return str(traits[key])
    parts = [traits.get(k) for k in ("first_name", "last_name")]
    return " ".join(p for p in parts if isinstance(p, str) and p) or None


def seen(w: World, person: str, r: Range) -> tuple[dt.datetime | None, dt.datetime | None]:
    """First and last activity before `to`, over all history."""
    times = [ts(e) for e in w.by_person.get(person, []) if active(e) and ts(e) < r.end]
    return (min(times), max(times)) if times else (None, None)


# -- reports ----------------------------------------------------------------------------------


@functools.cache
def trends(
    w: World,
    r: Range,
    zone: Zone,
    interval: str = "day",
    measure: str = "count",
    events: tuple[str, ...] = (),
    breakdown: str | None = None,
    limit: int = 10,
    user_id: str | None = None,
    group_id: str | None = None,
) -> dict[str, dict[str, Any]]:
    """{series: {"total", "points": [(bucket start, value, partial)]}}.

    Reading: `limit` (top N + other) applies to breakdown values; by event name every name
    is a series. Values rank by their total, ties by value. A series' total is its events
    (count) or its distinct people over the whole range (users), `other` included. An event
    without the breakdown property has the value "".
    """
    chosen = [
        e
        for e in w.within(r)
        if active(e)
        and e.name
        and (not events or e.name in events)
        and (user_id is None or w.person[e.seq] == user_id)
        and (group_id is None or e.group_id == group_id)
    ]

    def key(e: Event) -> str:
        return str(e.properties.get(breakdown, "")) if breakdown else str(e.name)

    def value(es: list[Event]) -> int:
        return len({w.person[e.seq] for e in es}) if measure == "users" else len(es)

    grouped: dict[str, list[Event]] = defaultdict(list)
    for e in chosen:
        grouped[key(e)].append(e)
    if breakdown and len(grouped) > limit:
        ranked = sorted(grouped, key=lambda k: (-value(grouped[k]), k))
        for k in ranked[limit:]:
            grouped["other"].extend(grouped.pop(k))
    buckets = periods(r, interval, zone)
    answer = {}
    for name, es in grouped.items():
        by_bucket: dict[dt.datetime, list[Event]] = defaultdict(list)
        for e in es:
            by_bucket[bucket(w, e, interval, zone)].append(e)
        points = [(s, value(by_bucket.get(s, [])), partial(s, end, r)) for s, end in buckets]
        answer[name] = {"total": value(es), "points": points}
    return answer


@functools.cache
def top_events(w: World, r: Range) -> dict[str, tuple[int, int]]:
    """{name: (events, distinct people)} of activity in the range."""
    grouped: dict[str, list[Event]] = defaultdict(list)
    for e in w.within(r):
        if active(e) and e.name:
            grouped[e.name].append(e)
    return {n: (len(es), len({w.person[e.seq] for e in es})) for n, es in grouped.items()}


@functools.cache
def active_counts(
    w: World, r: Range, zone: Zone, of: str = "users", event: str | None = None
) -> dict[dt.date, dict[str, Any]]:
    """{local day: {dau, wau, mau, stickiness, partial}} for each local day of the range.

    Reading: a day's DAU counts its activity before `to`, including the part of the first
    day before `from` ("days before from count"); a day is partial when it ends after `to`
    or after now (the section on this report names only the last day, so a first day cut by
    `from` is not marked).
    """
    daily: dict[dt.date, set[str]] = defaultdict(set)
    for e in w.events:
        if not active(e) or ts(e) >= r.end or (event and e.name != event):
            continue
        subject = e.group_id if of == "accounts" else w.person[e.seq]
        if subject:
            daily[local_date(w, e, zone)].add(subject)
    answer = {}
    for start, end in periods(r, "day", zone):
        day = start.astimezone(zone).date()

        def window(n: int, day: dt.date = day) -> int:
            return len(set().union(*(daily[day - dt.timedelta(days=k)] for k in range(n))))

        dau, wau, mau = window(1), window(7), window(30)
        answer[day] = {
            "dau": dau,
            "wau": wau,
            "mau": mau,
            "stickiness": round(dau / mau, 4) if mau else 0.0,
            "partial": end > r.end or end > r.now,
        }
    return answer


@functools.cache
def account_traits(w: World, group_id: str) -> dict[str, Any]:
    """group calls' traits and the account properties of any event of the account (all time)."""
    pieces = []
    for e in w.by_group.get(group_id, []):
        if e.is_test:
            continue
        if e.kind == "group":
            pieces.append((ts(e), e.traits))
        props = {k: e.properties[k] for k in ACCOUNT_PROPERTIES if k in e.properties}
        if props:
            pieces.append((ts(e), props))
    return _merged(pieces)


def account_name(traits: dict[str, Any]) -> str | None:
    for key in ("account_name", "name"):
        if isinstance(traits.get(key), str) and traits[key]:
            return str(traits[key])
    return None


@functools.cache
def accounts(w: World, r: Range, zone: Zone) -> dict[str, dict[str, Any]]:
    """{group_id: row} for every account with an event in the range.

    Reading: an account is listed when any of its events is in the range; its `events` and
    `sign_ins` count its activity in the range (as a person's do). Health and the 7/30-day
    windows are as of `to` and ignore `from`.
    """
    d = last_day(r, zone)
    week, month = (
        midnight(d - dt.timedelta(days=6), zone),
        midnight(d - dt.timedelta(days=29), zone),
    )
    listed: dict[str, list[Event]] = defaultdict(list)
    for e in w.within(r):
        if e.group_id:
            listed[e.group_id].append(e)
    answer = {}
    for g, in_range in listed.items():
        acts = [e for e in w.by_group[g] if active(e) and ts(e) < r.end]  # all time before to
        last = max((ts(e) for e in acts), default=None)
        days30 = {local_date(w, e, zone) for e in acts if ts(e) >= month}
        if last is not None and last >= week and len(days30) >= 2:
            health, why = "active", "active in the last 7 days, on 2 or more of the last 30"
        elif last is not None and last >= month:
            health, why = "at_risk", "active in the last 30 days but not enough for active"
        else:
            health, why = "dormant", "no activity in the last 30 days"
        answer[g] = {
            "name": account_name(account_traits(w, g)),
            "users": len({w.person[e.seq] for e in in_range}),
            "active_users_7d": len({w.person[e.seq] for e in acts if ts(e) >= week}),
            "active_users_30d": len({w.person[e.seq] for e in acts if ts(e) >= month}),
            "sign_ins": sum(1 for e in in_range if active(e) and e.name == SIGN_IN),
            "events": sum(1 for e in in_range if active(e)),
            "last_seen": last,
            "health": health,
            "health_reason": why,
        }
    return answer


@functools.cache
def account(w: World, r: Range, zone: Zone, group_id: str) -> dict[str, Any] | None:
    """One account: its row, traits, users and daily activity (None if no event in range).

    Reading: a user's `events` and `sign_ins` here are their activity on this account in the
    range; `name`, `email` and `last_seen` are the person's own (last_seen: their last
    activity anywhere before `to`, the one definition of a person's last seen). Daily
    activity lists the local days with activity of the account in the range.
    """
    row = accounts(w, r, zone).get(group_id)
    if row is None:
        return None
    in_range = [e for e in w.by_group[group_id] if r.start <= ts(e) < r.end]
    users: dict[str, dict[str, Any]] = {}
    for person in {w.person[e.seq] for e in in_range}:
        traits = person_traits(w, person)
        mine = [e for e in in_range if w.person[e.seq] == person and active(e)]
        users[person] = {
            "name": display_name(traits),
            "email": traits.get("email"),
            "events": len(mine),
            "sign_ins": sum(1 for e in mine if e.name == SIGN_IN),
            "last_seen": seen(w, person, r)[1],
        }
    daily: dict[dt.date, list[Event]] = defaultdict(list)
    for e in in_range:
        if active(e):
            daily[local_date(w, e, zone)].append(e)
    activity = {
        day: {"events": len(es), "active_users": len({w.person[e.seq] for e in es})}
        for day, es in daily.items()
    }
    return {
        "account": row,
        "traits": account_traits(w, group_id),
        "users": users,
        "activity": activity,
    }


@functools.cache
def users(w: World, r: Range) -> dict[str, dict[str, Any]]:
    """{person: row} for everyone with any event in the range (anonymous people too).

    Reading: a person is listed when any of their events (identify and group calls too) is
    in the range, so someone invited but never active is listed with no first/last seen.
    """
    people: dict[str, list[Event]] = defaultdict(list)
    for e in w.within(r):
        people[w.person[e.seq]].append(e)
    answer = {}
    for person, es in people.items():
        traits = person_traits(w, person)
        first, last = seen(w, person, r)
        answer[person] = {
            "email": traits.get("email"),
            "name": display_name(traits),
            "events": sum(1 for e in es if active(e)),
            "sign_ins": sum(1 for e in es if active(e) and e.name == SIGN_IN),
            "first_seen": first,
            "last_seen": last,
            "anonymous": w.anonymous(person),
        }
    return answer


def search(rows: dict[str, dict[str, Any]], needle: str) -> set[str]:
    """Ids whose id, email or name contains `needle` (case-insensitive)."""
    n = needle.lower()
    return {
        k
        for k, v in rows.items()
        if any(n in str(x or "").lower() for x in (k, v.get("email"), v.get("name")))
    }


@functools.cache
def user(w: World, r: Range, person: str) -> dict[str, Any] | None:
    """A person's page; None if nothing of theirs is stored before `to`.

    Reading: `event_counts` are activity by name in the range (identify, group and alias
    calls are not activity); `groups` are the accounts on any of their events before `to`;
    `anonymous_ids` does not list an anonymous person's own id.
    """
    mine = [e for e in w.by_person.get(person, []) if ts(e) < r.end]
    if not mine:
        return None
    in_range = [e for e in mine if ts(e) >= r.start]
    counts: dict[str, int] = defaultdict(int)
    for e in in_range:
        if active(e) and e.name:
            counts[e.name] += 1
    anonymous_ids = w.anonymous_ids.get(person, set()) - {person}
    first, last = seen(w, person, r)
    return {
        "traits": person_traits(w, person),
        "first_seen": first,
        "last_seen": last,
        "sign_in_count": counts.get(SIGN_IN, 0),
        "event_counts": dict(counts),
        "anonymous_ids": sorted(anonymous_ids),
        "merged_ids": sorted(u for u in w.user_ids if u != person and w.resolve(u) == person),
        "groups": sorted({e.group_id for e in mine if e.group_id}),
        "anonymous": w.anonymous(person),
    }


@functools.cache
def timeline(w: World, r: Range, person: str) -> list[tuple[dt.datetime, str]]:
    """The person's activity in the range (their anonymous and merged history included)."""
    return sorted(
        (ts(e), str(e.name))
        for e in w.by_person.get(person, [])
        if active(e) and r.start <= ts(e) < r.end
    )


@functools.cache
def retention(
    w: World, r: Range, zone: Zone, start_event: str, return_event: str, unit: str, most: int
) -> dict[dt.datetime, dict[str, Any]]:
    """{cohort start: {"returned": [...], "partial": [k, ...]}}.

    Reading: `partial` lists the period indexes k that are not wholly measured: by the
    general rule, a period that starts before `from` counts too (the cohort's own period
    when `from` is inside it), besides those ending after `to` or after now.
    """
    firsts: dict[str, dt.datetime] = {}
    returns: dict[str, set[dt.datetime]] = defaultdict(set)
    for e in w.within(r):
        if not active(e):
            continue
        person = w.person[e.seq]
        if e.name == start_event and person not in firsts:
            firsts[person] = ts(e)
        if e.name == return_event:
            returns[person].add(bucket(w, e, unit, zone))
    cohorts: dict[dt.datetime, set[str]] = defaultdict(set)
    for person, first in firsts.items():
        cohorts[period_start(first, unit, zone)].add(person)
    answer = {}
    for start, people in cohorts.items():
        spans: list[tuple[dt.datetime, dt.datetime]] = []
        s = start
        while s < r.end and len(spans) < most:
            spans.append((s, next_start(s, unit, zone)))
            s = spans[-1][1]
        returned = [len(people)] + [sum(1 for p in people if s in returns[p]) for s, _ in spans[1:]]
        late = [k for k, (s, e) in enumerate(spans) if partial(s, e, r)]
        answer[start] = {"returned": returned, "partial": late}
    return answer


@functools.cache
def funnel(
    w: World, r: Range, steps: tuple[str, ...], window_hours: int, by: str = "users"
) -> list[int]:
    """How many subjects reached each step.

    A subject enters at its first step-1 event in the range; step k counts at its earliest
    event at or after step k-1 was reached and no later than the window after entering.
    """
    times: dict[tuple[str, str], list[dt.datetime]] = defaultdict(list)
    for e in w.within(r):
        if active(e) and e.name in steps:
            subject = e.group_id if by == "accounts" else w.person[e.seq]
            if subject:
                times[(subject, e.name)].append(ts(e))
    reached = [0] * len(steps)
    for subject in {s for s, name in times if name == steps[0]}:
        entered = min(times[(subject, steps[0])])
        at = entered
        reached[0] += 1
        for k, name in enumerate(steps[1:], start=1):
            later = [
                t
                for t in times.get((subject, name), [])
                if at <= t <= entered + dt.timedelta(hours=window_hours)
            ]
            if not later:
                break
            at = min(later)
            reached[k] += 1
    return reached


# -- lists: order and pages; the people behind a number (the dashboard's API) ----------------


def _second(t: dt.datetime) -> dt.datetime:
    """A time to the whole second: what both stores compare (ClickHouse keeps no more)."""
    return t.replace(microsecond=0)


def ordered(rows: dict[str, dict[str, Any]], column: str | None, descending: bool) -> list[str]:
    """The ids of a list in the order it sorts by `column` (None: by id).

    Reading: text sorts case-insensitively (then as is), times to the second; ties by id
    ascending in either direction; a row with no value (no name or email, never seen) comes
    last in either direction.
    """

    def value(k: str) -> Any:
        v = k if column is None else rows[k][column]
        if isinstance(v, dt.datetime):
            return _second(v)
        if isinstance(v, str):
            return (v.lower(), v) if v else None
        return v

    by_id = sorted(rows)
    present = [k for k in by_id if value(k) is not None]
    present.sort(key=value, reverse=descending)  # stable: equal values keep the id order
    return present + [k for k in by_id if value(k) is None]


TIERS = ("active", "at_risk", "dormant")


def tier_rank(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Account rows with `health` as its rank, active first (how the list sorts tiers)."""
    return {g: {**row, "health": TIERS.index(row["health"])} for g, row in rows.items()}


def prop_text(value: Any) -> str:
    """A property's value as the stores read it for a filter or a breakdown ('' if absent).

    Reading: strings as they are; other values as their JSON text.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@functools.cache
def did(
    w: World,
    r: Range,
    events: tuple[str, ...] = (),
    group_id: str | None = None,
    where: tuple[tuple[str, str], ...] = (),
) -> frozenset[str]:
    """The people behind a trends point: with events or `where` (key, value) equalities, those
    with a named activity event in the range that meets them (on `group_id` if given);
    with `group_id` alone, those with any event of the account in the range."""
    found = set()
    for e in w.within(r):
        if events or where:
            if not active(e) or not e.name or (events and e.name not in events):
                continue
            if any(prop_text(e.properties.get(k)) != v for k, v in where):
                continue
            if group_id is not None and e.group_id != group_id:
                continue
        elif e.group_id != group_id:
            continue
        found.add(w.person[e.seq])
    return frozenset(found)


@functools.cache
def retention_people(
    w: World,
    r: Range,
    zone: Zone,
    start_event: str,
    return_event: str,
    unit: str,
    cohort: dt.datetime,
    k: int,
) -> frozenset[str]:
    """The people of one cell of the retention table: the cohort starting at `cohort` (k=0),
    or those of it with a return event k periods later (in the range)."""
    firsts: dict[str, dt.datetime] = {}
    returns: dict[str, set[dt.datetime]] = defaultdict(set)
    for e in w.within(r):
        if not active(e):
            continue
        person = w.person[e.seq]
        if e.name == start_event and person not in firsts:
            firsts[person] = ts(e)
        if e.name == return_event:
            returns[person].add(bucket(w, e, unit, zone))
    people = {p for p, t in firsts.items() if period_start(t, unit, zone) == cohort}
    if k == 0:
        return frozenset(people)
    target = cohort
    for _ in range(k):
        target = next_start(target, unit, zone)
    return frozenset(p for p in people if target in returns[p])


@dataclass(frozen=True)
class FunnelPath:
    """Each subject's way through a funnel: the time (whole seconds) it reached each step,
    and its breakdown value."""

    reached: dict[str, list[int]]
    values: dict[str, str]


@functools.cache
def funnel_paths(
    w: World,
    r: Range,
    steps: tuple[str, ...],
    window_hours: int,
    by: str = "users",
    breakdown: str | None = None,
) -> FunnelPath:
    """As `funnel`, keeping who reached each step when.

    Reading: times are whole seconds (the stores' own), so the entry is the first second of
    a step-1 event; its breakdown value is that of the step-1 events of that second (the
    smallest text, when they differ).
    """
    times: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for e in w.within(r):
        if active(e) and e.name in steps:
            subject = e.group_id if by == "accounts" else w.person[e.seq]
            if subject:
                value = prop_text(e.properties.get(breakdown)) if breakdown else ""
                times[(subject, e.name)].append((int(ts(e).timestamp() // 1), value))
    reached: dict[str, list[int]] = {}
    values: dict[str, str] = {}
    for subject in sorted({s for s, name in times if name == steps[0]}):
        entered = min(t for t, _ in times[(subject, steps[0])])
        values[subject] = min(v for t, v in times[(subject, steps[0])] if t == entered)
        path = [entered]
        for name in steps[1:]:
            later = [
                t
                for t, _ in times.get((subject, name), [])
                if path[-1] <= t <= entered + window_hours * 3600
            ]
            if not later:
                break
            path.append(min(later))
        reached[subject] = path
    return FunnelPath(reached, values)


def funnel_steps(path: FunnelPath, steps: int, subjects: set[str]) -> list[dict[str, Any]]:
    """Each step's count and median seconds from the step before, over `subjects`."""
    out = []
    for i in range(steps):
        there = [p for s, p in path.reached.items() if s in subjects and len(p) > i]
        gaps = [p[i] - p[i - 1] for p in there] if i else []
        out.append({"count": len(there), "median_seconds": median(gaps) if gaps else None})
    return out


def median(values: list[int]) -> float:
    """The middle value, or the mean of the two middle values."""
    ordered_ = sorted(values)
    n = len(ordered_)
    return float(ordered_[n // 2]) if n % 2 else (ordered_[n // 2 - 1] + ordered_[n // 2]) / 2


def funnel_series(path: FunnelPath, top: int = 10) -> dict[str, set[str]]:
    """The breakdown's series: the values with most entries (ties by value), the rest as
    `other`; each with its subjects."""
    by_value: dict[str, set[str]] = defaultdict(set)
    for subject, value in path.values.items():
        by_value[value].add(subject)
    ranked = sorted(by_value, key=lambda v: (-len(by_value[v]), v))
    series = {v: by_value[v] for v in ranked[:top]}
    if len(ranked) > top:
        series["other"] = set().union(*(by_value[v] for v in ranked[top:]))
    return series


@functools.cache
def lifecycle(
    w: World, r: Range, zone: Zone, unit: str, of: str = "users", event: str | None = None
) -> dict[dt.datetime, dict[str, Any]]:
    """{period start: {new, returning, resurrecting, dormant (negative), people}} for each
    period of the range; `people` maps each status to its subjects.

    Reading: a period counts its activity before `to` from its own start, even when `from`
    is later; "before p" is all history.
    """
    active_in: dict[str, set[dt.datetime]] = defaultdict(set)
    first: dict[str, dt.datetime] = {}
    for e in w.events:
        if not active(e) or ts(e) >= r.end or (event and e.name != event):
            continue
        subject = e.group_id if of == "accounts" else w.person[e.seq]
        if not subject:
            continue
        active_in[subject].add(bucket(w, e, unit, zone))
        first[subject] = min(first.get(subject, ts(e)), ts(e))
    answer = {}
    for start, _ in periods(r, unit, zone):
        before = period_start(start - dt.timedelta(microseconds=1), unit, zone)
        people: dict[str, set[str]] = {s: set() for s in ("new", "returning", "resurrecting")}
        people["dormant"] = set()
        for subject, seen in active_in.items():
            here, prev = start in seen, before in seen
            if here and prev:
                people["returning"].add(subject)
            elif here and first[subject] >= start:
                people["new"].add(subject)
            elif here:
                people["resurrecting"].add(subject)
            elif prev:
                people["dormant"].add(subject)
        answer[start] = {
            "new": len(people["new"]),
            "returning": len(people["returning"]),
            "resurrecting": len(people["resurrecting"]),
            "dormant": -len(people["dormant"]),
            "partial": partial(start, next_start(start, unit, zone), r),
            "people": people,
        }
    return answer


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "array" if isinstance(value, list) else "object"


@functools.cache
def schema(w: World, r: Range) -> dict[str, dict[str, Any]]:
    """{event name: {"count", "properties": {key: {"count", "types", "top_values"}}}} for the
    activity events of the range.

    Reading: types most frequent first (ties by name); top values are the 10 most frequent
    strings, numbers and booleans, ties by their JSON text.
    """
    counts: dict[str, int] = defaultdict(int)
    kinds: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    values: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in w.within(r):
        if not active(e) or not e.name:
            continue
        counts[e.name] += 1
        for key, value in e.properties.items():
            kinds[(e.name, key)][json_type(value)] += 1
            if json_type(value) in ("string", "number", "boolean"):
                values[(e.name, key)][
                    json.dumps(value, separators=(",", ":"), ensure_ascii=False)
                ] += 1
    answer: dict[str, dict[str, Any]] = {
        n: {"count": c, "properties": {}} for n, c in counts.items()
    }
    for (name, key), by_kind in kinds.items():
        top = sorted(values[(name, key)].items(), key=lambda v: (-v[1], v[0]))[:10]
        answer[name]["properties"][key] = {
            "count": sum(by_kind.values()),
            "types": sorted(by_kind, key=lambda k: (-by_kind[k], k)),
            "top_values": [(json.loads(text), n) for text, n in top],
        }
    return answer
