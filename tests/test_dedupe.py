"""Nothing doubled: retries, message ids, content hashes, repeats inside a batch."""

from __future__ import annotations

import concurrent.futures as cf

from tests.support import Tenant


def batch(n: int, prefix: str = "m") -> list[dict[str, object]]:
    return [
        {
            "event_name": "feature_used",
            "user_id": f"u{i % 7}",
            "properties": {"feature_name": "export", "n": i},
            "timestamp": "2024-10-20T15:51:35.059Z",
            "message_id": f"{prefix}-{i}",
        }
        for i in range(n)
    ]


def test_retried_batch_is_all_duplicates(tenant: Tenant) -> None:
    first = tenant.post("/api/track", batch(50)).json()
    again = tenant.post("/api/track", batch(50)).json()
    assert first["accepted"] == 50
    assert again["accepted"] == 0 and again["duplicates"] == 50
    assert [r["id"] for r in again["results"]] == [r["id"] for r in first["results"]]
    assert len(tenant.events()) == 50


def test_message_id_wins_over_changed_content(tenant: Tenant) -> None:
    one = batch(1)
    tenant.post("/api/track", one)
    one[0]["properties"] = {"feature_name": "changed"}
    one[0]["timestamp"] = "2024-10-21T00:00:00Z"
    r = tenant.post("/api/track", one).json()
    assert r["results"][0]["status"] == "duplicate"
    # 20 hours on, across midnight (ClickHouse's lookup reads a day either side).
    one[0]["timestamp"] = "2024-10-21T12:00:00Z"
    assert tenant.post("/api/track", one).json()["results"][0]["status"] == "duplicate"
    assert len(tenant.events()) == 1


def test_content_hash_dedupes_without_message_id(tenant: Tenant) -> None:
    event = {
        "event_name": "signed_in",
        "user_id": "u1",
        "timestamp": "2024-10-20T15:51:35Z",
        "properties": {"b": 1, "a": 2},
        "context": {"group_id": "g"},
    }
    reordered = {**event, "properties": {"a": 2, "b": 1}}
    assert tenant.post("/api/track", [event]).json()["accepted"] == 1
    assert tenant.post("/api/track", [reordered]).json()["duplicates"] == 1
    later = {**event, "timestamp": "2024-10-20T15:51:36Z"}
    assert tenant.post("/api/track", [later]).json()["accepted"] == 1
    assert len(tenant.events()) == 2


def test_repeat_inside_one_batch(tenant: Tenant) -> None:
    events = batch(3) + batch(1)
    statuses = [r["status"] for r in tenant.post("/api/track", events).json()["results"]]
    assert statuses == ["accepted", "accepted", "accepted", "duplicate"]
    assert len(tenant.events()) == 3


def test_concurrent_retries_store_each_event_once(tenant: Tenant) -> None:
    """Eight clients send the same 200 events at once: each is stored exactly once."""
    events = batch(200, prefix="race")
    with cf.ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: tenant.post("/api/track", events).json(), range(8)))
    assert sum(r["accepted"] for r in replies) == 200
    assert sum(r["duplicates"] for r in replies) == 200 * 7
    assert len(tenant.events()) == 200
