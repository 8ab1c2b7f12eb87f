"""ClickHouse's half of the activity rollup (tracklog/store/rollups.py).

The committer inserts each commit's day rows into a Null table; materialized views turn them
into aggregate states in four AggregatingMergeTrees (day rows, masks, event counts, sender
totals per block), whose
background merges keep about one row per key, exactly (sums, minimums, maximums and ORs
merge without loss). Reads finish the
aggregation with sumMerge/minMerge/maxMerge, so they are exact before merges too. Only
ClickHouse 18.16's features are used: no SimpleAggregateFunction, no `input()`.

Events are inserted before their rows; if the rows' insert fails, the client's retry finds
the events stored (duplicates) and does not count them again: the rows are lost. A rebuild
of the days concerned (`tracklog doctor` compares a sample; docs/clickhouse.md) repairs
that, and the one case dedupe cannot see (two nodes racing on one id) as well.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tracklog.store.clickhouse_values import column_names
from tracklog.store.rollups import BLOCK_DAYS, NOT_ACTIVITY

KEY_COLUMNS = (
    "workspace String",
    "day UInt32",
    "actor String",
    "group_id String",
    "event_name String",
    "type String",
    "is_test UInt8",
    "anonymous UInt8",
)
INPUT_COLUMNS = (*KEY_COLUMNS, "events UInt64", "first_ms UInt64", "last_ms UInt64")
STATE_COLUMNS = (
    *KEY_COLUMNS,
    "events AggregateFunction(sum, UInt64)",
    "first_ms AggregateFunction(min, UInt64)",
    "last_ms AggregateFunction(max, UInt64)",
)
KEY = column_names(KEY_COLUMNS)
MASK_COLUMNS = (
    "workspace String",
    "block UInt32",
    "kind String",
    "subject String",
    "event_name String",
    "is_test UInt8",
    "days AggregateFunction(groupBitOr, UInt64)",
)
EVENT_COLUMNS = (
    "workspace String",
    "day UInt32",
    "event_name String",
    "type String",
    "group_id String",
    "is_test UInt8",
    "events AggregateFunction(sum, UInt64)",
)
SENDER_COLUMNS = (
    "workspace String",
    "block UInt32",
    "actor String",
    "group_id String",
    "is_test UInt8",
    # Named apart from the input's columns: a view's aliases are its whole statement's.
    "sent AggregateFunction(sum, UInt64)",
    "acts AggregateFunction(sum, UInt64)",
    "sign_ins AggregateFunction(sum, UInt64)",
    "named AggregateFunction(sum, UInt64)",
    # Over rows without activity: the largest UInt64 (first) and 0 (last); readers take the
    # first time only from rows with activity.
    "first_act AggregateFunction(min, UInt64)",
    "last_act AggregateFunction(max, UInt64)",
    "active AggregateFunction(groupBitOr, UInt64)",
)
MASK_KEY = "workspace, block, kind, subject, event_name, is_test"
EVENT_KEY = "workspace, day, event_name, type, group_id, is_test"
SENDER_KEY = "workspace, block, actor, group_id, is_test"

# The tables the views fill, whose engines merge rows of one key.
ROLLUP_TABLES = ("activity_days", "activity_masks", "event_days", "sender_blocks")


def _sender_states(source: str, n: str, first: str, last: str) -> str:
    """SELECT of sender_blocks' rows (as states) from day rows with plain values: `source`
    with the KEY columns and the values `n` (events), `first` and `last` (epoch ms)."""
    not_activity = ", ".join(f"'{t}'" for t in NOT_ACTIVITY)
    act = f"type NOT IN ({not_activity})"
    return (
        f"SELECT workspace, intDiv(day, {BLOCK_DAYS}) AS block, actor, group_id, is_test, "
        f"sumState({n}) AS sent, sumState(if({act}, {n}, toUInt64(0))) AS acts, "
        f"sumState(if({act} AND event_name = 'signed_in', {n}, toUInt64(0))) AS sign_ins, "
        f"sumState(if(anonymous = 1, toUInt64(0), {n})) AS named, "
        f"minState(if({act}, {first}, toUInt64(18446744073709551615))) AS first_act, "
        f"maxState(if({act}, {last}, toUInt64(0))) AS last_act, "
        f"groupBitOrState(if({act}, bitShiftLeft(toUInt64(1), day % {BLOCK_DAYS}), "
        f"toUInt64(0))) AS active FROM {source} GROUP BY {SENDER_KEY}"
    )


def backfill(db: str, cluster: str) -> list[str]:
    """Statements filling one server's sender_blocks from its day rows, for a store written
    before that table existed (run only while it is empty)."""
    local = "_local" if cluster else ""
    days = (
        f"(SELECT {KEY}, sumMerge(events) AS n, minMerge(first_ms) AS f, "
        f"maxMerge(last_ms) AS l FROM {db}.activity_days{local} GROUP BY {KEY})"
    )
    return [f"INSERT INTO {db}.sender_blocks{local} {_sender_states(days, 'n', 'f', 'l')}"]


def schema(db: str, cluster: str) -> list[str]:
    """The rollup's DDL for one server: the three tables of states, the Null input, and the
    views that fill each table from what is inserted into the input."""
    local = "_local" if cluster else ""
    source = f"{db}.activity_days_input{local}"
    not_activity = ", ".join(f"'{t}'" for t in NOT_ACTIVITY)
    out = [
        f"CREATE TABLE IF NOT EXISTS {db}.activity_days{local} ({', '.join(STATE_COLUMNS)}) "
        f"ENGINE = AggregatingMergeTree PARTITION BY intDiv(day, 32) ORDER BY ({KEY})",
        f"CREATE TABLE IF NOT EXISTS {db}.activity_masks{local} ({', '.join(MASK_COLUMNS)}) "
        f"ENGINE = AggregatingMergeTree PARTITION BY intDiv(block, 4) ORDER BY ({MASK_KEY})",
        f"CREATE TABLE IF NOT EXISTS {db}.event_days{local} ({', '.join(EVENT_COLUMNS)}) "
        f"ENGINE = AggregatingMergeTree PARTITION BY intDiv(day, 32) ORDER BY ({EVENT_KEY})",
        f"CREATE TABLE IF NOT EXISTS {db}.sender_blocks{local} ({', '.join(SENDER_COLUMNS)}) "
        f"ENGINE = AggregatingMergeTree PARTITION BY intDiv(block, 4) ORDER BY ({SENDER_KEY})",
        f"CREATE TABLE IF NOT EXISTS {source} ({', '.join(INPUT_COLUMNS)}) ENGINE = Null",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.activity_days_view "
        f"TO {db}.activity_days{local} AS SELECT {KEY}, sumState(events) AS events, "
        f"minState(first_ms) AS first_ms, maxState(last_ms) AS last_ms FROM {source} "
        f"GROUP BY {KEY}",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.event_days_view "
        f"TO {db}.event_days{local} AS SELECT {EVENT_KEY}, sumState(events) AS events "
        f"FROM {source} GROUP BY {EVENT_KEY}",
    ]
    out.append(
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.sender_blocks_view "
        f"TO {db}.sender_blocks{local} AS "
        f"{_sender_states(source, 'events', 'first_ms', 'last_ms')}"
    )
    for kind, subject in (("actor", "actor"), ("group", "group_id")):
        out.append(
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.activity_masks_{kind}_view "
            f"TO {db}.activity_masks{local} AS SELECT workspace, intDiv(day, {BLOCK_DAYS}) AS "
            f"block, '{kind}' AS kind, {subject} AS subject, event_name, is_test, "
            f"groupBitOrState(bitShiftLeft(toUInt64(1), day % {BLOCK_DAYS})) AS days "
            f"FROM {source} WHERE type NOT IN ({not_activity}) AND {subject} != '' "
            f"GROUP BY workspace, block, kind, subject, event_name, is_test"
        )
    if cluster:
        shard = "sipHash64(workspace, actor)"
        tables = ("activity_days", "activity_masks", "event_days", "sender_blocks")
        for name in (*tables, "activity_days_input"):
            # Rows of a sender on the shard of its day rows (the input's key).
            key = shard if name.startswith(("activity_days", "sender")) else "rand()"
            out.append(
                f"CREATE TABLE IF NOT EXISTS {db}.{name} AS {db}.{name}_local "
                f"ENGINE = Distributed({cluster}, {db}, {name}_local, {key})"
            )
    return out


def input_columns(days: pa.Table) -> list[list[Any]]:
    """The day rows of `rollup_columns.day_table`, column by column in INPUT_COLUMNS order
    (the columns are unsigned: a time before 1970 counts as 1970)."""
    zero = pa.scalar(0, pa.int64())
    return [
        days.column("workspace").to_pylist(),
        pc.max_element_wise(days.column("day").cast(pa.int64()), zero).to_pylist(),
        days.column("actor").to_pylist(),
        days.column("group_id").to_pylist(),
        days.column("event_name").to_pylist(),
        days.column("type").to_pylist(),
        days.column("is_test").cast(pa.uint8()).to_pylist(),
        days.column("anonymous").cast(pa.uint8()).to_pylist(),
        days.column("events").to_pylist(),
        pc.max_element_wise(days.column("first_ms"), zero).to_pylist(),
        pc.max_element_wise(days.column("last_ms"), zero).to_pylist(),
    ]


INSERT = f"INSERT INTO activity_days_input ({column_names(INPUT_COLUMNS)}) VALUES"
