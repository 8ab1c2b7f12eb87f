"""The query benchmark: each analytics endpoint through the API beside its SQL on the store.

A generated data set (bench/generate.py) is first read in-process: each report function of
tracklog.analytics runs against the DuckDB store wrapped in a recorder, which times every
SQL statement the report sends (the "direct" time: the same SQL, the same parameters, on
the same store, with no HTTP, auth or JSON). Then `tracklog serve` opens the same file and
the same reports are timed through HTTP with a read key. Both answers are compared, so the
two columns are known to be the same query. Medians of a few runs after one warm-up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec

from bench import generate
from bench.procs import MemoryWatch, memory_kb
from tests.support import ServerProcess
from tracklog import admin
from tracklog.analytics import active, funnels, people, retention, trends
from tracklog.analytics.scope import Scope
from tracklog.store.duckdb import DuckDBStore

OVERVIEW_LIMIT_S = 1.0
API_OVERHEAD_LIMIT = 0.25
ACCOUNT = "acct-0042"
USER = "user-000123"


class RecordingStore:
    """A store that times every `query` it passes on (the reports' only way to the data)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.dialect = store.dialect
        self.events_table = store.events_table
        self.placeholder = store.placeholder
        self.sql_seconds = 0.0
        self.statements: list[str] = []

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run and time one statement."""
        started = time.perf_counter()
        rows: list[tuple[Any, ...]] = self._store.query(sql, params)
        self.sql_seconds += time.perf_counter() - started
        self.statements.append(sql)
        return rows


Report = Callable[[Any, Scope], Any]


@dataclass(frozen=True)
class Case:
    """One endpoint call and the report function it runs."""

    name: str
    path: str
    params: dict[str, Any]
    report: Report | None  # None: API only (the read path has no report function)
    overview: bool = False
    compare: tuple[str, ...] = field(default=())  # keys of the answer to compare (all: ())


HEALTH = people.Health()
CASES = [
    Case(
        "trends_day",
        "/api/analytics/trends",
        {"interval": "day"},
        lambda s, sc: trends.trends(s, sc, trends.TrendRequest(interval="day")),
        overview=True,
        compare=("series",),
    ),
    Case(
        "signins_day_users",
        "/api/analytics/trends",
        {"interval": "day", "event": "signed_in", "measure": "users"},
        lambda s, sc: trends.trends(
            s, sc, trends.TrendRequest("day", ["signed_in"], measure="users")
        ),
        overview=True,
        compare=("series",),
    ),
    Case(
        "trends_breakdown",
        "/api/analytics/trends",
        {"interval": "week", "event": "feature_used", "breakdown": "feature"},
        lambda s, sc: trends.trends(
            s, sc, trends.TrendRequest("week", ["feature_used"], breakdown="feature")
        ),
        compare=("series",),
    ),
    Case(
        "dau_wau_mau_users",
        "/api/analytics/active",
        {"of": "users"},
        lambda s, sc: active.active(s, sc, "users"),
        overview=True,
    ),
    Case(
        "dau_wau_mau_accounts",
        "/api/analytics/active",
        {"of": "accounts"},
        lambda s, sc: active.active(s, sc, "accounts"),
        overview=True,
    ),
    Case(
        "top_events",
        "/api/analytics/top-events",
        {"limit": 10},
        lambda s, sc: trends.top_events(s, sc, 10),
        overview=True,
    ),
    Case(
        "accounts_list",
        "/api/accounts",
        {"limit": 100},
        lambda s, sc: people.accounts(s, sc, HEALTH, None, 100),
        overview=True,
    ),
    Case(
        "account_page",
        f"/api/accounts/{ACCOUNT}",
        {},
        lambda s, sc: people.account(s, sc, HEALTH, ACCOUNT),
    ),
    Case("users_list", "/api/users", {"limit": 50}, lambda s, sc: people.users(s, sc, None, 50)),
    Case(
        "users_search",
        "/api/users",
        {"q": "user123", "limit": 50},
        lambda s, sc: people.users(s, sc, "user123", 50),
    ),
    Case(
        "retention_weekly",
        "/api/analytics/retention",
        {"start_event": "signed_up", "return_event": "signed_in", "period": "week", "periods": 4},
        lambda s, sc: retention.retention(s, sc, "signed_up", "signed_in", "week", 4),
    ),
    Case(
        "funnel_3_steps",
        "/api/analytics/funnel",
        {"steps": "signed_up,signed_in,feature_used", "window_hours": 168},
        lambda s, sc: funnels.funnel(
            s, sc, ["signed_up", "signed_in", "feature_used"], 168 * 3600, "users"
        ),
    ),
    Case("user_timeline", f"/api/users/{USER}/events", {"limit": 100}, None),
    Case("events_page", "/api/events", {"limit": 100}, None),
]


def _median(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    result = run()  # warm-up, and the answer to compare
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="milliseconds") + "Z"


def _plain(value: Any) -> Any:
    """A report's answer as the JSON the API would send, decoded again."""
    return msgspec.json.decode(msgspec.json.encode(value))


def direct(path: Path, scope: Scope, repeat: int) -> dict[str, dict[str, Any]]:
    """Each report in-process: its SQL time and its whole time (SQL + Python), medians."""
    store = DuckDBStore(path)
    found: dict[str, dict[str, Any]] = {}
    try:
        for case in CASES:
            if case.report is None:
                continue
            recorder = RecordingStore(store)
            report = case.report
            sql_times: list[float] = []

            def once(
                report: Report = report,
                recorder: RecordingStore = recorder,
                sql_times: list[float] = sql_times,
            ) -> Any:
                recorder.sql_seconds = 0.0
                recorder.statements.clear()
                answer = report(recorder, scope)
                sql_times.append(recorder.sql_seconds)
                return answer

            total, answer = _median(once, repeat)
            found[case.name] = {
                "direct_sql_ms": round(statistics.median(sql_times[1:]) * 1000, 1),
                "in_process_ms": round(total * 1000, 1),
                "statements": len(recorder.statements),
                "answer": _plain(answer),
            }
    finally:
        store.close()
    return found


def through_api(
    server: ServerProcess, key: str, scope: Scope, repeat: int
) -> dict[str, dict[str, Any]]:
    """Each endpoint through HTTP with a read key: median time, status and answer."""
    window = {"from": _iso(scope.start), "to": _iso(scope.end)}
    found: dict[str, dict[str, Any]] = {}
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=120
    ) as client:
        for case in CASES:
            params = {**case.params, **window}
            call = functools.partial(client.get, case.path, params=params)
            seconds, response = _median(call, repeat)
            found[case.name] = {
                "api_ms": round(seconds * 1000, 1),
                "status": response.status_code,
                "answer": response.json(),
            }
    return found


