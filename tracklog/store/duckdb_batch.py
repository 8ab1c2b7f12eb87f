"""The statements of one DuckDB commit, sent in one call.

Each `execute` releases the GIL while DuckDB works and must take it back before returning;
with the event loop busy, taking it back waits for the loop's switch interval. A commit of a
BEGIN, five INSERTs and a COMMIT paid that up to seven times (issue 15: most of a
single-event load's commit time). One call with every statement pays it once.

The Arrow tables are not registered as views: registering and unregistering one cost about
0.5 ms (ten calls per commit), more than inserting a few dozen rows. DuckDB's replacement
scan finds a table named in the SQL among the calling function's local variables instead,
so `scan` takes them as parameters with the names the SQL uses.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

# Most tables one commit inserts from (events, three rollups, quarantine, traits) and a spare.
SLOTS = 8


class Batch:
    """Arrow tables to insert and the SQL that inserts them, run together by `run`."""

    def __init__(self) -> None:
        self.tables: dict[str, pa.Table] = {}
        self.statements: list[str] = []

    def insert(self, target: str, table: pa.Table, sql: str = "") -> None:
        """Add `table`'s rows to `target` (or run `sql`, whose `{source}` names the table)."""
        if not table.num_rows:
            return
        if len(self.tables) == SLOTS:
            raise ValueError(f"a batch inserts from at most {SLOTS} tables")
        source = f"incoming_{len(self.tables)}"
        self.tables[source] = table
        self.statements.append(
            sql.format(source=source) if sql else f"INSERT INTO {target} SELECT * FROM {source}"
        )

    def run(self, cur: duckdb.DuckDBPyConnection, before: str = "", after: str = "") -> None:
        """Execute `before`, the inserts and `after` (e.g. BEGIN and COMMIT) in one call."""
        statements = [s for s in (before, *self.statements, after) if s]
        if statements:
            scan(cur, ";\n".join(statements), **self.tables)


def scan(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    incoming_0: pa.Table | None = None,
    incoming_1: pa.Table | None = None,
    incoming_2: pa.Table | None = None,
    incoming_3: pa.Table | None = None,
    incoming_4: pa.Table | None = None,
    incoming_5: pa.Table | None = None,
    incoming_6: pa.Table | None = None,
    incoming_7: pa.Table | None = None,
) -> None:
    """Run `sql`, which reads the tables named incoming_0 … incoming_7 (see the docstring)."""
    cur.execute(sql)
