"""Properties of every decoder, for any input: a client error or Items, never anything else.

Each wire format (native, Vero, Segment) and the timestamp parser is fed arbitrary JSON values,
event-shaped objects with arbitrary field values, and arbitrary bytes. The only exception a
decoder may raise is `BodyError` with a 4xx status; every Item it returns is either an event
the stores can take or a rejection with a code, a field and a sentence; every rejection can be
quarantined and replayed. Valid events round-trip to the same canonical event in every format,
and timestamps in any offset parse to the instant Python's datetime gives.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.strategies import (
    AWARE_TIMES,
    JSON,
    NATIVE_EVENT,
    SEGMENT_BATCH,
    SEGMENT_MESSAGE,
    TIME_TEXTS,
    VERO_EVENT,
    VERO_USER,
    iso,
)
from tracklog.events import context_json
from tracklog.ingest.timestamps import TimestampError, parse_timestamp
from tracklog.ingest.wire import REPLAYERS, native, segment, vero
from tracklog.ingest.wire.common import BodyError, Item

NOW = dt.datetime(2026, 11, 23, 12, 0, 0)
WS = "ws"
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# Pure functions, no server: 150 examples each take a few seconds; TRACKLOG_TORTURE=long
# runs 5,000.
LONG = os.environ.get("TRACKLOG_TORTURE") == "long"
PROPERTY = settings(
    max_examples=5000 if LONG else 150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

Decoder = Callable[[bytes], list[Item]]
DECODERS: dict[str, tuple[Decoder, str]] = {
    **{
        f"native.{t}": (lambda b, t=t: native.decode(b, WS, NOW, t), native.source(t))
        for t in ("track", "identify", "group")
    },
    **{
        f"vero.{k}": (lambda b, k=k: vero.decode(b, WS, NOW, k), vero.source(k)) for k in vero.KINDS
    },
    **{
        f"segment.{c}": (lambda b, c=c: segment.decode(b, WS, NOW, c), segment.source(c))
        for c in segment.CALLS
    },
}
NAMES = sorted(DECODERS)


def check_decoding(name: str, body: bytes) -> list[Item]:
    """Decode `body` with decoder `name` and check everything its answer promises."""
    decode, source = DECODERS[name]
    try:
        items = decode(body)
    except BodyError as exc:
        assert 400 <= exc.status < 500
        assert CODE.match(exc.code) and exc.message
        return []
    for item in items:
        check_item(item, source)
    return items


def check_item(item: Item, source: str, replay: bool = True) -> None:
    """An Item is a storable event or a rejection with reasons, and its rejection replays."""
    assert isinstance(item.raw, bytes)
    for problem in [*item.problems, *item.warnings]:
        assert CODE.match(problem.code), problem
        assert isinstance(problem.field, str) and problem.message
    if item.event is None:
        assert item.problems
        record = item.quarantined(WS, NOW, source)
        assert msgspec.json.decode(msgspec.json.encode(record.reasons))
        if replay:
            # A quarantined element decodes again with the same format: items or a BodyError.
            try:
                again = REPLAYERS[source](item.raw, WS, NOW)
            except BodyError as exc:
                assert 400 <= exc.status < 500
            else:
                for other in again:
                    check_item(other, source, replay=False)
        return
    assert not item.problems
    event = item.event
    # What the stores write must encode, and the times must be real calendar times.
    msgspec.json.encode(event.properties)
    context_json(event.context).encode()
    for t in (event.timestamp, event.original_timestamp, event.sent_at):
        assert t is None or (t.tzinfo is None and t.microsecond % 1000 == 0)
    for text in (event.event_name, event.user_id, event.anonymous_id, event.group_id):
        assert text is None or (isinstance(text, str) and 0 < len(text) <= 255)


@PROPERTY
@given(name=st.sampled_from(NAMES), body=st.binary(max_size=200))
@example(name="native.track", body=b'[{"event_name": "\xc3(", "user_id": "u"}]')
@example(name="segment.batch", body=b'{"batch": [{"type": "track", "event": "\xc3("}]}')
@example(name="vero.event", body=b'{"identity": {"id": "\xff"}, "event_name": "a"}')
@example(name="native.track", body=b"[" * 10_000 + b"]" * 10_000)
@example(name="native.track", body=b'[{"a": NaN, "b": Infinity, "c": 1e400}]')
def test_arbitrary_bytes(name: str, body: bytes) -> None:
    check_decoding(name, body)


@PROPERTY
@given(
    name=st.sampled_from(NAMES),
    doc=JSON,
    cut=st.integers(min_value=0, max_value=64),
    junk=st.binary(min_size=1, max_size=3),
)
def test_arbitrary_json_and_damaged_json(name: str, doc: Any, cut: int, junk: bytes) -> None:
    body = msgspec.json.encode(doc)
    check_decoding(name, body)
    check_decoding(name, b"[" + body + b"]")
    # The same document with bytes spliced in: truncated strings, stray bytes, broken UTF-8.
    at = min(cut, len(body))
    check_decoding(name, body[:at] + junk + body[at:])


@PROPERTY
@given(
    events=st.lists(NATIVE_EVENT | JSON, max_size=4),
    type_=st.sampled_from(["track", "identify", "group"]),
)
def test_native_event_shaped(events: list[Any], type_: str) -> None:
    body = msgspec.json.encode(events)
    items = check_decoding(f"native.{type_}", body)
    assert len(items) == len(events)
    if len(events) == 1 and isinstance(events[0], dict):  # an object is an array of one
        single = check_decoding(f"native.{type_}", msgspec.json.encode(events[0]))
        assert [i.problems for i in single] == [i.problems for i in items]


@PROPERTY
@given(event=VERO_EVENT, user=VERO_USER, kind=st.sampled_from(["user", "edit", "reidentify"]))
def test_vero_shaped(event: dict[str, Any], user: dict[str, Any], kind: str) -> None:
    items = check_decoding("vero.event", msgspec.json.encode(event))
    if isinstance(event.get("auth_token"), str):
        # The write key never reaches the quarantine's raw JSON.
        assert all("auth_token" not in msgspec.json.decode(item.raw) for item in items)
    check_decoding(f"vero.{kind}", msgspec.json.encode(user))


@PROPERTY
@given(
    message=SEGMENT_MESSAGE,
    batch=SEGMENT_BATCH,
    call=st.sampled_from(["track", "identify", "group", "page", "screen", "alias"]),
)
def test_segment_shaped(message: dict[str, Any], batch: dict[str, Any], call: str) -> None:
    items = check_decoding(f"segment.{call}", msgspec.json.encode(message))
    if isinstance(message.get("writeKey"), str):
        assert all("writeKey" not in msgspec.json.decode(item.raw) for item in items)
    items = check_decoding("segment.batch", msgspec.json.encode(batch))
    if isinstance(batch.get("batch"), list) and items:
        assert len(items) == len(batch["batch"])


# Round trips: a valid event in each format decodes to the same canonical event.

NAME = st.text(min_size=1, max_size=255)
ID = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=255
)
PROPERTIES = st.dictionaries(st.text(max_size=8), JSON, max_size=5)
OFFSET = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
    lambda m: dt.timezone(dt.timedelta(minutes=m))
)


def as_utc_ms(t: dt.datetime) -> dt.datetime:
    """What a store keeps of an aware time: naive UTC, truncated to the millisecond."""
    utc = t.astimezone(dt.UTC).replace(tzinfo=None)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


@PROPERTY
@given(
    name=NAME,
    user_id=ID,
    group_id=ID,
    properties=PROPERTIES,
    at=st.datetimes(
        min_value=NOW - dt.timedelta(days=365), max_value=NOW, timezones=st.just(dt.UTC)
    ),
    offset=OFFSET,
    style=st.integers(0, 3),
)
def test_valid_event_round_trips_in_every_format(
    name: str,
    user_id: str,
    group_id: str,
    properties: dict[str, Any],
    at: dt.datetime,
    offset: dt.timezone,
    style: int,
) -> None:
    stamp = iso(at.astimezone(offset), style)
    expected_time = as_utc_ms(dt.datetime.fromisoformat(stamp))
    native_body = {
        "event_name": name,
        "user_id": user_id,
        "properties": properties,
        "timestamp": stamp,
        "context": {"group_id": group_id},
    }
    segment_body = {
        "type": "track",
        "event": name,
        "userId": user_id,
        "properties": properties,
        "timestamp": stamp,
        "context": {"group_id": group_id},
        "groupId": group_id,
    }
    vero_body = {
        "identity": {"id": user_id},
        "event_name": name,
        "data": properties,
        "extras": {"created_at": stamp},
    }
    decoded = {
        "native": native.decode(msgspec.json.encode([native_body]), WS, NOW),
        "segment": segment.decode(msgspec.json.encode(segment_body), WS, NOW, "track"),
        "batch": segment.decode(msgspec.json.encode({"batch": [segment_body]}), WS, NOW, "batch"),
        "vero": vero.decode(msgspec.json.encode(vero_body), WS, NOW, "event"),
    }
    for fmt, items in decoded.items():
        event = items[0].event
        assert event is not None, (fmt, items[0].problems)
        assert (event.type, event.event_name, event.user_id) == ("track", name, user_id), fmt
        assert event.properties == properties, fmt
        assert event.timestamp == event.original_timestamp == expected_time, fmt
        assert event.received_at == NOW
        if fmt != "vero":  # Vero has no account field
            assert event.group_id == group_id, fmt
    # Decoding is deterministic: the same body twice is the same event (a retry dedupes).
    again = native.decode(msgspec.json.encode([native_body]), WS, NOW)[0].event
    assert again is not None and decoded["native"][0].event is not None
    assert again.id == decoded["native"][0].event.id


# Timestamps.


@PROPERTY
@given(t=AWARE_TIMES, style=st.integers(0, 3))
@example(t=dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))), style=0)
@example(t=dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-1))), style=0)
def test_any_offset_parses_to_the_same_utc_instant(t: dt.datetime, style: int) -> None:
    text = iso(t, style)
    written = dt.datetime.fromisoformat(text)
    try:
        expected = as_utc_ms(written)
    except OverflowError:  # in UTC it is before year 1 or after 9999
        with pytest.raises(TimestampError, match="out of range"):
            parse_timestamp(text, "timestamp")
        return
    assert parse_timestamp(text, "timestamp") == expected


@PROPERTY
@given(value=st.text(max_size=40) | TIME_TEXTS.map(lambda s: s[: len(s) // 2]) | JSON)
@example(value="20-11-23T22:28:55.111Z")
@example(value="0000-01-01T00:00:00Z")
@example(value="99999-01-01T00:00:00Z")
@example(value="2024-W42-1T00:00:00")
def test_parse_timestamp_raises_only_timestamp_error(value: Any) -> None:
    try:
        parsed = parse_timestamp(value, "timestamp")
    except TimestampError as exc:
        assert str(exc).startswith("`timestamp`")
        return
    assert isinstance(value, str) and parsed.tzinfo is None
    assert value.strip()[:4].isdigit()  # a four-digit year, so never seed 002's '20-11-23…'
