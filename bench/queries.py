"""The query benchmark: each analytics endpoint through the API beside its SQL on the store.

A generated data set (bench/generate.py) is served by `tracklog serve`, and each endpoint
is timed through HTTP with a read key. Beside it, each report function of
tracklog.analytics runs in-process on a copy of the same file, against the DuckDB store
wrapped in a recorder that times every SQL statement the report sends: the "direct" time
is the same SQL with the same parameters on the same data, without HTTP, auth or JSON.
Both answers are compared, so the two columns are known to be the same query. Runs of the
two sides alternate (the machine may be shared) and each side's median is reported.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec

from bench import generate, report
from bench.procs import MemoryWatch, memory_kb
from tests.support import ServerProcess
from tracklog import admin
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
        self.events_rows = getattr(store, "events_rows", store.events_table)
        self.identities_table = store.identities_table
        self.traits_table = store.traits_table
        self.rollup_zone = store.rollup_zone
        self.placeholder = store.placeholder
        self.epoch_ms = store.epoch_ms  # the cut edges of a range read event times
        self.sender_blocks = getattr(store, "sender_blocks", False)  # the lists read them
        self.sql_seconds = 0.0
        self.statements: list[tuple[float, str, dict[str, Any]]] = []

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run and time one statement."""
        started = time.perf_counter()
        rows: list[tuple[Any, ...]] = self._store.query(sql, params)
        seconds = time.perf_counter() - started
        self.sql_seconds += seconds
        self.statements.append((seconds, sql, params))
        return rows

    def explain_slowest(self) -> str:
        """DuckDB's EXPLAIN ANALYZE of the slowest statement: where a slow report's time goes."""
        seconds, sql, params = max(self.statements, key=lambda s: s[0])
        rows = self._store.query("EXPLAIN ANALYZE " + sql, params)
        plan = "\n".join(str(r[-1]) for r in rows)
        return f"-- {seconds * 1000:.0f} ms\n{sql}\n-- params {params}\n\n{plan}\n"


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
        lambda s, sc: people.accounts(s, sc, HEALTH, people.AccountList(limit=100)),
        overview=True,
    ),
    Case(
        "account_page",
        f"/api/accounts/{ACCOUNT}",
        {},
        lambda s, sc: people.account(s, sc, HEALTH, ACCOUNT),
    ),
    Case(
        "users_list",
        "/api/users",
        {"limit": 50},
        lambda s, sc: users.users(s, sc, users.UserList(limit=50)),
        overview=True,
    ),
    Case(
        "users_search",
        "/api/users",
        {"q": "user123", "limit": 50},
        lambda s, sc: users.users(s, sc, users.UserList(search="user123", limit=50)),
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
    Case(
        "users_by_name",
        "/api/users",
        {"sort": "name", "offset": 5000, "limit": 50},
        lambda s, sc: users.users(s, sc, users.UserList(sort="name", offset=5000, limit=50)),
    ),
    Case(
        "users_who_did",
        "/api/users",
        {"event": "feature_used", "limit": 50},
        lambda s, sc: users.users(s, sc, users.UserList(events=("feature_used",), limit=50)),
    ),
    Case(
        "funnel_breakdown",
        "/api/analytics/funnel",
        {"steps": "feature_used,signed_in,signed_out", "breakdown": "feature"},
        lambda s, sc: funnels.funnel(
            s, sc, ["feature_used", "signed_in", "signed_out"], 168 * 3600, "users", "feature"
        ),
    ),
    Case(
        "lifecycle_weekly",
        "/api/analytics/lifecycle",
        {"period": "week"},
        lambda s, sc: lifecycle.lifecycle(s, sc, "users", "week"),
    ),
    Case("schema", "/api/schema", {}, lambda s, sc: schema.schema(s, sc)),
    Case("user_timeline", f"/api/users/{USER}/events", {"limit": 100}, None),
    Case("events_page", "/api/events", {"limit": 100}, None),
]


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="milliseconds") + "Z"


def _plain(value: Any) -> Any:
    """A report's answer as the JSON the API would send, decoded again."""
    return msgspec.json.decode(msgspec.json.encode(value))


