"""One person and one account, whatever the client sent (docs/analytics.md), on both stores.

Each test sends a small history through the real server in the wire formats where the case
comes from, and checks every endpoint that shows the number against a count made here by
hand from those events: the users list, a user's page, an account's users, search, trends.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import clickhouse_driver
import duckdb
import httpx
import pytest

from tests.clickhouse_server import ClickHouseServer
from tests.support import ServerProcess, Tenant
from tests.test_vero import vero_post


def segment(tenant: Tenant, *messages: dict[str, Any]) -> None:
    """POST a Segment batch as the libraries do: Basic auth with the write key as user."""
    auth = base64.b64encode(f"{tenant.write_key}:".encode()).decode()
    r = httpx.post(
        tenant.server.url + "/v1/batch",
        json={"batch": list(messages)},
        headers={"Authorization": f"Basic {auth}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text


def track(tenant: Tenant, *events: dict[str, Any], path: str = "/api/track") -> None:
    r = tenant.post(path, list(events))
    assert r.status_code == 200, r.text


def user_row(tenant: Tenant, user_id: str, **params: Any) -> dict[str, Any]:
    rows = [u for u in tenant.get("/api/users", limit=1000, **params).json()["users"]]
    (row,) = [u for u in rows if u["user_id"] == user_id]
    return row


def test_traits_merge_per_key_in_every_endpoint(tenant: Tenant) -> None:
    """A later identify with one key, or a group call without traits, erases nothing."""
    r = tenant.post(
        "/api/identify",
        {
            "user_id": "u1",
            "traits": {"email": "ada@acme.test", "name": "Ada"},
            "timestamp": "2026-05-01T10:00:00Z",
        },
    )
    assert r.status_code == 200, r.text
    tenant.post(
        "/api/identify",
        {"user_id": "u1", "traits": {"lifecycle": "customer"}, "timestamp": "2026-05-02T10:00:00Z"},
    )
    tenant.post(
        "/api/group",
        {
            "group_id": "g1",
            "user_id": "u1",
            "traits": {"account_name": "Acme", "plan": "pro"},
            "timestamp": "2026-05-01T10:00:00Z",
        },
    )
    tenant.post(
        "/api/group", {"group_id": "g1", "user_id": "u1", "timestamp": "2026-05-03T10:00:00Z"}
    )
    tenant.post(
        "/api/group",
        {"group_id": "g1", "traits": {"plan": "team"}, "timestamp": "2026-05-04T10:00:00Z"},
    )
    track(
        tenant,
        {
            "event_name": "signed_in",
            "user_id": "u1",
            "timestamp": "2026-05-05T10:00:00Z",
            "context": {"group_id": "g1"},
        },
    )
    row = user_row(tenant, "u1")
    assert (row["email"], row["name"]) == ("ada@acme.test", "Ada")
    page = tenant.get("/api/users/u1").json()
    assert page["traits"] == {"email": "ada@acme.test", "name": "Ada", "lifecycle": "customer"}
    (account,) = tenant.get("/api/accounts").json()["accounts"]
    assert account["name"] == "Acme"
    assert tenant.get("/api/accounts", q="acm").json()["accounts"][0]["group_id"] == "g1"
    one = tenant.get("/api/accounts/g1").json()
    assert one["account"]["traits"] == {"account_name": "Acme", "plan": "team"}
    (member,) = one["users"]
    assert (member["name"], member["email"]) == ("Ada", "ada@acme.test")
    assert [u["user_id"] for u in tenant.get("/api/users", q="ADA@acme").json()["users"]] == ["u1"]


def test_the_seeds_signed_in_names_the_person_and_the_account(tenant: Tenant) -> None:
    """Seed 000's signed_in carries email and user_name in its properties: they are traits."""
    track(
        tenant,
        {
            "event_name": "signed_in",
            "properties": {"email": "JohnDoe@acmelabs.com", "user_name": "John Doe"},
            "user_id": "3e474abe",
            "timestamp": "2024-10-20T15:51:35.059Z",
            "context": {"group_id": "55444abe"},
        },
        {
            "event_name": "feature_used",
            "properties": {"account_name": "Acme Labs", "feature": "export"},
            "user_id": "3e474abe",
            "timestamp": "2024-10-21T09:00:00Z",
            "context": {"group_id": "55444abe"},
        },
        {
            "event_name": "signed_in",
            "properties": {"email": "john@acmelabs.com"},
            "user_id": "3e474abe",
            "timestamp": "2024-10-19T09:00:00Z",  # older: the email of 10-20 still wins
        },
    )
    row = user_row(tenant, "3e474abe")
    assert (row["email"], row["name"]) == ("JohnDoe@acmelabs.com", "John Doe")
    assert tenant.get("/api/users", q="johndoe@").json()["users"][0]["user_id"] == "3e474abe"
    assert tenant.get("/api/accounts").json()["accounts"][0]["name"] == "Acme Labs"


