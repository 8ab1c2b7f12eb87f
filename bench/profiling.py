"""Where a server's time goes under load: py-spy samples, summed by function."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any


def py_spy() -> str | None:
    """The py-spy binary (in the `bench` extra): beside this Python, or on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def record(pid: int, load: Callable[[], Any], out: Path, seconds: int = 8) -> dict[str, Any]:
    """Sample `pid` with py-spy while `load` runs; write a summary to `out`, return its top."""
    binary = py_spy()
    if binary is None:
        return {"skipped": "py-spy is not installed (pip install -e '.[bench]')"}
    raw = out.with_suffix(".folded")
    spy = subprocess.Popen(
        [
            binary,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "200",
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = threading.Thread(target=load)
    worker.start()
    spy.wait()
    worker.join()
    if not raw.exists():
        return {"skipped": f"py-spy wrote nothing (exit {spy.returncode}; needs ptrace rights)"}
    summary = summarize(raw.read_text())
    lines = [f"py-spy samples of pid {pid} over {seconds} s (non-idle threads)", ""]
    for title, key in (("self", "self"), ("inclusive", "inclusive")):
        lines.append(f"top functions by {title} time (% of samples):")
        lines += [f"  {pct:5.1f}%  {name}" for name, pct in summary[key]]
        lines.append("")
    out.write_text("\n".join(lines))
    return {"file": out.name, "self_top": summary["self"][:8]}


def summarize(folded: str, top: int = 25) -> dict[str, list[tuple[str, float]]]:
    """Self and inclusive shares per function from py-spy's folded stacks."""
    own: Counter[str] = Counter()
    within: Counter[str] = Counter()
    total = 0
    for line in folded.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            within[frame] += count
    if not total:
        return {"self": [], "inclusive": []}
    return {
        "self": [(f, round(100 * c / total, 1)) for f, c in own.most_common(top)],
        "inclusive": [(f, round(100 * c / total, 1)) for f, c in within.most_common(top)],
    }


def _short(frame: str) -> str:
    # "function (path/to/module.py:123)" -> "function (module.py)"; lines vary per sample.
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({'/'.join(path.split('/')[-2:])})" if path else name
