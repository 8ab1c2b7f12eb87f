"""The rollup rows of a batch of events, computed column by column (tracklog/store/rollups.py).

The rows are computed from the batch's Arrow columns with numpy and pyarrow's group-by, so
a commit of thousands of events costs a few calls into C instead of a loop (and a few DuckDB
statements would cost more: each is a millisecond of planning). tests/test_rollup_columns.py
holds them, key for key, to a plain loop over the events.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracklog.events import from_ms
from tracklog.store.rollups import BLOCK_DAYS, DAY_SECONDS, DEFAULT_ZONE, NOT_ACTIVITY
from tracklog.zones import Zone

DAY_KEY = ["workspace", "day", "actor", "group_id", "event_name", "type", "is_test", "anonymous"]
MASK_KEY = ["workspace", "block", "kind", "subject", "event_name", "is_test"]
EVENT_KEY = ["workspace", "day", "event_name", "type", "group_id", "is_test"]
SENDER_KEY = ["workspace", "block", "actor", "group_id", "is_test"]
SIGN_IN = "signed_in"


def _local_days(seconds: np.ndarray, zone: str) -> np.ndarray:
    """Local day numbers of epoch seconds, with the offsets `local_day` and the SQL use."""
    if zone == "UTC":
        return seconds // DAY_SECONDS
    lo, hi = int(seconds.min()), int(seconds.max())
    segments = Zone(zone).segments(from_ms(lo * 1000), from_ms(hi * 1000))
    # The first segment is open to the past (its start is written 0; later starts can be
    # before 1970): the one in force at a second is the last starting at or before it.
    starts = np.array([np.iinfo(np.int64).min, *(at for at, _ in segments[1:])], np.int64)
    offsets = np.array([offset for _, offset in segments], dtype=np.int64)
    index = np.searchsorted(starts, seconds, side="right") - 1
    return (seconds + offsets[index]) // DAY_SECONDS


def day_table(events: pa.Table, zones: dict[str, str]) -> pa.Table:
    """The `activity_days` rows (without `merged`) of a table of events (the events columns)."""
    user = events.column("user_id")
    named = pc.fill_null(pc.not_equal(user, ""), False)
    actor = pc.fill_null(pc.if_else(named, user, events.column("anonymous_id")), "")
    ms = events.column("timestamp").cast(pa.int64()).to_numpy()
    seconds = ms // 1000
    workspace = events.column("workspace")
    days = np.empty(len(ms), dtype=np.int64)
    for name in pc.unique(workspace).to_pylist():
        mine = pc.equal(workspace, name).to_numpy(zero_copy_only=False)
        days[mine] = _local_days(seconds[mine], zones.get(name, DEFAULT_ZONE))
    keyed = pa.table(
        {
            "workspace": workspace,
            "day": pa.array(days, pa.int32()),
            "actor": actor,
            "group_id": pc.fill_null(events.column("group_id"), ""),
            "event_name": pc.fill_null(events.column("event_name"), ""),
            "type": events.column("type"),
            "is_test": events.column("is_test"),
            "anonymous": pc.invert(named),
            "ms": pa.array(ms, pa.int64()),
        }
    )
    grouped = keyed.group_by(DAY_KEY, use_threads=False).aggregate(
        [("ms", "count"), ("ms", "min"), ("ms", "max")]
    )
    return pa.table(
        {
            **{name: grouped.column(name) for name in DAY_KEY},
            "events": grouped.column("ms_count").cast(pa.int64()),
            "first_ms": grouped.column("ms_min"),
            "last_ms": grouped.column("ms_max"),
        }
    )


def mask_table(days: pa.Table) -> pa.Table:
    """The `activity_masks` rows (without `merged`) of some day rows, one per key."""
    active = days.filter(pc.invert(pc.is_in(days.column("type"), pa.array(NOT_ACTIVITY))))
    day = active.column("day").to_numpy().astype(np.int64)
    block = pa.array(day // BLOCK_DAYS, pa.int32())
    bit = pa.array(np.left_shift(np.uint64(1), (day % BLOCK_DAYS).astype(np.uint64)))
    parts = []
    for kind, subject in (("actor", "actor"), ("group", "group_id")):
        rows = pa.table(
            {
                "workspace": active.column("workspace"),
                "block": block,
                "kind": pa.array([kind] * active.num_rows, pa.string()),
                "subject": active.column(subject),
                "event_name": active.column("event_name"),
                "is_test": active.column("is_test"),
                "bit": bit,
            }
        ).filter(pc.not_equal(active.column(subject), ""))
        # OR of the bits: the sum of the distinct ones (each day's bit once per key).
        distinct = rows.group_by([*MASK_KEY, "bit"], use_threads=False).aggregate([])
        parts.append(distinct.group_by(MASK_KEY, use_threads=False).aggregate([("bit", "sum")]))
    masks = pa.concat_tables(parts)
    return pa.table(
        {
            **{name: masks.column(name) for name in MASK_KEY},
            "days": masks.column("bit_sum").cast(pa.uint64()),
        }
    )


def event_day_table(days: pa.Table) -> pa.Table:
    """The `event_days` rows (without `merged`) of some day rows, one per key."""
    counts = days.group_by(EVENT_KEY, use_threads=False).aggregate([("events", "sum")])
    return pa.table(
        {
            **{name: counts.column(name) for name in EVENT_KEY},
            "events": counts.column("events_sum").cast(pa.int64()),
        }
    )


def sender_table(days: pa.Table) -> pa.Table:
    """The `sender_blocks` rows (without `merged`) of some day rows, one per key: per block,
    sender and account, the events (`sent`), the activity and sign-ins among them, those
    sent with a user id (`named`), the first and last activity time (null with no activity)
    and a bit per day with activity."""
    act = pc.invert(pc.is_in(days.column("type"), pa.array(NOT_ACTIVITY)))
    signed_in = pc.and_(act, pc.equal(days.column("event_name"), SIGN_IN))
    events = days.column("events")
    zero = pa.scalar(0, pa.int64())
    day = days.column("day").to_numpy().astype(np.int64)
    bit = np.left_shift(np.uint64(1), (day % BLOCK_DAYS).astype(np.uint64))
    rows = pa.table(
        {
            "workspace": days.column("workspace"),
            "block": pa.array(day // BLOCK_DAYS, pa.int32()),
            "actor": days.column("actor"),
            "group_id": days.column("group_id"),
            "is_test": days.column("is_test"),
            "events": events,
            "acts": pc.if_else(act, events, zero),
            "sign_ins": pc.if_else(signed_in, events, zero),
            "named": pc.if_else(days.column("anonymous"), zero, events),
            "first": pc.if_else(act, days.column("first_ms"), None),
            "last": pc.if_else(act, days.column("last_ms"), None),
            "bit": pc.if_else(act, pa.array(bit), pa.scalar(0, pa.uint64())),
        }
    )
    # OR of the bits: the sum of the distinct ones (each day's bit once per key).
    bits = (
        rows.group_by([*SENDER_KEY, "bit"], use_threads=False)
        .aggregate([])
        .group_by(SENDER_KEY, use_threads=False)
        .aggregate([("bit", "sum")])
    )
    sums = rows.group_by(SENDER_KEY, use_threads=False).aggregate(
        [
            ("events", "sum"),
            ("acts", "sum"),
            ("sign_ins", "sum"),
            ("named", "sum"),
            ("first", "min"),
            ("last", "max"),
        ]
    )
    joined = sums.join(bits, SENDER_KEY, use_threads=False)
    return pa.table(
        {
            **{name: joined.column(name) for name in SENDER_KEY},
            "sent": joined.column("events_sum").cast(pa.int64()),
            "acts": joined.column("acts_sum").cast(pa.int64()),
            "sign_ins": joined.column("sign_ins_sum").cast(pa.int64()),
            "named": joined.column("named_sum").cast(pa.int64()),
            "first_act": joined.column("first_min").cast(pa.int64()),
            "last_act": joined.column("last_max").cast(pa.int64()),
            "active": joined.column("bit_sum").cast(pa.uint64()),
        }
    )
