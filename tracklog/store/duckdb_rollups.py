"""DuckDB's half of the activity rollup (tracklog/store/rollups.py).

Each commit appends its rows to the four tables in the same transaction as its events; a
key's rows from many commits are merged into one by `merge`, which the store runs once
enough unmerged rows have piled up (or a minute has passed), so each table holds about one
row per key. Reads sum (or OR) the rows of a key in any case, so a merge changes no answer.
A rebuild counts `activity_days` from the events and derives the others from it.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from tracklog.store import rollup_columns
from tracklog.store.duckdb_batch import Batch
from tracklog.store.rollups import BLOCK_DAYS, NOT_ACTIVITY

SCHEMA = """
CREATE TABLE IF NOT EXISTS activity_days (
    workspace VARCHAR NOT NULL,
    day INTEGER NOT NULL,
    actor VARCHAR NOT NULL,
    group_id VARCHAR NOT NULL,
    event_name VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    is_test BOOLEAN NOT NULL,
    anonymous BOOLEAN NOT NULL,
    events BIGINT NOT NULL,
    first_ms BIGINT NOT NULL,
    last_ms BIGINT NOT NULL,
    merged BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS activity_masks (
    workspace VARCHAR NOT NULL,
    block INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    subject VARCHAR NOT NULL,
    event_name VARCHAR NOT NULL,
    is_test BOOLEAN NOT NULL,
    days UBIGINT NOT NULL,
    merged BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS event_days (
    workspace VARCHAR NOT NULL,
    day INTEGER NOT NULL,
    event_name VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    group_id VARCHAR NOT NULL,
    is_test BOOLEAN NOT NULL,
    events BIGINT NOT NULL,
    merged BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS sender_blocks (
    workspace VARCHAR NOT NULL,
    block INTEGER NOT NULL,
    actor VARCHAR NOT NULL,
    group_id VARCHAR NOT NULL,
    is_test BOOLEAN NOT NULL,
    sent BIGINT NOT NULL,
    acts BIGINT NOT NULL,
    sign_ins BIGINT NOT NULL,
    named BIGINT NOT NULL,
    first_act BIGINT,
    last_act BIGINT,
    active UBIGINT NOT NULL,
    merged BOOLEAN NOT NULL
);
"""
MASK_KEY = "workspace, block, kind, subject, event_name, is_test"
EVENT_KEY = "workspace, day, event_name, type, group_id, is_test"
KEY = "workspace, day, actor, group_id, event_name, type, is_test, anonymous"
SENDER_KEY = "workspace, block, actor, group_id, is_test"
# A sender_blocks row's columns from day rows (activity_days's columns), grouped by SENDER_KEY
# with block = day // BLOCK_DAYS: rollup_columns.sender_table in SQL.
_ACT = "type NOT IN ({})".format(", ".join(f"'{t}'" for t in NOT_ACTIVITY))
SENDER_SUMS = (
    f"sum(events), sum(CASE WHEN {_ACT} THEN events ELSE 0 END), "
    f"sum(CASE WHEN {_ACT} AND event_name = 'signed_in' THEN events ELSE 0 END), "
    f"sum(CASE WHEN anonymous THEN 0 ELSE events END), "
    f"min(CASE WHEN {_ACT} THEN first_ms END), max(CASE WHEN {_ACT} THEN last_ms END), "
    f"coalesce(bit_or(CASE WHEN {_ACT} THEN 1::UBIGINT << (day % {BLOCK_DAYS})::UBIGINT END), "
    f"0::UBIGINT)"
)


def append(batch: Batch, events: pa.Table, zones: dict[str, str]) -> int:
    """Add to the commit's batch the rollup rows of a table of new events (the events
    columns), and the masks and event counts they make, unmerged; return the day rows."""
    days = rollup_columns.day_table(events, zones)
    for name, rows in (
        ("activity_days", days),
        ("activity_masks", rollup_columns.mask_table(days)),
        ("event_days", rollup_columns.event_day_table(days)),
        ("sender_blocks", rollup_columns.sender_table(days)),
    ):
        batch.insert(name, rows.append_column("merged", pa.repeat(False, len(rows))))
    return int(days.num_rows)


# Each table, its key, the part of the key a merge rewrites at once, and its aggregates.
_TABLES = (
    (
        "activity_days",
        KEY,
        "workspace, day",
        "sum(events), min(first_ms), max(last_ms)",
    ),
    ("activity_masks", MASK_KEY, "workspace, block", "bit_or(days)"),
    ("event_days", EVENT_KEY, "workspace, day", "sum(events)"),
    (
        "sender_blocks",
        SENDER_KEY,
        "workspace, block",
        "sum(sent), sum(acts), sum(sign_ins), sum(named), min(first_act), max(last_act), "
        "bit_or(active)",
    ),
)


def merge(cur: duckdb.DuckDBPyConnection) -> int:
    """Merge the rows of every day (block) that has unmerged rows into one row per key.

    Runs in its own transaction; returns how many unmerged rows there were.
    """
    cur.execute("BEGIN TRANSACTION")
    pending = 0
    try:
        for table, key, part, aggregates in _TABLES:
            on = " AND ".join(f"{table}.{c} = dirty.{c}" for c in part.split(", "))
            cur.execute(
                f"CREATE TEMP TABLE dirty AS SELECT DISTINCT {part} FROM {table} WHERE NOT merged"
            )
            pending += int(
                cur.execute(f"SELECT count(*) FROM {table} WHERE NOT merged").fetchall()[0][0]
            )
            cur.execute(
                f"CREATE TEMP TABLE merged_rows AS SELECT {key}, {aggregates}, TRUE "
                f"FROM {table} SEMI JOIN dirty USING ({part}) GROUP BY {key}"
            )
            cur.execute(f"DELETE FROM {table} USING dirty WHERE {on}")
            cur.execute(f"INSERT INTO {table} SELECT * FROM merged_rows")
            cur.execute("DROP TABLE merged_rows")
            cur.execute("DROP TABLE dirty")
        cur.execute("COMMIT")
    except duckdb.Error:
        cur.execute("ROLLBACK")
        raise
    return pending


def replace(
    cur: duckdb.DuckDBPyConnection,
    workspace: str,
    blocks: tuple[int, int] | None,
    select: str,
    params: dict[str, object],
) -> None:
    """Replace a workspace's rows (all, or of blocks [first, last]) in the three tables by
    `select`'s day rows (in the open transaction; `select` gives activity_days's columns but
    `merged`) and what they make."""
    where, args = "workspace = $ws", dict[str, object](ws=workspace)
    if blocks is not None:
        where += " AND block BETWEEN $a AND $b"
        args.update(a=blocks[0], b=blocks[1])
    day_where = where.replace("block BETWEEN", f"day // {BLOCK_DAYS} BETWEEN")
    cur.execute(f"DELETE FROM activity_days WHERE {day_where}", args)
    cur.execute(f"DELETE FROM activity_masks WHERE {where}", args)
    cur.execute(f"DELETE FROM event_days WHERE {day_where}", args)
    cur.execute(f"DELETE FROM sender_blocks WHERE {where}", args)
    cur.execute(f"INSERT INTO activity_days SELECT *, TRUE FROM ({select})", params)
    not_activity = ", ".join(f"'{t}'" for t in NOT_ACTIVITY)
    for kind, subject in (("actor", "actor"), ("group", "group_id")):
        cur.execute(
            f"INSERT INTO activity_masks SELECT workspace, day // {BLOCK_DAYS} AS block, "
            f"'{kind}', {subject}, event_name, is_test, "
            f"bit_or(1::UBIGINT << (day % {BLOCK_DAYS})::UBIGINT), TRUE FROM activity_days "
            f"WHERE {day_where} AND type NOT IN ({not_activity}) AND {subject} != '' "
            f"GROUP BY workspace, block, {subject}, event_name, is_test",
            args,
        )
    cur.execute(
        f"INSERT INTO event_days SELECT {EVENT_KEY}, sum(events), TRUE FROM activity_days "
        f"WHERE {day_where} GROUP BY {EVENT_KEY}",
        args,
    )
    derive_senders(cur, day_where, args)


def upgrade(cur: duckdb.DuckDBPyConnection) -> None:
    """Fill sender_blocks from the day rows of a store written before it existed (once: a
    store with day rows has sender rows from then on)."""
    if cur.execute("SELECT 1 FROM sender_blocks LIMIT 1").fetchall():
        return
    if not cur.execute("SELECT 1 FROM activity_days LIMIT 1").fetchall():
        return
    cur.execute("BEGIN TRANSACTION")
    try:
        derive_senders(cur)
        cur.execute("COMMIT")
    except duckdb.Error:
        cur.execute("ROLLBACK")
        raise


def derive_senders(
    cur: duckdb.DuckDBPyConnection, day_where: str = "TRUE", args: dict[str, object] | None = None
) -> None:
    """Add the sender_blocks rows of the activity_days rows matching `day_where`."""
    cur.execute(
        f"INSERT INTO sender_blocks SELECT workspace, day // {BLOCK_DAYS} AS block, actor, "
        f"group_id, is_test, {SENDER_SUMS}, TRUE FROM activity_days WHERE {day_where} "
        f"GROUP BY workspace, block, actor, group_id, is_test",
        args or {},
    )
