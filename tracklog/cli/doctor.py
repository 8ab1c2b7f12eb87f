"""`tracklog doctor`: checks the settings, the data directory, the store, the keys and the
rollup (a sample of it against the events).

Each check ends in a Finding that says, in plain words, what is right or wrong and what to
do about it. The store is opened directly, or — when a running server owns the DuckDB
file — asked through that server's admin socket, so the checks work in both cases.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tracklog.cli.administer import administer
from tracklog.logs import redact
from tracklog.settings import Settings


@dataclass(frozen=True)
class Finding:
    """One check's outcome: ok, a warning (works, but look), or a problem (exit code 1)."""

    level: str
    subject: str
    message: str


def check_settings(conf: Settings) -> list[Finding]:
    """Values that would stop the server or make it misbehave."""
    found: list[Finding] = []

    def bad(subject: str, message: str) -> None:
        found.append(Finding("problem", subject, message))

    if not 0 < conf.port < 65536:
        bad("port", f"--port is {conf.port}; it must be between 1 and 65535.")
    if conf.max_batch_bytes < 32 * 1024:
        bad(
            "max_batch_bytes",
            f"--max-batch-bytes is {conf.max_batch_bytes}; below 32768 even one full-size "
            "event would be refused.",
        )
    if conf.body_timeout <= 0:
        bad("body_timeout", "--body-timeout must be more than 0 seconds.")
    if conf.max_queued_events <= 0:
        bad("max_queued_events", "--max-queued-events must be more than 0.")
    for name in (
        "header_timeout",
        "max_concurrent_requests",
        "max_connections",
        "rate_limit",
        "rate_limit_burst",
    ):
        if getattr(conf, name) < 0:
            bad(name, f"--{name.replace('_', '-')} must be 0 (no limit) or more.")
    if 0 < conf.max_connections <= conf.max_concurrent_requests:
        found.append(
            Finding(
                "warning",
                "max_connections",
                "--max-connections is not above --max-concurrent-requests: idle keep-alive "
                "connections would get uvicorn's bare 503 before requests get Tracklog's.",
            )
        )
    if conf.key_refresh_seconds <= 0:
        bad("key_refresh_seconds", "--key-refresh-seconds must be more than 0.")
    if conf.log_format not in ("text", "json"):
        bad("log_format", f"--log-format is {conf.log_format!r}; use text or json.")
    if conf.metrics_access not in ("loopback", "admin", "open"):
        bad(
            "metrics_access",
            f"--metrics-access is {conf.metrics_access!r}; use loopback, admin or open.",
        )
    scheme = urlparse(conf.store_url()).scheme
    if scheme not in ("duckdb", "clickhouse"):
        bad("store", f"--store {redact(conf.store)!r} is not a duckdb:// or clickhouse:// URL.")
    if conf.plan_file:
        from tracklog.ingest.plan import load_plan

        try:
            load_plan(conf.plan_file)
        except Exception as exc:  # any failure to load is the finding itself
            bad("plan_file", f"The plan file {conf.plan_file} cannot be used: {exc}")
    if conf.host not in ("127.0.0.1", "localhost", "::1") and conf.metrics_access == "open":
        found.append(
            Finding(
                "warning",
                "metrics_access",
                f"/metrics is open to anyone who can reach {conf.host}; consider loopback.",
            )
        )
    if not found:
        found.append(Finding("ok", "settings", "The settings are valid."))
    return found


