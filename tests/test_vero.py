"""Vero's Track API (seed 003) on a real server: the seed's examples and Vero's library."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import vero
from vero.client import Endpoint, VeroEndpoints

from tests.support import Tenant
from tests.test_seeds import seed

VERO_HOSTS = ("https://www.getvero.com", "https://api.getvero.com")


def seed_requests() -> list[tuple[str, dict[str, Any]]]:
    """Seed 003's example requests as (path, body): a `POST <url>` line, then its JSON."""
    block = re.findall(r"```\n(.*?)```", seed("003"), re.S)[0]
    found = []
    for url, body in re.findall(r"^POST (\S+)\n(\{.*?^\})", block, re.S | re.M):
        path = url
        for host in VERO_HOSTS:
            path = path.replace(host, "")
        found.append((path, json.loads(body)))
    return found


def with_token(body: dict[str, Any], token: str) -> bytes:
    """The example's JSON with the placeholder token replaced, otherwise as written."""
    assert body["auth_token"] == "your_auth_token"
    return json.dumps({**body, "auth_token": token}).encode()


def vero_post(tenant: Tenant, path: str, body: Any, method: str = "POST", **kw: Any) -> Any:
    """Send a Vero call as Vero's clients do: no auth header, the token in the body."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.request(
        method,
        tenant.server.url + path,
        content=content,
        headers={"content-type": "application/json", **kw.pop("headers", {})},
        timeout=30,
        **kw,
    )


def test_seed_003_examples_verbatim(tenant: Tenant) -> None:
    """Both seed examples, with a write key as auth_token, are stored and readable."""
    examples = seed_requests()
    assert len(examples) == 2
    for path, body in examples:
        assert path == "/api/v2/events/track"
        r = vero_post(tenant, path, with_token(body, tenant.write_key))
        assert r.status_code == 200, r.text
        assert r.json()["status"] == 200 and r.json()["message"] == "Success."
    tracks = tenant.events(type="track")
    assert [e["event_name"] for e in tracks] == ["user_signed_up", "user_signed_up"]
    assert {e["user_id"] for e in tracks} == {"1"}
    assert {e["source"] for e in tracks} == {"vero"}
    by_props = {json.dumps(e["properties"], sort_keys=True): e for e in tracks}
    assert set(by_props) == {"{}", json.dumps({"item": "Blue shoes", "price": 40.0})}
    assert tracks[0]["context"]["traits"] == {"email": "janedoe@getvero.com"}
    # The identity's email became the user's trait.
    identifies = tenant.events(type="identify")
    assert len(identifies) == 2
    assert identifies[0]["properties"] == {"email": "janedoe@getvero.com"}
    user = tenant.get("/api/users/1").json()
    assert user["traits"]["email"] == "janedoe@getvero.com"
    assert user["event_counts"]["user_signed_up"] == 2


def test_auth_token_in_query_string(tenant: Tenant) -> None:
    body = {"identity": {"id": 7}, "event_name": "signed_in"}
    r = vero_post(tenant, "/api/v2/events/track", body, params={"auth_token": tenant.write_key})
    assert r.status_code == 200, r.text
    (event,) = tenant.events()
    assert event["user_id"] == "7"  # Vero's docs send numeric ids


def test_auth_token_never_reaches_quarantine(tenant: Tenant) -> None:
    body = {"auth_token": tenant.write_key, "identity": {"id": "1"}, "data": {"a": 1}}
    r = vero_post(tenant, "/api/v2/events/track", body)
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "event_name"
    (item,) = tenant.get("/api/quarantine").json()["items"]
    assert item["source"] == "vero.event"
    assert tenant.write_key not in item["raw"]
    assert json.loads(item["raw"]) == {"identity": {"id": "1"}, "data": {"a": 1}}


def test_quarantined_vero_event_replays(tenant: Tenant) -> None:
    vero_post(tenant, "/api/v2/events/track", {"auth_token": tenant.write_key, "identity": {}})
    (item,) = tenant.get("/api/quarantine").json()["items"]
    fixed = {"identity": {"id": "u9", "email": "u9@example.com"}, "event_name": "signed_up"}
    r = tenant.post("/api/quarantine/replay", {"items": [{"id": item["id"], "raw": fixed}]})
    assert r.status_code == 200, r.text
    assert r.json()["replayed"] == 1
    (event,) = tenant.events(type="track")
    assert (event["event_name"], event["user_id"], event["source"]) == ("signed_up", "u9", "vero")


def test_development_mode_is_a_test_event(tenant: Tenant) -> None:
    """development_mode events are stored, hidden from reads unless include_test=true."""
    body = {
        "auth_token": tenant.write_key,
        "identity": {"id": "dev1"},
        "event_name": "signed_in",
        "development_mode": True,
    }
    assert vero_post(tenant, "/api/v2/events/track", body).status_code == 200
    assert tenant.events() == []
    (event,) = tenant.events(include_test="true")
    assert event["is_test"] is True and event["user_id"] == "dev1"


def test_extras_created_at_is_the_timestamp(tenant: Tenant) -> None:
    body = {
        "auth_token": tenant.write_key,
        "identity": {"id": 1000, "email": "test@example.com"},
        "event_name": "Viewed product",
        "data": {"product_name": "Red T-shirt"},
        "extras": {"source": "Segment.com", "created_at": "2023-05-30T04:46:31+0000"},
    }
    assert vero_post(tenant, "/api/v2/events/track", body).status_code == 200
    (event,) = tenant.events(type="track")
    assert event["timestamp"] == "2023-05-30T04:46:31.000Z"
    assert event["context"]["extras"]["source"] == "Segment.com"


def test_users_track_edit_and_reidentify(tenant: Tenant) -> None:
    token = tenant.write_key
    r = vero_post(
        tenant,
        "/api/v2/users/track",
        {"auth_token": token, "id": "u1", "email": "u1@example.com", "data": {"plan": "pro"}},
    )
    assert r.status_code == 200, r.text
    r = vero_post(
        tenant,
        "/api/v2/users/edit",
        {"auth_token": token, "id": "u1", "changes": {"plan": "team"}},
        method="PUT",
    )
    assert r.status_code == 200, r.text
    r = vero_post(
        tenant,
        "/api/v2/users/reidentify",
        {"auth_token": token, "id": "u1", "new_id": "user-1"},
        method="PUT",
    )
    assert r.status_code == 200, r.text
    traits = tenant.get("/api/users/u1").json()["traits"]
    assert traits == {"plan": "team", "email": "u1@example.com"}
    (alias,) = tenant.events(type="alias")
    assert (alias["user_id"], alias["anonymous_id"]) == ("user-1", "u1")
    assert alias["properties"] == {"previous_id": "u1"}


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/v2/events/track", b"{not json", 400, "invalid_json"),
        ("/api/v2/events/track", b"", 400, "empty_body"),
        ("/api/v2/events/track", b"[1, 2]", 400, "invalid_body"),
        ("/api/v2/events/track", {"identity": {"id": "1"}}, 400, "missing_field"),
        ("/api/v2/events/track", {"identity": "1", "event_name": "x"}, 400, "invalid_identity"),
        ("/api/v2/events/track", {"identity": {}, "event_name": "x"}, 400, "missing_field"),
        (
            "/api/v2/events/track",
            {"identity": {"id": "1"}, "event_name": "x", "data": [1]},
            400,
            "invalid_type",
        ),
        (
            "/api/v2/events/track",
            {"identity": {"id": "1"}, "event_name": "x", "extras": {"created_at": "soon"}},
            400,
            "invalid_timestamp",
        ),
        (
            "/api/v2/events/track",
            {"identity": {"id": "1"}, "event_name": "x", "development_mode": "maybe"},
            400,
            "invalid_type",
        ),
        (
            "/api/v2/events/track",
            {"identity": {"id": "1"}, "event_name": "x", "data": {"b": "x" * 40_000}},
            400,
            "event_too_large",
        ),
        ("/api/v2/users/track", {"data": {"a": 1}}, 400, "missing_field"),
        ("/api/v2/users/reidentify", {"new_id": "2"}, 400, "missing_field"),
        ("/api/v2/users/tags/edit", {"id": "1"}, 400, "missing_field"),
        ("/api/v2/users/tags/edit", {"id": "1", "add": "vip"}, 400, "invalid_type"),
        ("/api/v2/users/unsubscribe", {"email": None}, 400, "missing_field"),
    ],
)
def test_bad_input_gets_a_vero_shaped_400(
    tenant: Tenant, path: str, body: Any, status: int, code: str
) -> None:
    if isinstance(body, dict):
        body = {"auth_token": tenant.write_key, **body}
    method = "PUT" if path.endswith(("reidentify", "edit")) else "POST"
    headers = {} if isinstance(body, dict) else {"x-api-key": tenant.write_key}
    r = vero_post(tenant, path, body, method=method, headers=headers)
    assert r.status_code == status, r.text
    answer = r.json()
    assert answer["status"] == status
    assert answer["error"]["code"] == code
    assert answer["message"].endswith(".") and len(answer["message"]) > 15
    assert tenant.events(include_test="true") == []


def test_keys_are_checked_with_vero_shaped_answers(tenant: Tenant) -> None:
    body: dict[str, Any] = {"identity": {"id": "1"}, "event_name": "x"}
    r = vero_post(tenant, "/api/v2/events/track", body)
    assert r.status_code == 401
    assert r.json()["status"] == 401 and "auth_token" in r.json()["message"]
    r = vero_post(tenant, "/api/v2/events/track", {**body, "auth_token": "wrong"})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "invalid_key")
    r = vero_post(tenant, "/api/v2/events/track", {**body, "auth_token": tenant.read_key})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "wrong_scope")
    assert tenant.events() == []


def test_gzip_and_oversized_bodies(tenant: Tenant) -> None:
    body = {"auth_token": tenant.write_key, "identity": {"id": "g"}, "event_name": "signed_in"}
    r = vero_post(
        tenant,
        "/api/v2/events/track",
        gzip.compress(json.dumps(body).encode()),
        headers={"content-encoding": "gzip"},
    )
    assert r.status_code == 200, r.text
    huge = {**body, "data": {"x": "y" * 600_000}}
    r = vero_post(tenant, "/api/v2/events/track", huge)
    assert r.status_code == 413
    assert r.json()["status"] == 413 and r.json()["error"]["code"] == "body_too_large"
    assert len(tenant.events()) == 1


@pytest.fixture
def vero_at_server(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the `vero` library at the test server: only its URLs change, not its code.

    The library builds each endpoint's URL from `_BASE_URL` when it is imported, so the
    endpoints are rebuilt from the new base; methods and payloads stay the library's own.
    """
    old = VeroEndpoints._BASE_URL
    new = tenant.server.url + "/api/v2"
    monkeypatch.setattr(VeroEndpoints, "_BASE_URL", new)
    for name, value in list(vars(VeroEndpoints).items()):
        if isinstance(value, Endpoint):
            monkeypatch.setattr(
                VeroEndpoints, name, Endpoint(value.method, value.url.replace(old, new))
            )
    yield


