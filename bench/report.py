"""Results out: the machine they were measured on, tables for a person, JSON for a file."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "out"


def machine() -> dict[str, Any]:
    """nproc, CPU model, RAM, versions and the time: what a figure needs beside it."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    versions: dict[str, str | None] = {}
    for name in ("duckdb", "msgspec", "starlette", "uvicorn", "clickhouse-driver"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "loadavg_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "packages": versions,
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
    }


def table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    """A plain-text table of `rows` under (key, heading) columns."""
    cells = [[_cell(r.get(k)) for k, _ in columns] for r in rows]
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, (_, h) in enumerate(columns)]
    lines = ["  ".join(h.ljust(w) for (_, h), w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for c in cells:
        lines.append("  ".join(v.rjust(w) for v, w in zip(c, widths, strict=True)))
    return "\n".join(lines)


def markdown(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    """The same table in Markdown, for bench/RESULTS.md."""
    lines = ["| " + " | ".join(h for _, h in columns) + " |"]
    first = rows[0] if rows else {}
    lines.append(
        "|" + "|".join("---" if isinstance(first.get(k), str) else "---:" for k, _ in columns) + "|"
    )
    for r in rows:
        lines.append("| " + " | ".join(_cell(r.get(k)) for k, _ in columns) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def write(results: dict[str, Any]) -> Path:
    """Write results to bench/out/results-<time>.json and bench/out/latest.json."""
    OUT.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = OUT / f"results-{stamp}.json"
    text = json.dumps(results, indent=2, default=str)
    path.write_text(text)
    (OUT / "latest.json").write_text(text)
    return path
