"""The benchmark suite's one command.

    python -m bench run                      # ingest (DuckDB) + queries on 10M events
    python -m bench run --quick              # 2 s loads and 1M events: a few minutes
    python -m bench run --store clickhouse   # both benchmarks against ClickHouse
    python -m bench run --only ingest --profile
    python -m bench growth --store duckdb    # the same people and days, 8x the events each

Prints tables and writes JSON to bench/out/ (see bench/RESULTS.md for the latest figures).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench import ingest, loadgen, report
from bench.loadgen import Load

INGEST_COLUMNS = [
    ("target", "target"),
    ("load", "load"),
    ("events_per_s", "events/s"),
    ("requests_per_s", "req/s"),
    ("p50_ms", "p50 ms"),
    ("p99_ms", "p99 ms"),
    ("non2xx", "non-2xx"),
    ("socket_errors", "sock err"),
    ("ratio_to_ceiling", "x ceiling"),
    ("acked_events", "acked"),
    ("stored_events", "stored"),
    ("stored_check", "check"),
    ("rss_peak_mb", "RSS peak MB"),
    ("server_cpu_cores", "server CPU cores"),
]

QUERY_COLUMNS = [
    ("case", "case"),
    ("api_ms", "API ms"),
    ("direct_sql_ms", "SQL ms"),
    ("in_process_ms", "in-process ms"),
    ("api_overhead_pct", "API overhead %"),
    ("api_min_ms", "API min ms"),
    ("direct_min_ms", "SQL min ms"),
    ("statements", "stmts"),
    ("same_answer", "same answer"),
    ("overview_within_1s", "overview <= 1 s"),
    ("status", "status"),
]

# Targets of issue 6 for the batched and single-event loads.
BATCH_EVENTS_PER_S = 150_000
BATCH_P99_MS = 50.0
BATCH_RATIO = 0.35
SINGLE_REQUESTS_PER_S = 10_000


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the benchmarks, print tables, write bench/out/*.json")
    run.add_argument("--quick", action="store_true", help="short loads and a small data set")
    run.add_argument(
        "--store",
        choices=["duckdb", "clickhouse", "both"],
        default="duckdb",
        help="which Tracklog store to benchmark",
    )
    run.add_argument("--only", choices=["ingest", "queries"], help="run one part only")
    run.add_argument("--events", type=int, help="events for the query benchmark (10M)")
    run.add_argument("--seconds", type=float, help="seconds per ingest load (15; quick 2)")
    run.add_argument("--connections", default="16,64", help="wrk connections per load")
    run.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (-t)")
    run.add_argument("--repeat", type=int, help="runs per query, median taken (5; quick 3)")
    run.add_argument(
        "--commit-interval", type=float, help="tracklog serve --commit-interval for ingest"
    )
    run.add_argument("--no-baselines", action="store_true", help="skip ceiling and naive")
    run.add_argument(
        "--overview", action="store_true", help="queries: the overview reports only (100M runs)"
    )
    run.add_argument("--profile", action="store_true", help="py-spy Tracklog at c>=64")
    growth = sub.add_parser(
        "growth", help="time the overview on 1x and kx events per active person-day"
    )
    growth.add_argument("--store", choices=["duckdb", "clickhouse"], default="duckdb")
    growth.add_argument("--events", type=int, help="events of the 1x data set (2M; quick 500k)")
    growth.add_argument("--factor", type=int, default=8, help="events per person-day, times")
    growth.add_argument("--repeat", type=int, help="runs per report and data set (7; quick 3)")
    growth.add_argument("--quick", action="store_true", help="a small data set")
    growth.add_argument(
        "--cut", action="store_true", help="start the range mid-day, after that day's first events"
    )
    show = sub.add_parser("markdown", help="print a results JSON file's tables as Markdown")
    show.add_argument("file", nargs="?", default=str(report.OUT / "latest.json"))
    return parser.parse_args(argv)


def run_ingest(args: argparse.Namespace, run_id: str) -> list[dict[str, Any]]:
    """Every ingest load against every target; ratios to the ceiling; target checks."""
    seconds = args.seconds or (2 if args.quick else 15)
    conns = [int(c) for c in args.connections.split(",")]
    loads = [Load(b, c, args.wrk_threads, seconds) for b in (100, 1) for c in conns]
    names = {"duckdb": ["tracklog"], "clickhouse": ["tracklog-clickhouse"]}.get(
        args.store, ["tracklog", "tracklog-clickhouse"]
    )
    if not args.no_baselines:
        names += ["ceiling", "naive"]
    rows: list[dict[str, Any]] = []
    for name in names:
        print(f"ingest: {name}", flush=True)
        extra = (
            [] if args.commit_interval is None else ["--commit-interval", str(args.commit_interval)]
        )
        rows += ingest.bench_target(name, loads, run_id, report.OUT, args.profile, extra)
        for row in rows:
            if row["target"].startswith("tracklog"):
                row.setdefault("commit_interval", args.commit_interval)
    ceilings = {r["load"]: r for r in rows if r["target"] == "ceiling"}
    for row in rows:
        top = ceilings.get(row["load"])
        if top and row["target"] != "ceiling" and top["events_per_s"]:
            row["ratio_to_ceiling"] = round(row["events_per_s"] / top["events_per_s"], 3)
        if row["target"].startswith("tracklog"):
            row["meets_target"] = _meets(row)
    return rows


def _meets(row: dict[str, Any]) -> bool:
    if row["batch"] == 1:
        return bool(row["ok_requests_per_s"] >= SINGLE_REQUESTS_PER_S)
    ratio = row.get("ratio_to_ceiling")
    return bool(
        row["events_per_s"] >= BATCH_EVENTS_PER_S
        and row["p99_ms"] <= BATCH_P99_MS
        and (ratio is None or ratio >= BATCH_RATIO)
        and row["non2xx"] == 0
    )


def markdown(results: dict[str, Any]) -> str:
    """A results file's tables in Markdown."""
    parts = []
    if "ingest" in results:
        columns = [*INGEST_COLUMNS, ("meets_target", "target met")]
        parts.append(report.markdown(results["ingest"], columns))
    if "growth" in results:
        from bench import growth

        found = results["growth"]
        parts.append(f"growth ({found['store']}, {found['events']} events, x{found['factors']})\n")
        parts.append(report.markdown(found["cases"], growth.COLUMNS))
    for kind, found in results.get("queries", {}).items():
        parts.append(f"queries ({kind}, {found['events']:,} events)\n")
        parts.append(report.markdown(found["cases"], QUERY_COLUMNS))
        parts.append(f"footprint ({kind}): {json.dumps(found['footprint'])}")
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Entry point: `python -m bench run …`."""
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.command == "markdown":
        print(markdown(json.loads(Path(args.file).read_text())))
        return 0
    if args.command == "growth":
        from bench import growth

        machine = report.machine()  # its load average is the one at the start
        found = growth.run(args)
        print()
        print(report.table(found["cases"], growth.COLUMNS))
        path = report.write({"machine": machine, "growth": found})
        print(f"\nwrote {path}")
        return 0
    if not loadgen.have_wrk() and args.only != "queries":
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    run_id = f"r{int(time.time())}"
    results: dict[str, Any] = {"machine": report.machine(), "quick": args.quick}
    if args.only in (None, "ingest"):
        rows = run_ingest(args, run_id)
        results["ingest"] = rows
        print()
        print(report.table(rows, [*INGEST_COLUMNS, ("meets_target", "target met")]))
    if args.only in (None, "queries"):
        from bench import queries

        kinds = ["duckdb", "clickhouse"] if args.store == "both" else [args.store]
        results["queries"] = {}
        for kind in kinds:
            results["queries"][kind] = found = queries.run(args, kind)
            print()
            print(report.table(found["cases"], QUERY_COLUMNS))
            print(f"\nfootprint ({kind}):", found["footprint"])
    results["loadavg_at_end"] = os.getloadavg()
    path = report.write(results)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
