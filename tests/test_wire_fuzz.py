"""Generated input to the Vero and Segment endpoints: always an answer in the format, never 5xx."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.strategies import JSON, SEGMENT_BATCH, SEGMENT_MESSAGE, VERO_EVENT, VERO_USER
from tests.support import ServerProcess, Tenant, new_tenant


@pytest.fixture(scope="module")
def fuzz_tenant(server: ServerProcess) -> Tenant:
    return new_tenant(server, "fuzz")


def send(tenant: Tenant, method: str, path: str, body: Any) -> httpx.Response:
    return httpx.request(
        method,
        tenant.server.url + path,
        content=json.dumps(body).encode(),
        headers={"x-api-key": tenant.write_key, "content-type": "application/json"},
        timeout=30,
    )


FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(
    path=st.sampled_from(
        [
            ("POST", "/api/v2/events/track", True),
            ("POST", "/api/v2/users/track", False),
            ("PUT", "/api/v2/users/edit", False),
            ("PUT", "/api/v2/users/reidentify", False),
        ]
    ),
    event=VERO_EVENT,
    user=VERO_USER,
    raw=JSON,
)
def test_vero_never_5xx(
    fuzz_tenant: Tenant, path: tuple[str, str, bool], event: Any, user: Any, raw: Any
) -> None:
    method, url, is_event = path
    for body in (event if is_event else user, raw):
        r = send(fuzz_tenant, method, url, body)
        assert r.status_code in (200, 400), r.text
        answer = r.json()
        assert answer["status"] == r.status_code and answer["message"]


@FUZZ
@given(
    call=st.sampled_from(["track", "identify", "group", "page", "screen", "alias"]),
    message=SEGMENT_MESSAGE,
    batch=SEGMENT_BATCH,
)
def test_segment_never_5xx(fuzz_tenant: Tenant, call: str, message: Any, batch: Any) -> None:
    for url, body in ((f"/v1/{call}", message), ("/v1/batch", batch)):
        r = send(fuzz_tenant, "POST", url, body)
        assert r.status_code in (200, 400), r.text
        answer = r.json()
        assert answer["success"] is (r.status_code == 200)
        if r.status_code == 400:
            assert answer["code"] and answer["message"]