def test_one_person_with_anonymous_history_and_test_events(tenant: Tenant) -> None:
    """The users list, the user's page and an account's users agree on every field."""
    track(
        tenant,
        {
            "event_name": "page_viewed",
            "anonymous_id": "anon-1",
            "timestamp": "2026-04-01T08:00:00Z",
        },
        {
            "event_name": "page_viewed",
            "anonymous_id": "anon-1",
            "timestamp": "2026-04-03T08:00:00Z",
        },
        {
            "event_name": "signed_up",
            "user_id": "u7",
            "anonymous_id": "anon-1",
            "timestamp": "2026-04-05T08:00:00Z",
            "context": {"group_id": "g7"},
        },
        {
            "event_name": "signed_in",
            "user_id": "u7",
            "timestamp": "2026-04-06T08:00:00Z",
            "context": {"group_id": "g7"},
        },
        {
            "event_name": "page_viewed",
            "anonymous_id": "anon-2",
            "timestamp": "2026-04-02T08:00:00Z",
        },
    )
    r = vero_post(
        tenant,
        "/api/v2/events/track",
        {
            "auth_token": tenant.write_key,
            "identity": {"id": "u7"},
            "event_name": "signed_in",
            "development_mode": True,
            "extras": {"created_at": "2026-04-07T08:00:00Z"},
        },
    )
    assert r.status_code == 200, r.text
    tenant.post(
        "/api/identify",
        {"user_id": "u7", "traits": {"email": "u7@x.test"}, "timestamp": "2026-04-09T08:00:00Z"},
    )
    # By hand: u7's activity is anon-1's two page views, signed_up and one signed_in (the
    # second is a test event); the identify is no activity, so last seen is 04-06.
    expected = {
        "events": 4,
        "sign_ins": 1,
        "first_seen": "2026-04-01T08:00:00.000Z",
        "last_seen": "2026-04-06T08:00:00.000Z",
        "anonymous": False,
        "email": "u7@x.test",
    }
    row = user_row(tenant, "u7")
    assert {k: row[k] for k in expected} == expected
    page = tenant.get("/api/users/u7").json()
    assert {k: page[k] for k in expected} == expected
    assert page["sign_in_count"] == 1
    assert page["anonymous_ids"] == ["anon-1"]
    assert page["groups"] == ["g7"]
    assert page["event_counts"] == {"page_viewed": 2, "signed_up": 1, "signed_in": 1}
    assert tenant.get("/api/users/anon-1").json()["user_id"] == "u7"
    (member,) = tenant.get("/api/accounts/g7").json()["users"]
    assert (member["events"], member["sign_ins"], member["last_seen"]) == (
        2,
        1,
        expected["last_seen"],
    )
    stranger = user_row(tenant, "anon-2")
    assert stranger["anonymous"] is True
    timeline = tenant.get("/api/users/u7/events").json()["events"]
    assert len(timeline) == 5  # the test event is left out; the identify is in
    # anon-1 is one person with u7 in counts of people too.
    top = {
        e["event_name"]: e["users"]
        for e in tenant.get(
            "/api/analytics/top-events",
            **{"from": "2026-03-01T00:00:00Z", "to": "2026-05-01T00:00:00Z"},
        ).json()["events"]
    }
    assert top["page_viewed"] == 2  # u7 (as anon-1) and anon-2


