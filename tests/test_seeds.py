"""The seed documents' examples, sent verbatim to a real server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import Tenant

# Verbatim copies of ../shared/seeds, so the suite runs wherever the repo is cloned.
SEEDS = Path(__file__).resolve().parent / "seeds"


def seed(prefix: str) -> str:
    """The text of the seed file whose name starts with `prefix`."""
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text()


def code_blocks(text: str, lang: str) -> list[str]:
    """The fenced code blocks of one language in a Markdown text."""
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_seed_000_curl_verbatim(tenant: Tenant) -> None:
    """Seed 000's cURL, with only the host and the key replaced, stores the event."""
    command = code_blocks(seed("000"), "bash")[0]
    command = command.replace("https://api.app.thrivestack.ai", tenant.server.url)
    command = command.replace("<your_auth_token>", tenant.write_key)
    out = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=30, check=True
    )
    receipt = json.loads(out.stdout)
    assert receipt["accepted"] == 1 and receipt["rejected"] == 0
    (event,) = tenant.events()
    assert event["event_name"] == "signed_in"
    assert event["user_id"] == "3e474abe-5943-41fd-8b7b-4c87ad95b0c7"
    assert event["group_id"] == "55444abe-41fd-5943-d95b-4c87ad95b674"
    assert event["timestamp"] == "2024-10-20T15:51:35.059Z"
    assert event["properties"] == {"email": "JohnDoe@acmelabs.com", "user_name": "John Doe"}
    assert receipt["results"][0]["id"] == event["id"]


def test_seed_000_json_payload(tenant: Tenant) -> None:
    payload = code_blocks(seed("000"), "json")[0]
    r = tenant.post("/api/track", content=payload, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["warnings"] == []


def test_seed_001_sample_uses_event_and_context_group(tenant: Tenant) -> None:
    """Seed 001 writes `event` for the name and sends one object, not an array."""
    sample = code_blocks(seed("001"), "json")[0]
    r = tenant.post("/api/track", content=sample)
    assert r.status_code == 200, r.text
    (event,) = tenant.events()
    assert event["event_name"] == "Event Name"
    assert event["group_id"] == "account_123"
    assert event["timestamp"] == "2023-11-02T00:30:08.276Z"


# The same body to each wire format's endpoint: the JSON is read before the format is.
JSON_PATHS = {"native": "/api/track", "vero": "/api/v2/events/track", "segment": "/v1/track"}


@pytest.mark.parametrize("fmt", sorted(JSON_PATHS))
def test_seed_001_try_out_is_invalid_json(tenant: Tenant, fmt: str) -> None:
    """Seed 001's "Try out" sample misses a quote: a 400 that says where and what, nothing
    stored, in every wire format."""
    broken = code_blocks(seed("001"), "json")[1]
    r = tenant.post(JSON_PATHS[fmt], content=broken)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid_json"
    # `"event": "signed_in,` ends its line without the closing quote.
    assert error["message"] == (
        "The request body is not valid JSON: line 3, column 25: the string that starts at "
        'line 3, column 12 is not closed: a `"` is missing before the end of the line (a line '
        "break inside a string is written \\n)."
    )
    assert tenant.events() == []


def test_seed_001_try_out_with_the_quote_has_a_trailing_comma(tenant: Tenant) -> None:
    """Once the quote is added, the sample's next mistake: the comma after the last property."""
    fixed = code_blocks(seed("001"), "json")[1].replace('"signed_in,', '"signed_in",')
    r = tenant.post("/api/track", content=fixed)
    assert r.status_code == 400
    assert r.json()["error"]["message"] == (
        "The request body is not valid JSON: line 5, column 27: a trailing comma: remove the "
        "`,` before the closing `}` (JSON allows no comma after the last item)."
    )
    fixed = fixed.replace('"johndoe",', '"johndoe"')
    assert tenant.post("/api/track", content=fixed).status_code == 200
    assert tenant.events()[0]["event_name"] == "signed_in"


def test_seed_001_top_level_group_id(tenant: Tenant) -> None:
    """Seed 001's parameter table lists group_id at the top level."""
    r = tenant.post(
        "/api/track",
        [
            {
                "event_name": "signed_in",
                "user_id": "u1",
                "group_id": "acct_9",
                "timestamp": "2023-11-02T00:30:08.276Z",
            }
        ],
    )
    assert r.status_code == 200
    assert tenant.events()[0]["group_id"] == "acct_9"


def test_seed_002_two_digit_year_is_rejected_and_quarantined(tenant: Tenant) -> None:
    sample = code_blocks(seed("002"), "json")[0]
    r = tenant.post("/api/track", content=sample)
    assert r.status_code == 400
    result = r.json()["results"][0]
    assert result["status"] == "rejected"
    assert result["code"] == "invalid_timestamp"
    assert result["field"] == "timestamp"
    assert "20-11-23T22:28:55.111Z" in result["message"]
    assert tenant.events() == []
    (item,) = tenant.get("/api/quarantine").json()["items"]
    assert json.loads(item["raw"])["timestamp"] == "20-11-23T22:28:55.111Z"
    assert item["reasons"][0]["code"] == "invalid_timestamp"


def test_seed_002_sample_with_a_real_timestamp(tenant: Tenant) -> None:
    sample = json.loads(code_blocks(seed("002"), "json")[0])
    sample["timestamp"] = "2023-11-20T22:28:55.111Z"
    r = tenant.post("/api/track", [sample])
    assert r.status_code == 200, r.text
    assert tenant.events()[0]["properties"] == {"property1": "value1", "property2": "value2"}
