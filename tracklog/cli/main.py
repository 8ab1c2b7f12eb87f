"""The `tracklog` command: serve, and manage workspaces and keys.

Key and workspace commands work whether or not a server holds the store: with DuckDB, a
running server owns the file, so the command goes through the server's admin socket in the
data directory; otherwise it opens the store itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from tracklog import admin, logs, settings
from tracklog.cli.administer import administer, socket_path
from tracklog.settings import Settings
from tracklog.store.base import StoreLocked, StoreUnavailable

log = logging.getLogger("tracklog")


SAMPLE_EVENT = (
    '[{"event_name":"signed_in","user_id":"u1","properties":{"email":"jo@example.com"},'
    '"context":{"group_id":"acme"}}]'
)


def _print_welcome(conf: Settings, write_key: str, read_key: str) -> None:
    base = f"http://{conf.host}:{conf.port}"
    print(
        f"""
Tracklog created the workspace "default". These keys are shown once; keep them.
  write key: {write_key}
  read key:  {read_key}

Send an event:
  curl -s {base}/api/track -H 'Authorization: Bearer {write_key}' \\
    -H 'Content-Type: application/json' -d '{SAMPLE_EVENT}'

Read it back:
  curl -s {base}/api/events -H 'Authorization: Bearer {read_key}'

Dashboard: {base}/  (sign in with the read key)
""",
        flush=True,
    )


def serve(conf: Settings) -> None:
    """Run the HTTP server (and the admin socket) until interrupted."""
    import uvicorn

    from tracklog.cli.admin_socket import create_admin_app
    from tracklog.http.app import create_app
    from tracklog.http.header_timeout import with_header_timeout
    from tracklog.http.runtime import build_runtime

    Path(conf.data_dir).mkdir(parents=True, exist_ok=True)
    try:
        runtime = build_runtime(conf)
    except StoreLocked:
        sys.exit(f"tracklog: another process is using {conf.store_url()}; is a server running?")
    if not runtime.store.workspaces():
        admin.create_workspace(runtime.store, "default")
        write_key, _ = admin.create_key(runtime.store, "default", "write", "first start")
        read_key, _ = admin.create_key(runtime.store, "default", "read", "first start")
        runtime.reload()
        _print_welcome(conf, write_key, read_key)

    app = create_app(runtime)
    # The committer thread hands each group to DuckDB without the GIL and must take it back
    # from the busy event loop, which by default lets go only every 5 ms: with 1 ms a small
    # group's commit took a third to four fifths of the time (issue 15, bench/RESULTS.md).
    sys.setswitchinterval(0.001)
    main = uvicorn.Server(
        uvicorn.Config(
            app,
            host=conf.host,
            port=conf.port,
            loop="uvloop",
            http=with_header_timeout(conf.header_timeout) if conf.header_timeout else "httptools",
            log_level="warning",
            log_config=None,  # uvicorn's records go through tracklog.logs' handler
            access_log=False,
            timeout_graceful_shutdown=10,
            # The outer ceiling on open connections; see tracklog/http/concurrency.py.
            limit_concurrency=conf.max_connections or None,
        )
    )
    sock = socket_path(conf)
    with contextlib.suppress(FileNotFoundError):
        sock.unlink()

    class QuietServer(uvicorn.Server):
        """A uvicorn server that leaves signal handling to the main server."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    admin_server = QuietServer(
        uvicorn.Config(
            create_admin_app(runtime),
            uds=str(sock),
            log_level="warning",
            log_config=None,
            lifespan="off",
        )
    )

    async def run() -> None:
        admin_task = asyncio.create_task(admin_server.serve())
        try:
            await main.serve()
        finally:
            admin_server.should_exit = True
            await admin_task
            runtime.store.close()

    shown = logs.redact(conf.store_url())
    print(f"Tracklog listening on http://{conf.host}:{conf.port} (store {shown})", flush=True)
    log.info(
        "listening on http://%s:%d",
        conf.host,
        conf.port,
        extra={"store": shown, "log_format": conf.log_format},
    )
    # uvicorn picks uvloop only when it creates the loop itself; here two servers share one.
    with asyncio.Runner(loop_factory=main.config.get_loop_factory()) as runner:
        runner.run(run())