def test_an_event_with_no_sender_is_account_activity_but_nobody(tenant: Tenant) -> None:
    """A group call with neither a user id nor an anonymous id (a server-side CRM sync, say)
    is an event of the account, but no person: the account is listed, and the call is never
    one of its users, read from the rollup or from the events (`raw`)."""
    r = tenant.post(
        "/api/group",
        {"group_id": "g8", "traits": {"name": "Nobody Inc"}, "timestamp": "2026-04-06T08:00:00Z"},
    )
    assert r.status_code == 200, r.text
    track(
        tenant,
        {"event_name": "signed_in", "user_id": "u8", "context": {"group_id": "g8"},
         "timestamp": "2026-04-06T09:00:00Z"},
    )  # fmt: skip
    span = {"from": "2026-04-01T00:00:00Z", "to": "2026-04-07T00:00:00Z"}
    for raw in ("false", "true"):
        (row,) = tenant.get("/api/accounts", raw=raw, **span).json()["accounts"]
        assert (row["users"], row["active_users_7d"], row["active_users_30d"]) == (1, 1, 1), raw
        assert (row["events"], row["sign_ins"]) == (1, 1), raw
        assert row["last_seen"] == "2026-04-06T09:00:00.000Z", raw
        page = tenant.get("/api/accounts/g8", raw=raw, **span).json()
        assert page["account"]["users"] == 1, raw
        assert [u["user_id"] for u in page["users"]] == ["u8"], raw
        assert page["activity"][0]["events"] == page["activity"][0]["active_users"] == 1
        listed = tenant.get("/api/users", raw=raw, **span).json()
        assert [u["user_id"] for u in listed["users"]] == ["u8"] and listed["total"] == 1, raw


def test_vero_reidentify_moves_the_person(tenant: Tenant) -> None:
    """users/reidentify is a merge: the new id has the old id's history and traits."""
    token = tenant.write_key
    vero_post(
        tenant,
        "/api/v2/users/track",
        {"auth_token": token, "id": "old", "email": "o@x.test", "data": {"plan": "pro"}},
    )
    for day in ("01", "02"):
        r = vero_post(
            tenant,
            "/api/v2/events/track",
            {
                "auth_token": token,
                "identity": {"id": "old"},
                "event_name": "signed_in",
                "extras": {"created_at": f"2026-06-{day}T10:00:00Z"},
            },
        )
        assert r.status_code == 200, r.text
    r = vero_post(
        tenant,
        "/api/v2/users/reidentify",
        {"auth_token": token, "id": "old", "new_id": "new"},
        method="PUT",
    )
    assert r.status_code == 200, r.text
    page = tenant.get("/api/users/new").json()
    assert page["user_id"] == "new"
    assert page["merged_ids"] == ["old"]
    assert page["sign_ins"] == 2
    assert page["traits"]["email"] == "o@x.test"
    assert page["traits"]["plan"] == "pro"
    assert tenant.get("/api/users/old").json()["user_id"] == "new"
    assert [u["user_id"] for u in tenant.get("/api/users").json()["users"]] == ["new"]
    trend = tenant.get(
        "/api/analytics/trends",
        user_id="new",
        **{"from": "2026-06-01T00:00:00Z", "to": "2026-06-03T00:00:00Z"},
    ).json()
    assert trend["series"][0]["total"] == 2


def test_merges_chain_and_arrive_in_any_order(tenant: Tenant) -> None:
    """A → B then B → C: A's history is C's, even when the second alias arrives first."""
    segment(
        tenant,
        {"type": "track", "userId": "A", "event": "signed_in", "timestamp": "2026-07-01T00:00:00Z"},
        {"type": "track", "userId": "B", "event": "signed_in", "timestamp": "2026-07-02T00:00:00Z"},
        {"type": "alias", "previousId": "B", "userId": "C", "timestamp": "2026-07-04T00:00:00Z"},
    )
    segment(
        tenant,
        {"type": "alias", "previousId": "A", "userId": "B", "timestamp": "2026-07-03T00:00:00Z"},
        {"type": "identify", "userId": "A", "traits": {"email": "a@x.test"}},
    )
    page = tenant.get("/api/users/C").json()
    assert (page["sign_ins"], sorted(page["merged_ids"])) == (2, ["A", "B"])
    assert page["email"] == "a@x.test"
    assert [u["user_id"] for u in tenant.get("/api/users").json()["users"]] == ["C"]


