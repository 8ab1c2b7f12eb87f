"""Running a real `tracklog serve` for tests: a subprocess on a free loopback port."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tracklog import settings
from tracklog.cli.administer import administer


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """A `tracklog serve` subprocess and the keys it printed at first start."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    extra_args: list[str] = field(default_factory=list)
    store: str = ""  # a store URL (clickhouse://…); empty: DuckDB in data_dir
    env: dict[str, str] = field(default_factory=dict)
    write_key: str = ""
    read_key: str = ""
    proc: subprocess.Popen[str] | None = None
    output: str = ""
    _log: Any = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        """Start the server and wait until /healthz answers."""
        self._log = open(self.data_dir.parent / f"server-{self.port}.log", "a")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tracklog",
                "serve",
                "--data-dir",
                str(self.data_dir),
                "--port",
                str(self.port),
                *(["--store", self.store] if self.store else []),
                *self.extra_args,
            ],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env={**os.environ, **self.env},
        )
        threading.Thread(target=self._read_output, args=(self.proc,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {self.output}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not start: {self.output}")

    def _read_output(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.output += line
            if m := re.search(r"write key: (\S+)", line):
                self.write_key = m.group(1)
            if m := re.search(r"read key:\s+(\S+)", line):
                self.read_key = m.group(1)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server (SIGTERM waits for a clean shutdown; SIGKILL does not)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()
        self.proc = None

    def admin(self, action: str, **args: str) -> Any:
        """An admin command through the server's socket, as the CLI does it."""
        conf = settings.Settings(data_dir=str(self.data_dir), store=self.store)
        return administer(conf, action, via_server=True, **args)


@dataclass
class Tenant:
    """A workspace of a running server with a write and a read key, and clients for them."""

    server: ServerProcess
    name: str
    write_key: str
    read_key: str

    def post(
        self, path: str, body: Any = None, key: str | None = None, **kw: Any
    ) -> httpx.Response:
        """POST JSON (or `content=`) with this workspace's write key."""
        headers = {"Authorization": f"Bearer {key or self.write_key}", **kw.pop("headers", {})}
        if body is not None:
            kw["json"] = body
        return httpx.post(self.server.url + path, headers=headers, timeout=30, **kw)

    def get(self, path: str, key: str | None = None, **params: Any) -> httpx.Response:
        """GET with this workspace's read key."""
        return httpx.get(
            self.server.url + path,
            params=params,
            headers={"Authorization": f"Bearer {key or self.read_key}"},
            timeout=30,
        )

    def events(self, **params: Any) -> list[dict[str, Any]]:
        """Every stored event matching `params`, following cursors."""
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.get(
                "/api/events", limit=1000, **params, **({"cursor": cursor} if cursor else {})
            )
            assert page.status_code == 200, page.text
            data = page.json()
            found.extend(data["events"])
            cursor = data["next_cursor"]
            if not cursor:
                return found


def new_tenant(server: ServerProcess, name: str, plan_mode: str = "warn") -> Tenant:
    """Create a workspace on a running server, with keys, through the admin socket."""
    server.admin("workspaces.create", name=name, plan_mode=plan_mode)
    write = server.admin("keys.create", workspace=name, scope="write")["key"]
    read = server.admin("keys.create", workspace=name, scope="read")["key"]
    return Tenant(server, name, write, read)