def transfer(conf: Settings, args: argparse.Namespace) -> int:
    """`tracklog import` and `tracklog export`, through a running server's HTTP API."""
    from tracklog.cli import exporter, importer
    from tracklog.cli.transfer import TransferError

    host = "127.0.0.1" if conf.host in ("0.0.0.0", "::", "") else conf.host  # noqa: S104
    url = args.url or os.environ.get("TRACKLOG_URL") or f"http://{host}:{conf.port}"
    key = args.key or os.environ.get("TRACKLOG_KEY")
    if not key:
        print("tracklog: give an API key with TRACKLOG_KEY=… (or --key)", file=sys.stderr)
        return 2
    try:
        if args.command == "export":
            filters = {f: getattr(args, f) for f in exporter.FILTERS if getattr(args, f)}
            count = exporter.export(
                url, key, args.output, args.format, filters, progress=not args.no_progress
            )
            print(f"exported {count} events to {args.output}")
            return 0
        for path in args.files:
            summary = importer.import_file(
                path,
                url,
                key,
                args.state,
                args.batch_size,
                args.restart,
                progress=not args.no_progress,
                wire_format=args.format,
            )
            print(f"{path}: {summary.line()}")
    except (TransferError, OSError) as exc:
        print(f"tracklog: {exc}", file=sys.stderr)
        return 1
    return 0


def set_workspace(conf: Settings, args: argparse.Namespace) -> None:
    """`tracklog workspaces set`: the plan mode, the retention policy and/or the time zone."""
    if args.plan_mode is None and args.retention_days is None and args.timezone is None:
        raise admin.AdminError("Say what to set: --plan-mode, --retention-days and/or --timezone.")
    if args.timezone is not None:  # first: an unknown zone changes nothing else
        administer(conf, "workspaces.set_timezone", name=args.name, timezone=args.timezone)
    if args.plan_mode is not None:
        administer(conf, "workspaces.set_mode", name=args.name, plan_mode=args.plan_mode)
    if args.retention_days is not None:
        administer(
            conf,
            "workspaces.set_retention",
            name=args.name,
            retention_days=str(args.retention_days),
        )


