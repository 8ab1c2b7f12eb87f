"""The hand list of hostile bodies, sent to a real server in every wire format.

Invalid UTF-8, 10k-deep nesting, numbers past any float or 64-bit integer, NaN and Infinity,
duplicate keys, timestamps outside the calendar, 10 MB bodies, gzip bombs, wrong content types,
empty bodies, query ranges at the calendar's ends: each gets a clear answer (a code, the
field where there is one, a sentence), never a 5xx, and the server answers /healthz after
every one. (Slow bodies: tests/test_overload.py.)
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import ServerProcess, Tenant, new_tenant

FORMATS = ("native", "vero", "segment")
PATHS = {"native": "/api/track", "vero": "/api/v2/events/track", "segment": "/v1/batch"}
# One event in each format, with @FIELD@ holes for raw JSON bytes.
TEMPLATES = {
    "native": b'[{"event_name": @NAME@, "user_id": @USER@, "properties": @PROPS@, '
    b'"timestamp": @TS@, "sent_at": @SENT@, "context": {"group_id": "g1"}}]',
    "vero": b'{"identity": {"id": @USER@}, "event_name": @NAME@, "data": @PROPS@, '
    b'"extras": {"created_at": @TS@}}',
    "segment": b'{"batch": [{"type": "track", "event": @NAME@, "userId": @USER@, '
    b'"properties": @PROPS@, "timestamp": @TS@, "sentAt": @SENT@, "groupId": "g1"}]}',
}
NAME_KEY = {"native": "event_name", "vero": "event_name", "segment": "event"}
TS_FIELD = {"native": "timestamp", "vero": "extras.created_at", "segment": "timestamp"}
SENT_FIELD = {"native": "sent_at", "segment": "sentAt"}
DEEP = 10_000


def body(
    fmt: str,
    name: bytes = b'"signed_in"',
    user: bytes = b'"u1"',
    props: bytes = b"{}",
    ts: bytes = b'"2024-10-20T15:51:35.059Z"',
    sent: bytes = b"null",
) -> bytes:
    """One event in format `fmt`, its fields given as raw JSON (or not-quite-JSON) bytes."""
    out = TEMPLATES[fmt]
    for hole, value in (
        (b"@NAME@", name),
        (b"@USER@", user),
        (b"@PROPS@", props),
        (b"@TS@", ts),
        (b"@SENT@", sent),
    ):
        out = out.replace(hole, value)
    return out


def send(tenant: Tenant, fmt: str, content: bytes | Iterator[bytes], **headers: str) -> Any:
    """POST `content` in format `fmt`; check the answer is a 4xx-or-2xx JSON and /healthz."""
    r = httpx.post(
        tenant.server.url + PATHS[fmt],
        content=content,
        headers={"x-api-key": tenant.write_key, "content-type": "application/json", **headers},
        timeout=30,
    )
    assert r.status_code < 500, r.text
    assert r.headers["content-type"].startswith("application/json"), r.headers
    healthy(tenant.server)
    return r


def healthy(server: ServerProcess) -> None:
    """The server still answers at once, and its process is alive."""
    assert server.proc is not None and server.proc.poll() is None, "the server died"
    r = httpx.get(server.url + "/healthz", timeout=5)
    assert r.status_code == 200, r.text


def outcome(r: httpx.Response) -> tuple[str, str | None, str]:
    """(code or 'accepted', field, message) of a one-event request in any format."""
    answer = r.json()
    if "error" in answer:
        error = answer["error"]
        assert error["message"].endswith("."), error
        return error["code"], error.get("field"), error["message"]
    receipt = answer.get("receipt", answer)
    first = receipt["results"][0]
    if first["status"] == "rejected":
        return first["code"], first["field"], first["message"]
    assert r.status_code == 200
    return first["status"], None, ""


@pytest.fixture(scope="module")
def hostile(server: ServerProcess) -> Tenant:
    return new_tenant(server, "hostile")


BAD_UTF8 = b"\xc3\x28"  # a lead byte with no continuation
ELEMENT_CASES: dict[str, tuple[dict[str, bytes], set[str]]] = {
    "utf8_in_name": ({"name": b'"sign' + BAD_UTF8 + b'"'}, {"invalid_json"}),
    "utf8_in_array_element": (
        {"props": b'{"tags": ["ok", "x' + BAD_UTF8 + b'"]}'},
        {"invalid_json"},
    ),
    "utf8_in_key": ({"props": b'{"k' + b"\xff" + b'": 1}'}, {"invalid_json"}),
    "deep_objects": ({"props": b'{"a": ' * DEEP + b"1" + b"}" * DEEP}, {"invalid_json"}),
    "deep_arrays": ({"props": b'{"a": ' + b"[" * DEEP + b"]" * DEEP + b"}"}, {"invalid_json"}),
    "float_overflow": ({"props": b'{"x": 1e400}'}, {"invalid_properties", "invalid_json"}),
    "negative_overflow": ({"props": b'{"x": -1e400}'}, {"invalid_properties", "invalid_json"}),
    "nan": ({"props": b'{"x": NaN}'}, {"invalid_json"}),
    "infinity": ({"props": b'{"x": Infinity}'}, {"invalid_json"}),
    "minus_infinity": ({"props": b'{"x": -Infinity}'}, {"invalid_json"}),
    "lone_surrogate": ({"name": b'"a\\ud800"'}, {"invalid_json"}),
    "name_not_text": ({"name": b"1e400"}, {"invalid_json", "invalid_type"}),
}


@pytest.mark.parametrize("case", sorted(ELEMENT_CASES))
@pytest.mark.parametrize("fmt", FORMATS)
def test_unreadable_events_are_refused_with_a_code(hostile: Tenant, fmt: str, case: str) -> None:
    fields, codes = ELEMENT_CASES[case]
    r = send(hostile, fmt, body(fmt, **fields))
    code, _field, message = outcome(r)
    assert code in codes, r.text
    assert len(message) > 20


@pytest.mark.parametrize("fmt", FORMATS)
def test_invalid_utf8_at_top_level(hostile: Tenant, fmt: str) -> None:
    for content in (b"\xff\xfe" + body(fmt), body(fmt)[:-1] + b"\xff" + body(fmt)[-1:]):
        r = send(hostile, fmt, content)
        assert r.status_code == 400
        assert outcome(r)[0] == "invalid_json", r.text


@pytest.mark.parametrize("fmt", FORMATS)
def test_deep_nesting_of_the_whole_body(hostile: Tenant, fmt: str) -> None:
    for content in (b"[" * DEEP + b"]" * DEEP, b'{"a": ' * DEEP + b"1" + b"}" * DEEP):
        r = send(hostile, fmt, content)
        assert r.status_code == 400
        assert outcome(r)[0] in ("invalid_json", "invalid_body"), r.text


@pytest.mark.parametrize("fmt", FORMATS)
def test_huge_integers_are_kept_exactly(hostile: Tenant, fmt: str) -> None:
    """Integers past 64 bits are JSON too: stored as sent, not rounded and not an error."""
    user = f"big-{fmt}"
    props = f'{{"big": {2**70}, "small": {-(2**70)}, "edge": {2**64}}}'.encode()
    r = send(hostile, fmt, body(fmt, user=f'"{user}"'.encode(), props=props))
    assert outcome(r)[0] == "accepted", r.text
    (event,) = hostile.events(user_id=user)
    assert event["properties"] == {"big": 2**70, "small": -(2**70), "edge": 2**64}
    # An id sent as a 70-bit integer is kept as its exact decimal text.
    r = send(
        hostile, fmt, body(fmt, user=str(2**70 + 1).encode(), props=f'{{"f": "{fmt}"}}'.encode())
    )
    assert outcome(r)[0] == "accepted", r.text
    assert hostile.events(user_id=str(2**70 + 1))


@pytest.mark.parametrize("fmt", FORMATS)
def test_duplicate_keys_take_the_last_value(hostile: Tenant, fmt: str) -> None:
    user = f"dup-{fmt}"
    name = f'"first", "{NAME_KEY[fmt]}": "second"'.encode()
    r = send(
        hostile, fmt, body(fmt, name=name, user=f'"{user}"'.encode(), props=b'{"k": 1, "k": 2}')
    )
    assert outcome(r)[0] == "accepted", r.text
    (event,) = hostile.events(user_id=user)
    assert (event["event_name"], event["properties"]) == ("second", {"k": 2})


TIMESTAMP_CASES = [
    "0000-01-01T00:00:00Z",  # year 0 is not in the calendar
    "99999-01-01T00:00:00Z",
    "20-11-23T22:28:55.111Z",  # seed 002
    "0001-01-01T00:00:00+01:00",  # year 0 in UTC
    "9999-12-31T23:59:59-01:00",  # year 10000 in UTC
    "2024-02-30T00:00:00Z",
    "2024-10-20T25:00:00Z",
    "2024-10-20T15:51:35+99:00",
]


@pytest.mark.parametrize("stamp", TIMESTAMP_CASES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_timestamps_out_of_range(hostile: Tenant, fmt: str, stamp: str) -> None:
    r = send(hostile, fmt, body(fmt, ts=f'"{stamp}"'.encode()))
    code, field, message = outcome(r)
    assert (code, field) == ("invalid_timestamp", TS_FIELD[fmt]), r.text
    assert stamp[:16] in message


@pytest.mark.parametrize("fmt", ["native", "segment"])
def test_clock_skew_correction_that_leaves_the_calendar(hostile: Tenant, fmt: str) -> None:
    """A sent_at near year 9999 would move an old timestamp before year 1: the field is named."""
    for ts, sent in (
        (b'"0001-01-02T00:00:00Z"', b'"9999-12-31T00:00:00Z"'),
        (b'"9999-12-30T00:00:00Z"', b'"0001-01-01T00:00:00Z"'),
    ):
        r = send(hostile, fmt, body(fmt, ts=ts, sent=sent))
        assert outcome(r)[:2] == ("invalid_timestamp", SENT_FIELD[fmt]), r.text


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_calendars_first_and_last_days_are_accepted(hostile: Tenant, fmt: str) -> None:
    for stamp, warning in (
        ("0001-01-01T00:00:00Z", "timestamp_too_old"),
        ("9999-12-31T23:59:59.999Z", "timestamp_in_future"),
    ):
        r = send(
            hostile, fmt, body(fmt, ts=f'"{stamp}"'.encode(), props=f'{{"f": "{fmt}"}}'.encode())
        )
        assert outcome(r)[0] == "accepted", r.text
        receipt = r.json().get("receipt", r.json())
        assert warning in [w["code"] for w in receipt["results"][0]["warnings"]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_and_blank_bodies(hostile: Tenant, fmt: str) -> None:
    for content in (b"", b" \r\n\t "):
        r = send(hostile, fmt, content)
        assert (r.status_code, outcome(r)[0]) == (400, "empty_body"), r.text


@pytest.mark.parametrize("fmt", FORMATS)
def test_ten_megabyte_bodies_are_413(hostile: Tenant, fmt: str) -> None:
    big = body(fmt, props=b'{"pad": "' + b"x" * 10_000_000 + b'"}')
    r = send(hostile, fmt, big)  # with a Content-Length: refused before it is read
    assert (r.status_code, outcome(r)[0]) == (413, "body_too_large"), r.text

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused once past the limit
        for i in range(0, len(big), 1 << 20):
            yield big[i : i + (1 << 20)]

    r = send(hostile, fmt, chunks())
    assert (r.status_code, outcome(r)[0]) == (413, "body_too_large"), r.text


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """400 MB of JSON whitespace in a 400 KB gzip body (under the batch limit)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b" " * (1 << 20)
    parts = [deflate.compress(b"[")]
    parts += [deflate.compress(block) for _ in range(400)]
    parts += [deflate.compress(b"]"), deflate.flush()]
    return b"".join(parts)


