"""The Track API's one-call decode of a typical body gives what the general path gives.

`native.decode` decodes a whole body into typed structs in one msgspec call and builds the
events of typical messages directly; anything else (and any body that does not decode that
way) goes element by element through the general path. For any body, mostly typical and
sometimes not, both must give the same items: the same events, problems and warnings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import IDS, JSON, NATIVE_EVENT, TIMES
from tracklog.events import context_object
from tracklog.ingest.wire import native
from tracklog.ingest.wire.common import Item, split_body

NOW = dt.datetime(2026, 11, 23, 12, 0, 0)
TEXT = st.sampled_from(["u1", "a1", "signed_in", "x" * 255, "x" * 256, "", "é"])
NEAR = st.sampled_from(
    [
        "2026-11-23T11:59:59.123Z",
        "2026-11-24T13:00:00.000Z",  # more than a day ahead: a warning
        "1999-12-31T23:59:59.999Z",  # before 2000: a warning
        "2026-11-23T11:59:59+01:00",
        "20-11-23T22:28:55.111Z",  # seed 002: rejected
    ]
)
VALID = st.sampled_from(["u1", "a1", "signed_in", "é" * 255])
TYPICAL = st.fixed_dictionaries(
    {"event_name": VALID | st.none() | TEXT, "user_id": VALID | st.none() | TEXT},
    optional={
        "event": st.none() | TEXT,
        "anonymous_id": st.none() | TEXT,
        "group_id": st.none() | TEXT,
        "properties": st.none() | st.dictionaries(st.sampled_from(["email", "n"]), JSON),
        "timestamp": NEAR | st.none() | TIMES,
        "sent_at": st.none() | NEAR,
        "context": st.none()
        | st.fixed_dictionaries(
            {},
            optional={
                "group_id": VALID | st.none() | TEXT | IDS,
                "test": st.none() | st.booleans() | st.sampled_from(["true", 1]),
            },
        ),
        "message_id": st.none() | TEXT,
        "test": st.none() | st.booleans(),
    },
)


def _general(body: bytes) -> list[Item]:
    elements, _ = split_body(body)
    return [native._item(raw, "ws", NOW, "track") for raw in elements]


def _same(fast: Item, slow: Item) -> None:
    assert fast.problems == slow.problems
    assert fast.warnings == slow.warnings
    assert (fast.event is None) == (slow.event is None)
    if fast.event is None or slow.event is None:
        return
    a: dict[str, Any] = msgspec.structs.asdict(fast.event)
    b: dict[str, Any] = msgspec.structs.asdict(slow.event)
    # The typical path keeps the context as the client's JSON text.
    a["context"] = context_object(a["context"])
    if a["message_id"] is None and a["original_timestamp"] is None:
        del a["id"], b["id"]  # nothing stable to hash: a random id either way
    assert a == b


@settings(max_examples=400, deadline=None)
@given(
    st.lists(TYPICAL, min_size=1, max_size=6)
    | st.lists(TYPICAL | NATIVE_EVENT, min_size=1, max_size=6),
    st.booleans(),
)
def test_typical_bodies_decode_as_the_general_path_does(
    events: list[dict[str, Any]], single: bool
) -> None:
    body = msgspec.json.encode(events[0] if single else events)
    fast = native.decode(body, "ws", NOW, "track")
    slow = _general(body)
    assert len(fast) == len(slow)
    for one, other in zip(fast, slow, strict=True):
        _same(one, other)


def test_a_typical_batch_takes_the_typical_path() -> None:
    events = [
        {
            "event_name": "signed_in",
            "user_id": f"u{i}",
            "message_id": f"m{i}",
            "timestamp": "2026-11-23T11:00:00.000Z",
            "properties": {"email": "a@example.com"},
            "context": {"group_id": "g1"},
        }
        for i in range(3)
    ]
    body = msgspec.json.encode(events)
    assert native._decode_typical(body, single=False) is not None
    items = native.decode(body, "ws", NOW, "track")
    assert [i.event.group_id for i in items if i.event] == ["g1"] * 3
