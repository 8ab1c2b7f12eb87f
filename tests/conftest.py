"""Shared fixtures: one real server per store for the session, a fresh workspace per test.

The `server` fixture is parametrized over the stores, so every test that uses it (or
`tenant`) is the contract suite: it runs against DuckDB and against ClickHouse with the same
requests and the same expected answers. Tests marked `duckdb_only` are about the DuckDB
file itself (the CLI opening it, SIGKILL durability) and start their own server.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clickhouse_server import ClickHouseServer, server_command
from tests.support import ServerProcess, Tenant, new_tenant

_names = itertools.count()

NO_CLICKHOUSE = (
    "ClickHouse contract tests skipped: no clickhouse-server binary here "
    "(apt-get install clickhouse-server clickhouse-client)"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "duckdb_only: about the DuckDB file itself; not part of the store contract"
    )


@pytest.fixture(scope="session")
def clickhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseServer]:
    """One throwaway clickhouse-server for the session (skips when none is installed)."""
    if server_command() is None:
        pytest.skip(NO_CLICKHOUSE)
    ch = ClickHouseServer(Path(tmp_path_factory.mktemp("clickhouse"))).start()
    yield ch
    ch.stop()


@pytest.fixture(scope="session", params=["duckdb", "clickhouse"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A `tracklog serve` subprocess on the embedded DuckDB store, or on ClickHouse."""
    data = Path(tmp_path_factory.mktemp("srv")) / "data"
    store = ""
    if request.param == "clickhouse":
        store = request.getfixturevalue("clickhouse").url("contract")
    proc = ServerProcess(data, store=store).start()
    yield proc
    proc.stop()


@pytest.fixture
def tenant(server: ServerProcess) -> Tenant:
    """A new workspace (plan mode warn) with its own write and read keys."""
    return new_tenant(server, f"ws{next(_names)}")