def peak_rss(server: ServerProcess) -> int:
    """The server process's peak resident memory in bytes (Linux's VmHWM)."""
    assert server.proc is not None
    status = Path(f"/proc/{server.proc.pid}/status").read_text()
    line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


@pytest.mark.parametrize("fmt", FORMATS)
def test_gzip_bombs_are_413_in_bounded_memory(hostile: Tenant, gzip_bomb: bytes, fmt: str) -> None:
    assert len(gzip_bomb) < 512_000
    before = peak_rss(hostile.server)
    for _ in range(3):
        r = send(hostile, fmt, gzip_bomb, **{"content-encoding": "gzip"})
        assert (r.status_code, outcome(r)[0]) == (413, "body_too_large"), r.text
        assert "after decompression" in outcome(r)[2]
    # Decompression stops at the batch limit: the 400 MB never exist in the server.
    assert peak_rss(hostile.server) - before < 64 * 1024 * 1024


@pytest.mark.parametrize("fmt", FORMATS)
def test_content_types_and_encodings(hostile: Tenant, fmt: str) -> None:
    # The body decides: analytics.js sends JSON as text/plain to skip a CORS preflight.
    for content_type in (
        "text/plain",
        "application/octet-stream",
        "application/json; charset=utf-8",
    ):
        r = send(hostile, fmt, body(fmt), **{"content-type": content_type})
        assert outcome(r)[0] in ("accepted", "duplicate"), (content_type, r.text)
    # A form or a multipart upload is not JSON, whatever it carries.
    form = b"event_name=signed_in&user_id=u1"
    r = send(hostile, fmt, form, **{"content-type": "application/x-www-form-urlencoded"})
    assert (r.status_code, outcome(r)[0]) == (400, "invalid_json"), r.text
    multipart = (
        b'--b\r\nContent-Disposition: form-data; name="data"\r\n\r\n' + body(fmt) + b"\r\n--b--\r\n"
    )
    r = send(hostile, fmt, multipart, **{"content-type": "multipart/form-data; boundary=b"})
    assert (r.status_code, outcome(r)[0]) == (400, "invalid_json"), r.text
    r = send(hostile, fmt, body(fmt), **{"content-encoding": "br"})
    assert (r.status_code, outcome(r)[0]) == (415, "unsupported_encoding"), r.text
    r = send(hostile, fmt, b"\x1f\x8b not really gzip", **{"content-encoding": "gzip"})
    assert (r.status_code, outcome(r)[0]) == (400, "invalid_encoding"), r.text
    truncated = zlib.compress(body(fmt), wbits=zlib.MAX_WBITS | 16)[:-12]
    r = send(hostile, fmt, truncated, **{"content-encoding": "gzip"})
    assert (r.status_code, outcome(r)[0]) == (400, "invalid_encoding"), r.text


