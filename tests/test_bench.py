"""The benchmark suite's pieces work (bench/): not its figures, which are not pass/fail.

The generator makes the data set it promises, the wrk script's ids never repeat (so every
acknowledged event is stored once and the stored/acked check holds on a real server), and
profiles are summed by function. A few seconds in all.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from bench import generate, ingest, loadgen, profiling
from bench.loadgen import Load


def test_generator_makes_the_events_it_promises(tmp_path: Path) -> None:
    path = tmp_path / "tracklog.duckdb"
    now = dt.datetime(2026, 1, 31, 12, 0, 0)
    made = generate.generate_duckdb(path, 300_000, now)
    assert made["events"] == 300_000
    con = duckdb.connect(str(path), read_only=True)
    counts = dict(
        con.execute("SELECT coalesce(event_name, type), count(*) FROM events GROUP BY 1").fetchall()
    )
    users, accounts, first, last, workspaces = con.execute(
        "SELECT count(DISTINCT user_id), count(DISTINCT group_id), min(timestamp), "
        "max(timestamp), count(DISTINCT workspace) FROM events"
    ).fetchone()
    con.close()
    assert counts["signed_up"] == counts["identify"] == generate.USERS
    assert counts["group"] == generate.ACCOUNTS
    tracked = {k: v for k, v in counts.items() if k not in ("signed_up", "identify", "group")}
    assert max(tracked, key=lambda k: tracked[k]) == "signed_in"
    assert (users, accounts, workspaces) == (generate.USERS, generate.ACCOUNTS, 1)
    assert now - dt.timedelta(days=30) <= first and last < now


def test_wrk_load_is_stored_once_per_acknowledged_event(tmp_path: Path) -> None:
    if not loadgen.have_wrk():
        pytest.skip("wrk is not installed (apt-get install wrk); the benchmark needs it")
    load = Load(batch=20, connections=4, threads=1, seconds=1)
    rows = ingest.bench_target("tracklog", [load], "smoke", tmp_path)
    (row,) = rows
    assert row["requests"] > 0 and row["non2xx"] == 0
    assert row["acked_events"] == row["requests"] * 20
    assert row["stored_check"] == "ok", row


def test_profile_summary_sums_self_and_inclusive_time() -> None:
    folded = (
        "main (a/cli.py:1);handle (a/api.py:5);decode (a/wire.py:9) 6\n"
        "main (a/cli.py:1);handle (a/api.py:7) 4\n"
    )
    summary = profiling.summarize(folded)
    assert summary["self"] == [("decode (a/wire.py)", 60.0), ("handle (a/api.py)", 40.0)]
    assert dict(summary["inclusive"])["handle (a/api.py)"] == 100.0
