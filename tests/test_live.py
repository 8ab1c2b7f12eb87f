"""The live stream shows committed events and rejections of its own workspace only."""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

import httpx

from tests.support import ServerProcess, Tenant, new_tenant


def _listen(tenant: Tenant, out: queue.Queue[tuple[str, Any]], ready: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {tenant.read_key}"}
    with httpx.stream("GET", tenant.server.url + "/api/live", headers=headers, timeout=30) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        kind = ""
        for line in r.iter_lines():
            if line.startswith(": connected"):
                ready.set()
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                out.put((kind, json.loads(line[6:])))
                if kind == "rejected":
                    return


def test_live_stream_shows_accepted_and_rejected(server: ServerProcess, tenant: Tenant) -> None:
    other = new_tenant(server, "live-other")
    got: queue.Queue[tuple[str, Any]] = queue.Queue()
    ready = threading.Event()
    listener = threading.Thread(target=_listen, args=(tenant, got, ready), daemon=True)
    listener.start()
    assert ready.wait(10)
    other.post("/api/track", [{"event_name": "not_mine", "user_id": "x"}])
    r = tenant.post(
        "/api/track",
        [
            {"event_name": "signed_in", "user_id": "u1", "properties": {"n": 1}},
            {"event_name": "signed_in", "properties": {}},
        ],
    )
    assert r.status_code == 400  # one accepted, one rejected
    kind, accepted = got.get(timeout=10)
    assert kind == "accepted"
    assert (accepted["event_name"], accepted["user_id"], accepted["properties"]) == (
        "signed_in",
        "u1",
        {"n": 1},
    )
    kind, rejected = got.get(timeout=10)
    assert kind == "rejected"
    assert rejected["reasons"][0]["field"] == "user_id"
    listener.join(10)


def test_live_stream_needs_a_read_key(tenant: Tenant) -> None:
    r = httpx.get(
        tenant.server.url + "/api/live", headers={"Authorization": f"Bearer {tenant.write_key}"}
    )
    assert r.status_code == 403