# Query ranges at the calendar's ends (ClickHouse's DateTime holds only 1970-2105).

# Each path with the text that shows the event is in its answer (None: not checked).
RANGE_PATHS = {
    "/api/events": "u-range",
    "/api/analytics/trends?interval=month": "signed_in",
    "/api/analytics/top-events": "signed_in",
    "/api/analytics/retention?period=month&periods=60": None,
    "/api/analytics/funnel?steps=signed_in,signed_out": None,
    "/api/accounts": "g-range",
    "/api/accounts/g-range": "g-range",  # 404 when the range holds none of its events
    "/api/users": "u-range",
    "/api/users/u-range": None,  # a summary of all time
    "/api/users/u-range/events": "u-range",
    "/api/users?event=signed_in&sort=first_seen": "u-range",
    "/api/accounts?health=active,at_risk,dormant&sort=last_seen": "g-range",
    "/api/schema": "signed_in",
    "/api/analytics/lifecycle?period=month": None,
    "/api/analytics/lifecycle?of=accounts&period=week": None,
    "/api/analytics/lifecycle/people?period=month&status=new&start=@MONTH@": None,
    "/api/analytics/retention/people?period=month&periods=60&cohort=@MONTH@": None,
    "/api/analytics/funnel?steps=signed_in,signed_out&breakdown=plan": None,
    "/api/analytics/funnel/people?steps=signed_in,signed_out": "u-range",
}


