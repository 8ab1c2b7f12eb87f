"""Intrusion: every endpoint, enumerated from the running server, against the wrong keys.

The operations come from the server's own /openapi.json together with the app's route
tables, so a new endpoint is covered without editing this file. A victim workspace holds
data carrying a marker; an intruder workspace's keys must never see the marker, a write key
never reads and a read key never writes, no plaintext key lands in a store or a log, and SQL
and ClickHouse injection in every filter parameter gets a 4xx or a correct answer, with the
data intact afterwards. (Script payloads in names, properties and traits are rendered inert
by the dashboard: tests/dashboard/test_pages.py::test_hostile_text_is_rendered_inert.)
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.support import ServerProcess, Tenant, new_tenant
from tracklog.http.app import ROUTE_MODULES

MARKER = "victim-secret-7f3a"


def altered(key: str) -> str:
    """The key with its last character changed (to another one: a key may end in "x")."""
    return key[:-1] + ("y" if key.endswith("x") else "x")


USER = "victim-user"
GROUP = "victim-group"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


class Operation:
    """One method on one path, as the server describes it."""

    def __init__(self, method: str, path: str, spec: dict[str, Any]) -> None:
        self.method = method.upper()
        self.template = path
        self.spec = spec
        self.secured = bool(spec.get("security"))
        responses = spec.get("responses", {})
        self.stream = "text/event-stream" in json.dumps(responses)
        self.scope = ""  # the least key scope that may call it (probed: see `operations`)

    @property
    def path(self) -> str:
        """The path with the victim's ids in its parameters."""
        path = self.template.replace("{user_id}", USER).replace("{group_id}", GROUP)
        return re.sub(r"\{[^}]+\}", "x", path)

    def required(self) -> list[str]:
        """The names of its required query parameters."""
        return [
            p["name"]
            for p in self.spec.get("parameters", [])
            if p["in"] == "query" and p.get("required")
        ]

    def query_params(self) -> list[tuple[str, str]]:
        """Free-text query and path parameters: (name, where) — enums and numbers left out."""
        found = []
        for p in self.spec.get("parameters", []):
            schema = p.get("schema", {})
            if schema.get("type") == "string" and "enum" not in schema:
                found.append((p["name"], p["in"]))
        return found

    def __repr__(self) -> str:
        return f"{self.method} {self.template}"


@pytest.fixture(scope="module")
def operations(server: ServerProcess) -> list[Operation]:
    """Every operation of the running server: its document, plus routes it leaves out."""
    doc = httpx.get(server.url + "/openapi.json", timeout=30).json()
    ops = [
        Operation(method, path, spec)
        for path, item in doc["paths"].items()
        for method, spec in item.items()
    ]
    listed = {(op.method, op.template) for op in ops}
    # Routes the document does not list (Segment's one-letter aliases) are secured ingest.
    for module in ROUTE_MODULES:
        for route in module.routes:
            for method in sorted(route.methods or []):  # type: ignore[attr-defined]
                if method != "HEAD" and (method, route.path) not in listed:  # type: ignore[attr-defined]
                    ops.append(Operation(method, route.path, {"security": [{"bearer": []}]}))  # type: ignore[attr-defined]
    assert len(ops) > 30, ops
    # Which key each operation needs, asked of the server itself with a throwaway workspace
    # and ids nobody has: the least scope whose key is not refused.
    prober = new_tenant(server, "prober")
    admin = server.admin("keys.create", workspace=prober.name, scope="admin")["key"]
    for op in ops:
        if not op.secured:
            continue
        for scope, key in (
            ("read", prober.read_key),
            ("write", prober.write_key),
            ("admin", admin),
        ):
            path = re.sub(r"\{[^}]+\}", "nobody", op.template)
            if request(server, op, key, path=path).status_code not in (401, 403):
                op.scope = scope
                break
        assert op.scope, (op, "no key may call it")
    return ops


