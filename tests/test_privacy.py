"""Privacy requests on both stores: delete, suppress, export, audit, retention; admin keys only."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.support import ServerProcess, Tenant, new_tenant
from tests.test_operations import scrape


def ago(days: float) -> str:
    """An ISO-8601 time `days` before now."""
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat().replace("+00:00", "Z")


def admin_key(tenant: Tenant) -> tuple[str, str]:
    """A new admin key of the tenant's workspace, and its id."""
    made = tenant.server.admin("keys.create", workspace=tenant.name, scope="admin")
    return made["key"], made["key_id"]


def call(tenant: Tenant, method: str, path: str, key: str, **params: Any) -> httpx.Response:
    return httpx.request(
        method,
        tenant.server.url + path,
        params=params,
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )


def seed_user(tenant: Tenant, user_id: str, group: str, anonymous_id: str) -> None:
    """Events, traits, a group membership, an anonymous visit and a quarantined event."""
    r = tenant.post(
        "/api/track",
        [
            {"event_name": "page_viewed", "anonymous_id": anonymous_id, "timestamp": ago(3)},
            {
                "event_name": "signed_in",
                "user_id": user_id,
                "anonymous_id": anonymous_id,
                "context": {"group_id": group},
                "timestamp": ago(2),
            },
            {
                "event_name": "feature_used",
                "user_id": user_id,
                "context": {"group_id": group},
                "properties": {"feature_name": "export"},
                "timestamp": ago(1),
            },
            {"event_name": "signed_in", "user_id": user_id, "timestamp": "not a time"},
        ],
    )
    assert r.json()["accepted"] == 3 and r.json()["rejected"] == 1, r.text
    r = tenant.post(
        "/api/identify",
        {"user_id": user_id, "traits": {"email": f"{user_id}@example.com", "name": "Jo"}},
    )
    assert r.json()["accepted"] == 1, r.text
    r = tenant.post(
        "/api/group", {"group_id": group, "user_id": user_id, "traits": {"account_name": "Acme"}}
    )
    assert r.json()["accepted"] == 1, r.text


def everything(tenant: Tenant) -> str:
    """Every read endpoint's answer about the workspace, as one text to search."""
    pages = [
        json.dumps(tenant.events()),
        tenant.get("/api/quarantine").text,
        tenant.get("/api/users", limit=1000).text,
        tenant.get("/api/accounts").text,
        tenant.get("/api/accounts/acme").text,
        tenant.get("/api/analytics/top-events").text,
    ]
    return "\n".join(pages)


def signed_in(tenant: Tenant) -> dict[str, int]:
    """How many sign-ins, by how many users, the analytics count (last 30 days)."""
    top = tenant.get("/api/analytics/top-events").json()["events"]
    row = next(e for e in top if e["event_name"] == "signed_in")
    return {"count": row["count"], "users": row["users"]}


