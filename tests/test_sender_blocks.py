"""The lists read per-block sender totals (tracklog/analytics/senders.py) and answer exactly
what a scan of the events answers, wherever the range starts in its 64-day block.

A block the range's start cuts is counted either as the whole block less the days before the
start, or as the days from the start on: the events here sit on both sides of starts chosen
for each way (and on a start cut mid-day, and exactly on a block's first day), with a test
event, an anonymous id merged later and an account-only call. Each list is asked as usual
and with `raw=true` (the events), on both stores.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import clickhouse_driver
import duckdb
import httpx
import pytest

from tests.support import Tenant
from tracklog.analytics import users
from tracklog.analytics.scope import Scope
from tracklog.events import Event
from tracklog.store.clickhouse import ClickHouseStore
from tracklog.store.duckdb import DuckDBStore

BLOCK_DAYS = 64
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# The first day of a 64-day block in the past (day 20480: 2026-01-27).
BLOCK = EPOCH + dt.timedelta(days=20480)


def at(day: int, hours: float = 12) -> str:
    """An ISO time `day` days (and `hours`) after the block's first midnight."""
    t = BLOCK + dt.timedelta(days=day, hours=hours)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def history() -> list[tuple[str, dict[str, Any]]]:
    """Events before, inside and after the block, on the days the ranges start."""
    out: list[tuple[str, dict[str, Any]]] = []
    for day, user, group in [
        (-3, "u1", "g1"), (1, "u1", "g1"), (4, "u2", "g1"), (10, "u2", "g2"), (10, "u3", "g2"),
        (40, "u1", "g2"), (50, "u3", "g1"), (63, "u2", "g1"), (70, "u1", "g1"), (75, "u4", "g2"),
    ]:  # fmt: skip
        for hours in (2, 14):
            name = "signed_in" if hours == 2 else "feature_used"
            event = {"event_name": name, "user_id": user, "timestamp": at(day, hours)}
            out.append(("/api/track", {**event, "context": {"group_id": group}}))
    out.append(("/api/track", {"event_name": "signed_in", "anonymous_id": "a9",
                               "timestamp": at(8, 3), "context": {"group_id": "g2"}}))  # fmt: skip
    out.append(("/api/track", {"event_name": "signed_in", "user_id": "u5", "timestamp": at(9),
                               "context": {"test": True, "group_id": "g1"}}))  # fmt: skip
    out.append(("/api/group", {"group_id": "g3", "traits": {"name": "Nobody"}, "timestamp": at(9)}))
    return out


def ranges() -> list[dict[str, str]]:
    """Starts early in the block (the whole less the part before), late (the part from the
    start), mid-day, on the block's first day; all ending after every event (the block rows
    answer) or inside the history (the day rows do)."""
    late = at(90, 0)
    return [
        {"from": at(8, 0), "to": late},
        {"from": at(8, 5.5), "to": late},
        {"from": at(50, 6), "to": late},
        {"from": at(0, 0), "to": late},
        {"from": at(-10, 0), "to": late},
        {"from": at(30, 0), "to": at(72, 0)},
    ]


LISTS: list[tuple[str, dict[str, Any]]] = [
    ("/api/users", {}),
    ("/api/users", {"sort": "events"}),
    ("/api/users", {"sort": "first_seen", "order": "asc"}),
    ("/api/users", {"group_id": "g1"}),
    ("/api/users", {"event": "feature_used"}),
    ("/api/accounts", {}),
    ("/api/accounts/g2", {}),
]


def test_lists_from_blocks_equal_the_events(tenant: Tenant) -> None:
    for path, body in history():
        r = tenant.post(path, [body] if path == "/api/track" else body)
        assert r.status_code == 200, r.text
    r = httpx.post(  # a9 turns out to be u3, after the fact
        tenant.server.url + "/v1/alias",
        json={"previousId": "a9", "userId": "u3", "timestamp": at(80)},
        auth=(tenant.write_key, ""),
        timeout=30,
    )
    assert r.status_code == 200, r.text
    seen = 0
    for path, params in LISTS:
        for span in ranges():
            served = tenant.get(path, **params, **span)
            scanned = tenant.get(path, **params, **span, raw="true")
            assert served.status_code == scanned.status_code == 200, (served.text, span)
            assert served.json() == scanned.json(), (path, params, span)
            body = served.json()
            seen += len(body.get("users", body.get("accounts", [])))
    assert seen > 50  # the lists were not all empty


@pytest.mark.parametrize("kind", ["duckdb", "clickhouse"])
def test_a_store_from_before_the_block_rows_gets_them_at_setup(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A store written before `sender_blocks` existed has them filled from its day rows at
    the first setup, and its lists answer what the events answer."""
    url = request.getfixturevalue("clickhouse").url("senders_up") if kind == "clickhouse" else ""

    def open_store() -> Any:
        return ClickHouseStore(url) if url else DuckDBStore(tmp_path / "old.duckdb")

    store = open_store()
    store.setup()
    t = dt.datetime(2026, 3, 2, 10)
    store.write(
        [
            Event(
                id=uuid.uuid4().bytes,
                workspace="w",
                event_name=name,
                user_id=user,
                group_id="g1",
                timestamp=t + dt.timedelta(days=day),
                received_at=t,
            )
            for day, user, name in [(0, "u1", "signed_in"), (3, "u2", "x"), (70, "u1", "x")]
        ],
        [],
    )
    if url:  # the table and its view as a store from before them had neither
        client = clickhouse_driver.Client(store.host, port=store.port, database=store.database)
        client.execute("DROP TABLE sender_blocks_view")
        client.execute("DROP TABLE sender_blocks")
        client.disconnect()
    else:
        store.close()
        con = duckdb.connect(str(tmp_path / "old.duckdb"))
        con.execute("DROP TABLE sender_blocks")
        con.close()
    store = open_store()
    store.setup()
    try:
        scope = Scope("w", t - dt.timedelta(days=1), t + dt.timedelta(days=100))
        served = users.users(store, scope)
        assert served == users.users(store, dataclasses.replace(scope, raw=True))
        assert [(u["user_id"], u["events"]) for u in served["users"]] == [("u1", 2), ("u2", 1)]
        table = "sender_blocks FINAL" if url else "sender_blocks"
        (rows,) = store.query(f"SELECT count(*) FROM {table}", {})
        assert rows[0] == 3  # u1 in two blocks, u2 in one
    finally:
        store.close()
