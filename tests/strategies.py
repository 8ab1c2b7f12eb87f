"""Hypothesis strategies for what clients send: JSON values, event-shaped objects, timestamps.

Shared by the decoder properties (tests/test_decoders_property.py) and the generated bodies
sent to a real server (tests/test_wire_fuzz.py).
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

# Integers past 64 bits and floats at the edges are what JSON encoders of other languages send.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
IDS = st.none() | st.text(max_size=300) | st.integers() | JSON

# Fixed offsets up to a day either way, to the minute, as ISO-8601 allows.
OFFSETS = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
AWARE_TIMES = st.datetimes(
    min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59)
).flatmap(lambda naive: OFFSETS.map(lambda tz: naive.replace(tzinfo=tz)))


def iso(t: dt.datetime, style: int) -> str:
    """`t` in one of the ISO-8601 spellings clients use: +hh:mm, Z for UTC, a space, ms."""
    text = t.isoformat(sep=" " if style == 2 else "T")
    if style == 1 and t.utcoffset() == dt.timedelta(0):
        text = text[: -len("+00:00")] + "Z"
    if style == 3:
        text = t.isoformat(timespec="milliseconds")
    return text


TIME_TEXTS = st.builds(iso, AWARE_TIMES, st.integers(0, 3))
TIMES = (
    st.none()
    | st.sampled_from(
        [
            "2024-10-20T15:51:35Z",
            "20-11-23T22:28:55.111Z",  # seed 002's two-digit year
            "0000-01-01T00:00:00Z",
            "99999-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "",
        ]
    )
    | TIME_TEXTS
    | JSON
)

NATIVE_EVENT = st.fixed_dictionaries(
    {},
    optional={
        "event_name": IDS,
        "event": IDS,
        "user_id": IDS,
        "anonymous_id": IDS,
        "group_id": IDS,
        "properties": JSON,
        "traits": JSON,
        "timestamp": TIMES,
        "sent_at": TIMES,
        "context": st.none() | st.fixed_dictionaries({}, optional={"group_id": IDS}) | JSON,
        "message_id": IDS,
    },
)
VERO_EVENT = st.fixed_dictionaries(
    {},
    optional={
        "identity": st.none()
        | st.fixed_dictionaries({}, optional={"id": IDS, "email": IDS})
        | JSON,
        "event_name": IDS,
        "data": JSON,
        "extras": st.none() | st.fixed_dictionaries({}, optional={"created_at": TIMES}) | JSON,
        "development_mode": JSON,
        "auth_token": IDS,
    },
)
VERO_USER = st.fixed_dictionaries(
    {},
    optional={
        "id": IDS,
        "email": IDS,
        "data": JSON,
        "changes": JSON,
        "new_id": IDS,
        "development_mode": JSON,
    },
)
SEGMENT_MESSAGE = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["track", "identify", "group", "page", "alias", "x"]) | JSON,
        "userId": IDS,
        "anonymousId": IDS,
        "event": IDS,
        "name": IDS,
        "category": JSON,
        "properties": JSON,
        "traits": JSON,
        "groupId": IDS,
        "previousId": IDS,
        "context": JSON,
        "integrations": JSON,
        "timestamp": TIMES,
        "originalTimestamp": TIMES,
        "sentAt": TIMES,
        "messageId": IDS,
        "writeKey": IDS,
    },
)
SEGMENT_BATCH = st.fixed_dictionaries(
    {},
    optional={
        "batch": st.lists(SEGMENT_MESSAGE | JSON, max_size=4) | JSON,
        "context": JSON,
        "integrations": JSON,
        "sentAt": TIMES,
        "writeKey": IDS,
    },
)