def test_deleted_user_is_gone_everywhere_and_refused_in_every_format(tenant: Tenant) -> None:
    seed_user(tenant, "gone", "acme", "anon-gone")
    r = tenant.post(
        "/api/track",
        [
            {"event_name": "signed_in", "user_id": "kept", "context": {"group_id": "acme"}},
            # Another visitor, never identified: no user id at all (NULL in the store).
            {"event_name": "page_viewed", "anonymous_id": "anon-other", "timestamp": ago(1)},
        ],
    )
    assert r.json()["accepted"] == 2
    assert "gone" in everything(tenant)
    assert signed_in(tenant) == {"count": 2, "users": 2}
    key, _ = admin_key(tenant)

    r = call(tenant, "DELETE", "/api/users/gone", key)
    assert r.status_code == 200, r.text
    deleted = r.json()["deleted"]
    assert deleted == {
        "events": 5,
        "traits": 1,
        "group_memberships": 1,
        "aliases": 0,
        "quarantined": 1,
        "anonymous_ids": 1,
    }
    assert r.json()["suppressed"] is True

    text = everything(tenant)
    assert "gone" not in text and "anon-gone" not in text
    assert "kept" in text  # another user of the same account stays
    assert [e["anonymous_id"] for e in tenant.events(event_name="page_viewed")] == ["anon-other"]
    assert tenant.get("/api/users/gone").status_code == 404
    assert tenant.get("/api/users/gone/events").json()["events"] == []
    account = tenant.get("/api/accounts/acme").json()
    assert [u["user_id"] for u in account["users"]] == ["kept"]
    active = tenant.get("/api/analytics/active").json()
    assert "gone" not in json.dumps(active)
    assert signed_in(tenant) == {"count": 1, "users": 1}

    before = scrape(tenant.server).get("tracklog_events_suppressed_total{}", 0.0)
    native = tenant.post("/api/track", [{"event_name": "signed_in", "user_id": "gone"}])
    assert native.status_code == 400
    result = native.json()["results"][0]
    assert (result["code"], result["field"]) == ("user_suppressed", "user_id")
    assert "not kept in quarantine" in result["message"]
    segment = httpx.post(
        tenant.server.url + "/v1/track",
        json={"userId": "gone", "event": "signed_in"},
        auth=(tenant.write_key, ""),
        timeout=30,
    )
    assert segment.status_code == 400 and segment.json()["code"] == "user_suppressed"
    vero = httpx.post(
        tenant.server.url + "/api/v2/events/track",
        json={
            "auth_token": tenant.write_key,
            "identity": {"id": "gone", "email": "gone@example.com"},
            "event_name": "signed_in",
        },
        timeout=30,
    )
    assert vero.status_code == 400 and vero.json()["error"]["code"] == "user_suppressed"
    # A malformed event of theirs is not quarantined either.
    bad = tenant.post("/api/track", [{"event_name": "x", "user_id": "gone", "timestamp": "?"}])
    assert bad.json()["results"][0]["code"] == "user_suppressed"
    assert "gone" not in everything(tenant)
    after = scrape(tenant.server)["tracklog_events_suppressed_total{}"]
    # Vero's call with identity traits makes an identify beside the event: both refused.
    assert after - before == 5

    # A user with no anonymous ids: the condition is NULL on events without a user id, and
    # those must stay (ClickHouse 18.16's mutations would delete them).
    assert call(tenant, "DELETE", "/api/users/kept", key).json()["deleted"]["events"] == 1
    assert [e["anonymous_id"] for e in tenant.events()] == ["anon-other"]

    listed = call(tenant, "GET", "/api/suppressions", key).json()["suppressions"]
    assert sorted(s["user_id"] for s in listed) == ["gone", "kept"]
    assert call(tenant, "DELETE", "/api/suppressions/gone", key).json()["suppressed"] is False
    again = tenant.post("/api/track", [{"event_name": "signed_in", "user_id": "gone"}])
    assert again.json()["accepted"] == 1, again.text


def test_export_has_events_traits_groups_and_the_audit_log_shows_it(tenant: Tenant) -> None:
    seed_user(tenant, "asker", "acme", "anon-asker")
    key, key_id = admin_key(tenant)

    r = call(tenant, "GET", "/api/users/asker/export", key)
    assert r.status_code == 200, r.text
    export = r.json()
    assert export["user_id"] == "asker" and export["suppressed"] is False
    assert export["traits"] == {"email": "asker@example.com", "name": "Jo"}
    assert export["anonymous_ids"] == ["anon-asker"]
    assert [g["group_id"] for g in export["groups"]] == ["acme"]
    assert export["groups"][0]["traits"] == {"account_name": "Acme"}
    names = sorted(e["event_name"] for e in export["events"])
    assert names == ["feature_used", "group", "identify", "page_viewed", "signed_in"]
    assert len(export["quarantined"]) == 1
    assert "not a time" in export["quarantined"][0]["raw"]

    ndjson = call(tenant, "GET", "/api/users/asker/export", key, format="ndjson")
    lines = [json.loads(line) for line in ndjson.text.splitlines()]
    assert [line["kind"] for line in lines].count("event") == 5
    assert lines[0]["kind"] == "user" and lines[0]["traits"]["name"] == "Jo"

    assert call(tenant, "DELETE", "/api/users/asker", key).status_code == 200
    entries = call(tenant, "GET", "/api/audit", key).json()["entries"]
    acts = sorted((e["action"], e["subject"], e["actor"]) for e in entries)
    assert acts == [
        ("user.delete", "asker", key_id),
        ("user.export", "asker", key_id),
        ("user.export", "asker", key_id),
    ]
    delete = next(e for e in entries if e["action"] == "user.delete")
    assert delete["counts"]["events"] == 5 and delete["at"].endswith("Z")
    assert key not in json.dumps(entries)
    after = call(tenant, "GET", "/api/users/asker/export", key).json()
    assert after["events"] == [] and after["traits"] == {} and after["suppressed"] is True


