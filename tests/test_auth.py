"""Keys: missing and unknown keys, headers, workspaces, revocation.

Every route against every wrong key, and keys at rest and in logs: tests/test_security.py.
"""

from __future__ import annotations

import time

import httpx

from tests.support import ServerProcess, Tenant, new_tenant
from tests.test_operations import scrape

EVENT = [{"event_name": "signed_in", "user_id": "u1", "context": {"group_id": "g"}}]


def test_no_key_and_unknown_key_are_401(tenant: Tenant) -> None:
    r = httpx.post(tenant.server.url + "/api/track", json=EVENT)
    assert (r.status_code, r.json()["error"]["code"]) == (401, "missing_key")
    r = tenant.post("/api/track", EVENT, key="tlw_not-a-real-key")
    assert (r.status_code, r.json()["error"]["code"]) == (401, "invalid_key")
    r = httpx.get(tenant.server.url + "/api/events")
    assert r.status_code == 401


def test_x_api_key_header_works(tenant: Tenant) -> None:
    r = httpx.post(
        tenant.server.url + "/api/track", json=EVENT, headers={"x-api-key": tenant.write_key}
    )
    assert r.status_code == 200


def test_workspaces_are_isolated(server: ServerProcess, tenant: Tenant) -> None:
    other = new_tenant(server, tenant.name + "-other")
    assert tenant.post("/api/track", EVENT).status_code == 200
    assert other.post("/api/track", [{**EVENT[0], "user_id": "u2"}]).status_code == 200
    assert [e["user_id"] for e in tenant.events()] == ["u1"]
    assert [e["user_id"] for e in other.events()] == ["u2"]
    assert other.get("/api/users/u1").status_code == 404
    # The same content in two workspaces is two events, not a duplicate.
    same = [{**EVENT[0], "timestamp": "2024-01-01T00:00:00Z"}]
    assert tenant.post("/api/track", same).json()["accepted"] == 1
    assert other.post("/api/track", same).json()["accepted"] == 1


def test_revoked_key_stops_working(server: ServerProcess, tenant: Tenant) -> None:
    key_id = next(
        k["key_id"]
        for k in server.admin("keys.list")
        if k["workspace"] == tenant.name and k["scope"] == "write"
    )
    assert tenant.post("/api/track", EVENT).status_code == 200
    server.admin("keys.revoke", key_id=key_id)
    assert tenant.post("/api/track", EVENT).status_code == 401


def test_unknown_keys_reload_the_keys_at_most_once_a_second(tenant: Tenant) -> None:
    """An unknown key makes the server read its keys again before the 401 (a key made a
    moment ago on another node works at once: tests/test_test_data.py), but a flood of bad
    keys costs the store one read a second, not one per request."""
    name = "tracklog_key_reloads_for_unknown_keys_total{}"
    time.sleep(1.1)  # past any earlier test's unknown key
    before = scrape(tenant.server)[name]
    started = time.monotonic()
    with httpx.Client(timeout=30) as client:
        for i in range(60):
            r = client.post(
                tenant.server.url + "/api/track",
                json=EVENT,
                headers={"Authorization": f"Bearer tlw_not-a-key-{i}"},
            )
            assert (r.status_code, r.json()["error"]["code"]) == (401, "invalid_key")
    elapsed = time.monotonic() - started
    reloads = scrape(tenant.server)[name] - before
    assert 1 <= reloads <= elapsed + 1, (reloads, elapsed)
