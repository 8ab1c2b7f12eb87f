"""Per-key rate limits (--rate-limit, --rate-limit-burst): 429 with Retry-After in every format."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import ServerProcess, Tenant, new_tenant
from tests.test_operations import scrape
from tracklog.cli.doctor import check_settings
from tracklog.http.rate_limit import RateLimited, RateLimiter
from tracklog.settings import Settings

RATE = 10.0
BURST = 20
# A batch this large drives a fresh key's bucket 20 events into debt: two seconds at RATE,
# ample time for the next requests to be refused however slow the machine.
DEBT = BURST + 20


class Clock:
    """A clock the test moves by hand, so the bucket's arithmetic is checked exactly."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_lets_a_big_batch_into_debt_then_refuses_until_it_is_paid() -> None:
    clock = Clock()
    limiter = RateLimiter(10, 20, clock)
    limiter.charge("k", 20)  # the whole burst
    with pytest.raises(RateLimited) as refused:
        limiter.check("k")
    assert refused.value.retry_after == 1
    clock.now = 0.5  # five tokens back
    limiter.charge("k", 45)  # a batch larger than the burst passes once: 40 in debt
    with pytest.raises(RateLimited) as refused:
        limiter.charge("k", 1)
    assert refused.value.retry_after == 4  # 40 tokens at 10/s
    limiter.charge("other", 20)  # buckets are per key
    clock.now = 4.6
    limiter.charge("k", 1)
    assert limiter.refused_requests == 2
    clock.now = 1000.0  # a quiet spell refills to the burst, no further
    limiter.charge("k", 20)
    with pytest.raises(RateLimited):
        limiter.check("k")


def test_rate_zero_never_refuses() -> None:
    limiter = RateLimiter(0)
    for _ in range(3):
        limiter.charge("k", 1_000_000)
    assert limiter.refused_requests == 0


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose write keys may send 10 events/s with bursts of 20."""
    data = Path(tmp_path_factory.mktemp("limited")) / "data"
    server = ServerProcess(
        data, extra_args=["--rate-limit", str(RATE), "--rate-limit-burst", str(BURST)]
    ).start()
    yield server
    server.stop()


_names = iter(range(1000))


@pytest.fixture
def tenant(limited: ServerProcess) -> Tenant:
    """A fresh workspace, so a fresh write key with a full bucket."""
    return new_tenant(limited, f"rl{next(_names)}")


def events(n: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {"event_name": "signed_in", "user_id": "u", "message_id": f"{prefix}{i}"} for i in range(n)
    ]


def assert_limited(r: httpx.Response) -> dict[str, Any]:
    """429, a Retry-After in whole seconds, and the error object with code rate_limited."""
    assert r.status_code == 429, r.text
    assert 1 <= int(r.headers["retry-after"]) <= 2
    body: dict[str, Any] = r.json()
    assert body["error"]["code"] == "rate_limited"
    return body


def exhaust(tenant: Tenant) -> None:
    """Spend the key's bucket and go into debt, with one native batch."""
    assert tenant.post("/api/track", events(DEBT, "debt")).status_code == 200


def test_native_track_is_limited_per_key_and_resumes_after_retry_after(tenant: Tenant) -> None:
    exhaust(tenant)
    refused = tenant.post("/api/track", events(5, "b"))
    assert_limited(refused)
    assert "rate limit" in refused.json()["error"]["message"]
    # Another workspace's key has its own bucket.
    other = new_tenant(tenant.server, f"rl{next(_names)}")
    assert other.post("/api/identify", {"user_id": "u", "traits": {}}).status_code == 200
    time.sleep(int(refused.headers["retry-after"]))
    assert tenant.post("/api/track", events(5, "b")).status_code == 200
    # The refused request stored nothing; the retry stored its five once.
    assert len(tenant.events()) == DEBT + 5


def test_segment_is_limited_with_header_and_body_keys(tenant: Tenant) -> None:
    url = tenant.server.url
    basic = "Basic " + base64.b64encode(f"{tenant.write_key}:".encode()).decode()
    batch = {"batch": [{"type": "track", "event": "signed_in", "userId": "u"}]}
    exhaust(tenant)
    body = assert_limited(
        httpx.post(f"{url}/v1/batch", json=batch, headers={"Authorization": basic})
    )
    assert body["success"] is False and body["code"] == "rate_limited"  # Segment's own shape
    # analytics.js puts the key in the body: limited just the same, once the body is read.
    in_body = {"writeKey": tenant.write_key, "event": "signed_in", "userId": "u"}
    assert_limited(httpx.post(f"{url}/v1/track", json=in_body))
    assert len(tenant.events()) == DEBT


def test_vero_is_limited_with_query_and_body_tokens(tenant: Tenant) -> None:
    url = tenant.server.url + "/api/v2/events/track"
    event = {"identity": {"id": "u"}, "event_name": "signed_in", "data": {}}
    exhaust(tenant)
    body = assert_limited(httpx.post(url, json={"auth_token": tenant.write_key, **event}))
    assert body["status"] == 429  # Vero's own shape
    assert_limited(httpx.post(url, json=event, params={"auth_token": tenant.write_key}))
    assert len(tenant.events()) == DEBT


def test_metrics_count_requests_refused_by_the_rate_limit(tenant: Tenant) -> None:
    before = scrape(tenant.server)["tracklog_rate_limited_requests_total{}"]
    exhaust(tenant)
    for _ in range(3):
        assert_limited(tenant.post("/api/track", events(1, "n")))
    assert scrape(tenant.server)["tracklog_rate_limited_requests_total{}"] == before + 3


def test_doctor_flags_negative_limits_and_a_connection_ceiling_below_the_request_limit() -> None:
    found = {(f.level, f.subject) for f in check_settings(Settings(rate_limit=-1))}
    assert ("problem", "rate_limit") in found
    found = {
        (f.level, f.subject)
        for f in check_settings(Settings(max_connections=64, max_concurrent_requests=128))
    }
    assert found == {("warning", "max_connections")}
    assert {f.level for f in check_settings(Settings())} == {"ok"}
