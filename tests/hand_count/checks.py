"""Each check asks the server one thing over several ranges and compares with the reference.

A check runs for a `Case` (a zone, whether it is asked for with `tz=`, include_test) and
returns an `Outcome`: how many values it compared and which differed (where, expected, got).
Answers are fetched once and shared (`Ctx.get`), so checks on the same endpoint cost one
request per range.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.hand_count import reference as ref
from tests.hand_count.dataset import KOLKATA, LA, Event
from tests.hand_count.wire import Delivery

UTC = dt.UTC
ALL_TIME = dt.datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_DAYS = 30


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Case:
    label: str
    zone: ref.Zone
    tz: str | None  # sent as `tz=`; None: the workspace's own zone (UTC)
    include_test: bool = False

    @property
    def zone_name(self) -> str:
        return self.tz or "UTC"


CASES = {
    c.label: c
    for c in (
        Case("utc", UTC, None),
        Case("la", LA, "America/Los_Angeles"),
        Case("kolkata", KOLKATA, "Asia/Kolkata"),
        Case("utc+test", UTC, None, include_test=True),
    )
}
ZONED = tuple(CASES)  # every case
PLAIN = ("utc", "utc+test")  # answers that do not depend on the zone
ONCE = ("utc",)


@dataclass(frozen=True)
class Span:
    """A range as asked: start and end None means the endpoint's default."""

    label: str
    start: dt.datetime | None = None
    end: dt.datetime | None = None


def spans(case: Case) -> list[Span]:
    """The default, 7 days, `to` on a local week start, on a month start; the DST change."""
    z = case.zone

    def local(y: int, m: int, d: int) -> dt.datetime:
        return ref.midnight(dt.date(y, m, d), z)

    return [
        Span("default"),
        Span(
            "7d",
            dt.datetime(2026, 11, 20, 12, tzinfo=UTC),
            dt.datetime(2026, 11, 27, 12, tzinfo=UTC),
        ),
        Span("week", local(2026, 10, 26), local(2026, 11, 23)),
        Span("month", local(2026, 10, 1), local(2026, 11, 1)),
        Span(
            "dst", dt.datetime(2026, 10, 31, 7, tzinfo=UTC), dt.datetime(2026, 11, 3, 8, tzinfo=UTC)
        ),
    ]


def span(case: Case, label: str) -> Span:
    return next(s for s in spans(case) if s.label == label)


@dataclass
class Answer:
    status: int
    body: Any
    range: ref.Range  # the range the reference counts (the default resolved at request time)


@dataclass
class Outcome:
    compared: int = 0
    diffs: list[tuple[str, Any, Any]] = field(default_factory=list)

    def add(self, where: str, expected: Any, got: Any, ok: bool | None = None) -> None:
        self.compared += 1
        if not (same(expected, got) if ok is None else ok):
            self.diffs.append((where, expected, got))

    def message(self, name: str, shown: int = 8) -> str:
        lines = [f"{name}: {len(self.diffs)} of {self.compared} differ, e.g."]
        for where, expected, got in self.diffs[:shown]:
            lines.append(f"  {where}: expected {show(expected)}, got {show(got)}")
        return "\n".join(lines)


def instant(value: Any) -> Any:
    """An ISO-8601 string from the API as an aware instant (naive ones are UTC)."""
    if not isinstance(value, str):
        return value
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def same(expected: Any, got: Any) -> bool:
    if isinstance(expected, dt.datetime):
        return bool(instant(got) == expected)
    if isinstance(expected, float) and isinstance(got, int | float) and not isinstance(got, bool):
        return abs(expected - got) < 1e-4 + 1e-9
    return bool(expected == got)


def show(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    text = repr(value)
    return text if len(text) < 160 else text[:160] + "…"


class Ctx:
    """The server under test, the dataset as sent, and the reference's two worlds."""

    def __init__(
        self, base_url: str, read_key: str, events: list[Event], delivery: Delivery
    ) -> None:
        self.client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {read_key}"}, timeout=60
        )
        self.events = events
        self.delivery = delivery
        self.worlds = {flag: ref.World(events, flag) for flag in (False, True)}
        self._times = sorted(ref.ts(e).astimezone(UTC) for e in events)
        self._cache: dict[tuple[Any, ...], Answer] = {}
        self._locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._lock = threading.Lock()

    def world(self, case: Case) -> ref.World:
        return self.worlds[case.include_test]

    def close(self) -> None:
        self.client.close()

    def _safe_now(self) -> dt.datetime:
        """Now, at a moment when no event sits within seconds of now - 30 days (the server's
        default `from` is its own now, a few milliseconds later than ours)."""
        while True:
            now = dt.datetime.now(UTC)
            edge = now - dt.timedelta(days=DEFAULT_DAYS)
            i = bisect.bisect_left(self._times, edge - dt.timedelta(seconds=3))
            if i == len(self._times) or self._times[i] > edge + dt.timedelta(seconds=3):
                return now
            time.sleep(1)

    def get(
        self, path: str, case: Case, within: Span, all_time: bool = False, **params: Any
    ) -> Answer:
        """GET `path` for a case and range (cached), with the range the reference should use.

        (`within`, not `where`: `where` is a query parameter, of trends and the users list.)
        """
        key = (path, case.tz, case.include_test, within.label, tuple(sorted(params.items())))
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._cache:
                query = {k: v for k, v in params.items() if v is not None}
                if case.tz:
                    query["tz"] = case.tz
                if case.include_test:
                    query["include_test"] = "true"
                if within.start and within.end:
                    query["from"] = within.start.astimezone(case.zone).isoformat()
                    query["to"] = within.end.astimezone(case.zone).isoformat()
                now = self._safe_now()
                resp = self.client.get(path, params=query)
                if within.start and within.end:
                    r = ref.Range(within.start, within.end, now)
                else:
                    r = ref.Range(
                        ALL_TIME if all_time else now - dt.timedelta(days=DEFAULT_DAYS), now, now
                    )
                body = (
                    resp.json()
                    if resp.headers.get("content-type", "").startswith("application/json")
                    else None
                )
                self._cache[key] = Answer(resp.status_code, body, r)
            return self._cache[key]