def keys_of(server: ServerProcess, t: Tenant) -> dict[str, str]:
    """`t`'s keys by scope, with an admin key made for it."""
    admin = server.admin("keys.create", workspace=t.name, scope="admin")["key"]
    return {"read": t.read_key, "write": t.write_key, "admin": admin}


@pytest.fixture(scope="module")
def victim(server: ServerProcess) -> Tenant:
    """A workspace whose data carries MARKER in every place data can be."""
    t = new_tenant(server, "victim")
    event = {
        "event_name": "signed_in",
        "user_id": USER,
        "properties": {"note": MARKER, "email": f"{MARKER}@example.com"},
        "context": {"group_id": GROUP},
    }
    assert t.post("/api/track", [event, {"event_name": MARKER, "user_id": USER}]).status_code == 200
    assert t.post("/api/identify", {"user_id": USER, "traits": {"name": MARKER}}).status_code == 200
    r = t.post(
        "/api/group", {"group_id": GROUP, "user_id": USER, "traits": {"account_name": MARKER}}
    )
    assert r.status_code == 200
    # A rejected one, so the quarantine holds the marker too.
    assert t.post("/api/track", [{"event_name": MARKER}]).status_code == 400
    return t


@pytest.fixture(scope="module")
def intruder(server: ServerProcess) -> Tenant:
    t = new_tenant(server, "intruder")
    assert (
        t.post("/api/track", [{"event_name": "signed_in", "user_id": "intruder"}]).status_code
        == 200
    )
    return t


def request(server: ServerProcess, op: Operation, key: str | None, **kw: Any) -> httpx.Response:
    """Send `op` with `key` in a Bearer header; a stream is read only to its status line."""
    headers = {"authorization": f"Bearer {key}"} if key else {}
    content = kw.pop("content", b"{}" if op.method in WRITES else None)
    url = server.url + kw.pop("path", op.path)
    if op.stream:
        with httpx.stream(op.method, url, headers=headers, timeout=10, **kw) as r:
            r.read() if r.status_code != 200 else None
            return r
    return httpx.request(op.method, url, headers=headers, content=content, timeout=30, **kw)


def state(t: Tenant) -> tuple[int, int]:
    """How many events and quarantined items a workspace has."""
    return len(t.events(include_test="true")), len(t.get("/api/quarantine").json()["items"])


def test_every_secured_operation_needs_a_valid_key(
    server: ServerProcess, operations: list[Operation], victim: Tenant
) -> None:
    before = state(victim)
    for op in operations:
        if not op.secured:
            continue
        for key in (None, "tlr_" + "A" * 32, altered(victim.write_key)):
            r = request(server, op, key)
            assert r.status_code == 401, (op, key, r.status_code, r.text)
            assert MARKER not in r.text
    assert state(victim) == before


def test_write_keys_cannot_read_and_read_keys_cannot_write(
    server: ServerProcess, operations: list[Operation], victim: Tenant
) -> None:
    before = state(victim)
    keys = keys_of(server, victim)
    wrong = {"read": ("write",), "write": ("read",), "admin": ("read", "write")}
    checked = 0
    for op in operations:
        if not op.secured:
            continue
        for scope in wrong[op.scope]:
            r = request(server, op, keys[scope])
            assert r.status_code == 403, (op, scope, r.status_code, r.text)
            answer = r.json()
            assert answer.get("error", answer)["code"] == "wrong_scope", r.text
            assert MARKER not in r.text
            checked += 1
    assert checked > 25
    assert {op.scope for op in operations if op.secured} == {"read", "write", "admin"}
    assert state(victim) == before


