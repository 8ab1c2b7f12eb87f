"""The rollup rows a commit computes column by column are the rows of the per-event code.

`tracklog/store/rollup_columns.py` (numpy and pyarrow over the batch's columns) against
`day_rows`, `mask_rows`, `event_day_rows` and `sender_rows` here (one event at a time, plain
Python: the definition in tracklog/store/rollups.py read literally), on batches with
every kind of call, test events, missing ids, several workspaces and zones, and times from
1970 to 2100 (days cut at local midnights, blocks of 64 days, offsets that change).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tracklog.events import EVENT_TYPES, Event, from_ms, to_ms
from tracklog.store import rollup_columns, rollups
from tracklog.store.event_columns import events_table

ZONES = {"w1": "UTC", "w2": "America/Los_Angeles", "w3": "Asia/Kolkata"}
IDS = st.sampled_from([None, "", "u1", "u2", "a1"])


@dataclass(frozen=True)
class DayRow:
    """Some events of one key on one local day: how many, and their first and last times."""

    workspace: str
    day: int  # days since 1970-01-01 in the workspace's time zone
    actor: str  # the sender: user id, else anonymous id ('' for neither)
    group_id: str
    event_name: str
    type: str
    is_test: bool
    anonymous: bool  # sent without a user id
    events: int
    first_ms: int
    last_ms: int


def sender(event: Event) -> str:
    """The id an event was sent by: its user id, else its anonymous id."""
    return event.user_id or event.anonymous_id or ""


def day_rows(events: Sequence[Event], zones: dict[str, str]) -> list[DayRow]:
    """The rollup rows of `events`, one per key, in each workspace's zone (UTC if unknown)."""
    rows: dict[tuple[str, int, str, str, str, str, bool, bool], list[int]] = {}
    for e in events:
        ms = to_ms(e.timestamp)
        key = (
            e.workspace,
            rollups.local_day(ms, zones.get(e.workspace, "UTC")),
            sender(e),
            e.group_id or "",
            e.event_name or "",
            e.type,
            e.is_test,
            not e.user_id,
        )
        found = rows.get(key)
        if found is None:
            rows[key] = [1, ms, ms]
        else:
            found[0] += 1
            found[1] = min(found[1], ms)
            found[2] = max(found[2], ms)
    return [DayRow(*key, *values) for key, values in rows.items()]


@dataclass(frozen=True)
class MaskRow:
    """The days of one block with activity of one sender (or account) and event name."""

    workspace: str
    block: int  # local day // rollups.BLOCK_DAYS
    kind: str  # "actor" or "group"
    subject: str
    event_name: str
    is_test: bool
    days: int  # bit i: day block * rollups.BLOCK_DAYS + i


@dataclass(frozen=True)
class EventDayRow:
    """How many events of one name, type and account one local day had."""

    workspace: str
    day: int
    event_name: str
    type: str
    group_id: str
    is_test: bool
    events: int


def mask_rows(days: Sequence[DayRow]) -> list[MaskRow]:
    """The activity masks of some day rows, one per key."""
    masks: dict[tuple[str, int, str, str, str, bool], int] = {}
    for r in days:
        if r.type in rollups.NOT_ACTIVITY:
            continue
        block, bit = divmod(r.day, rollups.BLOCK_DAYS)
        for kind, subject in (("actor", r.actor), ("group", r.group_id)):
            if not subject:
                continue
            key = (r.workspace, block, kind, subject, r.event_name, r.is_test)
            masks[key] = masks.get(key, 0) | (1 << bit)
    return [MaskRow(*key, mask) for key, mask in masks.items()]


def event_day_rows(days: Sequence[DayRow]) -> list[EventDayRow]:
    """The event counts of some day rows, one per key."""
    counts: dict[tuple[str, int, str, str, str, bool], int] = {}
    for r in days:
        key = (r.workspace, r.day, r.event_name, r.type, r.group_id, r.is_test)
        counts[key] = counts.get(key, 0) + r.events
    return [EventDayRow(*key, n) for key, n in counts.items()]


def sender_rows(days: Sequence[DayRow]) -> list[tuple[Any, ...]]:
    """The per-block sender totals of some day rows, one per key: (workspace, block, actor,
    group_id, is_test, events, acts, sign_ins, named, first_ms, last_ms, active)."""
    found: dict[tuple[str, int, str, str, bool], list[Any]] = {}
    for r in days:
        block, bit = divmod(r.day, rollups.BLOCK_DAYS)
        key = (r.workspace, block, r.actor, r.group_id, r.is_test)
        row = found.setdefault(key, [0, 0, 0, 0, None, None, 0])
        row[0] += r.events
        row[3] += 0 if r.anonymous else r.events
        if r.type in rollups.NOT_ACTIVITY:
            continue
        row[1] += r.events
        row[2] += r.events if r.event_name == "signed_in" else 0
        row[4] = r.first_ms if row[4] is None else min(row[4], r.first_ms)
        row[5] = r.last_ms if row[5] is None else max(row[5], r.last_ms)
        row[6] |= 1 << bit
    return [(*key, *values) for key, values in found.items()]


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
                event_name=draw(st.sampled_from([None, "a", "signed_in"])),
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
    days = day_rows(events, ZONES)
    table = rollup_columns.day_table(events_table(events), ZONES)
    assert _rows(table) == sorted(dataclasses.astuple(r) for r in days)
    masks = rollup_columns.mask_table(table)
    assert _rows(masks) == sorted(dataclasses.astuple(m) for m in mask_rows(days))
    counts = rollup_columns.event_day_table(table)
    assert _rows(counts) == sorted(dataclasses.astuple(c) for c in event_day_rows(days))
    senders = rollup_columns.sender_table(table)
    assert sorted(map(str, _rows(senders))) == sorted(map(str, sender_rows(days)))


def test_a_day_before_1970_is_rounded_down() -> None:
    moment = dt.datetime(1969, 12, 31, 23, 59, 59, 500_000)
    event = Event(
        id=uuid.uuid4().bytes, workspace="w1", user_id="u", timestamp=moment, received_at=moment
    )
    table = rollup_columns.day_table(events_table([event]), ZONES)
    assert table.column("day").to_pylist() == [-1]