def test_write_and_read_keys_may_not_delete_export_or_read_the_audit(tenant: Tenant) -> None:
    tenant.post("/api/track", [{"event_name": "signed_in", "user_id": "u1"}])
    for key in (tenant.write_key, tenant.read_key):
        for method, path in (
            ("DELETE", "/api/users/u1"),
            ("GET", "/api/users/u1/export"),
            ("GET", "/api/audit"),
            ("GET", "/api/suppressions"),
        ):
            r = call(tenant, method, path, key)
            assert r.status_code == 403, (method, path, r.text)
            assert r.json()["error"]["code"] == "wrong_scope"
    assert call(tenant, "DELETE", "/api/users/u1", "tla_nonsense").status_code == 401
    assert len(tenant.events(user_id="u1")) == 1


def test_another_workspaces_admin_key_cannot_touch_the_user(
    tenant: Tenant, server: ServerProcess
) -> None:
    seed_user(tenant, "theirs", "acme", "anon-theirs")
    other = new_tenant(server, f"{tenant.name}-other")
    other_key, _ = admin_key(other)
    r = call(other, "DELETE", "/api/users/theirs", other_key)
    assert r.status_code == 200 and r.json()["deleted"]["events"] == 0
    export = call(other, "GET", "/api/users/theirs/export", other_key).json()
    assert export["events"] == [] and export["traits"] == {}
    assert len(tenant.events(user_id="theirs")) == 4
    # The suppression is the other workspace's: this one still accepts the user.
    r = tenant.post("/api/track", [{"event_name": "signed_in", "user_id": "theirs"}])
    assert r.json()["accepted"] == 1
    own_key, _ = admin_key(tenant)
    assert call(tenant, "GET", "/api/audit", own_key).json()["entries"] == []


def test_retention_drops_old_events_and_keeps_new_ones(tenant: Tenant) -> None:
    events = [
        {"event_name": "signed_in", "user_id": f"u{i}", "timestamp": ago(days)}
        for i, days in enumerate((90, 45, 31, 29, 2, 0.01))
    ]
    assert tenant.post("/api/track", events).json()["accepted"] == 6
    server = tenant.server
    server.admin("workspaces.set_retention", name=tenant.name, retention_days="30")
    listed = {w["name"]: w for w in server.admin("workspaces.list")}
    assert listed[tenant.name]["retention_days"] == 30
    ran = server.admin("retention.run", workspace=tenant.name, actor="test")
    assert [r["dropped"] for r in ran] == [{"events": 3, "quarantined": 0}]
    assert sorted(e["user_id"] for e in tenant.events()) == ["u3", "u4", "u5"]
    # A second run finds nothing more to drop.
    ran = server.admin("retention.run", workspace=tenant.name, actor="test")
    assert ran[0]["dropped"] == {"events": 0, "quarantined": 0}
    audit = server.admin("audit.list", workspace=tenant.name)
    assert [(e["action"], e["actor"], e["counts"]["events"]) for e in audit] == [
        ("retention.drop", "test", 3)
    ]
    # Changing the plan mode keeps the policy.
    server.admin("workspaces.set_mode", name=tenant.name, plan_mode="warn")
    listed = {w["name"]: w for w in server.admin("workspaces.list")}
    assert listed[tenant.name]["retention_days"] == 30


