"""Throwaway ClickHouse servers for the tests: the server binary run directly, no systemd.

Each server gets free loopback ports, a temporary directory for its data and logs, and a
config made from tests/clickhouse/{config,users}.xml. `start_cluster(n)` starts n servers
that all know one `remote_servers` cluster (`tracklog`) with each server as one shard, so a
Distributed table spreads rows over them. Run `python -m tests.clickhouse_server` to get one
by hand.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from clickhouse_driver import Client
from clickhouse_driver.errors import Error as DriverError

from tests.support import free_port

TEMPLATES = Path(__file__).parent / "clickhouse"
CLUSTER = "tracklog"


def server_command() -> list[str] | None:
    """How to run the server binary here: `clickhouse-server`, or `clickhouse server`."""
    if found := shutil.which("clickhouse-server"):
        return [found]
    for place in ("/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"):
        if Path(place).exists():
            return [place]
    if found := shutil.which("clickhouse"):
        return [found, "server"]
    return None


@dataclass
class ClickHouseServer:
    """One clickhouse-server process on loopback, with its data in `directory`."""

    directory: Path
    tcp_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    interserver_port: int = field(default_factory=free_port)
    cluster: list[int] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None

    def url(self, database: str, cluster: bool = False) -> str:
        """The Tracklog store URL for `database` on this server (sharded over the cluster)."""
        suffix = f"?cluster={CLUSTER}" if cluster else ""
        return f"clickhouse://default:@127.0.0.1:{self.tcp_port}/{database}{suffix}"

    def client(self, database: str = "default") -> Client:
        """A clickhouse-driver client for this server."""
        return Client("127.0.0.1", port=self.tcp_port, database=database, connect_timeout=2)

    def _write_config(self) -> Path:
        for sub in ("data", "tmp", "log", "user_files", "format_schemas"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        shards = "\n".join(
            f"            <shard><replica><host>127.0.0.1</host><port>{port}</port>"
            "</replica></shard>"
            for port in self.cluster or [self.tcp_port]
        )
        remote = f"        <{CLUSTER}>\n{shards}\n        </{CLUSTER}>"
        text = (TEMPLATES / "config.xml").read_text()
        for name, value in (
            ("dir", str(self.directory)),
            ("tcp_port", str(self.tcp_port)),
            ("http_port", str(self.http_port)),
            ("interserver_port", str(self.interserver_port)),
            ("remote_servers", remote),
        ):
            text = text.replace("{" + name + "}", value)
        config = self.directory / "config.xml"
        config.write_text(text)
        shutil.copy(TEMPLATES / "users.xml", self.directory / "users.xml")
        return config

    def start(self, timeout: float = 60.0) -> ClickHouseServer:
        """Start the server (again, on the same ports and data) and wait until it answers."""
        command = server_command()
        if command is None:
            raise RuntimeError("no clickhouse-server binary on this machine")
        config = self._write_config()
        log = open(self.directory / "log" / "stdout.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [*command, f"--config-file={config}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.directory,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"clickhouse-server exited {self.proc.returncode}: {self.log()}")
            if self.ready():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"clickhouse-server did not start: {self.log()}")

    def ready(self) -> bool:
        """Whether the server answers a query now."""
        try:
            with socket.create_connection(("127.0.0.1", self.tcp_port), timeout=0.5):
                pass
            client = self.client()
            try:
                return bool(client.execute("SELECT 1") == [(1,)])
            finally:
                client.disconnect()
        except (OSError, DriverError, EOFError):
            return False

    def log(self) -> str:
        """The end of the server's error log, for failure messages."""
        texts = []
        for name in ("stdout.log", "error.log"):
            path = self.directory / "log" / name
            if path.exists():
                texts.append(path.read_text(errors="replace")[-2000:])
        return "\n".join(texts)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server and wait for it (SIGTERM, then SIGKILL after 30 s)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def start_cluster(directory: Path, shards: int = 2) -> list[ClickHouseServer]:
    """`shards` servers, each one shard of the cluster `tracklog` that all of them know."""
    servers = [ClickHouseServer(directory / f"shard{i}") for i in range(shards)]
    ports = [s.tcp_port for s in servers]
    started: list[ClickHouseServer] = []
    try:
        for server in servers:
            server.cluster = ports
            started.append(server.start())
    except BaseException:
        for server in started:
            server.stop()
        raise
    return servers


if __name__ == "__main__":
    home = Path(tempfile.mkdtemp(prefix="tracklog-clickhouse-"))
    one = ClickHouseServer(home).start()
    print(f"ClickHouse on 127.0.0.1:{one.tcp_port}; store URL {one.url('tracklog')}", flush=True)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        one.stop()
        shutil.rmtree(home, ignore_errors=True)