def test_another_workspace_never_reads_the_data(
    server: ServerProcess, operations: list[Operation], victim: Tenant, intruder: Tenant
) -> None:
    wide = {"from": "2024-01-01T00:00:00Z", "to": "2032-01-01T00:00:00Z"}
    theirs, ours = keys_of(server, intruder), keys_of(server, victim)
    seen_by_owner = 0
    for op in operations:
        if op.method != "GET" or not op.secured or op.stream:
            continue
        for params in ({}, wide):
            r = request(server, op, theirs[op.scope], params=params)
            assert r.status_code in (200, 400, 404), (op, r.status_code, r.text)
            # The victim's ids may come back (an answer about an id echoes it, and the
            # intruder's own audit log lists what it asked); the marker is the victim's data.
            assert MARKER not in r.text, (op, params, r.text[:300])
        # The control: the owner's own read key does see it, so the check above can fail.
        owner = request(server, op, ours[op.scope], params=wide)
        assert owner.status_code in (200, 400, 404), (op, owner.text)
        seen_by_owner += MARKER in owner.text
    assert seen_by_owner >= 8


def test_another_workspace_never_hears_the_live_stream(
    server: ServerProcess, operations: list[Operation], victim: Tenant, intruder: Tenant
) -> None:
    streams = [op for op in operations if op.stream and op.method == "GET"]
    assert streams, "no stream operation found in the document"
    for op in streams:
        heard = {"victim": b"", "intruder": b""}

        def listen(who: str, key: str, op: Operation = op) -> None:
            headers = {"authorization": f"Bearer {key}"}
            timeout = httpx.Timeout(10, read=3)
            with httpx.stream("GET", server.url + op.path, headers=headers, timeout=timeout) as r:
                deadline = time.monotonic() + 3
                try:
                    for chunk in r.iter_raw():
                        heard[who] += chunk
                        if time.monotonic() > deadline or MARKER.encode() in heard[who]:
                            return
                except httpx.ReadTimeout:  # nothing for this listener: what the intruder gets
                    return

        threads = [
            threading.Thread(target=listen, args=("victim", victim.read_key)),
            threading.Thread(target=listen, args=("intruder", intruder.read_key)),
        ]
        for t in threads:
            t.start()
        time.sleep(0.5)
        event = {"event_name": "signed_in", "user_id": USER, "properties": {"note": MARKER}}
        for _ in range(3):  # the stream sends keep-alives every few seconds; one is enough
            victim.post("/api/track", [event])
            time.sleep(0.3)
        for t in threads:
            t.join(timeout=15)
        assert MARKER.encode() in heard["victim"], heard["victim"][:300]
        assert MARKER.encode() not in heard["intruder"]


def test_another_workspaces_write_key_changes_nothing(
    server: ServerProcess, operations: list[Operation], victim: Tenant, intruder: Tenant
) -> None:
    before = state(victim)
    quarantined = [item["id"] for item in victim.get("/api/quarantine").json()["items"]]
    assert quarantined
    theirs = keys_of(server, intruder)
    for op in operations:
        if op.method not in WRITES or not op.secured:
            continue
        # Aimed at the victim's ids: DELETE /api/users/victim-user with the intruder's
        # admin key must erase nothing of the victim's.
        body = {"user_id": USER, "event_name": "signed_in", "group_id": GROUP}
        r = request(server, op, theirs[op.scope], content=json.dumps(body).encode())
        assert r.status_code < 500, (op, r.text)
    # Replaying the victim's quarantine by its ids, with the intruder's key, replays nothing.
    items = [{"id": q, "raw": {"event_name": "x", "user_id": "y"}} for q in quarantined]
    r = intruder.post("/api/quarantine/replay", {"items": items})
    assert r.status_code in (200, 400, 404), r.text
    if r.status_code == 200:
        assert r.json()["replayed"] == 0
    r = intruder.post("/api/quarantine/replay", {"all": True})
    assert r.status_code < 500 and MARKER not in r.text
    assert state(victim) == before
    assert [i["id"] for i in victim.get("/api/quarantine").json()["items"]] == quarantined


# Injection in every free-text parameter.

