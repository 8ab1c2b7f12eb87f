"""Shared fixtures: one real server for the session, a fresh workspace per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ServerProcess, Tenant, new_tenant

_names = itertools.count()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A `tracklog serve` subprocess on the embedded DuckDB store."""
    proc = ServerProcess(Path(tmp_path_factory.mktemp("srv")) / "data").start()
    yield proc
    proc.stop()


@pytest.fixture
def tenant(server: ServerProcess) -> Tenant:
    """A new workspace (plan mode warn) with its own write and read keys."""
    return new_tenant(server, f"ws{next(_names)}")
