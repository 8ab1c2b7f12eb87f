"""Segment's HTTP Tracking API on a real server, with Segment's own Python library as a client."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from typing import Any

import httpx
import pytest
from segment.analytics import Client

from tests.support import Tenant


def basic(key: str) -> dict[str, str]:
    """HTTP Basic with the write key as the user name and no password, as Segment's clients."""
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def seg_post(tenant: Tenant, call: str, body: Any, key: str | None = None, **kw: Any) -> Any:
    """POST a Segment call; Basic auth with the tenant's write key unless `key=""`."""
    headers = {"content-type": "application/json", **kw.pop("headers", {})}
    if key != "":
        headers.update(basic(key or tenant.write_key))
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        f"{tenant.server.url}/v1/{call}", content=content, headers=headers, timeout=30, **kw
    )


def one(tenant: Tenant, **filters: Any) -> dict[str, Any]:
    found = tenant.events(**filters)
    assert len(found) == 1, found
    return found[0]


def test_segment_library_delivers_each_call(tenant: Tenant) -> None:
    """segment-analytics-python, pointed at Tracklog by `host=`, delivers track/identify/…"""
    errors: list[Any] = []
    client = Client(
        tenant.write_key,
        host=tenant.server.url,
        sync_mode=True,
        on_error=lambda e, batch: errors.append(e),
    )
    when = dt.datetime(2024, 10, 20, 15, 51, 35, 59000, tzinfo=dt.UTC)
    client.track(
        "u1",
        "signed_in",
        {"email": "jo@acme.com"},
        context={"group_id": "acct1"},
        timestamp=when,
        message_id="msg-1",
    )
    client.identify("u1", {"email": "jo@acme.com", "name": "Jo"}, anonymous_id="anon-1")
    client.group("u1", "acct1", {"account_name": "Acme"})
    client.page("u1", "Docs", "Getting started", {"url": "https://acme.example/docs"})
    client.screen("u1", "Settings", "Billing")
    client.alias("anon-2", "u1")
    assert errors == []

    track = one(tenant, type="track")
    assert (track["event_name"], track["user_id"], track["message_id"]) == (
        "signed_in",
        "u1",
        "msg-1",
    )
    assert track["properties"] == {"email": "jo@acme.com"}
    assert track["original_timestamp"] == "2024-10-20T15:51:35.059Z"
    assert track["context"]["library"]["name"] == "analytics-python"
    assert track["source"] == "segment"
    # The library sends sentAt at the batch level; it reached the event.
    assert track["sent_at"] is not None

    identify = one(tenant, type="identify")
    assert (identify["user_id"], identify["anonymous_id"]) == ("u1", "anon-1")
    assert identify["properties"] == {"email": "jo@acme.com", "name": "Jo"}

    group = one(tenant, type="group")
    assert (group["group_id"], group["user_id"]) == ("acct1", "u1")
    assert group["properties"] == {"account_name": "Acme"}

    page = one(tenant, type="page")
    assert page["event_name"] == "Getting started"
    assert page["properties"] == {"category": "Docs", "url": "https://acme.example/docs"}

    screen = one(tenant, type="screen")
    assert screen["event_name"] == "Billing"

    alias = one(tenant, type="alias")
    assert (alias["user_id"], alias["anonymous_id"]) == ("u1", "anon-2")
    assert alias["properties"] == {"previous_id": "anon-2"}


def test_segment_library_batches_with_gzip(tenant: Tenant) -> None:
    """The library's background consumer, gzip on, batches 250 calls; all arrive once."""
    errors: list[Any] = []
    client = Client(
        tenant.write_key,
        host=tenant.server.url,
        gzip=True,
        upload_size=100,
        on_error=lambda e, batch: errors.append(e),
    )
    for i in range(250):
        client.track(f"user{i % 7}", "feature_used", {"feature_name": f"f{i}"})
    client.flush()
    client.shutdown()
    assert errors == []
    assert len(tenant.events(event_name="feature_used")) == 250


