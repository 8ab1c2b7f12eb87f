"""The growth check of issue 13: more events per active person-day, the same reports' time.

Two data sets with the same `now`, people, accounts, days and event names (bench/generate.py
draws them from each event's number): one as generated, one with every tracked event
written `factor` times on its day. Each is served by its own `tracklog serve` (ClickHouse:
two databases of one clickhouse-server), and each overview endpoint is timed on both,
alternately (1x, kx, 1x, kx, …) so both see the same load on a shared machine. A report
that reads the rollups costs what the people and days cost: its ratio stays near 1; the
target is at most 2.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench import generate, queries
from bench.procs import MemoryWatch
from tests.support import ServerProcess
from tracklog.analytics.scope import Scope

# Overview reports (issue 13), by their cases in bench/queries.py.
OVERVIEW = (
    "trends_day",
    "signins_day_users",
    "dau_wau_mau_users",
    "dau_wau_mau_accounts",
    "top_events",
    "accounts_list",
    "users_list",
)
GROWTH_LIMIT = 2.0


@contextlib.contextmanager
def _duckdb_sets(
    home: Path, events: int, factors: tuple[int, int], now: dt.datetime
) -> Iterator[list[queries.DataSet]]:
    """One DuckDB data directory per factor."""
    from tracklog.store.duckdb import DuckDBStore

    found = []
    for factor in factors:
        data = home / f"data-{factor}"
        data.mkdir()
        path = data / "tracklog.duckdb"
        made = generate.generate_duckdb(path, events, now, factor, progress=True)
        made.update(generate.derive(DuckDBStore(path)))
        print(f"  x{factor}: {made}", flush=True)
        found.append(queries.DataSet(made, None, server_file=path))
    yield found


@contextlib.contextmanager
def _clickhouse_sets(
    home: Path, events: int, factors: tuple[int, int], now: dt.datetime
) -> Iterator[list[queries.DataSet]]:
    """One database per factor on one throwaway clickhouse-server."""
    from tests.clickhouse_server import ClickHouseServer
    from tracklog.store.clickhouse import ClickHouseStore

    ch = ClickHouseServer(home / "clickhouse").start()
    stores: list[Any] = []
    try:
        found = []
        for factor in factors:
            url = ch.url(f"bench{factor}") + "?timeout=600"
            store = ClickHouseStore(url)
            store.setup()
            stores.append(store)
            client = ch.client(f"bench{factor}")
            try:
                made = generate.generate_clickhouse(
                    client, "events_local", events, now, factor, progress=True
                )
            finally:
                client.disconnect()
            made.update(generate.derive(ClickHouseStore(url)))
            print(f"  x{factor}: {made}", flush=True)
            found.append(queries.DataSet(made, store, url))
        yield found
    finally:
        for store in stores:
            store.close()
        ch.stop()


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Generate both data sets, start a server on each, time the overview interleaved."""
    events = args.events or (500_000 if args.quick else 2_000_000)
    factors = (1, args.factor)
    repeat = args.repeat or (3 if args.quick else 7)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    home = Path(tempfile.mkdtemp(prefix="tracklog-bench-growth-"))
    sets = _clickhouse_sets if args.store == "clickhouse" else _duckdb_sets
    servers: list[ServerProcess] = []
    try:
        print(f"growth ({args.store}): {events:,} events, x{factors[1]}", flush=True)
        started = time.perf_counter()
        with sets(home, events, factors, now) as found:
            generated_s = round(time.perf_counter() - started, 1)
            clients = []
            for one in found:
                read_key, _ = queries._keys(one)
                data = one.server_file.parent if one.server_file else home / f"srv-{len(servers)}"
                data.mkdir(exist_ok=True)
                server = ServerProcess(data, store=one.server_store_url)
                servers.append(server.start(timeout=300))
                clients.append(
                    httpx.Client(
                        base_url=server.url,
                        headers={"Authorization": f"Bearer {read_key}"},
                        timeout=600,
                    )
                )
            end = now + dt.timedelta(seconds=1)
            start = now - dt.timedelta(days=30)
            if args.cut:
                # A start inside a day with events before it: that day's part in the range
                # is read from the events (the rollup counts whole days).
                start += dt.timedelta(hours=12, minutes=7)
            scope = Scope(generate.WORKSPACE, start, end)
            rows = measure(clients, servers, scope, repeat)
            for client in clients:
                client.close()
        return {
            "store": args.store,
            "events": [one.made["events"] for one in found],
            "factors": factors,
            "repeat": repeat,
            "cut_first_day": args.cut,
            "generate": [one.made for one in found],
            "generate_s": generated_s,
            "loadavg_at_end": os.getloadavg(),
            "cases": rows,
        }
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


def measure(
    clients: list[httpx.Client], servers: list[ServerProcess], scope: Scope, repeat: int
) -> list[dict[str, Any]]:
    """Each overview case on both servers, alternately; medians and their ratio."""
    window = {"from": queries._iso(scope.start), "to": queries._iso(scope.end)}
    cases = [c for c in queries.CASES if c.name in OVERVIEW]
    rows = []
    for case in cases:
        times: list[list[float]] = [[], []]
        peaks = [0.0, 0.0]
        for client in clients:  # warm-up
            client.get(case.path, params={**case.params, **window}).raise_for_status()
        for _ in range(repeat):
            for i, client in enumerate(clients):
                assert servers[i].proc is not None
                with MemoryWatch(servers[i].proc.pid) as watch:
                    started = time.perf_counter()
                    client.get(case.path, params={**case.params, **window}).raise_for_status()
                    times[i].append(time.perf_counter() - started)
                peaks[i] = max(peaks[i], watch.peak_rss_kb / 1024)
        one, many = (statistics.median(t) * 1000 for t in times)
        ratio = many / one if one else 0.0
        row = {
            "case": case.name,
            "x1_ms": round(one, 1),
            "xk_ms": round(many, 1),
            "x1_min_ms": round(min(times[0]) * 1000, 1),
            "xk_min_ms": round(min(times[1]) * 1000, 1),
            "ratio": round(ratio, 2),
            "within_2x": ratio <= GROWTH_LIMIT,
            "x1_rss_peak_mb": round(peaks[0], 1),
            "xk_rss_peak_mb": round(peaks[1], 1),
            "loadavg": round(os.getloadavg()[0], 2),
        }
        rows.append(row)
        print(
            f"  {case.name:<22} x1 {one:>8,.1f} ms  xk {many:>8,.1f} ms  ratio {ratio:.2f}",
            flush=True,
        )
    return rows


COLUMNS = [
    ("case", "case"),
    ("x1_ms", "1x ms"),
    ("xk_ms", "kx ms"),
    ("ratio", "ratio"),
    ("within_2x", "<= 2x"),
    ("x1_min_ms", "1x min ms"),
    ("xk_min_ms", "kx min ms"),
    ("x1_rss_peak_mb", "1x RSS MB"),
    ("xk_rss_peak_mb", "kx RSS MB"),
    ("loadavg", "load 1 min"),
]
