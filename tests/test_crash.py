"""Crash torture: a loaded server is SIGKILLed at random moments, and nothing is lost or doubled.

Several client threads post batches with their own message ids and keep a record of what was
acknowledged (a 2xx receipt). The server is killed with SIGKILL at a random moment while they
post, several times. The clients retry the batches that got no answer while the server comes
back up. After each restart (the clients paused) every event acknowledged since the previous
kill is read back exactly once (the earlier ones were read after earlier restarts); at the end
every batch is acknowledged, the store holds each sent event exactly once, and the receipts
add up: accepted + duplicates over all acknowledged batches equals the events stored (a batch
committed just before the kill comes back all-duplicate on its retry).

Both stores: DuckDB (its WAL replayed at restart) and ClickHouse (the Tracklog node killed,
ClickHouse alive; dedupe by id lookup). The CI version makes 3 kills with 4 clients;
`TRACKLOG_TORTURE=long` makes 10 kills with 8 clients, bigger batches, longer loaded spells
and less pause between batches (a few minutes).
`TRACKLOG_TORTURE_SEED` repeats a run's kill moments (the seed is printed).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from tests.support import ServerProcess, Tenant

LONG = os.environ.get("TRACKLOG_TORTURE") == "long"
KILLS = 10 if LONG else 3
CLIENTS = 8 if LONG else 4
# Small batches in CI: as many requests (and so as many in flight at a kill), fewer events
# to read back after every restart.
BATCH = 50 if LONG else 20
# How long the clients post before a kill: a random moment in this range.
LOADED_SECONDS = (0.5, 4.0) if LONG else (0.4, 1.2)
# A pause between a client's acknowledged batches: it keeps the event count, and so the
# read-back through the API after every restart, within bounds.
THINK_SECONDS = 0.005 if LONG else 0.02


@dataclass
class Batch:
    """One client's batch and the receipt that acknowledged it."""

    events: list[dict[str, Any]]
    receipt: dict[str, Any] | None = None
    first_sent: float = 0.0  # wall-clock time of the first attempt


@dataclass
class LoadClient:
    """A client thread posting batches; a batch without a 2xx receipt is retried as it was."""

    number: int
    url: str
    key: str
    acked: list[Batch] = field(default_factory=list)
    attempts: int = 0
    failures: int = 0
    unexpected: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    # Cleared while the test reads back, so the read-back is not itself under load that
    # would grow the next spell's events without end.
    go: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.go.set()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _batch(self, n: int) -> Batch:
        return Batch(
            [
                {
                    "event_name": "feature_used",
                    "user_id": f"c{self.number}",
                    "message_id": f"c{self.number}-b{n}-e{i}",
                    "properties": {"batch": n, "i": i},
                    "context": {"group_id": "crash"},
                }
                for i in range(BATCH)
            ]
        )

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        n = 0
        pending = self._batch(n)
        with httpx.Client(base_url=self.url, headers=headers, timeout=20) as http:
            # After `stop` the thread still finishes its pending batch: every batch it began
            # is retried until acknowledged, as a well-behaved client does.
            while True:
                self.go.wait()
                self.attempts += 1
                pending.first_sent = pending.first_sent or time.time()
                try:
                    r = http.post("/api/track", json=pending.events)
                except httpx.TransportError:
                    r = None
                if r is not None and r.status_code == 200:
                    pending.receipt = r.json()
                    with self.lock:
                        self.acked.append(pending)
                    if self.stop.is_set():
                        return
                    n += 1
                    pending = self._batch(n)
                    time.sleep(THINK_SECONDS)
                    continue
                if r is not None and r.status_code != 503:
                    self.unexpected.append(f"{r.status_code} {r.text[:200]}")
                self.failures += 1
                time.sleep(0.05)

    def acked_ids(self, since: float) -> list[str]:
        """Message ids of the batches acknowledged so far that were first sent after `since`."""
        with self.lock:
            return [e["message_id"] for b in self.acked if b.first_sent >= since for e in b.events]


def _read_all(tenant: Tenant, since: float | None = None) -> Counter[str]:
    """How many times each message id is stored (received after `since`), through the API."""
    found: Counter[str] = Counter()
    after = {}
    if since is not None:
        after["from"] = dt.datetime.fromtimestamp(since - 0.01, dt.UTC).isoformat()
    for number in range(CLIENTS):
        for event in tenant.events(user_id=f"c{number}", **after):
            found[event["message_id"]] += 1
    return found


def _start(server: ServerProcess) -> None:
    # A restart on a loaded two-core machine: WAL replay and imports can take a while.
    server.start(timeout=60)


