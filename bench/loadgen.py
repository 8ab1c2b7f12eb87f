"""wrk as the load generator: one run of bench/wrk/track.lua, parsed into a result."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).parent / "wrk" / "track.lua"


@dataclass(frozen=True)
class Load:
    """One load shape: events per request, open connections, wrk threads, seconds."""

    batch: int
    connections: int
    threads: int
    seconds: float

    @property
    def name(self) -> str:
        """A short label such as batch100-c64."""
        kind = "single" if self.batch == 1 else f"batch{self.batch}"
        return f"{kind}-c{self.connections}"


def have_wrk() -> bool:
    """Whether wrk is on PATH."""
    return shutil.which("wrk") is not None


def run(url: str, load: Load, nonce: str, key: str = "") -> dict[str, Any]:
    """Run wrk against url/api/track and return its counts, rates and latencies."""
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    env = {
        **os.environ,
        "BENCH_BATCH": str(load.batch),
        "BENCH_NONCE": nonce,
        "BENCH_KEY": key,
        "BENCH_TIMESTAMP": stamp,
    }
    command = [
        "wrk",
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{load.seconds:g}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(SCRIPT),
        url + "/api/track",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("BENCH_RESULT "))
    seconds = raw["duration_us"] / 1e6
    ok = raw["requests"] - raw["non2xx"]
    return {
        "load": load.name,
        "batch": load.batch,
        "connections": load.connections,
        "wrk_threads": load.threads,
        "seconds": round(seconds, 2),
        "requests": raw["requests"],
        "requests_per_s": round(raw["requests"] / seconds),
        "ok_requests_per_s": round(ok / seconds),
        "acked_events": raw["acked_events"],
        "events_per_s": round(raw["acked_events"] / seconds),
        "non2xx": raw["non2xx"],
        "socket_errors": sum(
            raw[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
        ),
        "p50_ms": round(raw["latency_p50_us"] / 1000, 2),
        "p90_ms": round(raw["latency_p90_us"] / 1000, 2),
        "p99_ms": round(raw["latency_p99_us"] / 1000, 2),
        "max_ms": round(raw["latency_max_us"] / 1000, 2),
    }