PAYLOADS = [
    "' OR '1'='1",
    "x'; DROP TABLE events; --",
    "\\' OR 1=1 -- ",  # ClickHouse also ends a string at a backslash-escaped quote
    "\u02bc OR 1=1 --",  # a modifier apostrophe, which some normalizers turn into '
    "%' UNION SELECT key_hash, 1, 1 FROM keys --",
    "x\x00y",
]


def injected(name: str, payload: str) -> str:
    """`payload` in the shape parameter `name` takes, so it reaches the query."""
    if name == "where":
        return f"plan:eq:{payload}"
    if name == "steps":
        return f"signed_in,{payload}"
    return payload


def this_monday() -> str:
    """The start of this week in UTC: a period of the default range (the last 30 days), as
    the drill-downs' required `cohort` and `start` take one."""
    today = dt.datetime.now(dt.UTC).date()
    return f"{today - dt.timedelta(days=today.weekday())}T00:00:00Z"


def test_injection_in_every_filter_parameter(
    server: ServerProcess, operations: list[Operation], victim: Tenant, intruder: Tenant
) -> None:
    before, other_before = state(victim), state(intruder)
    # The required parameters, valid, beside the one tried.
    valid = {"cohort": this_monday(), "start": this_monday(), "steps": "signed_in,signed_out"}
    keys = keys_of(server, victim)
    tried = 0
    for op in operations:
        if op.method != "GET" or not op.secured or op.stream:
            continue
        for name, where in op.query_params():
            if name in ("from", "to", "cursor"):
                continue
            for payload in PAYLOADS:
                value = injected(name, payload)
                if where == "path":
                    path = op.template.replace("{" + name + "}", quote(value, safe=""))
                    path = re.sub(r"\{[^}]+\}", "x", path)
                    r = request(server, op, keys[op.scope], path=path)
                else:
                    given = {p: valid[p] for p in op.required()}
                    r = request(server, op, keys[op.scope], params={**given, name: value})
                tried += 1
                assert r.status_code in (200, 400, 404), (op, name, payload, r.text)
                assert "intruder" not in r.text, (op, name, payload)
                if r.status_code == 400:
                    assert r.json()["error"]["field"] == name, r.text
                if op.template == "/api/events" and r.status_code == 200:
                    assert r.json()["events"] == [], (name, payload)
        # A further injected property name in the one filter that takes one.
        if any(name == "where" for name, _ in op.query_params()):
            for payload in PAYLOADS:
                r = request(server, op, keys[op.scope], params={"where": f"{payload}:eq:x"})
                assert r.status_code in (200, 400), (payload, r.text)
    assert tried > 60
    # Nothing was dropped or changed, in either workspace; the server still answers.
    assert state(victim) == before and state(intruder) == other_before
    assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200


# No plaintext key in the store or the logs.


def store_text(server: ServerProcess, request: pytest.FixtureRequest) -> Iterator[bytes]:
    """Everything the store holds, as bytes: DuckDB's files, or every ClickHouse table."""
    if not server.store:
        for path in server.data_dir.rglob("*"):
            if path.is_file() and not path.name.endswith(".sock"):
                yield path.read_bytes()
        return
    ch = request.getfixturevalue("clickhouse")
    database = server.store.rsplit("/", 1)[1].split("?")[0]
    client = ch.client(database)
    try:
        tables = [t for (t,) in client.execute("SHOW TABLES")]
        dumps = []
        for t in tables:
            # The rollup's aggregate states are numbers (sums, times, day bits), which the
            # driver cannot read: every other column, which holds all its text.
            columns = [
                f"`{name}`"
                for name, kind, *_ in client.execute(f"DESCRIBE TABLE `{t}`")
                if not kind.startswith("AggregateFunction")
            ]
            dumps.append(repr(client.execute(f"SELECT {', '.join(columns)} FROM `{t}`")).encode())
    finally:
        client.disconnect()
    assert "keys" in tables and "quarantine" in tables, tables
    yield from dumps
    for path in Path(ch.directory, "log").rglob("*"):
        if path.is_file():
            yield path.read_bytes()


