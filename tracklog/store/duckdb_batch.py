"""The statements of one DuckDB commit, sent in one call.

Each `execute` releases the GIL while DuckDB works and must take it back before returning;
with the event loop busy, taking it back waits for the loop's switch interval (5 ms). A
commit of a BEGIN, five INSERTs and a COMMIT paid that up to seven times (issue 15: most of
a single-event load's commit time). One call with every statement pays it once.
"""

from __future__ import annotations

import contextlib

import duckdb
import pyarrow as pa


class Batch:
    """Arrow tables to insert and the SQL that inserts them, run together by `run`."""

    def __init__(self) -> None:
        self.tables: dict[str, pa.Table] = {}
        self.statements: list[str] = []

    def insert(self, target: str, table: pa.Table, sql: str = "") -> None:
        """Add `table`'s rows to `target` (or run `sql`, whose `{source}` names the table)."""
        if not table.num_rows:
            return
        source = f"incoming_{len(self.tables)}"
        self.tables[source] = table
        self.statements.append(
            sql.format(source=source) if sql else f"INSERT INTO {target} SELECT * FROM {source}"
        )

    def run(self, cur: duckdb.DuckDBPyConnection, before: str = "", after: str = "") -> None:
        """Execute `before`, the inserts and `after` (e.g. BEGIN and COMMIT) in one call."""
        statements = [s for s in (before, *self.statements, after) if s]
        if not statements:
            return
        for name, table in self.tables.items():
            cur.register(name, table)
        try:
            cur.execute(";\n".join(statements))
        finally:
            for name in self.tables:
                with contextlib.suppress(duckdb.Error):  # an aborted transaction refuses it
                    cur.unregister(name)