def test_a_visitor_who_signs_in_is_linked(tenant: Tenant) -> None:
    """Anonymous browsing, then identify with both ids: the stored identify links them."""
    r = seg_post(tenant, "page", {"anonymousId": "visitor-9", "name": "Pricing"})
    assert r.status_code == 200, r.text
    r = seg_post(
        tenant, "identify", {"userId": "u9", "anonymousId": "visitor-9", "traits": {"a": 1}}
    )
    assert r.status_code == 200, r.text
    page = one(tenant, type="page")
    assert (page["user_id"], page["anonymous_id"]) == (None, "visitor-9")
    identify = one(tenant, type="identify")
    assert (identify["user_id"], identify["anonymous_id"]) == ("u9", "visitor-9")
    assert tenant.get("/api/users/u9").json()["anonymous_ids"] == ["visitor-9"]
    # An alias links a second anonymous id; the user's timeline holds both visits.
    r = seg_post(tenant, "alias", {"userId": "u9", "previousId": "visitor-10"})
    assert r.status_code == 200, r.text
    r = seg_post(tenant, "track", {"anonymousId": "visitor-10", "event": "clicked_pricing"})
    assert r.status_code == 200, r.text
    timeline = tenant.get("/api/users/u9/events").json()["events"]
    assert {(e["type"], e["anonymous_id"]) for e in timeline} >= {
        ("page", "visitor-9"),
        ("track", "visitor-10"),
    }


def test_batch_context_merge_and_sent_at_skew(tenant: Tenant) -> None:
    """Batch context lies under each message's; sentAt corrects a client clock 1h fast."""
    now = dt.datetime.now(dt.UTC)
    skew = dt.timedelta(hours=1)
    body = {
        "writeKey": tenant.write_key,
        "context": {"library": {"name": "custom"}, "app": {"version": "1.0"}},
        "sentAt": (now + skew).isoformat(),
        "batch": [
            {
                "type": "track",
                "event": "signed_in",
                "userId": "u1",
                "timestamp": (now + skew - dt.timedelta(minutes=5)).isoformat(),
                "context": {"app": {"version": "2.0"}, "group_id": "g1"},
            },
        ],
    }
    r = seg_post(tenant, "batch", body, key="")
    assert r.status_code == 200, r.text
    assert r.json()["success"] is True
    event = one(tenant)
    assert event["context"] == {
        "library": {"name": "custom"},
        "app": {"version": "2.0"},
        "group_id": "g1",
    }
    stored = dt.datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    # About five minutes before it was received, not 55 minutes after.
    assert dt.timedelta(minutes=4) < now - stored < dt.timedelta(minutes=6)


def test_message_id_dedupes_retries(tenant: Tenant) -> None:
    msg = {"userId": "u1", "event": "signed_up", "messageId": "retry-me"}
    first = seg_post(tenant, "track", msg).json()["receipt"]
    again = seg_post(tenant, "batch", {"batch": [{**msg, "type": "track"}]}).json()["receipt"]
    assert (first["accepted"], again["duplicates"]) == (1, 1)
    assert len(tenant.events()) == 1


def test_write_key_in_body_and_never_in_quarantine(tenant: Tenant) -> None:
    r = seg_post(tenant, "track", {"writeKey": tenant.write_key, "event": "x"}, key="")
    assert r.status_code == 400
    answer = r.json()
    assert answer["success"] is False
    assert (answer["code"], answer["error"]["field"]) == ("missing_field", "userId")
    (item,) = tenant.get("/api/quarantine").json()["items"]
    assert item["source"] == "segment.track"
    assert json.loads(item["raw"]) == {"event": "x"}


