"""What exact reads cost on ClickHouse: FINAL vs GROUP BY id vs no dedupe, before merges.

Starts a throwaway clickhouse-server (tests/clickhouse_server.py), writes N events for two
workspaces through ClickHouseStore (plus 10% re-inserted duplicates, in separate parts so no
merge has collapsed them), and prints one JSON line per query shape with the median time.

    .venv/bin/python -m bench.clickhouse_reads --events 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import signal
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from tests.clickhouse_server import ClickHouseServer
from tracklog.events import Event
from tracklog.store.clickhouse import ClickHouseStore

MS = "(toUInt64(timestamp) * 1000 + timestamp_ms)"
SHAPES = {
    "count_final": "SELECT count() FROM events WHERE workspace = 'w0'",
    "count_group_by_id": (
        "SELECT count() FROM (SELECT id FROM events_local WHERE workspace = 'w0' GROUP BY id)"
    ),
    "count_raw_undeduped": "SELECT count() FROM events_local WHERE workspace = 'w0'",
    "page_final": (
        f"SELECT id, event_name, user_id, {MS} FROM events WHERE workspace = 'w0' "
        f"ORDER BY {MS} DESC, id DESC LIMIT 101"
    ),
    "page_raw_undeduped": (
        f"SELECT id, event_name, user_id, {MS} FROM events_local WHERE workspace = 'w0' "
        f"ORDER BY {MS} DESC, id DESC LIMIT 101"
    ),
    "by_day_final": (
        "SELECT toDate(timestamp) AS d, uniqExact(user_id) FROM events "
        "WHERE workspace = 'w0' AND event_name = 'signed_in' GROUP BY d"
    ),
    "by_day_limit_1_by_id": (
        "SELECT toDate(timestamp) AS d, uniqExact(user_id) FROM (SELECT timestamp, user_id "
        "FROM events_local WHERE workspace = 'w0' AND event_name = 'signed_in' LIMIT 1 BY id) "
        "GROUP BY d"
    ),
    "dedupe_lookup_10k_ids": "",  # measured through store.write's lookup, below
}


def events(n: int, start: int = 0) -> list[Event]:
    """N events over 30 days of one month, 2 workspaces, 5000 users."""
    base = dt.datetime(2024, 10, 1)
    return [
        Event(
            id=uuid.UUID(int=i + 1),
            workspace=f"w{i % 2}",
            event_name="signed_in" if i % 3 else "feature_used",
            user_id=f"u{i % 5000}",
            timestamp=base + dt.timedelta(seconds=i * 2_592_000 // max(n, 1) % 2_592_000),
            received_at=base,
            properties={"email": f"u{i % 5000}@x.io"},
            context={"group_id": f"g{i % 300}"},
        )
        for i in range(start, start + n)
    ]


def timed(run: object, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="tracklog-bench-ch-"))
    server = ClickHouseServer(home).start()
    try:
        store = ClickHouseStore(server.url("bench"))
        store.setup()
        chunk = 100_000
        started = time.perf_counter()
        for at in range(0, args.events, chunk):
            store.write(events(min(chunk, args.events - at), at), [])
        write_seconds = time.perf_counter() - started
        dupes = events(args.events // 10)
        # Bypass the lookup: the same ids inserted again, as two racing nodes would.
        from tracklog.store.clickhouse import EVENT_COLUMNS, _names, events_columns

        store._run(
            f"INSERT INTO events_local ({_names(EVENT_COLUMNS)}) VALUES",
            events_columns(dupes),
            columnar=True,
        )
        print(
            json.dumps(
                {
                    "events": args.events,
                    "duplicates_inserted": len(dupes),
                    "write_events_per_second": round(args.events / write_seconds),
                }
            )
        )
        for name, sql in SHAPES.items():
            if name == "dedupe_lookup_10k_ids":
                probe = events(10_000, args.events // 2)
                seconds = timed(lambda probe=probe: store.write(probe, []))
                rows: object = "all duplicates"
            else:
                seconds = timed(lambda sql=sql: store.query(sql, {}))
                rows = store.query(sql, {})[:1]
            result = {"query": name, "median_ms": round(seconds * 1000, 1), "first": str(rows)}
            print(json.dumps(result))
    finally:
        server.stop(signal.SIGKILL)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