@pytest.mark.timeout(1800 if LONG else 300)
@pytest.mark.parametrize("store", ["duckdb", "clickhouse"])
def test_sigkill_under_load_loses_and_doubles_nothing(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    seed = int(os.environ.get("TRACKLOG_TORTURE_SEED", random.randrange(1 << 30)))
    print(f"crash torture seed {seed} ({store}, {KILLS} kills, {CLIENTS} clients)")
    rng = random.Random(seed)
    url = ""
    if store == "clickhouse":
        ch = request.getfixturevalue("clickhouse")
        database = f"crash{seed}"
        url = ch.url(database)
    server = ServerProcess(tmp_path / "data", store=url)
    _start(server)
    tenant = Tenant(server, "default", server.write_key, server.read_key)
    clients = [LoadClient(i, server.url, server.write_key) for i in range(CLIENTS)]
    try:
        for client in clients:
            client.start()
        # Events carry no timestamp, so each is stamped when received: a batch first sent
        # after `spell` has its events at or after it, whichever attempt stored them.
        spell = time.time()
        for kill in range(KILLS):
            before = sum(len(c.acked) for c in clients)
            time.sleep(rng.uniform(*LOADED_SECONDS))
            killed_at = time.time()
            server.stop(signal.SIGKILL)
            acked = [mid for c in clients for mid in c.acked_ids(spell)]
            assert sum(len(c.acked) for c in clients) > before, (
                f"kill {kill}: no batch was acknowledged in the loaded spell"
            )
            started = time.monotonic()
            _start(server)
            print(f"kill {kill}: restarted in {time.monotonic() - started:.1f} s")
            # The clients retried while it came up; what was acknowledged before the kill is
            # stored once, whatever the retries did.
            for client in clients:
                client.go.clear()
            started = time.monotonic()
            stored = _read_all(tenant, since=spell)
            print(f"read {sum(stored.values())} in {time.monotonic() - started:.1f} s")
            missing = [m for m in acked if stored[m] != 1]
            doubled = [m for m, n in stored.items() if n > 1]
            assert not missing, f"kill {kill}: {len(missing)} acknowledged events not stored once"
            assert not doubled, f"kill {kill}: {len(doubled)} events stored twice"
            spell = killed_at
            for client in clients:
                client.go.set()
        for client in clients:
            client.stop.set()
        for client in clients:
            assert client.thread is not None
            client.thread.join(timeout=60)
            assert not client.thread.is_alive(), "a client could not get its batch acknowledged"
        for client in clients:
            assert not client.unexpected, client.unexpected[:3]
        batches = [b for c in clients for b in c.acked]
        sent = {e["message_id"] for b in batches for e in b.events}
        stored = _read_all(tenant)
        assert set(stored) == sent
        assert max(stored.values()) == 1
        receipts = [b.receipt for b in batches if b.receipt is not None]
        assert len(receipts) == len(batches)
        # A batch is committed whole or not at all, so its retry is all new or all duplicate.
        assert all(
            (r["accepted"], r["duplicates"], r["rejected"]) in ((BATCH, 0, 0), (0, BATCH, 0))
            for r in receipts
        ), [r for r in receipts if r["accepted"] not in (0, BATCH)][:3]
        accepted = sum(r["accepted"] for r in receipts)
        duplicates = sum(r["duplicates"] for r in receipts)
        assert accepted + duplicates == len(stored) == len(batches) * BATCH
        retried = sum(c.failures for c in clients)
        print(
            f"{len(batches)} batches ({len(stored)} events) acknowledged over {KILLS} kills; "
            f"{retried} failed attempts retried; {duplicates // BATCH} batches came back "
            "as duplicates"
        )
    finally:
        for client in clients:
            client.stop.set()
            client.go.set()
        server.stop()
    if store == "duckdb":
        # The file itself, opened after a clean stop: each id once.
        db = duckdb.connect(str(tmp_path / "data" / "tracklog.duckdb"), read_only=True)
        try:
            rows, ids = db.execute("SELECT count(*), count(DISTINCT id) FROM events").fetchone()  # type: ignore[misc]
        finally:
            db.close()
        assert rows == ids == len(sent)
    else:
        raw = request.getfixturevalue("clickhouse").client(database)
        # The raw table, not the FINAL view: no retry inserted a second row for an id.
        try:
            rows, ids = raw.execute("SELECT count(), uniqExact(id) FROM events_local")[0]
        finally:
            raw.disconnect()
        assert rows == ids == len(sent)
