"""Every rejection the Track API promises: a code, the field, a sentence; nothing lost."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from typing import Any

import pytest

from tests.support import Tenant

GOOD: dict[str, Any] = {
    "event_name": "signed_in",
    "user_id": "u1",
    "properties": {"email": "a@example.com", "user_name": "A"},
    "timestamp": "2024-10-20T15:51:35.059Z",
    "context": {"group_id": "g1"},
}


def with_(**changes: Any) -> dict[str, Any]:
    event = {**GOOD, **changes}
    return {k: v for k, v in event.items() if v is not ...}


@pytest.mark.parametrize(
    ("event", "code", "field"),
    [
        (with_(user_id=...), "missing_field", "user_id"),
        (with_(user_id=""), "missing_field", "user_id"),
        (with_(event_name=...), "missing_field", "event_name"),
        (with_(event_name=42), "invalid_type", "event_name"),
        (with_(event_name="x" * 256), "name_too_long", "event_name"),
        (with_(timestamp="20-11-23T22:28:55.111Z"), "invalid_timestamp", "timestamp"),
        (with_(timestamp="yesterday"), "invalid_timestamp", "timestamp"),
        (with_(timestamp=1700000000), "invalid_timestamp", "timestamp"),
        (with_(timestamp="2024-13-45T99:00:00Z"), "invalid_timestamp", "timestamp"),
        (with_(timestamp="2024-02-30T10:00:00.000Z"), "invalid_timestamp", "timestamp"),
        (with_(properties="email=a@example.com"), "invalid_properties", "properties"),
        (with_(properties=[1, 2]), "invalid_properties", "properties"),
        (with_(context="web"), "invalid_context", "context"),
        (with_(user_id={"id": 1}), "invalid_type", "user_id"),
        (with_(properties={"blob": "x" * 33_000}), "event_too_large", ""),
        ("signed_in", "invalid_event", ""),
    ],
)
def test_rejections_have_code_field_and_sentence(
    tenant: Tenant, event: Any, code: str, field: str
) -> None:
    r = tenant.post("/api/track", [event, GOOD])
    assert r.status_code == 400, r.text
    body = r.json()
    bad, good = body["results"]
    assert (bad["status"], bad["code"], bad["field"]) == ("rejected", code, field)
    assert len(bad["message"]) > 20 and bad["message"].endswith(".")
    # The good one in the same batch is stored anyway (like Mixpanel's strict import).
    assert good["status"] == "accepted"
    assert body["accepted"] == 1 and body["rejected"] == 1
    assert len(tenant.events()) == 1
    # The rejected one is kept, with its raw JSON and the reason.
    (item,) = tenant.get("/api/quarantine").json()["items"]
    assert item["reasons"][0]["code"] == code
    assert json.loads(item["raw"]) == event


def test_integer_user_id_is_accepted_as_text(tenant: Tenant) -> None:
    assert tenant.post("/api/track", [with_(user_id=12345)]).status_code == 200
    assert tenant.events()[0]["user_id"] == "12345"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"", 400, "empty_body"),
        (b"   ", 400, "empty_body"),
        (b"not json", 400, "invalid_json"),
        (b'[{"event_name": "a", "user_id": "u"}', 400, "invalid_json"),
        (b"42", 400, "invalid_body"),
        (b'"signed_in"', 400, "invalid_body"),
        (b"null", 400, "invalid_body"),
        (b"\xff\xfe[]", 400, "invalid_json"),
        (b'[{"a": NaN}]', 400, "invalid_json"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "invalid_json"),
    ],
)
def test_unreadable_bodies(tenant: Tenant, body: bytes, status: int, code: str) -> None:
    r = tenant.post("/api/track", content=body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert tenant.events() == []
    assert tenant.get("/api/quarantine").json()["items"] == []


def test_empty_array_is_an_empty_receipt(tenant: Tenant) -> None:
    r = tenant.post("/api/track", [])
    assert r.status_code == 200
    assert r.json() == {"results": [], "accepted": 0, "duplicates": 0, "rejected": 0}


def test_batch_over_limit_is_refused_whole(tenant: Tenant) -> None:
    events = [with_(user_id=f"u{i}", properties={"pad": "x" * 1000}) for i in range(600)]
    r = tenant.post("/api/track", events)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "body_too_large"
    assert tenant.events() == []


def test_gzip_body_is_accepted(tenant: Tenant) -> None:
    body = gzip.compress(json.dumps([GOOD, with_(user_id="u2")]).encode())
    r = tenant.post("/api/track", content=body, headers={"content-encoding": "gzip"})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2


def test_gzip_bomb_is_capped_after_decompression(tenant: Tenant) -> None:
    bomb = gzip.compress(b"[" + b" " * 50_000_000 + b"]")
    assert len(bomb) < 100_000
    r = tenant.post("/api/track", content=bomb, headers={"content-encoding": "gzip"})
    assert r.status_code == 413
    assert "after decompression" in r.json()["error"]["message"]


def test_bad_gzip_and_unknown_encoding(tenant: Tenant) -> None:
    r = tenant.post("/api/track", content=b"not gzip", headers={"content-encoding": "gzip"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_encoding")
    r = tenant.post("/api/track", content=b"[]", headers={"content-encoding": "br"})
    assert (r.status_code, r.json()["error"]["code"]) == (415, "unsupported_encoding")


def test_timestamps_with_offsets_are_stored_as_utc(tenant: Tenant) -> None:
    tenant.post("/api/track", [with_(timestamp="2024-10-20T21:21:35.059+05:30")])
    assert tenant.events()[0]["timestamp"] == "2024-10-20T15:51:35.059Z"


def test_missing_timestamp_means_time_received(tenant: Tenant) -> None:
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    tenant.post("/api/track", [with_(timestamp=...)])
    (event,) = tenant.events()
    stored = dt.datetime.fromisoformat(event["timestamp"].rstrip("Z"))
    assert abs((stored - before).total_seconds()) < 5
    assert event["original_timestamp"] is None


def test_implausible_timestamps_warn_but_are_stored_as_sent(tenant: Tenant) -> None:
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    r = tenant.post(
        "/api/track",
        [with_(timestamp=future), with_(user_id="u2", timestamp="1999-12-31T23:59:59Z")],
    )
    assert r.status_code == 200
    codes = [[w["code"] for w in res["warnings"]] for res in r.json()["results"]]
    assert codes == [["timestamp_in_future"], ["timestamp_too_old"]]
    stamps = sorted(e["timestamp"] for e in tenant.events())
    assert stamps[0] == "1999-12-31T23:59:59.000Z"


def test_sent_at_corrects_client_clock_skew(tenant: Tenant) -> None:
    """A client whose clock runs 1 hour fast: its timestamp is moved back by the skew."""
    now = dt.datetime.now(dt.UTC)
    fast = now + dt.timedelta(hours=1)
    event = with_(timestamp=(fast - dt.timedelta(minutes=5)).isoformat(), sent_at=fast.isoformat())
    assert tenant.post("/api/track", [event]).status_code == 200
    (stored,) = tenant.events()
    corrected = dt.datetime.fromisoformat(stored["timestamp"].rstrip("Z"))
    expected = (now - dt.timedelta(minutes=5)).replace(tzinfo=None)
    assert abs((corrected - expected).total_seconds()) < 5
    assert stored["original_timestamp"] != stored["timestamp"]
    assert stored["sent_at"] is not None


def test_one_request_has_one_time_received(tenant: Tenant) -> None:
    # The stored part of a batch and its quarantined element were received at the same
    # moment: the request reads the clock once. (Decoding 1,000 events takes milliseconds,
    # so two readings, before and after it, would differ.)
    batch = [with_(user_id=f"u{i}", timestamp=...) for i in range(1000)]
    r = tenant.post("/api/track", [*batch, with_(user_id=...)])
    assert r.status_code == 400, r.text
    stored = {e["received_at"] for e in tenant.events()}
    (kept,) = tenant.get("/api/quarantine").json()["items"]
    assert stored == {kept["received_at"]}