def check_data_dir(conf: Settings) -> Finding:
    """The data directory exists (or can be made) and this user can write in it."""
    path = Path(conf.data_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Finding(
            "problem",
            "data_dir",
            f"Cannot write in the data directory {path.resolve()}: {exc.strerror or exc}. "
            "Create it, or give this user write permission.",
        )
    return Finding("ok", "data_dir", f"The data directory {path.resolve()} is writable.")


def check_keys(facts: dict[str, Any]) -> list[Finding]:
    """Every workspace has an active key; a workspace without a write key takes no events."""
    workspaces: dict[str, dict[str, int]] = facts["workspaces"]
    if not workspaces:
        return [
            Finding(
                "problem",
                "workspaces",
                "There are no workspaces: start the server once (it makes `default` with keys) "
                "or run `tracklog workspaces create NAME`.",
            )
        ]
    found: list[Finding] = []
    for name, scopes in sorted(workspaces.items()):
        fix = f"`tracklog keys create --workspace {name} --scope write`"
        if not scopes:
            found.append(
                Finding(
                    "problem",
                    f"workspace {name}",
                    f"Workspace {name!r} has no active key: nothing can send to it or read "
                    f"from it. Create one with {fix}.",
                )
            )
        elif not scopes.get("write") and not scopes.get("admin"):
            found.append(
                Finding(
                    "warning",
                    f"workspace {name}",
                    f"Workspace {name!r} has no active write key, so it cannot take events. "
                    f"Create one with {fix} if it should.",
                )
            )
    if not found:
        found.append(Finding("ok", "keys", f"All {len(workspaces)} workspaces have active keys."))
    return found


def check_rollups(facts: dict[str, Any]) -> list[Finding]:
    """The rollup's counts on a sample of days equal a raw count of the events (reports read
    the rollup: a difference there is a wrong number on the dashboard)."""
    found = facts.get("rollups") or {}
    sampled, wrong = found.get("sampled", []), found.get("mismatches", [])
    if not sampled:
        return [Finding("ok", "rollups", "No events yet: nothing to compare the rollup with.")]
    findings = []
    for workspace in sorted({m["workspace"] for m in wrong}):
        mine = [m for m in wrong if m["workspace"] == workspace]
        shown = "; ".join(
            f"{m['day']} {m['event_name'] or '(no name)'} in {m['table']}: {m['rollup']} "
            f"counted, {m['events']} in the events"
            for m in mine[:3]
        )
        more = f" (and {len(mine) - 3} more)" if len(mine) > 3 else ""
        findings.append(
            Finding(
                "problem",
                f"rollups {workspace}",
                f"The rollup of workspace {workspace!r} disagrees with its stored events, so "
                f"reports read from it are wrong: {shown}{more}. Count it again from the "
                f"events with `tracklog rollups rebuild --workspace {workspace}` (on "
                f"ClickHouse, while no node is writing to it).",
            )
        )
    if not findings:
        days = ", ".join(f"{s['workspace']} {s['first_day']}…{s['last_day']}" for s in sampled)
        findings.append(
            Finding("ok", "rollups", f"The rollup equals a raw count of the events on {days}.")
        )
    return findings


def run(conf: Settings) -> list[Finding]:
    """Every check, in the order a person would fix them."""
    findings = [*check_settings(conf), check_data_dir(conf)]
    if any(f.subject == "store" for f in findings):
        return findings
    shown = redact(conf.store_url())
    try:
        facts = administer(conf, "doctor.facts")
    except Exception as exc:  # unreachable, locked without a socket, bad credentials, …
        findings.append(
            Finding(
                "problem",
                "store",
                f"The store {shown} cannot be reached: {redact(str(exc))}. Check that it is "
                "running and that the URL and credentials are right.",
            )
        )
        return findings
    findings.append(
        Finding("ok", "store", f"The store {shown} answers ({facts['events']} events stored).")
    )
    findings.extend(check_keys(facts))
    findings.extend(check_rollups(facts))
    return findings


def report(findings: list[Finding]) -> int:
    """Print the findings; the exit code is 1 when any is a problem."""
    marks = {"ok": "ok     ", "warning": "warning", "problem": "PROBLEM"}
    for f in findings:
        print(f"{marks[f.level]}  {f.subject}: {f.message}")
    problems = sum(f.level == "problem" for f in findings)
    print(
        "No problems found."
        if not problems
        else f"{problems} problem{'s' if problems != 1 else ''} found."
    )
    return 1 if problems else 0