def measure(
    store: Any,
    client: httpx.Client,
    scope: Scope,
    repeat: int,
    explain: Path | None = None,
    overview: bool = False,
) -> list[dict[str, Any]]:
    """Each case in-process and through the API, alternately, so both see the same load.

    The machine may be shared: runs of the two sides interleave (one warm-up each, then
    direct, API, direct, API, …) and each side's median is taken.
    """
    window = {"from": _iso(scope.start), "to": _iso(scope.end)}
    rows = []
    for case in [c for c in CASES if c.overview or not overview]:
        call = functools.partial(client.get, case.path, params={**case.params, **window})
        recorder = RecordingStore(store)
        sql_times: list[float] = []
        total_times: list[float] = []
        api_times: list[float] = []
        mine: Any = None
        response = call()  # warm-up
        if case.report is not None:
            mine = _plain(case.report(recorder, scope))
        for _ in range(repeat):
            if case.report is not None:
                recorder.sql_seconds = 0.0
                recorder.statements.clear()
                started = time.perf_counter()
                case.report(recorder, scope)
                total_times.append(time.perf_counter() - started)
                sql_times.append(recorder.sql_seconds)
            started = time.perf_counter()
            response = call()
            api_times.append(time.perf_counter() - started)
        api_ms = round(statistics.median(api_times) * 1000, 1)
        row: dict[str, Any] = {
            "case": case.name,
            "path": case.path,
            "overview": case.overview,
            "api_ms": api_ms,
            "api_min_ms": round(min(api_times) * 1000, 1),
            "status": response.status_code,
        }
        if case.report is not None:
            sql = round(statistics.median(sql_times) * 1000, 1)
            row.update(
                direct_sql_ms=sql,
                direct_min_ms=round(min(sql_times) * 1000, 1),
                in_process_ms=round(statistics.median(total_times) * 1000, 1),
                statements=len(recorder.statements),
                api_overhead_pct=round(100 * (api_ms - sql) / sql, 1) if sql else None,
                same_answer=_same(case, mine, response.json()),
            )
        if case.overview:
            row["overview_within_1s"] = api_ms <= OVERVIEW_LIMIT_S * 1000
            if explain and api_ms > OVERVIEW_LIMIT_S * 1000 and store.dialect == "duckdb":
                explain.mkdir(exist_ok=True)
                path = explain / f"explain-{case.name}.txt"
                path.write_text(recorder.explain_slowest())
                row["explain"] = path.name
        rows.append(row)
        print(
            f"  {case.name:<22} API {api_ms:>9,.1f} ms  SQL {row.get('direct_sql_ms')} ms",
            flush=True,
        )
    return rows


def _same(case: Case, mine: Any, theirs: Any) -> bool:
    if case.compare:
        return all(mine.get(k) == theirs.get(k) for k in case.compare)
    if isinstance(mine, dict) and isinstance(theirs, dict):
        # Health tiers and "last seen" ages move with the clock between the two runs.
        return mine.keys() <= theirs.keys()
    return bool(mine == theirs)


@dataclass
class DataSet:
    """A generated data set in a store: where the server finds it, and a store to read it."""

    made: dict[str, Any]
    store: Any  # the in-process side's store
    server_store_url: str = ""  # empty: the DuckDB file in the server's data directory
    server_file: Path | None = None  # that file, which only the server may hold open


@contextlib.contextmanager
def duckdb_data(home: Path, events: int) -> Iterator[DataSet]:
    """A DuckDB file in home/data, and a copy of it for the in-process side."""
    data = home / "data"
    data.mkdir()
    path = data / "tracklog.duckdb"
    made = generate.generate_duckdb(path, events, progress=events > 10_000_000)
    made.update(generate.derive(DuckDBStore(path)))
    # The server owns its file; the in-process side reads a copy of it.
    copy = home / "direct.duckdb"
    shutil.copy(path, copy)
    store = DuckDBStore(copy)
    store.setup()
    try:
        yield DataSet(made, store, server_file=path)
    finally:
        store.close()


