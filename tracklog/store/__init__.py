"""Stores behind one small interface, chosen by the scheme of a URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from tracklog.store.base import (
    AuditEntry,
    KeyRecord,
    Store,
    StoreFull,
    StoreUnavailable,
    Suppression,
    Workspace,
)

__all__ = [
    "AuditEntry",
    "KeyRecord",
    "Store",
    "StoreFull",
    "StoreUnavailable",
    "Suppression",
    "Workspace",
    "default_url",
    "open_store",
]


def default_url(data_dir: str | Path) -> str:
    """The embedded default: a DuckDB file in the data directory."""
    return f"duckdb://{Path(data_dir) / 'tracklog.duckdb'}"


def open_store(url: str) -> Store:
    """Open (without creating tables) the store a URL names: duckdb:// or clickhouse://."""
    scheme = urlparse(url).scheme
    if scheme == "duckdb":
        from tracklog.store.duckdb import DuckDBStore

        return DuckDBStore(url.removeprefix("duckdb://") or ":memory:")
    if scheme == "clickhouse":
        from tracklog.store.clickhouse import ClickHouseStore

        store: Store = ClickHouseStore(url)
        return store
    raise ValueError(f"Unknown store URL scheme {scheme!r}: use duckdb:// or clickhouse://.")
