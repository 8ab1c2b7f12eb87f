"""DuckDB's half of profiles (tracklog/store/profiles.py): links, identities and traits tables.

Written inside the commit's transaction, beside the events that carry them: a 2xx means the
events and what they say about people and accounts are both on disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa

from tracklog.store.profiles import Identity, Link, ProfileFacts, Trait, identity_changes

SCHEMA = """
CREATE TABLE IF NOT EXISTS identity_links (
    workspace VARCHAR NOT NULL,
    id VARCHAR NOT NULL,
    target VARCHAR NOT NULL,
    merges BOOLEAN NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (workspace, id, target, merges)
);
CREATE TABLE IF NOT EXISTS identities (
    workspace VARCHAR NOT NULL,
    id VARCHAR NOT NULL,
    person VARCHAR NOT NULL,
    PRIMARY KEY (workspace, id)
);
CREATE TABLE IF NOT EXISTS traits (
    workspace VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    subject VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    version BIGINT NOT NULL,
    text VARCHAR,
    PRIMARY KEY (workspace, kind, subject, key)
);
CREATE TABLE IF NOT EXISTS meta (
    name VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
"""


class _Rows:
    """The stored identity rows `identity_changes` asks for, read in the open transaction."""

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        self.cur = cur

    def _in(self, sql: str, workspace: str, values: Sequence[str]) -> list[tuple[Any, ...]]:
        self.cur.register("wanted", pa.table({"v": pa.array(list(values), pa.string())}))
        try:
            return self.cur.execute(sql, {"ws": workspace}).fetchall()
        finally:
            self.cur.unregister("wanted")

    def identities_of(self, workspace: str, ids: Sequence[str]) -> dict[str, Identity]:
        rows = self._in(
            "SELECT id, person FROM identities WHERE workspace = $ws "
            "AND id IN (SELECT v FROM wanted)",
            workspace,
            ids,
        )
        return {r[0]: Identity(workspace, r[0], r[1]) for r in rows}

    def members_of(self, workspace: str, persons: Sequence[str]) -> dict[str, Identity]:
        rows = self._in(
            "SELECT id, person FROM identities WHERE workspace = $ws "
            "AND person IN (SELECT v FROM wanted)",
            workspace,
            persons,
        )
        return {r[0]: Identity(workspace, r[0], r[1]) for r in rows}

    def links_of(self, workspace: str, ids: Sequence[str]) -> list[Link]:
        rows = self._in(
            "SELECT id, target, merges, at_ms FROM identity_links WHERE workspace = $ws "
            "AND id IN (SELECT v FROM wanted)",
            workspace,
            ids,
        )
        return [Link(workspace, r[0], r[1], r[2], r[3]) for r in rows]


def _upsert(cur: duckdb.DuckDBPyConnection, table: pa.Table, sql: str) -> None:
    cur.register("incoming_profile", table)
    try:
        cur.execute(sql)
    finally:
        cur.unregister("incoming_profile")


def write_links(cur: duckdb.DuckDBPyConnection, links: Sequence[Link]) -> None:
    """Store links, keeping the latest time of each."""
    _upsert(
        cur,
        pa.table(
            {
                "workspace": [link.workspace for link in links],
                "id": [link.id for link in links],
                "target": [link.target for link in links],
                "merges": [link.merge for link in links],
                "at_ms": pa.array([link.at_ms for link in links], pa.int64()),
            }
        ),
        "INSERT INTO identity_links SELECT * FROM incoming_profile "
        "ON CONFLICT (workspace, id, target, merges) DO UPDATE SET at_ms = excluded.at_ms "
        "WHERE excluded.at_ms > identity_links.at_ms",
    )


def write_identities(cur: duckdb.DuckDBPyConnection, rows: Sequence[Identity]) -> None:
    """Store each id's person."""
    _upsert(
        cur,
        pa.table(
            {
                "workspace": [i.workspace for i in rows],
                "id": [i.id for i in rows],
                "person": [i.person for i in rows],
            }
        ),
        "INSERT INTO identities SELECT * FROM incoming_profile ON CONFLICT (workspace, id) "
        "DO UPDATE SET person = excluded.person",
    )


# Traits upserted from `{source}`: a stored value with a larger version stays.
TRAITS_UPSERT = (
    "INSERT INTO traits SELECT * FROM {source} "
    "ON CONFLICT (workspace, kind, subject, key) DO UPDATE SET value = excluded.value, "
    "text = excluded.text, "
    "version = excluded.version WHERE excluded.version > traits.version"
)


def traits_table(traits: Sequence[Trait]) -> pa.Table:
    """Traits as the columns of the traits table."""
    return pa.table(
        {
            "workspace": [t.workspace for t in traits],
            "kind": [t.kind for t in traits],
            "subject": [t.subject for t in traits],
            "key": [t.key for t in traits],
            "value": [t.value for t in traits],
            "version": pa.array([t.version for t in traits], pa.int64()),
            "text": pa.array([t.text for t in traits], pa.string()),
        }
    )


def write_traits(cur: duckdb.DuckDBPyConnection, traits: Sequence[Trait]) -> None:
    """Store traits; a stored value with a larger version stays."""
    _upsert(cur, traits_table(traits), TRAITS_UPSERT.format(source="incoming_profile"))


def apply(cur: duckdb.DuckDBPyConnection, facts: ProfileFacts) -> None:
    """Write a group's new links, the identities they change, and its traits."""
    if facts.links:
        write_links(cur, facts.links)
        rows = _Rows(cur)
        changed: list[Identity] = []
        for workspace in sorted({link.workspace for link in facts.links}):
            mine = [link for link in facts.links if link.workspace == workspace]
            changed.extend(identity_changes(workspace, mine, rows))
        if changed:
            write_identities(cur, changed)
    if facts.traits:
        write_traits(cur, facts.traits)