def _same(case: Case, mine: Any, theirs: Any) -> bool:
    if case.compare:
        return all(mine.get(k) == theirs.get(k) for k in case.compare)
    if isinstance(mine, dict) and isinstance(theirs, dict):
        # Health tiers and "last seen" ages move with the clock between the two runs.
        return mine.keys() <= theirs.keys()
    return bool(mine == theirs)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Generate the data set, time every case both ways, measure footprint and memory."""
    events = args.events or (1_000_000 if args.quick else 10_000_000)
    repeat = args.repeat or (3 if args.quick else 5)
    home = Path(tempfile.mkdtemp(prefix="tracklog-bench-queries-"))
    try:
        data = home / "data"
        data.mkdir()
        path = data / "tracklog.duckdb"
        print(f"queries: generating {events:,} events", flush=True)
        made = generate.generate_duckdb(path, events)
        print(f"  {made}", flush=True)
        now = dt.datetime.fromisoformat(made["now"])
        scope = Scope(
            generate.WORKSPACE, now - dt.timedelta(days=30), now + dt.timedelta(seconds=1)
        )
        store = DuckDBStore(path)
        admin.create_workspace(store, generate.WORKSPACE)
        read_key, _ = admin.create_key(store, generate.WORKSPACE, "read", "bench")
        write_key, _ = admin.create_key(store, generate.WORKSPACE, "write", "bench")
        store.close()
        print("queries: in-process (direct SQL)", flush=True)
        inside = direct(path, scope, repeat)
        print("queries: through the API", flush=True)
        server = ServerProcess(data).start(timeout=120)
        try:
            assert server.proc is not None
            pid = server.proc.pid
            memory: dict[str, Any] = {"rss_after_start_mb": _mb(memory_kb(pid).get("VmRSS", 0))}
            with MemoryWatch(pid) as watch:
                outside = through_api(server, read_key, scope, repeat)
            memory["rss_peak_during_queries_mb"] = _mb(watch.peak_rss_kb)
            # The first write builds the Bloom filter of every stored id.
            started = time.perf_counter()
            first = httpx.post(
                server.url + "/api/track",
                headers={"Authorization": f"Bearer {write_key}"},
                json=[{"event_name": "signed_in", "user_id": USER, "message_id": "bench-first"}],
                timeout=300,
            )
            memory["first_write_ms"] = round((time.perf_counter() - started) * 1000, 1)
            memory["first_write_status"] = first.status_code
            after = memory_kb(pid)
            memory["rss_after_first_write_mb"] = _mb(after.get("VmRSS", 0))
            memory["rss_hwm_mb"] = _mb(after.get("VmHWM", 0))
        finally:
            server.stop()
        rows = []
        for case in CASES:
            api = outside[case.name]
            mine = inside.get(case.name)
            row: dict[str, Any] = {
                "case": case.name,
                "path": case.path,
                "overview": case.overview,
                "api_ms": api["api_ms"],
                "status": api["status"],
            }
            if mine:
                sql = mine["direct_sql_ms"]
                row.update(
                    direct_sql_ms=sql,
                    in_process_ms=mine["in_process_ms"],
                    statements=mine["statements"],
                    api_overhead_pct=round(100 * (api["api_ms"] - sql) / sql, 1) if sql else None,
                    same_answer=_same(case, mine["answer"], api["answer"]),
                )
            if case.overview:
                row["overview_within_1s"] = api["api_ms"] <= OVERVIEW_LIMIT_S * 1000
            rows.append(row)
        return {
            "events": events,
            "repeat": repeat,
            "generate": made,
            "footprint": {
                "file_bytes": made["file_bytes"],
                "bytes_per_event": made["bytes_per_event"],
                **memory,
            },
            "cases": rows,
        }
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _mb(kb: int) -> float:
    return round(kb / 1024, 1)