def privacy_command(conf: Settings, args: argparse.Namespace) -> None:
    """`tracklog users …`, `tracklog audit` and `tracklog retention run`.

    The audit log names who acted: over HTTP a key id, here `cli:` and the login name.
    """
    try:
        actor = f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        actor = "cli"
    if args.command == "audit":
        entries = administer(
            conf, "audit.list", workspace=args.workspace, limit=str(args.limit), actor=actor
        )
        for e in entries:
            counts = " ".join(f"{k}={v}" for k, v in e["counts"].items())
            print(
                f"{e['at']}\t{e['workspace']}\t{e['actor']}\t{e['action']}\t{e['subject']}\t{counts}"
            )
        return
    if args.command == "retention":
        for r in administer(conf, "retention.run", workspace=args.workspace, actor=actor):
            dropped = r["dropped"]
            print(
                f"{r['workspace']}\tkeeps {r['retention_days']} days\tdropped "
                f"{dropped['events']} events, {dropped['quarantined']} quarantined "
                f"(before {r['cutoff']})"
            )
        return
    if args.action == "suppressed":
        for s in administer(conf, "users.suppressed", workspace=args.workspace, actor=actor):
            print(f"{s['user_id']}\t{s['suppressed_at']}")
        return
    # A server on this data directory deletes itself: it refreshes its suppression cache and
    # drains its commit queue first (docs/privacy.md); otherwise the store is opened here.
    result = administer(
        conf,
        f"users.{args.action}",
        via_server=args.action != "export",
        workspace=args.workspace,
        user_id=args.user_id,
        actor=actor,
    )
    if args.action == "export":
        text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
        if args.output:
            args.output.write_text(text)
            print(
                f"exported {len(result['events'])} events of {args.user_id!r} to {args.output}",
                file=sys.stderr,
            )
        else:
            sys.stdout.write(text)
    elif args.action == "delete":
        counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in result["deleted"].items())
        print(f"deleted {args.user_id!r}: {counts}; new events for them are refused")
    else:
        print(f"{args.user_id!r} is no longer suppressed")


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="tracklog", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    serve_p = sub.add_parser("serve", help="run the server")
    settings.add_arguments(serve_p)
    where = argparse.ArgumentParser(add_help=False)
    settings.add_arguments(where, ("data_dir", "store"))

    ws = sub.add_parser("workspaces", help="manage workspaces").add_subparsers(
        dest="action", required=True
    )
    p = ws.add_parser("create", parents=[where], help="create a workspace")
    p.add_argument("name")
    p.add_argument("--plan-mode", default="warn", choices=["off", "warn", "enforce"])
    ws.add_parser("list", parents=[where], help="list workspaces")
    p = ws.add_parser("set-mode", parents=[where], help="set a workspace's tracking-plan mode")
    p.add_argument("name")
    p.add_argument("plan_mode", choices=["off", "warn", "enforce"])
    p = ws.add_parser(
        "set", parents=[where], help="change a workspace's plan mode, retention or time zone"
    )
    p.add_argument("name")
    p.add_argument("--plan-mode", choices=["off", "warn", "enforce"])
    p.add_argument(
        "--retention-days", type=int, help="drop events older than this many days (0: never)"
    )
    p.add_argument(
        "--timezone",
        help="IANA zone the reports count days, weeks and months in (default UTC), "
        "e.g. America/Los_Angeles",
    )

    users = sub.add_parser("users", help="privacy requests about one user").add_subparsers(
        dest="action", required=True
    )
    p = users.add_parser(
        "delete", parents=[where], help="erase a user's data and refuse their new events"
    )
    p.add_argument("user_id")
    p.add_argument("--workspace", required=True)
    p = users.add_parser("export", parents=[where], help="everything stored about a user (JSON)")
    p.add_argument("user_id")
    p.add_argument("--workspace", required=True)
    p.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    p = users.add_parser("suppressed", parents=[where], help="list a workspace's suppressed users")
    p.add_argument("--workspace", required=True)
    p = users.add_parser("unsuppress", parents=[where], help="accept a user's new events again")
    p.add_argument("user_id")
    p.add_argument("--workspace", required=True)
    p = sub.add_parser("audit", parents=[where], help="deletions, exports and retention drops")
    p.add_argument("--workspace", default="", help="one workspace (default: all)")
    p.add_argument("--limit", type=int, default=100)
    ret = sub.add_parser("retention", help="retention policies").add_subparsers(
        dest="action", required=True
    )
    p = ret.add_parser("run", parents=[where], help="drop what the policies no longer keep, now")
    p.add_argument("--workspace", default="", help="one workspace (default: all)")

    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(
        dest="action", required=True
    )
    p = keys.add_parser("create", parents=[where], help="create a key; prints only the key")
    p.add_argument("--workspace", required=True)
    p.add_argument("--scope", required=True, choices=["write", "read", "admin"])
    p.add_argument("--label", default="")
    p.add_argument(
        "--test",
        action="store_true",
        help="a write key whose every event is a test event (left out of reports)",
    )
    keys.add_parser("list", parents=[where], help="list keys (ids, never the keys)")
    p = keys.add_parser("revoke", parents=[where], help="revoke a key by id")
    p.add_argument("key_id")

    roll = sub.add_parser("rollups", help="the rollup the reports read").add_subparsers(
        dest="action", required=True
    )
    p = roll.add_parser(
        "rebuild", parents=[where], help="count the rollup again from the stored events"
    )
    p.add_argument("--workspace", default="", help="one workspace (default: all)")

    doctor_p = sub.add_parser(
        "doctor", help="check settings, data directory, store, keys and the rollup"
    )
    settings.add_arguments(doctor_p)

    server = argparse.ArgumentParser(add_help=False)
    server.add_argument("--url", help="the server [env TRACKLOG_URL; default from --host/--port]")
    server.add_argument("--key", help="an API key [env TRACKLOG_KEY; safer than the flag]")
    server.add_argument("--no-progress", action="store_true", help="no progress bar")
    p = sub.add_parser(
        "import", parents=[server], help="send NDJSON, JSON, CSV or Parquet files (write key)"
    )
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument(
        "--format",
        default="native",
        choices=["native", "segment"],
        help="the records' wire format: Tracklog's own, or Segment messages (camelCase)",
    )
    p.add_argument("--state", type=Path, default=Path(".tracklog-import.json"), help="resume file")
    p.add_argument("--batch-size", type=int, default=500, help="records per request")
    p.add_argument("--restart", action="store_true", help="ignore the resume file")
    p = sub.add_parser("export", parents=[server], help="write a workspace's events (read key)")
    p.add_argument("-o", "--output", type=Path, required=True, help="file (.gz: gzipped NDJSON)")
    p.add_argument("--format", default="ndjson", choices=["ndjson", "parquet"])
    for name in ("from", "to", "event-name", "type", "user-id", "group-id"):
        p.add_argument(f"--{name}", dest=name.replace("-", "_"), help=f"filter: {name}")

    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `tracklog` console command."""
    args = build_parser().parse_args(argv)
    conf = settings.resolve(args)
    level = os.environ.get("TRACKLOG_LOG_LEVEL", "INFO")
    try:
        logs.configure(conf.log_format, level)
    except ValueError as exc:
        if args.command == "serve":
            sys.exit(f"tracklog: {exc}")
        logs.configure("text", level)  # other commands still run; doctor reports it
    if args.command == "serve":
        serve(conf)
        return
    if args.command == "doctor":
        from tracklog.cli import doctor

        sys.exit(doctor.report(doctor.run(conf)))
    if args.command in ("import", "export"):
        sys.exit(transfer(conf, args))
    try:
        if args.command in ("users", "audit", "retention"):
            privacy_command(conf, args)
        elif args.command == "rollups":
            for name in administer(conf, "rollups.rebuild", workspace=args.workspace):
                print(f"{name}\tcounted again from its events")
        elif args.command == "workspaces":
            if args.action == "create":
                administer(conf, "workspaces.create", name=args.name, plan_mode=args.plan_mode)
                print(args.name)
            elif args.action == "set-mode":
                administer(conf, "workspaces.set_mode", name=args.name, plan_mode=args.plan_mode)
            elif args.action == "set":
                set_workspace(conf, args)
            else:
                for w in administer(conf, "workspaces.list"):
                    days = w.get("retention_days") or 0
                    keep = f"{days} days" if days else "forever"
                    zone = w.get("timezone") or "UTC"
                    print(f"{w['name']}\t{w['plan_mode']}\tkeeps {keep}\t{zone}")
        elif args.action == "create":
            made = administer(
                conf,
                "keys.create",
                workspace=args.workspace,
                scope=args.scope,
                label=args.label,
                test="true" if args.test else "",
            )
            print(made["key"])
        elif args.action == "revoke":
            print(administer(conf, "keys.revoke", key_id=args.key_id))
        else:
            for k in administer(conf, "keys.list"):
                state = "revoked" if k["revoked_at"] else "active"
                kind = "test" if k.get("test") else "live"
                print(
                    f"{k['key_id']}\t{k['workspace']}\t{k['scope']}\t{state}\t{kind}\t{k['label']}"
                )
    except (admin.AdminError, StoreUnavailable) as exc:
        sys.exit(f"tracklog: {exc}")
