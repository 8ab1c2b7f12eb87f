"""A full disk, for real: the store's data on a small tmpfs that a filler file fills up.

Writes get 503 saying "disk full" and nothing acknowledged is lost; /healthz answers 503
`degraded` with the reason and /metrics has the gauge; once space is freed, health comes back
by itself (a write probe, no client needed) and the refused events go in on their retry.
Mounting needs root (CI and this machine run as root); elsewhere the test skips and says why.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.clickhouse_server import ClickHouseServer, server_command
from tests.conftest import NO_CLICKHOUSE
from tests.support import ServerProcess, Tenant, new_tenant
from tests.test_operations import scrape


@contextlib.contextmanager
def small_disk(path: Path, megabytes: int) -> Iterator[Path]:
    """A tmpfs of `megabytes` mounted at `path` (skips the test when it cannot mount)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a full disk needs a tmpfs mount, which needs root")
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path) -> Path:
    """Fill the file system of `disk` to the last byte with one file; return the file."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * (1 << 20))
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        try:
            while True:
                f.write(b"\0" * 512)
        except OSError:
            pass
    return filler


def events(first: int, count: int) -> list[dict[str, Any]]:
    # A kilobyte each: ten must need more than the last, part-used page of the WAL file (a
    # tmpfs with no free page still lets a write fill the page the file already has).
    return [
        {
            "event_name": "feature_used",
            "user_id": f"u{i}",
            "message_id": f"full-{i}",
            "properties": {"feature_name": f"f{i}", "note": "x" * 1000},
        }
        for i in range(first, first + count)
    ]


@pytest.fixture(params=["duckdb", "clickhouse"])
def on_small_disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Tenant, Path]]:
    """A server whose store writes to a 64 MB tmpfs, with a workspace; and the tmpfs."""
    with contextlib.ExitStack() as stack:
        if request.param == "duckdb":
            # The mount is the data directory itself; the server's log stays outside it.
            disk = stack.enter_context(small_disk(tmp_path / "srv" / "data", 64))
            server = ServerProcess(disk)
        else:
            if server_command() is None:
                pytest.skip(NO_CLICKHOUSE)
            # ClickHouse's data on the tmpfs; its logs and config beside, on the real disk.
            disk = stack.enter_context(small_disk(tmp_path / "ch" / "data", 64))
            clickhouse = ClickHouseServer(tmp_path / "ch").start()
            stack.callback(clickhouse.stop)
            (tmp_path / "srv").mkdir()
            server = ServerProcess(tmp_path / "srv" / "data", store=clickhouse.url("full"))
        server.start()
        stack.callback(server.stop)
        yield new_tenant(server, "full"), disk


def test_a_full_disk_is_reported_and_loses_nothing(on_small_disk: tuple[Tenant, Path]) -> None:
    tenant, disk = on_small_disk
    server = tenant.server
    assert tenant.post("/api/track", events(0, 10)).json()["accepted"] == 10
    assert httpx.get(server.url + "/healthz", timeout=10).json()["status"] == "ok"

    filler = fill(disk)
    refused = tenant.post("/api/track", events(10, 10))
    assert refused.status_code == 503, refused.text
    error = refused.json()["error"]
    assert error["code"] == "store_unavailable"
    assert "disk full" in error["message"] and "cannot be reached" not in error["message"]
    assert refused.headers["Retry-After"] == "30"

    health = httpx.get(server.url + "/healthz", timeout=10)
    assert health.status_code == 503, health.text
    body = health.json()
    assert (body["status"], body["disk_full"]) == ("degraded", True)
    assert body["reason"].startswith("disk full")
    samples = scrape(server)
    assert samples["tracklog_store_disk_full{}"] == 1
    assert samples["tracklog_store_write_failing{}"] == 1
    # Reads still work while writes cannot.
    assert len(tenant.events()) == 10

    filler.unlink()
    # No client writes meanwhile: the health check's own probe sees the space come back.
    deadline = time.monotonic() + 30
    while (health := httpx.get(server.url + "/healthz", timeout=10)).status_code != 200:
        assert time.monotonic() < deadline, health.text
        time.sleep(0.5)
    assert health.json()["status"] == "ok"
    assert scrape(server)["tracklog_store_disk_full{}"] == 0

    # The client retries what was refused: every event once, none lost, none doubled.
    assert tenant.post("/api/track", events(10, 10)).json()["accepted"] == 10
    assert tenant.post("/api/track", events(0, 20)).json()["duplicates"] == 20
    assert sorted(e["message_id"] for e in tenant.events()) == sorted(
        f"full-{i}" for i in range(20)
    )
