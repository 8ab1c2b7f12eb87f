"""The rollup rows a commit computes column by column are the rows of the per-event code.

`tracklog/store/rollup_columns.py` (numpy and pyarrow over the batch's columns) against
`rollups.day_rows`, `mask_rows` and `event_day_rows` (one event at a time), on batches with
every kind of call, test events, missing ids, several workspaces and zones, and times from
1970 to 2100 (days cut at local midnights, blocks of 64 days, offsets that change).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tracklog.events import EVENT_TYPES, Event, from_ms
from tracklog.store import rollup_columns, rollups
from tracklog.store.event_columns import events_table

ZONES = {"w1": "UTC", "w2": "America/Los_Angeles", "w3": "Asia/Kolkata"}
IDS = st.sampled_from([None, "", "u1", "u2", "a1"])


@st.composite
def batches(draw: st.DrawFn) -> list[Event]:
    out = []
    for _ in range(draw(st.integers(1, 40))):
        ms = draw(st.integers(0, 4_102_444_800_000))
        out.append(
            Event(
                id=uuid.uuid4().bytes,
                workspace=draw(st.sampled_from([*ZONES, "w4"])),
                type=draw(st.sampled_from(EVENT_TYPES)),  # type: ignore[arg-type]
                event_name=draw(st.sampled_from([None, "a", "b"])),
                user_id=draw(IDS),
                anonymous_id=draw(IDS),
                group_id=draw(st.sampled_from([None, "", "g1", "g2"])),
                timestamp=from_ms(ms),
                received_at=from_ms(ms),
                is_test=draw(st.booleans()),
            )
        )
    return out


def _rows(table: Any) -> list[tuple[Any, ...]]:
    return sorted(tuple(r.values()) for r in table.to_pylist())


@settings(max_examples=200, deadline=None)
@given(batches())
def test_columns_make_the_rows_of_the_per_event_code(events: list[Event]) -> None:
    days = rollups.day_rows(events, ZONES)
    table = rollup_columns.day_table(events_table(events), ZONES)
    assert _rows(table) == sorted(dataclasses.astuple(r) for r in days)
    masks = rollup_columns.mask_table(table)
    assert _rows(masks) == sorted(dataclasses.astuple(m) for m in rollups.mask_rows(days))
    counts = rollup_columns.event_day_table(table)
    assert _rows(counts) == sorted(dataclasses.astuple(c) for c in rollups.event_day_rows(days))


def test_a_day_before_1970_is_rounded_down() -> None:
    moment = dt.datetime(1969, 12, 31, 23, 59, 59, 500_000)
    event = Event(
        id=uuid.uuid4().bytes, workspace="w1", user_id="u", timestamp=moment, received_at=moment
    )
    table = rollup_columns.day_table(events_table([event]), ZONES)
    assert table.column("day").to_pylist() == [-1]