@pytest.fixture(scope="module")
def ranged(server: ServerProcess) -> Tenant:
    """A workspace whose only events are today's (the hand list stores some in year 1)."""
    return new_tenant(server, "ranged")


@pytest.mark.parametrize("path", sorted(RANGE_PATHS))
def test_time_ranges_at_the_calendars_ends(ranged: Tenant, path: str) -> None:
    event = {"event_name": "signed_in", "user_id": "u-range", "context": {"group_id": "g-range"}}
    assert ranged.post("/api/track", [event]).status_code == 200
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m-01T00:00:00Z")  # a period start now
    route, _, query = path.replace("@MONTH@", month).partition("?")
    needle = RANGE_PATHS[path]
    for start, end, holds in (
        ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", True),
        ("1900-01-01T00:00:00Z", "2200-01-01T00:00:00Z", True),
        ("0001-01-01T00:00:00Z", "1969-12-31T00:00:00Z", False),
        ("2106-03-01T00:00:00Z", "9999-12-31T00:00:00Z", False),
    ):
        r = ranged.get(route, **dict(httpx.QueryParams(query)), **{"from": start, "to": end})
        healthy(ranged.server)
        if r.status_code == 400:  # a range too long for the interval (or period), or a
            # period asked for outside the range, is a clear refusal
            assert r.json()["error"]["field"] in ("interval", "period", "start"), r.text
            continue
        assert r.status_code in (200, 404), r.text
        if needle is not None:
            found = r.status_code == 200 and needle in r.text
            assert found is holds, (start, end, r.text[:300])