def test_the_cli_deletes_exports_and_lists_the_audit(
    tenant: Tenant, server: ServerProcess, tmp_path: Any
) -> None:
    seed_user(tenant, "by-cli", "acme", "anon-cli")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        where = [
            "--data-dir",
            str(server.data_dir),
            *(["--store", server.store] * bool(server.store)),
        ]
        done = subprocess.run(
            [sys.executable, "-m", "tracklog", *args, *where],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "TRACKLOG_LOG_LEVEL": "WARNING"},
        )
        assert done.returncode == 0, done.stderr
        return done

    out = tmp_path / "by-cli.json"
    cli("users", "export", "by-cli", "--workspace", tenant.name, "-o", str(out))
    assert len(json.loads(out.read_text())["events"]) == 5
    deleted = cli("users", "delete", "by-cli", "--workspace", tenant.name).stdout
    assert "deleted 'by-cli': 5 events" in deleted
    assert tenant.events(user_id="by-cli") == []
    assert "by-cli" in cli("users", "suppressed", "--workspace", tenant.name).stdout
    audit = cli("audit", "--workspace", tenant.name).stdout.splitlines()
    assert [line.split("\t")[3] for line in audit] == ["user.delete", "user.export"]
    assert all(line.split("\t")[2].startswith("cli") for line in audit)
    cli("workspaces", "set", tenant.name, "--retention-days", "7")
    assert "keeps 7 days" in cli("workspaces", "list").stdout
    assert "dropped 0 events" in cli("retention", "run", "--workspace", tenant.name).stdout


def test_openapi_lists_the_privacy_endpoints(server: ServerProcess) -> None:
    paths = httpx.get(server.url + "/openapi.json", timeout=30).json()["paths"]
    assert set(paths["/api/users/{user_id}"]) == {"get", "delete"}
    assert "get" in paths["/api/users/{user_id}/export"]
    assert "get" in paths["/api/audit"] and "get" in paths["/api/suppressions"]
    assert "delete" in paths["/api/suppressions/{user_id}"]


@pytest.mark.duckdb_only
def test_the_server_applies_retention_by_itself(tmp_path: Any) -> None:
    proc = ServerProcess(tmp_path / "data", extra_args=["--retention-interval-seconds", "0.5"])
    proc.start()
    try:
        tenant = new_tenant(proc, "kept30")
        old = {"event_name": "signed_in", "user_id": "old", "timestamp": ago(40)}
        new = {"event_name": "signed_in", "user_id": "new", "timestamp": ago(1)}
        assert tenant.post("/api/track", [old, new]).json()["accepted"] == 2
        proc.admin("workspaces.set_retention", name="kept30", retention_days="30")
        deadline = time.monotonic() + 15
        while len(tenant.events()) != 1:
            assert time.monotonic() < deadline, "the periodic retention run never dropped"
            time.sleep(0.1)
        assert tenant.events()[0]["user_id"] == "new"
        # The run writes its audit entry after its last deletion, a moment after the events
        # are gone (each deletion loads and scrubs DuckDB's ingest log first).
        while not (audit := proc.admin("audit.list", workspace="kept30")):
            assert time.monotonic() < deadline, "the retention run wrote no audit entry"
            time.sleep(0.1)
        assert [(e["action"], e["actor"]) for e in audit] == [("retention.drop", "retention")]
    finally:
        proc.stop()


def test_user_ids_with_sql_and_like_characters(tenant: Tenant) -> None:
    key, _ = admin_key(tenant)
    odd = ["a%_b", 'quo"te\\', "ünï", "' OR 1=1 --", "%"]
    for user_id in odd:
        sent = tenant.post(
            "/api/track",
            [
                {"event_name": "signed_in", "user_id": user_id},
                {"event_name": "signed_in", "user_id": user_id, "timestamp": "bad"},
            ],
        )
        assert sent.json()["accepted"] == 1
    for user_id in odd:
        path = "/api/users/" + quote(user_id, safe="")
        r = call(tenant, "DELETE", path, key)
        assert r.status_code == 200, r.text
        assert (r.json()["deleted"]["events"], r.json()["deleted"]["quarantined"]) == (1, 1)
        assert tenant.events(user_id=user_id) == []
        refused = tenant.post("/api/track", [{"event_name": "x", "user_id": user_id}])
        assert refused.json()["results"][0]["code"] == "user_suppressed"
    assert tenant.events() == [] and tenant.get("/api/quarantine").json()["items"] == []
    too_long = call(tenant, "DELETE", "/api/users/" + "x" * 300, key)
    assert too_long.status_code == 400 and too_long.json()["error"]["field"] == "user_id"