def use_keys_everywhere(server: ServerProcess, t: Tenant) -> list[str]:
    """Present `t`'s keys in every way a client can, valid and near-miss; return all keys."""
    url = server.url
    w, r = t.write_key, t.read_key
    bad = [w[:-2] + "zz", r[:-2] + "zz", "tlw_" + "Q" * 32, "tla_" + "Q" * 32]
    for key in (w, *bad):
        httpx.post(url + "/api/track", json=[{"user_id": "u"}], headers={"x-api-key": key})
        httpx.post(url + "/v1/track", json={"event": "x", "userId": "u", "writeKey": key})
        httpx.post(url + "/v1/batch", json={"batch": [{"type": "track"}], "writeKey": key})
        httpx.post(url + "/v1/track", json={"event": "x"}, auth=(key, ""))
        httpx.post(url + f"/api/v2/events/track?auth_token={key}", json={"identity": {}})
        httpx.post(url + "/api/v2/events/track", json={"auth_token": key, "event_name": "x"})
        httpx.put(url + "/api/v2/users/edit", json={"auth_token": key, "id": "u"})
    for key in (r, *bad):
        httpx.get(url + "/api/events", headers={"authorization": f"Bearer {key}"})
        httpx.get(url + "/api/events", params={"auth_token": key, "api_key": key})
    return [w, r, *bad]


def assert_no_key_in(blobs: Iterator[bytes], keys: list[str], where: str) -> int:
    count = 0
    for blob in blobs:
        count += 1
        for key in keys:
            assert key.encode() not in blob, f"a key in {where}"
            # Also its bare random part, without the scope prefix.
            assert key[4:].encode() not in blob, f"a key's secret part in {where}"
    return count


def test_no_plaintext_key_in_the_store(
    server: ServerProcess, request: pytest.FixtureRequest
) -> None:
    t = new_tenant(server, "keys-at-rest")
    keys = use_keys_everywhere(server, t)
    revoked = server.admin("keys.create", workspace=t.name, scope="write")
    server.admin("keys.revoke", key_id=revoked["key_id"])
    keys.append(revoked["key"])
    # The quarantine holds the rejected Vero and Segment bodies that carried keys.
    sources = {item["source"].split(".")[0] for item in t.get("/api/quarantine").json()["items"]}
    assert {"native", "vero", "segment"} <= sources, sources
    assert assert_no_key_in(store_text(server, request), keys, "the store") > 0
    log = server.data_dir.parent / f"server-{server.port}.log"
    assert_no_key_in(iter([log.read_bytes(), server.output.encode()]), keys[1:], "the log")


@pytest.mark.duckdb_only
def test_no_plaintext_key_in_json_logs(tmp_path: Path) -> None:
    """A server logging JSON at DEBUG, shown keys valid and not in every channel: no key.

    (tests/test_operations.py checks the JSON log's shape with header keys; this one adds
    the wire formats' own channels and near misses.)
    """
    server = ServerProcess(
        tmp_path / "data", extra_args=["--log-format", "json"], env={"TRACKLOG_LOG_LEVEL": "DEBUG"}
    ).start()
    try:
        t = new_tenant(server, "logged")
        keys = use_keys_everywhere(server, t)
        # A key inside a body that cannot be read.
        httpx.post(server.url + "/api/track", content=b"\xff" + t.write_key.encode())
    finally:
        server.stop()
    log = (tmp_path / f"server-{server.port}.log").read_bytes()
    assert log.strip(), "the server logged nothing"
    for line in log.decode().splitlines():
        json.loads(line)  # every line is one JSON object
    assert_no_key_in(iter([log]), keys, "the JSON log")
    assert_no_key_in(
        (p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file()), keys, "data"
    )