def test_rejected_batch_messages_are_quarantined_and_replay(tenant: Tenant) -> None:
    """A batch answers 200; the rejected message is in the receipt and the quarantine."""
    body = {
        "context": {"library": {"name": "custom"}},
        "batch": [
            {"type": "track", "event": "signed_in", "userId": "u1"},
            {"type": "identify", "traits": {"email": "a@example.com"}},
            {"type": "launch", "userId": "u1"},
        ],
    }
    r = seg_post(tenant, "batch", body)
    assert r.status_code == 200, r.text
    receipt = r.json()["receipt"]
    assert [x["status"] for x in receipt["results"]] == ["accepted", "rejected", "rejected"]
    assert receipt["results"][1]["field"] == "userId"
    assert receipt["results"][2]["field"] == "type"
    items = tenant.get("/api/quarantine").json()["items"]
    assert len(items) == 2
    identify = next(i for i in items if json.loads(i["raw"])["type"] == "identify")
    # Kept with the batch's context, as replay needs it.
    assert json.loads(identify["raw"])["context"] == {"library": {"name": "custom"}}
    fixed = {**json.loads(identify["raw"]), "userId": "u1"}
    r = tenant.post("/api/quarantine/replay", {"items": [{"id": identify["id"], "raw": fixed}]})
    assert r.json()["replayed"] == 1, r.text
    replayed = one(tenant, type="identify")
    assert replayed["properties"] == {"email": "a@example.com"}
    assert replayed["context"] == {"library": {"name": "custom"}}


@pytest.mark.parametrize(
    ("call", "message", "code", "field"),
    [
        ("track", {"userId": "u1"}, "missing_field", "event"),
        ("track", {"event": "x"}, "missing_field", "userId"),
        ("track", {"event": "x", "userId": {"id": 1}}, "invalid_type", "userId"),
        (
            "track",
            {"event": "x", "userId": "u", "timestamp": "now"},
            "invalid_timestamp",
            "timestamp",
        ),
        ("track", {"event": "x", "userId": "u", "sentAt": 17}, "invalid_timestamp", "sentAt"),
        (
            "track",
            {"event": "x", "userId": "u", "properties": [1]},
            "invalid_properties",
            "properties",
        ),
        ("identify", {"userId": "u", "traits": "vip"}, "invalid_traits", "traits"),
        ("group", {"userId": "u"}, "missing_field", "groupId"),
        ("alias", {"userId": "u"}, "missing_field", "previousId"),
        (
            "track",
            {"event": "x", "userId": "u", "properties": {"b": "x" * 33_000}},
            "event_too_large",
            "",
        ),
    ],
)
def test_bad_messages_get_a_segment_shaped_400(
    tenant: Tenant, call: str, message: dict[str, Any], code: str, field: str
) -> None:
    r = seg_post(tenant, call, message)
    assert r.status_code == 400, r.text
    answer = r.json()
    assert answer["success"] is False
    assert answer["code"] == code
    assert answer["error"].get("field", "") == field
    assert answer["message"].endswith(".")
    assert tenant.events() == []
    assert len(tenant.get("/api/quarantine").json()["items"]) == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b"", 400, "empty_body"),
        (b"[]", 400, "invalid_body"),
        (b'{"batch": "x"}', 400, "invalid_body"),
        (b'{"sentAt": "x"}', 400, "invalid_body"),
        (b'{"batch": [], "context": 3}', 400, "invalid_body"),
        (b'{"batch": [' + b'{"type":"track"},' * 40_000 + b"1]}", 413, "body_too_large"),
    ],
)
def test_unreadable_batches(tenant: Tenant, body: bytes, status: int, code: str) -> None:
    r = seg_post(tenant, "batch", body)
    assert r.status_code == status, r.text
    assert (r.json()["success"], r.json()["code"]) == (False, code)
    assert r.json()["error"]["code"] == code


