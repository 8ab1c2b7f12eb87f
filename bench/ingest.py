"""The ingest benchmark: wrk against Tracklog, the ceiling and the naive baseline.

Every target is a real server process on loopback. Each load runs for a fixed time; after
all loads, the events stored per load (told apart by the message-id prefix wrk puts on
them) are counted in the store itself and checked against what the server acknowledged:
acked <= stored <= acked + what was still in flight when wrk stopped.
"""

from __future__ import annotations

import functools
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from bench import loadgen, profiling
from bench.loadgen import Load
from bench.procs import MemoryWatch, Module, memory_kb
from tests.support import ServerProcess, free_port

Counter = Callable[[], dict[str, int]]


@dataclass
class Target:
    """A running server under test: where it listens, its pid, its key, how to count."""

    name: str
    url: str
    pid: int
    key: str = ""
    count: Counter | None = None  # stored events per nonce, read after the server stopped


def _duckdb_counts(path: Path, table: str = "events") -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            f"SELECT split_part(message_id, '-', 1), count(*) FROM {table} GROUP BY 1"
        ).fetchall()
    finally:
        con.close()
    return {str(n): int(c) for n, c in rows}


@contextmanager
def tracklog_duckdb(home: Path, args: list[str]) -> Iterator[Target]:
    """`tracklog serve` on a fresh DuckDB file (durable acknowledgement, as always)."""
    server = ServerProcess(home / "tracklog-data", extra_args=args).start()
    _wait_key(server)
    target = Target("tracklog", server.url, _pid(server), server.write_key)
    try:
        yield target
    finally:
        server.stop()
    target.count = lambda: _duckdb_counts(home / "tracklog-data" / "tracklog.duckdb")


@contextmanager
def tracklog_clickhouse(home: Path, args: list[str]) -> Iterator[Target]:
    """`tracklog serve` over a throwaway clickhouse-server."""
    from tests.clickhouse_server import ClickHouseServer

    ch = ClickHouseServer(home / "clickhouse").start()
    try:
        url = ch.url("bench")
        server = ServerProcess(home / "tracklog-data", store=url, extra_args=args).start()
        _wait_key(server)
        target = Target("tracklog-clickhouse", server.url, _pid(server), server.write_key)
        try:
            yield target
        finally:
            server.stop()

        def count() -> dict[str, int]:
            client = ch.client("bench")
            try:
                rows = client.execute(
                    "SELECT splitByChar('-', assumeNotNull(message_id))[1] AS n, count() "
                    "FROM events GROUP BY n"
                )
            finally:
                client.disconnect()
            return {str(n): int(c) for n, c in rows}

        stored = count()  # now, while clickhouse-server still runs
        target.count = lambda: stored
    finally:
        ch.stop(signal.SIGTERM)


@contextmanager
def ceiling(home: Path, args: list[str]) -> Iterator[Target]:
    """The bare handler on the same stack (bench/ceiling.py); stores nothing."""
    server = Module("bench.ceiling", free_port(), log=home / "ceiling.log").start()
    try:
        yield Target("ceiling", server.url, server.pid)
    finally:
        server.stop()


@contextmanager
def naive(home: Path, args: list[str]) -> Iterator[Target]:
    """FastAPI + pydantic, one INSERT per event (bench/naive.py)."""
    db = home / "naive.duckdb"
    server = Module("bench.naive", free_port(), ["--db", str(db)], log=home / "naive.log").start()
    target = Target("naive", server.url, server.pid)
    try:
        yield target
    finally:
        server.stop()
    target.count = lambda: _duckdb_counts(db)


def _pid(server: ServerProcess) -> int:
    assert server.proc is not None
    return server.proc.pid


def _wait_key(server: ServerProcess) -> None:
    deadline = time.monotonic() + 10
    while not server.write_key and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.write_key:
        raise RuntimeError("the server printed no write key at first start")


TARGETS = {
    "tracklog": tracklog_duckdb,
    "tracklog-clickhouse": tracklog_clickhouse,
    "ceiling": ceiling,
    "naive": naive,
}


def bench_target(
    name: str,
    loads: list[Load],
    run_id: str,
    out: Path,
    profile: bool = False,
    server_args: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Run every load against one freshly started target; one result row per load.

    `server_args` go to `tracklog serve` (e.g. --commit-interval); baselines ignore them.
    """
    home = Path(tempfile.mkdtemp(prefix=f"tracklog-bench-{name}-"))
    rows: list[dict[str, Any]] = []
    nonces: list[str] = []
    try:
        with TARGETS[name](home, server_args or []) as target:
            warm = Load(loads[0].batch, loads[0].connections, loads[0].threads, 1)
            loadgen.run(target.url, warm, f"{run_id}warm", target.key)
            for number, load in enumerate(loads):
                nonce = f"{run_id}n{number}"
                with MemoryWatch(target.pid) as memory:
                    row = loadgen.run(target.url, load, nonce, target.key)
                row = {
                    "target": name,
                    **row,
                    "rss_peak_mb": round(memory.peak_rss_kb / 1024, 1),
                    "rss_end_mb": round(memory.last_rss_kb / 1024, 1),
                    "server_cpu_cores": round(memory.cpu_cores, 2),
                }
                rows.append(row)
                nonces.append(nonce)
                print(_progress(row), flush=True)
                if profile and name.startswith("tracklog") and load.connections >= 64:
                    again = functools.partial(
                        loadgen.run, target.url, load, nonce + "p", target.key
                    )
                    path = out / f"profile-{name}-{load.name}.txt"
                    row["profile"] = profiling.record(target.pid, again, path)
            hwm = memory_kb(target.pid).get("VmHWM", 0)
            for row in rows:
                row["rss_hwm_mb"] = round(hwm / 1024, 1)
        if target.count is not None:
            stored = target.count()
            for row, nonce in zip(rows, nonces, strict=True):
                _verify(row, stored.get(nonce, 0))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return rows


def _verify(row: dict[str, Any], stored: int) -> None:
    """Stored must hold every acknowledged event, plus at most what was in flight at the end."""
    in_flight = row["connections"] * row["batch"]
    row["stored_events"] = stored
    row["stored_check"] = (
        "ok" if row["acked_events"] <= stored <= row["acked_events"] + in_flight else "MISMATCH"
    )


def _progress(row: dict[str, Any]) -> str:
    return (
        f"  {row['target']:<20} {row['load']:<14} {row['events_per_s']:>9,} events/s "
        f"{row['requests_per_s']:>7,} req/s  p50 {row['p50_ms']} ms  p99 {row['p99_ms']} ms  "
        f"non-2xx {row['non2xx']}"
    )