CheckFn = Callable[[Ctx, Case], Outcome]


@dataclass(frozen=True)
class Check:
    name: str
    run: CheckFn
    cases: tuple[str, ...]


CHECKS: dict[str, Check] = {}


def register(name: str, run: CheckFn, cases: tuple[str, ...] = ZONED) -> None:
    CHECKS[name] = Check(name, run, cases)


def compare_maps(out: Outcome, where: str, expected: dict[Any, Any], got: dict[Any, Any]) -> None:
    """Every key of either side; a key one side lacks is <missing> there."""
    for k in sorted(set(expected) | set(got), key=str):
        out.add(f"{where} {show(k)}", expected.get(k, MISSING), got.get(k, MISSING))


# -- ingest -----------------------------------------------------------------------------------


def _stored(ctx: Ctx, case: Case) -> Outcome:
    out = Outcome(compared=len(ctx.events))
    out.diffs = [(r, "accepted", "rejected") for r in ctx.delivery.rejected]
    return out


def _resends(ctx: Ctx, case: Case) -> Outcome:
    out = Outcome(compared=ctx.delivery.resent)
    out.diffs = [(r, "duplicate", "stored again") for r in ctx.delivery.stored_again]
    return out


register("ingest.stored", _stored, ONCE)
register("ingest.resends_once", _resends, ONCE)


# -- trends -----------------------------------------------------------------------------------

TRENDS = "/api/analytics/trends"


@dataclass(frozen=True)
class Variant:
    """One trends question: query parameters and the reference's matching arguments."""

    interval: str = "day"
    measure: str = "count"
    events: tuple[str, ...] = ()
    breakdown: str | None = None
    limit: int = 100
    user_id: str | None = None
    group_id: str | None = None
    spans: tuple[str, ...] = ("default", "7d", "week", "month", "dst")

    def params(self) -> dict[str, Any]:
        return {
            "interval": self.interval,
            "measure": self.measure,
            "event": ",".join(self.events) or None,
            "breakdown": self.breakdown,
            "limit": self.limit,
            "user_id": self.user_id,
            "group_id": self.group_id,
        }

    def expected(self, ctx: Ctx, case: Case, r: ref.Range) -> dict[str, dict[str, Any]]:
        return ref.trends(
            ctx.world(case), r, case.zone, self.interval, self.measure, self.events,
            self.breakdown, self.limit, self.user_id, self.group_id,
        )  # fmt: skip


def _series(answer: Answer) -> dict[str, dict[str, Any]]:
    """{name: {"total", "points": {instant: point}}} of a trends answer."""
    if answer.status != 200 or not isinstance(answer.body, dict):
        return {}
    return {
        s["name"]: {
            "total": s.get("total", MISSING),
            "points": {instant(p["t"]): p for p in s["points"]},
        }
        for s in answer.body.get("series", [])
    }


Run = tuple[str, dict[str, Any], dict[str, Any], Answer]


def _trend_runs(ctx: Ctx, case: Case, variant: Variant) -> Iterable[Run]:
    """(range label, expected series, series got, answer) for each range of the variant."""
    for where in spans(case):
        if where.label in variant.spans:
            answer = ctx.get(TRENDS, case, where, **variant.params())
            yield where.label, variant.expected(ctx, case, answer.range), _series(answer), answer


def trend_values(*variants: Variant, totals: bool = False) -> CheckFn:
    def run(ctx: Ctx, case: Case) -> Outcome:
        out = Outcome()
        for variant in variants:
            for label, expected, got, answer in _trend_runs(ctx, case, variant):
                subject = variant.user_id or variant.group_id
                tag = f"{label} {subject}" if subject else label
                grid = [s for s, _ in ref.periods(answer.range, variant.interval, case.zone)]
                for name in sorted(set(expected) | set(got)):
                    exp, mine = expected.get(name), got.get(name)
                    if totals:
                        e_total = exp["total"] if exp else 0
                        out.add(f"{tag} {name} total", e_total, mine["total"] if mine else 0)
                        continue
                    # A series absent on one side is zero in each of the range's buckets.
                    e_points = (
                        {s: v for s, v, _ in exp["points"]} if exp else dict.fromkeys(grid, 0)
                    )
                    g_points = (
                        {s: p["value"] for s, p in mine["points"].items()}
                        if mine
                        else dict.fromkeys(grid, 0)
                    )
                    for s in sorted(set(e_points) | set(g_points)):
                        where = f"{tag} {name} {show(s)}"
                        out.add(where, e_points.get(s, MISSING), g_points.get(s, MISSING))
        return out

    return run


def trend_buckets(*variants: Variant, flags: bool = False) -> CheckFn:
    """Every bucket present with the zone's offset at its start (or its partial flag)."""

    def run(ctx: Ctx, case: Case) -> Outcome:
        out = Outcome()
        for variant in variants:
            for label, _, _, answer in _trend_runs(ctx, case, variant):
                r = answer.range
                exp = [
                    (s, ref.partial(s, e, r))
                    for s, e in ref.periods(r, variant.interval, case.zone)
                ]
                series = (answer.body or {}).get("series") or [{"points": []}]
                got = {instant(p["t"]): p for p in series[0]["points"]}
                for s, part in exp:
                    where = f"{label} {variant.interval} {show(s)}"
                    p = got.get(s)
                    if flags:
                        out.add(where, part, p.get("partial", MISSING) if p else MISSING)
                    else:
                        offset = s.astimezone(case.zone).utcoffset()
                        out.add(where, offset, instant(p["t"]).utcoffset() if p else MISSING)
                for s in set(got) - {s for s, _ in exp}:
                    out.add(f"{label} {variant.interval} {show(s)}", MISSING, "an extra bucket")
        return out

    return run


