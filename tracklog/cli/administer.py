"""Running an admin command: through a running server's socket, or on the store directly.

With DuckDB a running server owns the file, so a command goes through the server's admin
socket in the data directory (the file system's permissions decide who may use it);
otherwise the command opens the store itself.
"""

from __future__ import annotations

import http.client
import json
import socket
from pathlib import Path
from typing import Any

import msgspec

from tracklog import admin
from tracklog.cli.commands import SOCKET_NAME, Command, run_command
from tracklog.settings import Settings
from tracklog.store import open_store
from tracklog.store.base import StoreLocked

# Seconds an admin command may take: deleting a user on a large ClickHouse table waits for
# its mutation (up to 120 s, see tracklog/store/clickhouse.py).
_SOCKET_TIMEOUT = 180


class _UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over the admin socket."""

    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=_SOCKET_TIMEOUT)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(_SOCKET_TIMEOUT)
        sock.connect(self._path)
        self.sock = sock


def socket_path(conf: Settings) -> Path:
    """Where a server on this data directory listens for admin commands."""
    return Path(conf.data_dir) / SOCKET_NAME


def administer(conf: Settings, action: str, via_server: bool = False, **args: str) -> Any:
    """Run an admin command through a running server, or on the store directly.

    `via_server` prefers a running server's socket even when the store is shared (ClickHouse),
    so that server sees a new key at once instead of at its next key refresh.
    """

    command = Command(action, args)
    if via_server and socket_path(conf).exists():
        return _through_server(conf, command)
    try:
        store = open_store(conf.store_url())
    except StoreLocked:
        return _through_server(conf, command)
    try:
        store.setup()
        return msgspec.to_builtins(run_command(store, command))
    finally:
        store.close()


def _through_server(conf: Settings, command: Any) -> Any:
    path = socket_path(conf)
    if not path.exists():
        raise admin.AdminError(
            f"The store is in use by another process and no server socket is at {path}."
        )
    conn = _UnixHTTPConnection(str(path))
    try:
        conn.request(
            "POST", "/admin", msgspec.json.encode(command), {"content-type": "application/json"}
        )
        reply = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    if "error" in reply:
        raise admin.AdminError(reply["error"]["message"])
    return reply["result"]