def test_erasure_removes_the_persons_traits_and_links(
    server: ServerProcess, tenant: Tenant
) -> None:
    admin = server.admin("keys.create", workspace=tenant.name, scope="admin")["key"]
    track(
        tenant,
        {"event_name": "page_viewed", "anonymous_id": "a9", "timestamp": "2026-04-01T08:00:00Z"},
        {
            "event_name": "signed_up",
            "user_id": "u9",
            "anonymous_id": "a9",
            "properties": {"email": "u9@x.test"},
            "timestamp": "2026-04-02T08:00:00Z",
        },
    )
    assert tenant.get("/api/users/u9").json()["anonymous_ids"] == ["a9"]
    r = httpx.delete(
        server.url + "/api/users/u9", headers={"Authorization": f"Bearer {admin}"}, timeout=60
    )
    assert r.status_code == 200, r.text
    assert r.json()["deleted"]["events"] == 2
    assert tenant.get("/api/users/u9").status_code == 404
    assert tenant.get("/api/users/a9").status_code == 404
    assert tenant.get("/api/users", q="u9@").json()["users"] == []


@pytest.mark.parametrize("kind", ["duckdb", "clickhouse"])
def test_profiles_of_events_stored_before_them_are_built_at_start(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A data directory from before profiles existed: the first start builds them."""
    store = ""
    if kind == "clickhouse":
        store = request.getfixturevalue("clickhouse").url("upgrade")
    server = ServerProcess(tmp_path / "data", store=store).start()
    try:
        tenant = Tenant(server, "default", server.write_key, server.read_key)
        track(
            tenant,
            {
                "event_name": "page_viewed",
                "anonymous_id": "a1",
                "timestamp": "2026-04-01T08:00:00Z",
            },
            {
                "event_name": "signed_in",
                "user_id": "u1",
                "anonymous_id": "a1",
                "properties": {"email": "u1@x.test"},
                "timestamp": "2026-04-02T08:00:00Z",
            },
        )
        server.stop()
        forget_profiles(kind, tmp_path / "data", store)
        server.start()
        page = tenant.get("/api/users/u1").json()
        assert (page["email"], page["anonymous_ids"], page["events"]) == ("u1@x.test", ["a1"], 2)
        assert "building the profiles" in (tmp_path / f"server-{server.port}.log").read_text()
    finally:
        server.stop()


def test_clickhouse_links_more_ids_at_once_than_one_query_may_name(
    clickhouse: ClickHouseServer,
) -> None:
    """A first start's profile build links every id at once (100k+ in the query bench):
    the ids are looked up in parts, each under ClickHouse's 256 KiB query limit."""
    from tracklog.store.clickhouse import ClickHouseStore
    from tracklog.store.profiles import Link, ProfileFacts

    store = ClickHouseStore(clickhouse.url("many_ids"))
    store.setup()
    try:
        links = [Link("w", f"anon-{n:06d}", f"user-{n:06d}", False, 1) for n in range(25_000)]
        store.write([], [], ProfileFacts(links))
        found = store.identities_of("w", [link.id for link in links])
        assert len(found) == len(links)
        assert {i.person for i in found.values()} == {link.target for link in links}
    finally:
        store.close()


def forget_profiles(kind: str, data: Path, store: str) -> None:
    """Make the store look as an older version left it: events, and no profiles."""
    tables = ("identity_links", "identities", "traits", "meta")
    if kind == "duckdb":
        con = duckdb.connect(str(data / "tracklog.duckdb"))
        for table in tables:
            con.execute(f"DROP TABLE {table}")
        con.close()
        return
    url = urlparse(store)
    client = clickhouse_driver.Client(url.hostname, port=url.port, database=url.path.strip("/"))
    for table in tables:
        client.execute(f"DROP TABLE {table}")
    client.disconnect()
