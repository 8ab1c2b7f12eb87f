"""Test data: events marked as tests per event (`context.test`) or per key (`keys create --test`).

Test events are stored but left out of reads unless asked for (`include_test=true`). Each
case runs on a real server, on DuckDB and on ClickHouse.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from typing import Any

import duckdb
import httpx
import pytest

from tests.support import ServerProcess, Tenant
from tracklog.store.duckdb import DuckDBStore


def segment(tenant: Tenant, call: str, body: Any, key: str | None = None) -> httpx.Response:
    auth = base64.b64encode(f"{key or tenant.write_key}:".encode()).decode()
    return httpx.post(
        f"{tenant.server.url}/v1/{call}",
        json=body,
        headers={"Authorization": f"Basic {auth}"},
        timeout=30,
    )


def vero(tenant: Tenant, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    return httpx.post(
        f"{tenant.server.url}/api/v2/events/track",
        json={"auth_token": key or tenant.write_key, **body},
        timeout=30,
    )


def stored(tenant: Tenant) -> dict[str, bool]:
    """Every stored event's user id and whether it is a test event."""
    return {e["user_id"]: e["is_test"] for e in tenant.events(include_test="true")}


def test_context_test_marks_one_event(tenant: Tenant) -> None:
    """Native: `context.test` or a top-level `test`; Segment: `context.test`, per message or
    for a whole batch."""
    r = tenant.post(
        "/api/track",
        [
            {"event_name": "signed_in", "user_id": "n-context", "context": {"test": True}},
            {"event_name": "signed_in", "user_id": "n-top", "test": True},
            {"event_name": "signed_in", "user_id": "n-live", "context": {"test": False}},
        ],
    )
    assert r.json()["accepted"] == 3, r.text
    r = segment(tenant, "track", {"userId": "s-one", "event": "x", "context": {"test": True}})
    assert r.status_code == 200, r.text
    batch = {
        "batch": [
            {"type": "track", "userId": "s-batch", "event": "x"},
            {"type": "page", "userId": "s-page", "name": "Home"},
        ],
        "context": {"test": True},
    }
    assert segment(tenant, "batch", batch).json()["receipt"]["accepted"] == 2
    r = segment(tenant, "identify", {"userId": "s-live", "traits": {"plan": "pro"}})
    assert r.status_code == 200, r.text
    assert stored(tenant) == {
        "n-context": True,
        "n-top": True,
        "n-live": False,
        "s-one": True,
        "s-batch": True,
        "s-page": True,
        "s-live": False,
    }
    # Left out of reads unless asked for.
    assert sorted(e["user_id"] for e in tenant.events()) == ["n-live", "s-live"]


def test_a_test_flag_that_is_not_a_boolean_is_refused(tenant: Tenant) -> None:
    r = tenant.post("/api/track", [{"event_name": "x", "user_id": "u", "test": "maybe"}])
    result = r.json()["results"][0]
    assert (r.status_code, result["code"], result["field"]) == (400, "invalid_type", "test")
    assert result["message"] == "`test` must be true or false."
    r = segment(tenant, "track", {"userId": "u", "event": "x", "context": {"test": 2}})
    assert (r.status_code, r.json()["error"]["field"]) == (400, "context.test")
    assert tenant.events(include_test="true") == []


