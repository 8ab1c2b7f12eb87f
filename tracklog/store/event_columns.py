"""A batch of events as Arrow columns: what a commit inserts (DuckDB) and groups (rollups)."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import pyarrow as pa

from tracklog.events import Event, context_json

_json = msgspec.json.Encoder()

EVENT_SCHEMA = pa.schema(
    [
        ("id", pa.uuid()),
        ("workspace", pa.string()),
        ("type", pa.string()),
        ("event_name", pa.string()),
        ("user_id", pa.string()),
        ("anonymous_id", pa.string()),
        ("group_id", pa.string()),
        ("timestamp", pa.timestamp("ms")),
        ("original_timestamp", pa.timestamp("ms")),
        ("sent_at", pa.timestamp("ms")),
        ("received_at", pa.timestamp("ms")),
        ("properties", pa.string()),
        ("context", pa.string()),
        ("message_id", pa.string()),
        ("source", pa.string()),
        ("is_test", pa.bool_()),
    ]
)


if Event.__struct_fields__ != tuple(EVENT_SCHEMA.names):  # events_table relies on it
    raise RuntimeError("Event's fields and EVENT_SCHEMA's columns are not in the same order")


def events_table(events: Sequence[Event]) -> pa.Table:
    """A batch of events as one Arrow table, column by column (no per-row objects)."""
    # One C call per event (astuple) and one transposition give every column at once; the
    # Event's fields are in EVENT_SCHEMA's order.
    (
        ids,
        workspace,
        type_,
        event_name,
        user_id,
        anonymous_id,
        group_id,
        timestamp,
        original,
        sent_at,
        received_at,
        properties,
        context,
        message_id,
        source,
        is_test,
    ) = zip(*map(msgspec.structs.astuple, events), strict=True) if events else [()] * 16
    ms = pa.timestamp("ms")
    return pa.table(
        [
            pa.array(ids, pa.uuid()),
            workspace,
            type_,
            event_name,
            user_id,
            anonymous_id,
            group_id,
            pa.array(timestamp, ms),
            pa.array(original, ms),
            pa.array(sent_at, ms),
            pa.array(received_at, ms),
            [_json.encode(p).decode() for p in properties],
            [c if c.__class__ is str else context_json(c) for c in context],
            message_id,
            source,
            is_test,
        ],
        schema=EVENT_SCHEMA,
    )
