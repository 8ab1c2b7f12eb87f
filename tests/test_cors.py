"""CORS with real preflight requests: ingest endpoints answer, read endpoints never do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import ServerProcess, Tenant, new_tenant
from tracklog.http.cors import is_ingest_path, parse_origins

INGEST = [
    ("POST", "/api/track"),
    ("POST", "/api/identify"),
    ("POST", "/api/group"),
    ("POST", "/api/v2/events/track"),
    ("POST", "/api/v2/users/track"),
    ("PUT", "/api/v2/users/edit"),
    ("POST", "/v1/batch"),
    ("POST", "/v1/track"),
    ("POST", "/v1/t"),
]
READ = ["/api/events", "/api/quarantine", "/api/users/u1", "/healthz", "/openapi.json"]
ORIGIN = "https://app.example.com"


def preflight(url: str, path: str, method: str, origin: str = ORIGIN) -> httpx.Response:
    """The OPTIONS request a browser sends before a cross-origin POST with a key header."""
    return httpx.options(
        url + path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type, content-encoding",
        },
        timeout=30,
    )


@pytest.mark.parametrize(("method", "path"), INGEST)
def test_ingest_endpoints_answer_preflight(server: ServerProcess, method: str, path: str) -> None:
    r = preflight(server.url, path, method)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert method in r.headers["access-control-allow-methods"]
    allowed = r.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-encoding" in allowed
    assert "access-control-allow-credentials" not in r.headers


def test_cross_origin_post_stores_and_is_readable_by_the_page(tenant: Tenant) -> None:
    r = tenant.post(
        "/api/track",
        [{"event_name": "signed_in", "user_id": "u1"}],
        headers={"Origin": ORIGIN},
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    # analytics.js posts text/plain with the key in the body: a simple request, no preflight.
    r = httpx.post(
        tenant.server.url + "/v1/t",
        content=f'{{"writeKey": "{tenant.write_key}", "userId": "u1", "event": "x"}}',
        headers={"Origin": ORIGIN, "Content-Type": "text/plain"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == "*"
    assert len(tenant.events()) == 2


def test_ingest_without_origin_says_vary_origin_and_grants_nothing(tenant: Tenant) -> None:
    # A server-to-server post takes a shorter path than a browser's; a cache in between must
    # still know the answer depends on Origin, as it would from starlette's CORS.
    r = tenant.post("/api/track", [{"event_name": "signed_in", "user_id": "u-vary"}])
    assert r.status_code == 200, r.text
    assert r.headers.get_list("vary") == ["Origin"]
    assert not any(h.startswith("access-control-") for h in r.headers)
    assert r.json()["accepted"] == 1
    r = tenant.post(
        "/api/track",
        [{"event_name": "signed_in", "user_id": "u-vary"}],
        headers={"Origin": ORIGIN},
    )
    assert r.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path", READ)
def test_read_endpoints_send_no_cors_headers(tenant: Tenant, path: str) -> None:
    r = preflight(tenant.server.url, path, "GET")
    assert r.status_code in (404, 405), r.text  # a plain answer, not a preflight grant
    assert not any(h.startswith("access-control-") for h in r.headers)
    r = httpx.get(
        tenant.server.url + path,
        headers={"Origin": ORIGIN, "Authorization": f"Bearer {tenant.read_key}"},
        timeout=30,
    )
    assert r.status_code in (200, 404), r.text
    assert not any(h.startswith("access-control-") for h in r.headers)


def test_replay_is_not_a_browser_endpoint(server: ServerProcess) -> None:
    r = preflight(server.url, "/api/quarantine/replay", "POST")
    assert "access-control-allow-origin" not in r.headers


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose cors_origins names one origin (set by the environment variable)."""
    proc = ServerProcess(
        Path(tmp_path_factory.mktemp("cors")) / "data",
        env={"TRACKLOG_CORS_ORIGINS": f"{ORIGIN}, https://other.example/"},
    ).start()
    yield proc
    proc.stop()


def test_configured_origins_only(strict_server: ServerProcess) -> None:
    r = preflight(strict_server.url, "/v1/batch", "POST")
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert "Origin" in r.headers["vary"]
    r = preflight(strict_server.url, "/v1/batch", "POST", origin="https://other.example")
    assert r.headers["access-control-allow-origin"] == "https://other.example"

    r = preflight(strict_server.url, "/api/track", "POST", origin="https://evil.example")
    assert r.status_code == 400
    assert "access-control-allow-origin" not in r.headers
    assert r.json()["error"]["code"] == "cors_refused"
    assert "evil.example" in r.json()["error"]["message"]

    tenant = new_tenant(strict_server, "corsws")
    r = tenant.post(
        "/api/track",
        [{"event_name": "signed_in", "user_id": "u1"}],
        headers={"Origin": "https://evil.example"},
    )
    # The server stores it (CORS is the browser's rule); the browser won't show the answer.
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers


def test_settings_parsing() -> None:
    assert parse_origins("") == []
    assert parse_origins("*") == ["*"]
    assert parse_origins(" https://a.example/ ,https://b.example") == [
        "https://a.example",
        "https://b.example",
    ]
    assert is_ingest_path("/v1/batch") and is_ingest_path("/api/v2/users/edit")
    assert not is_ingest_path("/api/events") and not is_ingest_path("/api/quarantine/replay")


def test_openapi_lists_the_dialects(server: ServerProcess) -> None:
    paths = httpx.get(server.url + "/openapi.json", timeout=30).json()["paths"]
    for path in ("/api/v2/events/track", "/api/v2/users/edit", "/v1/batch", "/v1/alias"):
        assert path in paths
    assert "put" in paths["/api/v2/users/edit"]
    assert paths["/v1/batch"]["post"]["requestBody"]["required"] is True
