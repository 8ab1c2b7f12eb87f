"""Every server setting in one table: it feeds the CLI flags, TRACKLOG_* variables and the docs."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Setting:
    """One row of the table: name, type, default, help."""

    name: str
    type: type
    default: Any
    help: str

    @property
    def flag(self) -> str:
        """The command-line flag, e.g. --max-batch-bytes."""
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        """The environment variable, e.g. TRACKLOG_MAX_BATCH_BYTES."""
        return "TRACKLOG_" + self.name.upper()


TABLE: tuple[Setting, ...] = (
    Setting("data_dir", str, "./tracklog-data", "Where the embedded store keeps its files."),
    Setting("host", str, "127.0.0.1", "Address to listen on."),
    Setting("port", int, 8000, "Port to listen on."),
    Setting(
        "store",
        str,
        "",
        "Store URL: duckdb:///path/file.duckdb (default: in --data-dir) or "
        "clickhouse://user:password@host:9000/database.",
    ),
    Setting("max_batch_bytes", int, 500 * 1024, "Largest request body, after decompression."),
    Setting("body_timeout", float, 30.0, "Seconds a client may take to send a request body."),
    Setting(
        "header_timeout",
        float,
        10.0,
        "Seconds a client may take to send a request's headers before 408 and a closed "
        "connection (0: no limit).",
    ),
    Setting(
        "plan_file", str, "", "JSON file of custom tracking-plan specs, laid over the built-in."
    ),
    Setting("max_queued_events", int, 200_000, "Events waiting for commit before 503."),
    Setting(
        "max_concurrent_requests",
        int,
        128,
        "Requests in progress before more are answered 503 with Retry-After (0: no limit).",
    ),
    Setting(
        "max_connections",
        int,
        1000,
        "Open connections (idle keep-alive and live streams too) before uvicorn answers 503 "
        "(0: no limit).",
    ),
    Setting(
        "rate_limit",
        float,
        0.0,
        "Events per second each write key may send before 429 with Retry-After (0: no limit).",
    ),
    Setting(
        "rate_limit_burst",
        float,
        0.0,
        "Bucket size of --rate-limit: events a write key may send at once after a quiet "
        "spell (0: one second's worth).",
    ),
    Setting("key_refresh_seconds", float, 5.0, "How often keys are re-read from a shared store."),
    Setting(
        "cors_origins",
        str,
        "*",
        "Origins allowed to post events from a browser (comma-separated; * for any).",
    ),
    Setting("log_format", str, "text", "Log format: text or json."),
    Setting("health_active_days", int, 7, "An account seen within this many days can be active."),
    Setting("health_at_risk_days", int, 30, "An account seen within this many days is at risk."),
    Setting(
        "health_min_active_days",
        int,
        2,
        "Distinct active days in the last 30 an account needs to count as active.",
    ),
    Setting(
        "memory_limit",
        str,
        "25%",
        "DuckDB's memory for queries: a share of this machine's RAM (25%) or a size (2GB); "
        "past it, big queries spill to disk instead of growing the server.",
    ),
    Setting(
        "identity_properties",
        str,
        "email,user_name,name,first_name,last_name",
        "Properties of any event that set its person's traits (comma-separated), as the "
        "seeds' signed_in carries email and user_name.",
    ),
    Setting(
        "account_properties",
        str,
        "account_name",
        "Properties of any event with an account that set the account's traits (comma-separated).",
    ),
    Setting(
        "metrics_access",
        str,
        "loopback",
        "Who may read /metrics: loopback (no key from 127.0.0.1/::1, else an admin key), "
        "admin (always an admin key) or open.",
    ),
    Setting(
        "commit_interval",
        float,
        -1.0,
        "Least seconds between group commits, so a busy server writes fewer, larger batches "
        "(-1: the store's own, 0 for DuckDB and 0.2 for ClickHouse).",
    ),
    Setting(
        "retention_interval_seconds",
        float,
        3600.0,
        "How often the server applies the workspaces' retention policies (also once at "
        "start); 0 turns the periodic run off (`tracklog retention run` still works).",
    ),
    Setting(
        "session_idle_hours",
        float,
        12.0,
        "A dashboard sign-in (session cookie) ends after this many hours without use.",
    ),
    Setting(
        "session_max_days",
        float,
        7.0,
        "A dashboard sign-in ends this many days after it began, however much it is used.",
    ),
)


@dataclass(frozen=True)
class Settings:
    """Resolved settings: flag, else environment variable, else default."""

    data_dir: str = "./tracklog-data"
    host: str = "127.0.0.1"
    port: int = 8000
    store: str = ""
    max_batch_bytes: int = 500 * 1024
    body_timeout: float = 30.0
    header_timeout: float = 10.0
    plan_file: str = ""
    max_queued_events: int = 200_000
    max_concurrent_requests: int = 128
    max_connections: int = 1000
    rate_limit: float = 0.0
    rate_limit_burst: float = 0.0
    key_refresh_seconds: float = 5.0
    cors_origins: str = "*"
    log_format: str = "text"
    health_active_days: int = 7
    health_at_risk_days: int = 30
    health_min_active_days: int = 2
    memory_limit: str = "25%"
    identity_properties: str = "email,user_name,name,first_name,last_name"
    account_properties: str = "account_name"
    metrics_access: str = "loopback"
    commit_interval: float = -1.0
    retention_interval_seconds: float = 3600.0
    session_idle_hours: float = 12.0
    session_max_days: float = 7.0

    def store_url(self) -> str:
        """The store URL, defaulting to a DuckDB file in the data directory."""
        from tracklog.store import default_url

        return self.store or default_url(self.data_dir)


assert [f.name for f in fields(Settings)] == [s.name for s in TABLE]


def add_arguments(parser: argparse.ArgumentParser, names: tuple[str, ...] | None = None) -> None:
    """Add a flag per setting (or per named setting); the default comes from the environment."""
    for setting in TABLE:
        if names is not None and setting.name not in names:
            continue
        parser.add_argument(
            setting.flag,
            dest=setting.name,
            type=setting.type,
            default=None,
            help=f"{setting.help} [env {setting.env}; default {setting.default!r}]",
        )


def resolve(args: argparse.Namespace | None = None) -> Settings:
    """Settings from parsed flags, the environment and the defaults, in that order."""
    values: dict[str, Any] = {}
    for setting in TABLE:
        given = getattr(args, setting.name, None) if args is not None else None
        if given is None and setting.env in os.environ:
            given = setting.type(os.environ[setting.env])
        values[setting.name] = setting.default if given is None else given
    return Settings(**values)


def markdown_table() -> str:
    """The settings as a Markdown table, for the docs."""
    lines = ["| flag | environment | default | meaning |", "|---|---|---|---|"]
    for s in TABLE:
        lines.append(f"| `{s.flag}` | `{s.env}` | `{s.default!r}` | {s.help} |")
    return "\n".join(lines)