def test_every_event_through_a_test_key_is_a_test_event(
    server: ServerProcess, tenant: Tenant
) -> None:
    """A key made with --test (here through the admin socket) marks what it sends, in all three
    wire formats, Vero's identify beside its event included; `keys.list` says which keys."""
    made = server.admin(
        "keys.create", workspace=tenant.name, scope="write", label="staging", test="true"
    )
    key = made["key"]
    assert made["test"] is True
    listed = {k["key_id"]: k for k in server.admin("keys.list")}
    assert listed[made["key_id"]]["test"] is True
    assert not any(k["test"] for k in listed.values() if k["key_id"] != made["key_id"])

    r = tenant.post("/api/track", [{"event_name": "signed_in", "user_id": "k-native"}], key=key)
    assert r.status_code == 200, r.text
    r = segment(
        tenant, "batch", {"batch": [{"type": "track", "userId": "k-seg", "event": "x"}]}, key
    )
    assert r.status_code == 200, r.text
    r = vero(tenant, {"identity": {"id": "k-vero", "email": "v@x.io"}, "event_name": "x"}, key)
    assert r.status_code == 200, r.text
    r = tenant.post("/api/track", [{"event_name": "signed_in", "user_id": "live"}])
    assert r.status_code == 200
    assert stored(tenant) == {"k-native": True, "k-seg": True, "k-vero": True, "live": False}
    assert {e["type"] for e in tenant.events(include_test="true", user_id="k-vero")} == {
        "track",
        "identify",
    }
    assert [e["user_id"] for e in tenant.events()] == ["live"]


def test_a_rejected_event_of_a_test_key_replays_as_a_test_event(
    server: ServerProcess, tenant: Tenant
) -> None:
    """Quarantined from a test key, replayed with an ordinary key: still a test event."""
    key = server.admin("keys.create", workspace=tenant.name, scope="write", test="true")["key"]
    bad = [{"event_name": "signed_in", "user_id": "q1", "timestamp": "yesterday"}]
    assert tenant.post("/api/track", bad, key=key).status_code == 400
    (item,) = tenant.get("/api/quarantine").json()["items"]
    assert item["source"] == "native+test"
    fixed = {**bad[0], "timestamp": "2024-10-20T15:51:35Z"}
    r = tenant.post("/api/quarantine/replay", {"items": [{"id": item["id"], "raw": fixed}]})
    assert r.json()["replayed"] == 1, r.text
    assert stored(tenant) == {"q1": True}


def test_only_a_write_key_can_be_a_test_key(server: ServerProcess, tenant: Tenant) -> None:
    with pytest.raises(ValueError, match="only a write key"):
        server.admin("keys.create", workspace=tenant.name, scope="read", test="true")


def cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """The `tracklog` command on the server's data directory and store, as an operator runs it."""
    store = ["--store", server.store] if server.store else []
    return subprocess.run(
        [sys.executable, "-m", "tracklog", *args, "--data-dir", str(server.data_dir), *store],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_test_key_works_at_once(server: ServerProcess, tenant: Tenant) -> None:
    """`tracklog keys create --test`, then at once an event with it: accepted, a test event.

    On ClickHouse the command writes the shared store itself (no socket needed), so the
    server learns of the key only by reloading its keys for the unknown key (issue 12,
    item 11: it used to answer 401 for up to --key-refresh-seconds). On DuckDB it goes
    through the server's admin socket."""
    made = cli(server, "keys", "create", "--workspace", tenant.name, "--scope", "write", "--test")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    r = tenant.post("/api/track", [{"event_name": "signed_in", "user_id": "cli-test"}], key=key)
    assert r.status_code == 200, r.text
    assert stored(tenant) == {"cli-test": True}
    listed = cli(server, "keys", "list")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    mine = [row for row in rows if row[1] == tenant.name and row[2] == "write"]
    assert sorted(row[4] for row in mine) == ["live", "test"], listed.stdout


@pytest.mark.duckdb_only
def test_a_keys_table_from_before_test_keys_is_upgraded(tmp_path: Any) -> None:
    """A DuckDB file whose `keys` table has no `test` column gets it at setup; old keys are
    live keys."""
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE keys (key_id VARCHAR PRIMARY KEY, workspace VARCHAR NOT NULL, "
        "scope VARCHAR NOT NULL, key_hash VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, "
        "revoked_at TIMESTAMP, label VARCHAR NOT NULL)"
    )
    con.execute("INSERT INTO keys VALUES ('key_old', 'w', 'write', 'h', now(), NULL, 'old')")
    con.close()
    store = DuckDBStore(path)
    store.setup()
    try:
        (old,) = store.key_records()
        assert (old.key_id, old.test) == ("key_old", False)
    finally:
        store.close()
