"""DuckDB's half of the activity rollup (tracklog/store/rollups.py).

Each commit appends its rows to the three tables in the same transaction as its events; a
key's rows from many commits are merged into one by `merge`, which the store runs once
enough unmerged rows have piled up (or a minute has passed), so each table holds about one
row per key. Reads sum (or OR) the rows of a key in any case, so a merge changes no answer.
A rebuild counts `activity_days` from the events and derives the other two from it.
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
"""
MASK_KEY = "workspace, block, kind, subject, event_name, is_test"
EVENT_KEY = "workspace, day, event_name, type, group_id, is_test"
KEY = "workspace, day, actor, group_id, event_name, type, is_test, anonymous"


def append(batch: Batch, events: pa.Table, zones: dict[str, str]) -> int:
    """Add to the commit's batch the rollup rows of a table of new events (the events
    columns), and the masks and event counts they make, unmerged; return the day rows."""
    days = rollup_columns.day_table(events, zones)
    for name, rows in (
        ("activity_days", days),
        ("activity_masks", rollup_columns.mask_table(days)),
        ("event_days", rollup_columns.event_day_table(days)),
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