def test_keys_and_gzip(tenant: Tenant) -> None:
    msg = {"userId": "u1", "event": "signed_in"}
    r = seg_post(tenant, "track", msg, key="")
    assert (r.status_code, r.json()["code"]) == (401, "missing_key")
    assert "writeKey" in r.json()["message"]
    r = seg_post(tenant, "track", msg, key="wrong")
    assert (r.status_code, r.json()["code"]) == (401, "invalid_key")
    r = seg_post(tenant, "track", msg, key=tenant.read_key)
    assert (r.status_code, r.json()["code"]) == (403, "wrong_scope")
    assert tenant.events() == []
    r = seg_post(
        tenant,
        "batch",
        gzip.compress(json.dumps({"batch": [{**msg, "type": "track"}]}).encode()),
        headers={"content-encoding": "gzip"},
    )
    assert r.status_code == 200, r.text
    r = seg_post(tenant, "t", {**msg, "writeKey": tenant.write_key}, key="")
    assert r.status_code == 200, r.text  # analytics.js's short path, key in the body
    assert len(tenant.events()) == 2


# Where each Segment-protocol client may put the account of a call that is not a group call.
ACCOUNT_PLACES = {
    "context.groupId": {"context": {"groupId": "acct-a"}},
    "context.group_id": {"context": {"group_id": "acct-a"}},
    "groupId": {"groupId": "acct-a"},
}


@pytest.mark.parametrize("place", sorted(ACCOUNT_PLACES))
def test_every_call_reads_its_account(tenant: Tenant, place: str) -> None:
    """track, page, screen and identify take the account from `context.groupId`,
    `context.group_id` or a top-level `groupId`; a group call keeps its own `groupId`."""
    extra = ACCOUNT_PLACES[place]
    calls = {
        "track": {"event": "signed_in", "properties": {"email": "a@acme.io"}},
        "page": {"name": "Home"},
        "screen": {"name": "Settings"},
        "identify": {"traits": {"email": "a@acme.io"}},
    }
    for call, fields in calls.items():
        r = seg_post(tenant, call, {"userId": f"u-{call}", **fields, **extra})
        assert r.status_code == 200, r.text
        assert r.json()["receipt"]["results"][0]["warnings"] == [], r.text
    r = seg_post(
        tenant,
        "group",
        {"userId": "u-group", "groupId": "own", "context": {"groupId": "other"}, "traits": {}},
    )
    assert r.status_code == 200, r.text
    found = {e["user_id"]: e["group_id"] for e in tenant.events()}
    assert found == {
        "u-track": "acct-a",
        "u-page": "acct-a",
        "u-screen": "acct-a",
        "u-identify": "acct-a",
        "u-group": "own",
    }


def test_an_account_of_the_wrong_type_names_the_field_it_came_in(tenant: Tenant) -> None:
    r = seg_post(tenant, "track", {"userId": "u", "event": "x", "context": {"groupId": [1]}})
    assert r.status_code == 400
    assert (r.json()["code"], r.json()["error"]["field"]) == ("invalid_type", "context.groupId")


