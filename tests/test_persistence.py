"""Durability across restarts, and the CLI with and without a running server."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support import ServerProcess, Tenant


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracklog", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.duckdb_only
def test_first_start_prints_keys_once_and_events_survive_sigkill(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        assert server.write_key.startswith("tlw_") and server.read_key.startswith("tlr_")
        assert "curl" in server.output and "Dashboard" in server.output
        tenant = Tenant(server, "default", server.write_key, server.read_key)
        events = [
            {
                "event_name": "signed_in",
                "user_id": f"u{i}",
                "message_id": f"m{i}",
                "context": {"group_id": "g"},
            }
            for i in range(100)
        ]
        assert tenant.post("/api/track", events).json()["accepted"] == 100
        # A 200 means on disk: even a SIGKILL right after loses nothing.
        server.stop(signal.SIGKILL)
        server.output = server.write_key = ""
        server.start()
        assert server.write_key == "", "keys are printed on the first start only"
        assert len(tenant.events()) == 100
        assert tenant.post("/api/track", events).json()["duplicates"] == 100
    finally:
        server.stop()


@pytest.mark.duckdb_only
def test_cli_manages_keys_with_and_without_a_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # No server: the CLI opens the store itself.
    assert cli(data, "workspaces", "create", "acme").returncode == 0
    made = cli(data, "keys", "create", "--workspace", "acme", "--scope", "write")
    assert made.returncode == 0, made.stderr
    write_key = made.stdout.strip()
    assert write_key.startswith("tlw_") and "\n" not in write_key
    server = ServerProcess(data).start()
    try:
        # The server did not make a default workspace: one already existed.
        assert server.write_key == ""
        # With the server holding the DuckDB file, the CLI goes through its admin socket.
        read = cli(data, "keys", "create", "--workspace", "acme", "--scope", "read")
        assert read.returncode == 0, read.stderr
        read_key = read.stdout.strip()
        tenant = Tenant(server, "acme", write_key, read_key)
        assert (
            tenant.post("/api/track", [{"event_name": "signed_up", "user_id": "u"}]).status_code
            == 200
        )
        assert len(tenant.events()) == 1
        listed = cli(data, "keys", "list")
        assert listed.returncode == 0 and "acme\twrite" in listed.stdout
        assert write_key not in listed.stdout
        key_id = next(
            line.split("\t")[0] for line in listed.stdout.splitlines() if "\twrite\t" in line
        )
        assert cli(data, "keys", "revoke", key_id).returncode == 0
        r = httpx.post(
            server.url + "/api/track", json=[], headers={"Authorization": f"Bearer {write_key}"}
        )
        assert r.status_code == 401
        bad = cli(data, "keys", "create", "--workspace", "nope", "--scope", "read")
        assert bad.returncode != 0 and "No workspace named 'nope'" in bad.stderr
    finally:
        server.stop()
    # Stopped again: the revocation was stored.
    assert "revoked" in cli(data, "keys", "list").stdout