@pytest.mark.usefixtures("vero_at_server")
def test_vero_library_delivers(tenant: Tenant) -> None:
    """Vero's own Python library (vero 2.0.1), pointed at Tracklog, delivers its calls."""
    logger = vero.VeroEventLogger(tenant.write_key)
    assert logger.heartbeat() is True
    r = logger.add_user(42, {"full_name": "Jane Doe"}, user_email="jane@example.com")
    assert r.status_code == 200, r.text
    r = logger.add_event("signed_in", {"email": "jane@example.com"}, 42)
    assert r.status_code == 200, r.text
    assert r.json() == {**r.json(), "status": 200, "message": "Success."}
    r = logger.edit_user(42, {"full_name": "Jane Q. Doe"})
    assert r.status_code == 200, r.text
    r = logger.reidentify_user(42, "jane")
    assert r.status_code == 200, r.text
    (event,) = tenant.events(type="track")
    assert (event["event_name"], event["user_id"]) == ("signed_in", "42")
    assert event["properties"] == {"email": "jane@example.com"}
    traits = tenant.get("/api/users/42").json()["traits"]
    assert traits == {"full_name": "Jane Q. Doe", "email": "jane@example.com"}
    (alias,) = tenant.events(type="alias")
    assert (alias["user_id"], alias["anonymous_id"]) == ("jane", "42")
    # Tags and subscriptions: every call the library makes has an endpoint.
    assert logger.add_tags("jane", ["beta", "vip"]).status_code == 200
    assert logger.remove_tags("jane", ["beta"]).status_code == 200
    tags = tenant.events(event_name="tags_edited")
    assert sorted((e["properties"]["add"], e["properties"]["remove"]) for e in tags) == [
        ([], ["beta"]),
        (["beta", "vip"], []),
    ]
    assert {e["user_id"] for e in tags} == {"jane"}
    assert logger.unsubscribe_user("jane").status_code == 200
    assert tenant.get("/api/users/jane").json()["traits"]["unsubscribed"] is True
    assert logger.resubscribe_user("jane").status_code == 200
    assert tenant.get("/api/users/jane").json()["traits"]["unsubscribed"] is False
    # Erasure needs an admin key; Vero's token is a write key: a clear 403, nothing deleted.
    r = logger.delete_user("jane")
    assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_scope"
    assert "admin key" in r.json()["message"]
    # A bad token through the library: Vero's 401 shape.
    r = vero.VeroEventLogger("not-a-key").add_event("x", {}, 1)
    assert r.status_code == 401 and r.json()["status"] == 401
