"""The read path: filters, paging, a user's summary, quarantine and replay, plan modes."""

from __future__ import annotations

import datetime as dt
import time

from tests.support import ServerProcess, Tenant, new_tenant


def test_filters_and_cursor_paging(tenant: Tenant) -> None:
    events = [
        {
            "event_name": "signed_in" if i % 3 else "feature_used",
            "user_id": f"u{i % 4}",
            "context": {"group_id": f"g{i % 2}"},
            "properties": {"feature_name": "x"},
            "timestamp": f"2024-10-{1 + i % 28:02d}T12:00:00Z",
            "message_id": f"p{i}",
        }
        for i in range(250)
    ]
    assert tenant.post("/api/track", events).json()["accepted"] == 250
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 60, **({"cursor": cursor} if cursor else {})}
        page = tenant.get("/api/events", **params).json()
        seen += [e["id"] for e in page["events"]]
        stamps = [e["timestamp"] for e in page["events"]]
        assert stamps == sorted(stamps, reverse=True)
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 250
    by_name = tenant.events(event_name="feature_used")
    assert len(by_name) == len([e for e in events if e["event_name"] == "feature_used"])
    assert {e["user_id"] for e in tenant.events(user_id="u1")} == {"u1"}
    assert len(tenant.events(group_id="g0")) == 125
    window = tenant.events(**{"from": "2024-10-05T00:00:00Z", "to": "2024-10-06T00:00:00Z"})
    assert {e["timestamp"][:10] for e in window} == {"2024-10-05"}
    bad = tenant.get("/api/events", cursor="garbage")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "cursor"
    bad = tenant.get("/api/events", **{"from": "last week"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "from"


def test_user_summary_with_traits(tenant: Tenant) -> None:
    tenant.post(
        "/api/identify", {"user_id": "u1", "traits": {"email": "a@x.io", "first_name": "A"}}
    )
    tenant.post("/api/identify", {"user_id": "u1", "traits": {"last_name": "B"}})
    tenant.post(
        "/api/group", {"group_id": "acme", "user_id": "u1", "traits": {"account_name": "Acme"}}
    )
    tenant.post(
        "/api/track",
        [
            {
                "event_name": "signed_in",
                "user_id": "u1",
                "context": {"group_id": "acme"},
                "timestamp": f"2024-10-0{d}T10:00:00Z",
            }
            for d in (1, 2, 3)
        ],
    )
    user = tenant.get("/api/users/u1").json()
    assert user["traits"] == {"email": "a@x.io", "first_name": "A", "last_name": "B"}
    assert user["sign_in_count"] == 3
    assert user["event_counts"]["signed_in"] == 3
    assert user["first_seen"] == "2024-10-01T10:00:00.000Z"
    assert user["groups"] == ["acme"]
    missing = tenant.get("/api/users/nobody")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_identify_and_group_need_their_ids(tenant: Tenant) -> None:
    r = tenant.post("/api/identify", {"traits": {"email": "a@x.io"}})
    assert r.status_code == 400 and r.json()["results"][0]["field"] == "user_id"
    r = tenant.post("/api/group", {"user_id": "u1", "traits": {"account_name": "A"}})
    assert r.status_code == 400 and r.json()["results"][0]["field"] == "group_id"
    r = tenant.post("/api/identify", {"user_id": "u1", "traits": "a@x.io"})
    assert r.status_code == 400 and r.json()["results"][0]["code"] == "invalid_traits"


def test_plan_enforce_rejects_then_replay_after_fix(server: ServerProcess) -> None:
    strict = new_tenant(server, "strict", plan_mode="enforce")
    events = [
        {"event_name": "signed_in", "user_id": "u1", "properties": {"email": 7}},
        {"event_name": "made_up_event", "user_id": "u1"},
        {
            "event_name": "signed_in",
            "user_id": "u2",
            "context": {"group_id": "g"},
            "properties": {"email": "b@x.io"},
        },
    ]
    r = strict.post("/api/track", events).json()
    assert [x["status"] for x in r["results"]] == ["rejected", "rejected", "accepted"]
    assert r["results"][0]["code"] in ("missing_group", "wrong_property_type")
    assert r["results"][1]["code"] == "unplanned_event"
    items = strict.get("/api/quarantine").json()["items"]
    assert len(items) == 2
    # Fix the data of one by hand; relax the plan for the other; replay both.
    fixed = next(i for i in items if '"email": 7' in i["raw"] or '"email":7' in i["raw"])
    server.admin("workspaces.set_mode", name="strict", plan_mode="warn")
    replay = strict.post(
        "/api/quarantine/replay",
        {
            "items": [
                {
                    "id": fixed["id"],
                    "raw": {
                        "event_name": "signed_in",
                        "user_id": "u1",
                        "properties": {"email": "a@x.io"},
                    },
                },
            ]
        },
    ).json()
    assert replay["replayed"] == 1
    assert len(strict.get("/api/quarantine").json()["items"]) == 1
    assert strict.post("/api/quarantine/replay", {"all": True}).json()["replayed"] == 1
    assert strict.get("/api/quarantine").json()["items"] == []
    assert {e["event_name"] for e in strict.events()} == {"signed_in", "made_up_event"}
    assert len(strict.events()) == 3


def test_warn_mode_lists_plan_warnings(tenant: Tenant) -> None:
    r = tenant.post(
        "/api/track",
        [
            {
                "event_name": "signed_in",
                "user_id": "u1",
                "properties": {"user_name": ["not", "a", "string"]},
            }
        ],
    )
    assert r.status_code == 200
    codes = {w["code"] for w in r.json()["results"][0]["warnings"]}
    assert codes == {"missing_group", "wrong_property_type"}


def test_unknown_paths_and_methods_are_json_errors(tenant: Tenant) -> None:
    r = tenant.get("/api/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = tenant.get("/api/track")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_openapi_document(tenant: Tenant) -> None:
    doc = tenant.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/track", "/api/events", "/api/quarantine"} <= set(doc["paths"])


def test_replay_decodes_as_of_first_arrival(server: ServerProcess) -> None:
    """A replayed event keeps the time it first arrived: a missing timestamp is not the replay's
    time, and a sent_at clock-skew correction measures against the first arrival."""
    strict = new_tenant(server, "strict_replay", plan_mode="enforce")
    events = [
        {"event_name": "unplanned_a", "user_id": "u1"},
        {
            "event_name": "unplanned_b",
            "user_id": "u1",
            "timestamp": "2026-01-01T00:00:00.000Z",
            "sent_at": "2026-01-01T00:00:10.000Z",
        },
    ]
    assert strict.post("/api/track", events).status_code == 400
    arrived = {i["raw"]: i["received_at"] for i in strict.get("/api/quarantine").json()["items"]}
    assert len(arrived) == 2
    time.sleep(1.2)  # the replay happens measurably later than the first arrival
    server.admin("workspaces.set_mode", name="strict_replay", plan_mode="warn")
    assert strict.post("/api/quarantine/replay", {"all": True}).json()["replayed"] == 2
    stored = {e["event_name"]: e for e in strict.events()}
    first = next(v for k, v in arrived.items() if "unplanned_a" in k)
    assert stored["unplanned_a"]["timestamp"] == first
    second = dt.datetime.fromisoformat(next(v for k, v in arrived.items() if "unplanned_b" in k))
    skew = second - dt.datetime(2026, 1, 1, 0, 0, 10, tzinfo=dt.UTC)
    expected = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + skew
    assert dt.datetime.fromisoformat(stored["unplanned_b"]["timestamp"]) == expected


def test_replay_of_a_quarantined_empty_array_is_still_rejected(tenant: Tenant) -> None:
    """An element that is itself `[]` is quarantined; replaying it explains, never a 500."""
    r = tenant.post("/api/track", [[], {"event_name": "signed_in", "user_id": "u1"}])
    assert r.status_code == 400
    assert r.json()["results"][0]["code"] == "invalid_event"
    replay = tenant.post("/api/quarantine/replay", {"all": True})
    assert replay.status_code == 200, replay.text
    assert replay.json()["still_rejected"] == 1
    assert replay.json()["results"][0]["code"] == "invalid_event"


def test_the_schema_lists_odd_property_keys(tenant: Tenant) -> None:
    """A key DuckDB's JSON paths cannot name ("") and a null value do not break the schema."""
    sent = {"event_name": "odd", "user_id": "u1", "properties": {"": 1, "a.b": "x", "n": None}}
    assert tenant.post("/api/track", [sent]).json()["accepted"] == 1
    answer = tenant.get("/api/schema", **{"from": "2000-01-01T00:00:00Z"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["events"] == [
        {
            "event_name": "odd",
            "count": 1,
            "properties": [
                {
                    "name": "",
                    "count": 1,
                    "types": ["number"],
                    "top_values": [{"value": 1, "count": 1}],
                },
                {
                    "name": "a.b",
                    "count": 1,
                    "types": ["string"],
                    "top_values": [{"value": "x", "count": 1}],
                },
                {"name": "n", "count": 1, "types": ["null"], "top_values": []},
            ],
        }
    ]
