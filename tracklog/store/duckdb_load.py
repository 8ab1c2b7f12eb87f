"""Putting groups of the DuckDB store's ingest log into its tables: one transaction for the
events, the rollup rows they make, quarantine rows and profile facts of many groups
(tracklog/store/duckdb_spool.py says why they are loaded in bulk)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import duckdb
import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from tracklog.events import Rejected
from tracklog.store import duckdb_profiles, duckdb_rollups
from tracklog.store.base import StoreFull, StoreUnavailable, disk_full
from tracklog.store.duckdb_batch import Batch
from tracklog.store.duckdb_spool import Group
from tracklog.store.profiles import Known, ProfileFacts, latest_links, latest_traits

_json = msgspec.json.Encoder()


def load(
    cur: duckdb.DuckDBPyConnection,
    groups: Sequence[Group],
    zones: dict[str, str],
    known: Known,
    recovering: bool = False,
) -> int:
    """Insert the groups' events (with their rollup rows), quarantine rows and the facts
    `known` does not hold yet, in one transaction; return the rollup day rows added.
    `recovering`: some may be stored already (a crash came between a load's commit and the
    emptying of the log), and are left out."""
    events = _concat([g.events for g in groups])
    rejected = _concat([g.rejected for g in groups])
    if recovering:
        events = _unstored(cur, events, "events")
        rejected = _unstored(cur, rejected, "quarantine")
    links = known.new_links(latest_links(li for g in groups for li in g.facts.links))
    traits = known.new_traits(latest_traits(t for g in groups for t in g.facts.traits))
    days = 0
    batch = Batch()
    try:
        if events is not None:
            batch.insert("events", events)
            days = duckdb_rollups.append(batch, events, zones)
        if rejected is not None:
            batch.insert("quarantine", rejected)
        if links:  # resolving identities reads between writes: statements of its own
            batch.run(cur, "BEGIN TRANSACTION")
            duckdb_profiles.apply(cur, ProfileFacts(links, traits))
            cur.execute("COMMIT")
        else:
            if traits:
                traits_rows = duckdb_profiles.traits_table(traits)
                batch.insert("traits", traits_rows, duckdb_profiles.TRAITS_UPSERT)
            batch.run(cur, "BEGIN TRANSACTION", "COMMIT")
    except duckdb.Error as exc:
        with contextlib.suppress(duckdb.Error):
            cur.execute("ROLLBACK")
        raise write_error(exc) from exc
    known.wrote(links, traits)
    return days


def stored_ids(cur: duckdb.DuckDBPyConnection, keys: Sequence[bytes]) -> set[bytes]:
    """Which of `keys` (16-byte ids) the events table holds."""
    try:
        cur.register("maybe_ids", pa.table({"id": pa.array(keys, pa.uuid())}))
        rows = cur.execute("SELECT id FROM events WHERE id IN (SELECT id FROM maybe_ids)")
        return {r[0].bytes for r in rows.fetchall()}
    except duckdb.Error as exc:
        raise write_error(exc) from exc
    finally:
        with contextlib.suppress(duckdb.Error):
            cur.unregister("maybe_ids")


def rejected_table(rejected: Sequence[Rejected]) -> pa.Table:
    """A batch of quarantine records as one Arrow table."""
    return pa.table(
        {
            "id": pa.array([r.id.bytes for r in rejected], pa.uuid()),
            "workspace": [r.workspace for r in rejected],
            "received_at": pa.array([r.received_at for r in rejected], pa.timestamp("ms")),
            "source": [r.source for r in rejected],
            "raw": [r.raw for r in rejected],
            "reasons": [_json.encode(r.reasons).decode() for r in rejected],
        }
    )


def write_error(exc: duckdb.Error) -> StoreUnavailable:
    """A failed write as the caller answers it: 503, saying so when the disk is full."""
    if disk_full(str(exc)):
        return StoreFull(f"DuckDB: the disk is full ({exc})")
    return StoreUnavailable(f"DuckDB write failed: {exc}")


def _unstored(
    cur: duckdb.DuckDBPyConnection, table: pa.Table | None, target: str
) -> pa.Table | None:
    """The rows of `table` whose ids `target` does not hold yet."""
    if table is None:
        return None
    cur.register("recovered_ids", table.select(["id"]))
    try:
        rows = cur.execute(
            f"SELECT id FROM {target} WHERE id IN (SELECT id FROM recovered_ids)"
        ).fetchall()
    finally:
        cur.unregister("recovered_ids")
    if not rows:
        return table
    stored = pa.array([r[0].bytes for r in rows], pa.binary(16))
    ids = pa.chunked_array([c.storage for c in table.column("id").chunks], pa.binary(16))
    kept = table.filter(pc.invert(pc.is_in(ids, stored)))
    return kept if kept.num_rows else None


def _concat(tables: Sequence[pa.Table | None]) -> pa.Table | None:
    present = [t for t in tables if t is not None]
    if len(present) < 2:
        return present[0] if present else None
    return pa.concat_tables(present)
