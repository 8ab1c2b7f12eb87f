"""ClickHouse's half of profiles (tracklog/store/profiles.py): links, identities and traits.

A mixin of ClickHouseStore. Every table is a ReplacingMergeTree whose version makes the right
row win whatever the order of inserts (a link's time, a trait's version, an identity's write
time), and reads take the winning row (FINAL, or argMax by version). With no transactions,
the facts are inserted after the events that carry them; a failure in between is mended by
the client's retry, which applies the same facts again.

Two nodes that change one person's identities at the same instant may each resolve from a
snapshot without the other's link; the later write wins and can miss one link until the next
fact about that person arrives, or `tracklog doctor` rebuilds them (docs/clickhouse.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracklog.store.clickhouse_values import column_names, row_version
from tracklog.store.profiles import Identity, Link, ProfileFacts, Trait, identity_changes

LINK_COLUMNS = (
    "workspace String",
    "id String",
    "target String",
    "merges UInt8",
    "at_ms UInt64",
)
IDENTITY_COLUMNS = (
    "workspace String",
    "id String",
    "person String",
    "version UInt64",
)
TRAIT_COLUMNS = (
    "workspace String",
    "kind String",
    "subject String",
    "key String",
    "value String",
    "version UInt64",
    "text Nullable(String)",
)
META_COLUMNS = ("name String", "value String", "version UInt64")
# Bytes of ids per `IN` list: ClickHouse refuses a query longer than max_query_size (256 KiB
# by default), and the profiles of a store's first start link 100k+ ids at once.
IN_LIST_BYTES = 64_000

# name: (columns, engine and keys, sharding key), as ClickHouseStore's TABLES.
PROFILE_TABLES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "identity_links": (
        LINK_COLUMNS,
        "ReplacingMergeTree(at_ms) ORDER BY (workspace, id, target, merges)",
        "sipHash64(workspace, id)",
    ),
    "identities": (
        IDENTITY_COLUMNS,
        "ReplacingMergeTree(version) ORDER BY (workspace, id)",
        "sipHash64(workspace, id)",
    ),
    "traits": (
        TRAIT_COLUMNS,
        "ReplacingMergeTree(version) ORDER BY (workspace, kind, subject, key)",
        "sipHash64(workspace, subject)",
    ),
    "meta": (META_COLUMNS, "ReplacingMergeTree(version) ORDER BY name", "sipHash64(name)"),
}


class ProfileTables:
    """Profile facts over a ClickHouseStore's connection."""

    identities_table = "identities FINAL"
    traits_table = "traits FINAL"

    def _run(self, sql: str, params: Any = None, **kw: Any) -> Any:
        raise NotImplementedError  # ClickHouseStore's

    # -- IdentityRows, for identity_changes ------------------------------------------------------
    def identities_of(self, workspace: str, ids: Sequence[str]) -> dict[str, Identity]:
        """The stored identities of these ids."""
        found: dict[str, Identity] = {}
        for part in in_parts(ids):
            rows = self._run(
                "SELECT id, argMax(person, version) FROM identities "
                "WHERE workspace = %(ws)s AND id IN %(ids)s GROUP BY id",
                {"ws": workspace, "ids": part},
            )
            found.update((r[0], Identity(workspace, r[0], r[1])) for r in rows)
        return found

    def members_of(self, workspace: str, persons: Sequence[str]) -> dict[str, Identity]:
        """The stored identities that resolve to one of these persons now."""
        found: dict[str, Identity] = {}
        # An id's person now is one of the persons it ever had: each part finds its own.
        for part in in_parts(persons):
            rows = self._run(
                "SELECT id, argMax(person, version) AS p FROM identities "
                "WHERE workspace = %(ws)s AND id IN (SELECT id FROM identities "
                "WHERE workspace = %(ws)s AND person IN %(persons)s) GROUP BY id "
                "HAVING p IN %(persons)s",
                {"ws": workspace, "persons": part},
            )
            found.update((r[0], Identity(workspace, r[0], r[1])) for r in rows)
        return found

    def links_of(self, workspace: str, ids: Sequence[str]) -> list[Link]:
        """The stored links whose id is one of these."""
        found: list[Link] = []
        for part in in_parts(ids):
            rows = self._run(
                "SELECT id, target, merges, max(at_ms) FROM identity_links "
                "WHERE workspace = %(ws)s AND id IN %(ids)s GROUP BY id, target, merges",
                {"ws": workspace, "ids": part},
            )
            found += [Link(workspace, r[0], r[1], bool(r[2]), int(r[3])) for r in rows]
        return found

    # -- writing ---------------------------------------------------------------------------------
    def apply_profiles(self, facts: ProfileFacts) -> None:
        """Insert a group's links, then the identities they change, then its traits."""
        if facts.links:
            self._insert("identity_links", LINK_COLUMNS, _link_rows(facts.links))
            changed: list[Identity] = []
            for workspace in sorted({link.workspace for link in facts.links}):
                mine = [link for link in facts.links if link.workspace == workspace]
                changed.extend(identity_changes(workspace, mine, self))
            if changed:
                now = row_version()
                self._insert(
                    "identities",
                    IDENTITY_COLUMNS,
                    [(i.workspace, i.id, i.person, now) for i in changed],
                )
        if facts.traits:
            self._insert("traits", TRAIT_COLUMNS, _trait_rows(facts.traits))

    def _insert(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        self._run(f"INSERT INTO {table} ({column_names(columns)}) VALUES", rows)

    def meta(self, name: str) -> str | None:
        """A value the store keeps about itself, or None."""
        rows = self._run(
            "SELECT argMax(value, version) FROM meta WHERE name = %(n)s GROUP BY name",
            {"n": name},
        )
        return str(rows[0][0]) if rows else None

    def save_meta(self, name: str, value: str) -> None:
        """Set a value the store keeps about itself."""
        self._insert("meta", META_COLUMNS, [(name, value, row_version())])


def in_parts(values: Sequence[str], limit: int = IN_LIST_BYTES) -> list[tuple[str, ...]]:
    """`values` as tuples for `IN %(…)s`, each short enough for one query (one part if none)."""
    parts: list[tuple[str, ...]] = []
    part: list[str] = []
    size = 0
    for value in values:
        if part and size + len(value) > limit:
            parts.append(tuple(part))
            part, size = [], 0
        part.append(value)
        size += len(value) + 4  # quotes, comma and space
    return [*parts, tuple(part)]


def _link_rows(links: Sequence[Link]) -> list[tuple[Any, ...]]:
    return [(k.workspace, k.id, k.target, int(k.merge), max(k.at_ms, 0)) for k in links]


def _trait_rows(traits: Sequence[Trait]) -> list[tuple[Any, ...]]:
    return [(t.workspace, t.kind, t.subject, t.key, t.value, t.version, t.text) for t in traits]