def test_warnings_name_the_fields_of_the_format_the_event_came_in(tenant: Tenant) -> None:
    """A `signed_in` with no account: each format is told its own field (Vero has none: it is
    told where to send the event instead); a property of the wrong type likewise."""
    native = tenant.post(
        "/api/track", [{"event_name": "signed_in", "user_id": "u", "properties": {"email": 5}}]
    )
    warnings = native.json()["results"][0]["warnings"]
    assert [(w["code"], w["field"]) for w in warnings] == [
        ("missing_group", "context.group_id"),
        ("wrong_property_type", "properties.email"),
    ]
    assert "`context.group_id`" in warnings[0]["message"]

    seg = seg_post(
        tenant, "track", {"userId": "u", "event": "signed_in", "properties": {"email": 5}}
    )
    warnings = seg.json()["receipt"]["results"][0]["warnings"]
    assert [(w["code"], w["field"]) for w in warnings] == [
        ("missing_group", "context.groupId"),
        ("wrong_property_type", "properties.email"),
    ]
    assert warnings[0]["message"] == (
        "`signed_in` should say which account it belongs to in `context.groupId` "
        "(or a top-level `groupId`)."
    )
    unplanned = seg_post(tenant, "track", {"userId": "u", "event": "sgned_in"})
    assert unplanned.json()["receipt"]["results"][0]["warnings"][0]["field"] == "event"

    vero = httpx.post(
        tenant.server.url + "/api/v2/events/track",
        json={
            "auth_token": tenant.write_key,
            "identity": {"id": "u"},
            "event_name": "signed_in",
            "data": {"email": 5},
        },
        timeout=30,
    )
    warnings = vero.json()["receipt"]["results"][0]["warnings"]
    assert [(w["code"], w["field"]) for w in warnings] == [
        ("missing_group", "event_name"),
        ("wrong_property_type", "data.email"),
    ]
    assert "Vero's format has no account field" in warnings[0]["message"]
    assert "`context.groupId`" in warnings[0]["message"]


def test_identify_traits_only_in_context_traits_are_kept(tenant: Tenant) -> None:
    """RudderStack's Python SDK sends identify traits in `context.traits` only; an identify's
    own `traits` win when it has both."""
    r = seg_post(tenant, "identify", {"userId": "r1", "context": {"traits": {"email": "r@x.io"}}})
    assert r.status_code == 200, r.text
    r = seg_post(
        tenant,
        "identify",
        {"userId": "r2", "traits": {"plan": "pro"}, "context": {"traits": {"plan": "free"}}},
    )
    assert r.status_code == 200, r.text
    r = tenant.post("/api/identify", [{"user_id": "n1", "context": {"traits": {"name": "N"}}}])
    assert r.status_code == 200, r.text
    found = {e["user_id"]: e["properties"] for e in tenant.events(type="identify")}
    assert found == {"r1": {"email": "r@x.io"}, "r2": {"plan": "pro"}, "n1": {"name": "N"}}


def test_segment_library_account_in_context_group_id(tenant: Tenant) -> None:
    """segment-analytics-python with the account where Segment documents it."""
    errors: list[Any] = []
    client = Client(
        tenant.write_key,
        host=tenant.server.url,
        sync_mode=True,
        on_error=lambda e, batch: errors.append(e),
    )
    client.track("u1", "signed_in", {"email": "jo@acme.com"}, context={"groupId": "acct-seg"})
    client.page("u1", "Docs", "Home", context={"groupId": "acct-seg"})
    assert errors == []
    assert {e["type"]: e["group_id"] for e in tenant.events()} == {
        "track": "acct-seg",
        "page": "acct-seg",
    }


def test_rudderstack_python_sdk(tenant: Tenant) -> None:
    """rudder-sdk-python 2.1.9, pointed at Tracklog as its data plane: the account in
    `context.groupId` lands in group_id, and identify traits (sent only in context.traits)
    are the identify's traits."""
    from rudderstack.analytics import Client as RudderClient

    errors: list[Any] = []
    client = RudderClient(
        tenant.write_key,
        host=tenant.server.url,
        sync_mode=True,
        on_error=lambda e, batch: errors.append(e),
    )
    client.track("u1", "signed_in", {"email": "jo@acme.com"}, context={"groupId": "acct-r"})
    client.identify("u1", {"email": "jo@acme.com", "name": "Jo"})
    client.group("u1", "acct-r", {"account_name": "Acme"})
    assert errors == []
    track = one(tenant, type="track")
    assert (track["group_id"], track["context"]["library"]["name"]) == (
        "acct-r",
        "analytics-python",
    )
    identify = one(tenant, type="identify")
    assert identify["properties"] == {"email": "jo@acme.com", "name": "Jo"}
    group = one(tenant, type="group")
    assert (group["group_id"], group["properties"]) == ("acct-r", {"account_name": "Acme"})