@contextlib.contextmanager
def clickhouse_data(home: Path, events: int) -> Iterator[DataSet]:
    """A throwaway clickhouse-server with the data set; server and bench share it."""
    from tests.clickhouse_server import ClickHouseServer
    from tracklog.store.clickhouse import ClickHouseStore

    ch = ClickHouseServer(home / "clickhouse").start()
    try:
        url = ch.url("bench") + "?timeout=600"
        store = ClickHouseStore(url)
        store.setup()
        client = ch.client("bench")
        try:
            made = generate.generate_clickhouse(client, "events_local", events)
            made.update(generate.derive(ClickHouseStore(url)))
        finally:
            client.disconnect()
        try:
            yield DataSet(made, store, url)
        finally:
            store.close()
    finally:
        ch.stop()


def run(args: argparse.Namespace, kind: str = "duckdb") -> dict[str, Any]:
    """Generate the data set, time every case both ways, measure footprint and memory."""
    events = args.events or (1_000_000 if args.quick else 10_000_000)
    repeat = args.repeat or (3 if args.quick else 5)
    home = Path(tempfile.mkdtemp(prefix="tracklog-bench-queries-"))
    data_set = clickhouse_data if kind == "clickhouse" else duckdb_data
    try:
        print(f"queries ({kind}): generating {events:,} events", flush=True)
        with data_set(home, events) as found:
            made = found.made
            print(f"  {made}", flush=True)
            now = dt.datetime.fromisoformat(made["now"])
            end = now + dt.timedelta(seconds=1)
            scope = Scope(generate.WORKSPACE, now - dt.timedelta(days=30), end)
            keys = _keys(found)
            print("queries: in-process (direct SQL) and through the API, interleaved", flush=True)
            server = ServerProcess(home / "data", store=found.server_store_url)
            server.start(timeout=120)
            try:
                rows, memory = _against(
                    server, found.store, keys, scope, repeat, getattr(args, "overview", False)
                )
            finally:
                server.stop()
        return {
            "store": kind,
            "events": events,
            "repeat": repeat,
            "generate": made,
            "footprint": {
                "bytes_on_disk": made["file_bytes"],
                "bytes_per_event": made["bytes_per_event"],
                **memory,
            },
            "cases": rows,
        }
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _keys(found: DataSet) -> tuple[str, str]:
    """A workspace for the data set, and a read and a write key for it."""
    store = DuckDBStore(found.server_file) if found.server_file else found.store
    admin.create_workspace(store, generate.WORKSPACE)
    read_key, _ = admin.create_key(store, generate.WORKSPACE, "read", "bench")
    write_key, _ = admin.create_key(store, generate.WORKSPACE, "write", "bench")
    if found.server_file:
        store.close()
    return read_key, write_key


def _against(
    server: ServerProcess,
    store: Any,
    keys: tuple[str, str],
    scope: Scope,
    repeat: int,
    overview: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Measure every case against a started server; its memory before, during and after."""
    read_key, write_key = keys
    assert server.proc is not None
    pid = server.proc.pid
    memory: dict[str, Any] = {"rss_after_start_mb": _mb(memory_kb(pid).get("VmRSS", 0))}
    headers = {"Authorization": f"Bearer {read_key}"}
    with (
        httpx.Client(base_url=server.url, headers=headers, timeout=600) as client,
        MemoryWatch(pid) as watch,
    ):
        rows = measure(store, client, scope, repeat, report.OUT, overview)
    memory["rss_peak_during_queries_mb"] = _mb(watch.peak_rss_kb)
    memory["rss_after_queries_mb"] = _mb(memory_kb(pid).get("VmRSS", 0))
    # The first write of a DuckDB server builds the Bloom filter of every stored id.
    started = time.perf_counter()
    first = httpx.post(
        server.url + "/api/track",
        headers={"Authorization": f"Bearer {write_key}"},
        json=[{"event_name": "signed_in", "user_id": USER, "message_id": "bench-first"}],
        timeout=600,
    )
    memory["first_write_ms"] = round((time.perf_counter() - started) * 1000, 1)
    memory["first_write_status"] = first.status_code
    after = memory_kb(pid)
    memory["rss_after_first_write_mb"] = _mb(after.get("VmRSS", 0))
    memory["rss_hwm_mb"] = _mb(after.get("VmHWM", 0))
    return rows, memory


def _mb(kb: int) -> float:
    return round(kb / 1024, 1)
