"""The DuckDB store's ingest log (tracklog/store/duckdb_spool.py): a returned write is on disk
before it reaches the tables, and the next start loads what a crash left there exactly once,
with its rollup rows, quarantine rows and traits, and never brings back what was erased.

Each case writes in a child process that ends with os._exit (no close, no load: a crash as
far as the store can tell), then opens the same file here, as the next start would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from tracklog.store import rollup_check
from tracklog.store.duckdb import DuckDBStore

pytestmark = pytest.mark.duckdb_only

# Run in the child: `store` is open on DB, `groups` writes N groups of events through the
# real decoder, profile facts and store, each group with one element that is quarantined.
PRELUDE = """
import json, os, sys
from pathlib import Path
from tracklog.events import utcnow
from tracklog.ingest import profiles
from tracklog.ingest.wire import native
from tracklog.store.duckdb import DuckDBStore

DB = Path(sys.argv[1])
store = DuckDBStore(DB)
store.setup()

def body(group, count, user=None):
    items = [
        {
            "event_name": "signed_in",
            "message_id": f"m-{group}-{i}",
            "user_id": user or f"u{i % 7}",
            "timestamp": f"2026-11-2{i % 5}T10:00:00+05:30",
            "properties": {"email": f"u{i % 7}@example.com"},
            "context": {"group_id": f"acct-{i % 3}"},
        }
        for i in range(count)
    ]
    items.append({"event_name": "signed_in", "timestamp": "20-11-23T22:28:55.111Z"})
    return json.dumps(items).encode()

def write(group, count, user=None):
    items = native.decode(body(group, count, user), "default", utcnow(), "track")
    events = [i.event for i in items if i.event is not None]
    rejected = [
        i.quarantined("default", utcnow(), "native") for i in items if i.event is None
    ]
    return store.write(events, rejected, profiles.facts(events, profiles.ProfileRules()))