DAILY, USERS = Variant(), Variant(measure="users")
HOURLY = Variant(interval="hour", spans=("7d", "dst"))
WEEKLY, MONTHLY = Variant(interval="week"), Variant(interval="month")
FEATURES = Variant(events=("feature_used",), breakdown="feature", limit=5)
FEATURE_USERS = Variant(measure="users", events=("feature_used",), breakdown="feature", limit=5)

register("trends.count", trend_values(DAILY))
register("trends.users", trend_values(USERS))
register("trends.hour", trend_values(HOURLY))
register("trends.week", trend_values(WEEKLY))
register("trends.month", trend_values(MONTHLY))
register("trends.totals", trend_values(DAILY, USERS, totals=True))
register("trends.breakdown", trend_values(FEATURES))
register("trends.breakdown_users", trend_values(FEATURE_USERS))
register("trends.breakdown_totals", trend_values(FEATURES, FEATURE_USERS, totals=True))
register("trends.bucket_offsets", trend_buckets(DAILY, HOURLY, WEEKLY, MONTHLY))
register("trends.partial", trend_buckets(DAILY, HOURLY, WEEKLY, MONTHLY, flags=True))


def interesting_people(w: ref.World, n: int) -> list[str]:
    """n people: those whose identity is awkward first (user ids merged into them, test
    events, anonymous history, anonymous people, never active), then a spread of the rest."""
    everyone = sorted(w.by_person)
    merged = sorted({w.resolve(u) for u in w.merges if u in w.user_ids})
    tested = sorted({w.person[e.seq] for e in w.events if e.is_test})
    linked = [p for p in everyone if w.anonymous_ids.get(p) and not w.anonymous(p)]
    anonymous = [p for p in everyone if w.anonymous(p)]
    idle = [p for p in everyone if not any(ref.active(e) for e in w.by_person[p])]
    awkward = merged + tested + linked[: n // 4] + anonymous[:4] + idle
    return list(dict.fromkeys(awkward + everyone[:: max(1, len(everyone) // n)]))[:n]


def interesting_accounts(w: ref.World, n: int) -> list[str]:
    """Accounts with a sign-in sent each way the account can ride, then the rest."""
    shapes: dict[str, str] = {}
    for e in w.events:
        if e.group_id and e.name == "signed_in":
            for how in sorted(e.shape) or ["?"]:
                shapes.setdefault(f"{e.wire} {how}", e.group_id)
    return list(dict.fromkeys([*shapes.values(), *sorted(w.by_group)]))[:n]


def _filtered(kind: str) -> CheckFn:
    def run(ctx: Ctx, case: Case) -> Outcome:
        w = ctx.world(case)
        if kind == "user_id":
            variants = [
                Variant(user_id=p, spans=("default", "month")) for p in interesting_people(w, 4)
            ]
        else:
            variants = [
                Variant(group_id=g, spans=("default", "month")) for g in interesting_accounts(w, 4)
            ]
        return trend_values(*variants)(ctx, case)

    return run


register("trends.user_filter", _filtered("user_id"))
register("trends.group_filter", _filtered("group_id"))


def _top_events(ctx: Ctx, case: Case) -> Outcome:
    out = Outcome()
    for where in spans(case):
        answer = ctx.get("/api/analytics/top-events", case, where, limit=1000)
        expected = ref.top_events(ctx.world(case), answer.range)
        got = {
            e["event_name"]: (e["count"], e["users"]) for e in (answer.body or {}).get("events", [])
        }
        compare_maps(out, where.label, expected, got)
    return out


register("top_events", _top_events, PLAIN)


# -- active users and accounts -----------------------------------------------------------------


def _active(of: str, field_name: str, event: str | None = None) -> CheckFn:
    def run(ctx: Ctx, case: Case) -> Outcome:
        out = Outcome()
        for where in spans(case):
            answer = ctx.get("/api/analytics/active", case, where, of=of, event=event)
            expected = ref.active_counts(ctx.world(case), answer.range, case.zone, of, event)
            got = {
                dt.date.fromisoformat(p["date"]): p for p in (answer.body or {}).get("points", [])
            }
            for day in sorted(set(expected) | set(got)):
                exp = expected[day][field_name] if day in expected else MISSING
                out.add(
                    f"{where.label} {day}",
                    exp,
                    got[day].get(field_name, MISSING) if day in got else MISSING,
                )
        return out

    return run


for _of in ("users", "accounts"):
    for _field in ("dau", "wau", "mau", "stickiness", "partial"):
        register(f"active.{_of}.{_field}", _active(_of, _field))
register("active.users.signed_in", _active("users", "dau", "signed_in"))


# -- accounts -----------------------------------------------------------------------------------

ACCOUNT_FIELDS = (
    "name", "users", "active_users_7d", "active_users_30d", "sign_ins", "events", "last_seen",
    "health",
)  # fmt: skip
ZONED_ACCOUNT_FIELDS = ("active_users_7d", "active_users_30d", "health", "health_reason")


def _accounts_list(ctx: Ctx, case: Case, where: Span) -> tuple[dict[str, Any], dict[str, Any]]:
    answer = ctx.get("/api/accounts", case, where, all_time=True, limit=10000)
    expected = ref.accounts(ctx.world(case), answer.range, case.zone)
    got = {a["group_id"]: a for a in (answer.body or {}).get("accounts", [])}
    return expected, got


def _accounts_field(name: str) -> CheckFn:
    def run(ctx: Ctx, case: Case) -> Outcome:
        out = Outcome()
        for where in spans(case):
            expected, got = _accounts_list(ctx, case, where)
            for g in sorted(set(expected) & set(got)):
                got_value = got[g].get(name, MISSING)
                if name == "health_reason":  # its words are free; it must be there
                    out.add(
                        f"{where.label} {g}",
                        "a reason",
                        got_value,
                        ok=isinstance(got_value, str) and bool(got_value),
                    )
                else:
                    out.add(f"{where.label} {g}", expected[g][name], got_value)
        return out

    return run


def _accounts_listed(ctx: Ctx, case: Case) -> Outcome:
    out = Outcome()
    for where in spans(case):
        expected, got = _accounts_list(ctx, case, where)
        for g in sorted(set(expected) | set(got)):
            out.add(f"{where.label} {g}", g in expected, g in got)
    return out


def _accounts_search(ctx: Ctx, case: Case) -> Outcome:
    out = Outcome()
    rows = ref.accounts(ctx.world(case), _accounts_list_range(ctx, case), case.zone)
    named = {g: {"name": row["name"]} for g, row in rows.items()}
    for g in interesting_accounts(ctx.world(case), 12):
        row = named.get(g, {"name": None})
        if not row["name"]:
            continue
        answer = ctx.get(
            "/api/accounts", case, Span("default"), all_time=True, limit=10000, q=row["name"]
        )
        got = {a["group_id"] for a in (answer.body or {}).get("accounts", [])}
        out.add(f"q={row['name']!r}", sorted(ref.search(named, row["name"])), sorted(got))
    return out


def _accounts_list_range(ctx: Ctx, case: Case) -> ref.Range:
    return ctx.get("/api/accounts", case, Span("default"), all_time=True, limit=10000).range


register("accounts.listed", _accounts_listed, PLAIN)
for _field in (*ACCOUNT_FIELDS, "health_reason"):
    register(
        f"accounts.{_field}",
        _accounts_field(_field),
        ZONED if _field in ZONED_ACCOUNT_FIELDS else PLAIN,
    )
register("accounts.search", _accounts_search, ONCE)


def _account_pages(
    ctx: Ctx, case: Case
) -> Iterable[tuple[str, str, dict[str, Any] | None, Answer]]:
    """(range, group id, expected, answer): every account in UTC's default range, and three
    awkward ones in a week, the DST change and the other cases (a page costs a few queries)."""
    w = ctx.world(case)
    for where in spans(case):
        if where.label not in ("default", "week", "dst"):
            continue
        everyone = case.label == "utc" and where.label == "default"
        ids = sorted(w.by_group) if everyone else interesting_accounts(w, 3)
        for g in ids:
            answer = ctx.get(f"/api/accounts/{g}", case, where, all_time=True)
            expected = ref.account(w, answer.range, case.zone, g)
            if expected is not None or answer.status == 200:
                yield where.label, g, expected, answer


def _account_check(part: str, name: str = "") -> CheckFn:
    def run(ctx: Ctx, case: Case) -> Outcome:
        out = Outcome()
        for label, g, expected, answer in _account_pages(ctx, case):
            where = f"{label} {g}"
            if expected is None or answer.status != 200:
                out.add(where, "found" if expected else "not found", answer.status)
                continue
            body = answer.body
            if part == "row":
                for f in ACCOUNT_FIELDS:
                    out.add(f"{where} {f}", expected["account"][f], body["account"].get(f, MISSING))
            elif part == "traits":
                out.add(where, expected["traits"], body["account"].get("traits", MISSING))
            elif part == "users":
                out.add(
                    where, sorted(expected["users"]), sorted(u["user_id"] for u in body["users"])
                )
            elif part == "user":
                got = {u["user_id"]: u for u in body["users"]}
                for pid in sorted(set(expected["users"]) & set(got)):
                    out.add(
                        f"{where} {pid}", expected["users"][pid][name], got[pid].get(name, MISSING)
                    )
            else:
                days = {
                    dt.date.fromisoformat(d["date"]): d
                    for d in body.get("activity", [])
                    if d.get("events")
                }
                for day in sorted(set(expected["activity"]) | set(days)):
                    exp = expected["activity"].get(day)
                    out.add(
                        f"{where} {day}",
                        (exp["events"], exp["active_users"]) if exp else MISSING,
                        (days[day]["events"], days[day]["active_users"])
                        if day in days
                        else MISSING,
                    )
        return out

    return run


register("account.row", _account_check("row"))
register("account.traits", _account_check("traits"), PLAIN)
register("account.users", _account_check("users"), PLAIN)
for _field in ("name", "email", "events", "sign_ins", "last_seen"):
    register(f"account.users.{_field}", _account_check("user", _field), PLAIN)
register("account.activity", _account_check("activity"))


# -- people -------------------------------------------------------------------------------------

USER_FIELDS = ("email", "name", "events", "sign_ins", "first_seen", "last_seen", "anonymous")


def _users_list(ctx: Ctx, case: Case, where: Span) -> tuple[dict[str, Any], dict[str, Any]]:
    answer = ctx.get("/api/users", case, where, all_time=True, limit=1000)
    expected = ref.users(ctx.world(case), answer.range)
    return expected, {u["user_id"]: u for u in (answer.body or {}).get("users", [])}


def _users_field(name: str) -> CheckFn:
    def run(ctx: Ctx, case: Case) -> Outcome:
        out = Outcome()
        for where in spans(case):
            expected, got = _users_list(ctx, case, where)
            for pid in sorted(set(expected) & set(got)):
                out.add(f"{where.label} {pid}", expected[pid][name], got[pid].get(name, MISSING))
        return out

    return run


def _users_listed(ctx: Ctx, case: Case) -> Outcome:
    out = Outcome()
    for where in spans(case):
        expected, got = _users_list(ctx, case, where)
        for pid in sorted(set(expected) | set(got)):
            out.add(f"{where.label} {pid}", pid in expected, pid in got)
    return out


def _users_search(ctx: Ctx, case: Case) -> Outcome:
    out = Outcome()
    everyone, _ = _users_list(ctx, case, Span("default"))
    people = interesting_people(ctx.world(case), 40)
    needles = [everyone[p]["email"] for p in people if p in everyone and everyone[p]["email"]][:30]
    needles += [everyone[p]["name"] for p in people if p in everyone and everyone[p]["name"]][:10]
    for q in needles:
        answer = ctx.get("/api/users", case, Span("default"), all_time=True, limit=1000, q=q)
        got = sorted(u["user_id"] for u in (answer.body or {}).get("users", []))
        out.add(f"q={q!r}", sorted(ref.search(everyone, q)), got)
    return out


register("users.listed", _users_listed, PLAIN)
for _field in USER_FIELDS:
    register(f"users.{_field}", _users_field(_field), PLAIN)
register("users.search", _users_search, ONCE)

PAGE_FIELDS = (
    "traits", "first_seen", "last_seen", "sign_in_count", "event_counts", "anonymous_ids",
    "merged_ids", "groups", "anonymous",
)  # fmt: skip


def _people_for(ctx: Ctx, case: Case, where: Span) -> list[str]:
    """100 people in UTC's default range, 25 in the others (a page costs a few queries; the
    users list checks everyone)."""
    w = ctx.world(case)
    return interesting_people(w, 100 if case.label == "utc" and where.label == "default" else 25)


def _user_page(name: str) -> CheckFn:
    def run(ctx: Ctx, case: Case) -> Outcome:
        out = Outcome()
        for where in (span(case, "default"), span(case, "week")):
            for pid in _people_for(ctx, case, where):
                answer = ctx.get(f"/api/users/{pid}", case, where, all_time=True)
                expected = ref.user(ctx.world(case), answer.range, pid)
                tag = f"{where.label} {pid}"
                if name == "found":
                    out.add(tag, 200 if expected else 404, answer.status)
                elif expected is not None and answer.status == 200:
                    got = answer.body.get(name, MISSING)
                    if name in ("anonymous_ids", "merged_ids", "groups") and isinstance(got, list):
                        got = sorted(got)
                    out.add(tag, expected[name], got)
        return out

    return run


register("user.found", _user_page("found"), PLAIN)
for _field in PAGE_FIELDS:
    register(f"user.{_field}", _user_page(_field), PLAIN)


def _timeline(ctx: Ctx, case: Case) -> Outcome:
    out = Outcome()
    for where in (span(case, "default"), span(case, "7d")):
        for pid in _people_for(ctx, case, where):
            got: Counter[tuple[dt.datetime, str]] = Counter()
            cursor: str | None = None
            while True:
                answer = ctx.get(
                    f"/api/users/{pid}/events",
                    case,
                    where,
                    all_time=True,
                    limit=1000,
                    cursor=cursor,
                )
                for e in (answer.body or {}).get("events", []):
                    if e["type"] not in ("identify", "group", "alias"):
                        got[(instant(e["timestamp"]), e["event_name"])] += 1
                cursor = (answer.body or {}).get("next_cursor")
                if not cursor:
                    break
            expected = Counter(ref.timeline(ctx.world(case), answer.range, pid))
            missing, extra = expected - got, got - expected
            out.add(
                f"{where.label} {pid}",
                f"{sum(expected.values())} events",
                f"{sum(got.values())} events, missing {_few(missing)}, extra {_few(extra)}",
                ok=not missing and not extra,
            )
    return out


def _few(items: Counter[tuple[dt.datetime, str]]) -> str:
    shown = [f"{show(t)} {n}" for t, n in sorted(items)[:3]]
    return "[" + ", ".join(shown) + (", …" if len(items) > 3 else "") + "]"


register("timeline.events", _timeline, PLAIN)


# -- retention and funnels ---------------------------------------------------------------------

LENGTHS = {"day": 60, "week": 12, "month": 3}


def _retention(unit: str, part: str = "returned") -> CheckFn:
    def run(ctx: Ctx, case: Case) -> Outcome:
        out = Outcome()
        for where in spans(case):
            params: dict[str, Any] = {
                "start_event": "signed_up",
                "return_event": "signed_in",
                "period": unit,
                "periods": LENGTHS[unit],
            }
            answer = ctx.get("/api/analytics/retention", case, where, **params)
            expected = ref.retention(
                ctx.world(case),
                answer.range,
                case.zone,
                "signed_up",
                "signed_in",
                unit,
                LENGTHS[unit],
            )
            got = {instant(c["start"]): c for c in (answer.body or {}).get("cohorts", [])}
            for s in sorted(set(expected) | set(got)):
                exp = expected[s][part] if s in expected else MISSING
                out.add(
                    f"{where.label} cohort {show(s)}",
                    exp,
                    got[s].get(part, MISSING) if s in got else MISSING,
                )
        return out

    return run


for _unit in LENGTHS:
    register(f"retention.{_unit}", _retention(_unit))
register("retention.partial", _retention("week", "partial"))
register("retention.partial_day", _retention("day", "partial"))

FUNNELS = {
    "users": (("signed_up", "signed_in", "feature_used"), (24, 168)),
    "accounts": (("account_created", "invite_sent", "feature_used"), (336,)),
}


def _funnel(by: str) -> CheckFn:
    steps, windows = FUNNELS[by]

    def run(ctx: Ctx, case: Case) -> Outcome:
        out = Outcome()
        for where in spans(case)[:4]:  # the DST range is too short for a funnel
            for hours in windows:
                answer = ctx.get(
                    "/api/analytics/funnel",
                    case,
                    where,
                    steps=",".join(steps),
                    window_hours=hours,
                    by=by,
                )
                expected = ref.funnel(ctx.world(case), answer.range, steps, hours, by)
                got = [s["count"] for s in (answer.body or {}).get("steps", [])]
                out.add(f"{where.label} window {hours}h", expected, got)
        return out

    return run


register("funnel.users", _funnel("users"), PLAIN)
register("funnel.accounts", _funnel("accounts"), PLAIN)


def _timezone(ctx: Ctx, case: Case) -> Outcome:
    """Every answer says which zone it used."""
    out = Outcome()
    w, default = ctx.world(case), Span("default")
    person, group = interesting_people(w, 1)[0], sorted(w.by_group)[0]
    answers = {
        "trends": ctx.get(TRENDS, case, default, **DAILY.params()),
        "top-events": ctx.get("/api/analytics/top-events", case, default, limit=1000),
        "active": ctx.get("/api/analytics/active", case, default, of="users", event=None),
        "retention": ctx.get(
            "/api/analytics/retention", case, default, period="week", periods=12,
            start_event="signed_up", return_event="signed_in",
        ),
        "accounts": ctx.get("/api/accounts", case, default, all_time=True, limit=10000),
        "account": ctx.get(f"/api/accounts/{group}", case, default, all_time=True),
        "users": ctx.get("/api/users", case, default, all_time=True, limit=1000),
        "user": ctx.get(f"/api/users/{person}", case, default, all_time=True),
    }  # fmt: skip
    for name, answer in answers.items():
        out.add(name, case.zone_name, (answer.body or {}).get("timezone", MISSING))
    return out


register("answers.timezone", _timezone)


# -- the dashboard's API: lists in every order, page by page; the people behind a number ------

USER_SORTS = {
    "last_seen": ("last_seen", "desc"),
    "first_seen": ("first_seen", "desc"),
    "events": ("events", "desc"),
    "sign_ins": ("sign_ins", "desc"),
    "name": ("name", "asc"),
    "email": ("email", "asc"),
    "user_id": (None, "asc"),
}
ACCOUNT_SORTS = {
    "name": ("name", "asc"),
    "users": ("users", "desc"),
    "active_users_7d": ("active_users_7d", "desc"),
    "active_users_30d": ("active_users_30d", "desc"),
    "sign_ins": ("sign_ins", "desc"),
    "events": ("events", "desc"),
    "last_seen": ("last_seen", "desc"),
    "health": ("health", "asc"),
}
PAGE = 100


def _pages(
    ctx: Ctx, path: str, case: Case, where: Span, rows: str, key: str, **params: Any
) -> tuple[list[str], set[Any], Answer]:
    """Every row of a list, a page of PAGE at a time: the ids in order, every `total` the
    pages said, and the first page's answer."""
    ids: list[str] = []
    totals: set[Any] = set()
    first: Answer | None = None
    offset = 0
    while True:
        answer = ctx.get(path, case, where, all_time=True, limit=PAGE, offset=offset, **params)
        first = first or answer
        body = answer.body if answer.status == 200 and isinstance(answer.body, dict) else {}
        found = [row[key] for row in body.get(rows, [])]
        ids.extend(found)
        totals.add(body.get("total", MISSING))
        offset += PAGE
        if not found or offset >= (body.get("total") or 0) or offset > 20 * PAGE:
            return ids, totals, first


def _same_order(out: Outcome, tag: str, expected: list[str], got: list[str]) -> None:
    """Two orders, compared as a whole; a difference shows where it begins."""
    at = next((i for i, (a, b) in enumerate(zip(expected, got)) if a != b), None)
    if at is None and len(expected) == len(got):
        out.add(tag, len(expected), len(got))
        return
    at = min(len(expected), len(got)) if at is None else at
    out.add(f"{tag} from #{at}", expected[at : at + 3], got[at : at + 3], ok=False)


def _text_only(rows: dict[str, dict[str, Any]], column: str) -> dict[str, dict[str, Any]]:
    """Rows whose `column` is kept only when it is a string (what a list sorts by)."""
    return {
        k: {**v, column: v[column] if isinstance(v[column], str) else None} for k, v in rows.items()
    }


def _users_order(ctx: Ctx, case: Case) -> Outcome:
    """Every order of the users list, both directions: the whole list, page by page (the
    sort's own direction) or at once (the other), equals the reference's order."""
    out = Outcome()
    for where in (Span("default"), span(case, "week")):
        for sort, (column, own) in USER_SORTS.items():
            for order in ("asc", "desc"):
                tag = f"{where.label} sort={sort} order={order}"
                if order == own:
                    ids, totals, answer = _pages(
                        ctx, "/api/users", case, where, "users", "user_id", sort=sort, order=order
                    )
                else:
                    answer = ctx.get(
                        "/api/users", case, where, all_time=True, limit=1000, sort=sort, order=order
                    )
                    body = answer.body or {}
                    ids = [u["user_id"] for u in body.get("users", [])]
                    totals = {body.get("total", MISSING)}
                rows = ref.users(ctx.world(case), answer.range)
                if column in ("name", "email"):
                    rows = _text_only(rows, column)
                out.add(f"{tag} total", {len(rows)}, totals)
                _same_order(out, f"{tag} order", ref.ordered(rows, column, order == "desc"), ids)
    return out


def _accounts_order(ctx: Ctx, case: Case) -> Outcome:
    """Every order of the accounts list, page by page; each tier alone; the tier counts."""
    out = Outcome()
    for where in (Span("default"), span(case, "month")):
        expected = ref.tier_rank(ref.accounts(ctx.world(case), _range(ctx, case, where), case.zone))
        for sort, (column, own) in ACCOUNT_SORTS.items():
            for order in ("asc", "desc"):
                page = {"sort": sort, "order": order}
                ids, totals, answer = _pages(
                    ctx, "/api/accounts", case, where, "accounts", "group_id", **page
                )
                rows = ref.tier_rank(ref.accounts(ctx.world(case), answer.range, case.zone))
                tag = f"{where.label} sort={sort} order={order}"
                out.add(f"{tag} total", {len(rows)}, totals)
                _same_order(out, f"{tag} order", ref.ordered(rows, column, order == "desc"), ids)
        answer = ctx.get("/api/accounts", case, where, all_time=True, limit=10000)
        tiers = {
            t: sum(1 for r in expected.values() if ref.TIERS[r["health"]] == t) for t in ref.TIERS
        }
        out.add(f"{where.label} counts", tiers, (answer.body or {}).get("counts", MISSING))
        for tier in ref.TIERS:
            got = ctx.get("/api/accounts", case, where, all_time=True, limit=10000, health=tier)
            want = sorted(g for g, r in expected.items() if ref.TIERS[r["health"]] == tier)
            body = got.body or {}
            found = sorted(a["group_id"] for a in body.get("accounts", []))
            out.add(f"{where.label} health={tier}", (want, len(want)), (found, body.get("total")))
    return out


def _range(ctx: Ctx, case: Case, where: Span) -> ref.Range:
    return ctx.get("/api/accounts", case, where, all_time=True, limit=10000).range


register("users.order", _users_order, PLAIN)
register("accounts.order", _accounts_order)


def _ids(answer: Answer, rows: str = "users", key: str = "user_id") -> tuple[list[str], Any]:
    """The ids of a one-page drill-down answer, sorted, and its total."""
    body = answer.body if answer.status == 200 and isinstance(answer.body, dict) else {}
    return sorted(r[key] for r in body.get(rows, [])), body.get("total", MISSING)


def _people(expected: Iterable[str]) -> tuple[list[str], int]:
    found = sorted(expected)
    return found, len(found)


# Trends points to drill into: (label, trends variant, /api/users filters, reference filters).
POINTS = (
    ("signed_in", Variant(measure="users", events=("signed_in",)), {"event": "signed_in"},
     {"events": ("signed_in",)}),
    ("feature_used", Variant(measure="users", events=("feature_used",)), {"event": "feature_used"},
     {"events": ("feature_used",)}),
)  # fmt: skip


def _trend_people(ctx: Ctx, case: Case) -> Outcome:
    """The people behind each day's point of a users trend (and a breakdown value's): the
    users list filtered by the point's event, value and bucket holds exactly them, as many as
    the point counts."""
    out = Outcome()
    w = ctx.world(case)
    for where in (span(case, "7d"), span(case, "dst")):
        for label, variant, params, filters in POINTS:
            answer = ctx.get(TRENDS, case, where, **variant.params())
            r = answer.range
            points = _series(answer).get(label, {}).get("points", {})
            for start, end in ref.periods(r, "day", case.zone):
                bucket = ref.Range(max(start, r.start), min(end, r.end), r.now)
                got = _ids(ctx.get("/api/users", case, _span(bucket), limit=1000, **params))
                expected = _people(ref.did(w, bucket, **filters))
                tag = f"{where.label} {label} {show(start)}"
                out.add(tag, expected, got)
                point = points.get(start, {}).get("value", MISSING)
                out.add(f"{tag} = the point", expected[1], point)
        # A breakdown value's point: feature_used where feature is the top value.
        value = "reports"
        params = {"event": "feature_used", "where": f"feature:eq:{value}"}
        got = _ids(ctx.get("/api/users", case, where, limit=1000, **params))
        r = ctx.get("/api/users", case, where, limit=1000, **params).range
        expected = _people(ref.did(w, r, ("feature_used",), None, (("feature", value),)))
        out.add(f"{where.label} feature={value}", expected, got)
    # An account's people (a trends chart filtered by account, or the account's page).
    for g in interesting_accounts(w, 4):
        answer = ctx.get("/api/users", case, Span("default"), True, limit=1000, group_id=g)
        out.add(f"group {g}", _people(ref.did(w, answer.range, (), g)), _ids(answer))
        params = {"event": "signed_in", "group_id": g}
        answer = ctx.get("/api/users", case, Span("default"), True, limit=1000, **params)
        out.add(
            f"group {g} signed_in",
            _people(ref.did(w, answer.range, ("signed_in",), g)),
            _ids(answer),
        )
    return out


def _span(r: ref.Range) -> Span:
    return Span(f"{show(r.start)}..{show(r.end)}", r.start, r.end)


register("people.trends", _trend_people)


def _retention_people(ctx: Ctx, case: Case) -> Outcome:
    """Each cell of a weekly and a daily retention table: its people, as many as the cell."""
    out = Outcome()
    w = ctx.world(case)
    for unit, periods, labels in (("week", 12, ("default", "month")), ("day", 60, ("7d",))):
        params = {"start_event": "signed_up", "return_event": "signed_in", "period": unit,
                  "periods": periods}  # fmt: skip
        for where in spans(case):
            if where.label not in labels:
                continue
            answer = ctx.get("/api/analytics/retention", case, where, **params)
            for cohort in (answer.body or {}).get("cohorts", []):
                start = instant(cohort["start"])
                for k in range(min(len(cohort["returned"]), 4)):
                    got = ctx.get("/api/analytics/retention/people", case, where, limit=1000,
                                  cohort=cohort["start"], k=k, **params)  # fmt: skip
                    cell = ref.retention_people(
                        w, got.range, case.zone, "signed_up", "signed_in", unit, start, k
                    )
                    expected = _people(cell)
                    tag = f"{where.label} {unit} {show(start)} k={k}"
                    out.add(tag, expected, _ids(got))
                    out.add(f"{tag} = the cell", expected[1], cohort["returned"][k])
    return out


register("people.retention", _retention_people)


def _funnel_people(ctx: Ctx, case: Case) -> Outcome:
    """Who reached each step of a funnel and who dropped off after it, by users and by
    accounts, each as many as the step counts."""
    out = Outcome()
    w = ctx.world(case)
    for by, (steps, windows) in FUNNELS.items():
        hours = windows[-1]
        for where in spans(case)[:4:3]:  # the default and the month
            base = {"steps": ",".join(steps), "window_hours": hours, "by": by}
            report = ctx.get("/api/analytics/funnel", case, where, **base)
            counts = [s["count"] for s in (report.body or {}).get("steps", [])]
            for step in range(1, len(steps) + 1):
                for outcome in ("reached", "dropped") if step < len(steps) else ("reached",):
                    got = ctx.get("/api/analytics/funnel/people", case, where, limit=1000,
                                  step=step, outcome=outcome, **base)  # fmt: skip
                    path = ref.funnel_paths(w, got.range, steps, hours, by)
                    there = {s for s, p in path.reached.items() if len(p) >= step}
                    if outcome == "dropped":
                        there -= {s for s, p in path.reached.items() if len(p) > step}
                    rows, key = (
                        ("accounts", "group_id") if by == "accounts" else ("users", "user_id")
                    )
                    tag = f"{where.label} by={by} step={step} {outcome}"
                    out.add(tag, _people(there), _ids(got, rows, key))
                    if outcome == "reached" and step <= len(counts):
                        out.add(f"{tag} = the step", len(there), counts[step - 1])
    return out


register("people.funnel", _funnel_people, PLAIN)

# Breakdowns: a property with a few values ('' where absent), and one with a value per person
# (its tail becomes `other`).
BREAKDOWNS = (("signed_in", "feature_used"), ("method", "email"))


def _funnel_times(ctx: Ctx, case: Case) -> Outcome:
    """Each step's median seconds from the step before, with and without a breakdown; each
    series' counts; and a series' people."""
    out = Outcome()
    w = ctx.world(case)
    steps, props = BREAKDOWNS
    for where in spans(case)[:4:3]:
        for by, (names, windows) in FUNNELS.items():
            for hours in windows:
                params = {"steps": ",".join(names), "window_hours": hours, "by": by}
                answer = ctx.get("/api/analytics/funnel", case, where, **params)
                path = ref.funnel_paths(w, answer.range, names, hours, by)
                expected = ref.funnel_steps(path, len(names), set(path.reached))
                got = [
                    {"count": s["count"], "median_seconds": s.get("median_seconds", MISSING)}
                    for s in (answer.body or {}).get("steps", [])
                ]
                out.add(f"{where.label} by={by} {hours}h", expected, got)
        for prop in props:
            params = {"steps": ",".join(steps), "window_hours": 24, "breakdown": prop}
            answer = ctx.get("/api/analytics/funnel", case, where, **params)
            path = ref.funnel_paths(w, answer.range, steps, 24, "users", prop)
            series = ref.funnel_series(path)
            expected_series = {v: ref.funnel_steps(path, len(steps), s) for v, s in series.items()}
            got_series = {
                s["value"]: [
                    {"count": x["count"], "median_seconds": x.get("median_seconds")}
                    for x in s["steps"]
                ]
                for s in (answer.body or {}).get("series", [])
            }
            compare_maps(out, f"{where.label} breakdown={prop}", expected_series, got_series)
            ranked = [s["value"] for s in (answer.body or {}).get("series", [])]
            out.add(f"{where.label} breakdown={prop} order", list(series), ranked)
            for value in list(series)[:3]:
                if value == "other":
                    continue
                got = ctx.get("/api/analytics/funnel/people", case, where, limit=1000, step=2,
                              value=value, **params)  # fmt: skip
                there = {s for s in series[value] if len(path.reached[s]) >= 2}
                out.add(f"{where.label} {prop}={value!r} step 2", _people(there), _ids(got))
    return out


register("funnel.times_and_breakdown", _funnel_times, PLAIN)


def _lifecycle(of: str, unit: str, event: str | None = None) -> CheckFn:
    labels = {"day": ("7d", "dst", "week"), "week": ("default", "week", "month"),
              "month": ("default", "month")}[unit]  # fmt: skip

    def run(ctx: Ctx, case: Case) -> Outcome:
        out = Outcome()
        w = ctx.world(case)
        for where in spans(case):
            if where.label not in labels:
                continue
            params = {"of": of, "period": unit, "event": event}
            answer = ctx.get("/api/analytics/lifecycle", case, where, **params)
            expected = ref.lifecycle(w, answer.range, case.zone, unit, of, event)
            got = {instant(p["start"]): p for p in (answer.body or {}).get("periods", [])}
            for start in sorted(set(expected) | set(got)):
                exp, mine = expected.get(start), got.get(start)
                for status in ("new", "returning", "resurrecting", "dormant", "partial"):
                    out.add(
                        f"{where.label} {show(start)} {status}",
                        exp[status] if exp else MISSING,
                        mine.get(status, MISSING) if mine else MISSING,
                    )
            # The people behind the numbers of the range's last two periods.
            for start in sorted(expected)[-2:]:
                for status, people in expected[start]["people"].items():
                    got_people = ctx.get("/api/analytics/lifecycle/people", case, where,
                                         limit=1000, start=start.astimezone(case.zone).isoformat(),
                                         status=status, **params)  # fmt: skip
                    rows, key = (
                        ("accounts", "group_id") if of == "accounts" else ("users", "user_id")
                    )
                    out.add(f"{where.label} {show(start)} {status} people", _people(people),
                            _ids(got_people, rows, key))  # fmt: skip
        return out

    return run


for _of in ("users", "accounts"):
    for _unit in ("day", "week", "month"):
        register(f"lifecycle.{_of}.{_unit}", _lifecycle(_of, _unit))
register("lifecycle.users.signed_in", _lifecycle("users", "week", "signed_in"))


def _schema(ctx: Ctx, case: Case) -> Outcome:
    """Every event of the range, its count, its properties' counts, types and top values."""
    out = Outcome()
    for where in spans(case)[:4]:
        answer = ctx.get("/api/schema", case, where)
        expected = ref.schema(ctx.world(case), answer.range)
        events = (answer.body or {}).get("events", [])
        order = sorted(expected, key=lambda n: (-expected[n]["count"], n))
        out.add(f"{where.label} events", order, [e["event_name"] for e in events])
        for e in events:
            exp = expected.get(e["event_name"])
            if exp is None:
                continue
            out.add(f"{where.label} {e['event_name']} count", exp["count"], e["count"])
            props = {p["name"]: p for p in e["properties"]}
            want = {
                k: (v["count"], v["types"], v["top_values"]) for k, v in exp["properties"].items()
            }
            have = {
                k: (p["count"], p["types"], [(t["value"], t["count"]) for t in p["top_values"]])
                for k, p in props.items()
            }
            compare_maps(out, f"{where.label} {e['event_name']}", want, have)
    return out


register("schema", _schema, PLAIN)