"""


def run_child(db: Path, script: str) -> None:
    code = PRELUDE + textwrap.dedent(script) + "\nos._exit(0)\n"
    done = subprocess.run(
        [sys.executable, "-c", code, str(db)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def counts(db: Path) -> dict[str, object]:
    """What the next start finds: events, quarantine rows, traits, rollup totals."""
    store = DuckDBStore(db)
    store.setup()
    try:

        def one(sql: str) -> object:
            return store.query(sql, {})[0][0]

        return {
            "events": one("SELECT count(*) FROM events"),
            "distinct_ids": one("SELECT count(DISTINCT id) FROM events"),
            "quarantine": one("SELECT count(*) FROM quarantine"),
            "day_rollup": one("SELECT coalesce(sum(events), 0) FROM activity_days"),
            "event_days": one("SELECT coalesce(sum(events), 0) FROM event_days"),
            "emails": one("SELECT count(*) FROM traits WHERE key = 'email'"),
            "gone": one("SELECT count(*) FROM events WHERE user_id = 'gone'"),
            "rollup_mismatches": rollup_check.sample(store)["mismatches"],
        }
    finally:
        store.close()


def test_a_crash_after_the_write_returned_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    run_child(
        db,
        """
        for group in range(5):
            assert write(group, 40) == set()
        for group in (0, 1):  # resends, still in the log: every event a duplicate
            assert len(write(group, 40)) == 40
        """,
    )
    assert (db.parent / "t.duckdb.spool").exists()
    found = counts(db)
    assert found == {
        "events": 200,
        "distinct_ids": 200,
        "quarantine": 7,  # one per write, resends included: a quarantine row is not deduped
        "day_rollup": 200,
        "event_days": 200,
        "emails": 7,
        "gone": 0,
        "rollup_mismatches": [],
    }, found
    # A second start finds the log empty: nothing is loaded twice.
    assert counts(db) == found


def test_a_crash_between_a_load_and_the_emptying_of_the_log_doubles_nothing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "t.duckdb"
    run_child(
        db,
        """
        for group in range(3):
            write(group, 30)
        log = Path(str(DB) + ".spool")
        kept = log.read_bytes()
        store.settle(idle=True)  # loads the groups into the tables, then empties the log
        log.write_bytes(kept)  # as if the emptying never reached the disk
        """,
    )
    found = counts(db)
    assert (found["events"], found["distinct_ids"], found["quarantine"]) == (90, 90, 3)
    assert (found["day_rollup"], found["event_days"]) == (90, 90)
    assert found["rollup_mismatches"] == []


@pytest.mark.parametrize("crash_after", [0.0, 0.03, None])
def test_a_crash_while_a_load_runs_beside_the_writes_loses_and_doubles_nothing(
    tmp_path: Path, crash_after: float | None
) -> None:
    """A busy writer's load runs on its own thread while writes append to the log's other
    file; a crash at any moment of it (at once, part way, after it) leaves each event once."""
    db = tmp_path / "t.duckdb"
    wait = "store._loader.join()" if crash_after is None else f"time.sleep({crash_after})"
    run_child(
        db,
        f"""
        import time
        for group in range(4):
            write(group, 40)
        time.sleep(0.3)  # the log's first group is LOAD_SECONDS old: the load is due
        store.settle()
        assert store._loader is not None
        for group in range(4, 8):
            assert write(group, 40) == set()
        for group in (0, 5):  # resends of a group being loaded, and of one in the log
            assert len(write(group, 40)) == 40
        {wait}
        """,
    )
    found = counts(db)
    assert found == {
        "events": 320,
        "distinct_ids": 320,
        "quarantine": 10,
        "day_rollup": 320,
        "event_days": 320,
        "emails": 7,
        "gone": 0,
        "rollup_mismatches": [],
    }, found
    assert counts(db) == found


def test_a_write_does_not_wait_for_the_tables(tmp_path: Path) -> None:
    """Appending to the log takes the log's lock only: a load (or a deletion) holding the
    tables' lock does not hold up a group's acknowledgement."""
    from tracklog.events import utcnow
    from tracklog.ingest.wire import native

    store = DuckDBStore(tmp_path / "t.duckdb")
    store.setup()

    def write(user: str) -> None:
        body = json.dumps([{"event_name": "signed_in", "user_id": user}]).encode()
        items = native.decode(body, "default", utcnow(), "track")
        store.write([i.event for i in items if i.event is not None], [])

    try:
        write("u1")
        with store._write_lock:  # held as a load holds it while DuckDB inserts
            writer = threading.Thread(target=write, args=("u2",))
            writer.start()
            writer.join(10)
            assert not writer.is_alive(), "the write waited for the tables' lock"
        assert store.query("SELECT count(*) FROM events", {}) == [(2,)]
    finally:
        store.close()


def test_an_erasure_is_not_undone_by_the_log(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    run_child(
        db,
        """
        write(0, 20, user="gone")
        write(1, 20)
        # Still in the log: the deletion loads it first, and deletes from what it loaded.
        deleted = store.delete_rows("events", "user_id = $u", {"u": "gone"})
        assert deleted == 20, deleted
        store.rebuild_rollups("default", "UTC")
        write(2, 10)
        """,
    )
    # Nor do the erased events' bytes stay in the log's old frames.
    assert b"gone" not in (tmp_path / "t.duckdb.spool").read_bytes()
    assert b"gone" not in (tmp_path / "t.duckdb.spool2").read_bytes()
    found = counts(db)
    assert (found["gone"], found["events"], found["day_rollup"]) == (0, 30, 30)
    assert found["rollup_mismatches"] == []


def test_a_torn_last_frame_is_ignored(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    run_child(
        db,
        """
        import struct
        write(0, 25)
        write(1, 25)
        # A crash in the middle of the next append: a frame header of this generation that
        # announces more payload than was written, and half a payload.
        fd = os.open(str(DB) + ".spool", os.O_RDWR)
        end = store._spool._end
        os.pwrite(fd, struct.pack("<IQI", 5000, store._spool.generation, 123) + b"x" * 40, end)
        os.close(fd)
        """,
    )
    found = counts(db)
    assert (found["events"], found["quarantine"], found["day_rollup"]) == (50, 2, 50)


def test_reads_see_a_write_at_once(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "t.duckdb")
    store.setup()
    try:
        from tracklog.events import utcnow
        from tracklog.ingest.wire import native

        body = json.dumps([{"event_name": "signed_in", "user_id": "u1"}]).encode()
        items = native.decode(body, "default", utcnow(), "track")
        store.write([i.event for i in items if i.event is not None], [])
        # Nothing has loaded the log yet; the read loads it first.
        assert store.query("SELECT count(*) FROM events", {}) == [(1,)]
    finally:
        store.close()


def test_a_clean_stop_leaves_every_event_in_the_database_file(tmp_path: Path) -> None:
    """Tools that open tracklog.duckdb themselves see everything once the server stopped."""
    import duckdb

    from tests.support import ServerProcess, Tenant

    server = ServerProcess(tmp_path / "data").start()
    try:
        tenant = Tenant(server, "default", server.write_key, server.read_key)
        for batch in range(5):
            sent = [
                {"event_name": "signed_in", "user_id": f"u{i}", "message_id": f"m{batch}-{i}"}
                for i in range(20)
            ]
            assert tenant.post("/api/track", sent).json()["accepted"] == 20
    finally:
        server.stop()
    con = duckdb.connect(str(tmp_path / "data" / "tracklog.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM events").fetchall() == [(100,)]
        assert con.execute("SELECT sum(events) FROM activity_days").fetchall() == [(100,)]
    finally:
        con.close()
