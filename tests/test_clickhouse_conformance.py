"""The ClickHouse store's statements on the ClickHouse users run today, not only on 18.16.

CI can start only Debian's ClickHouse 18.16 (2018) as a server; users run current ones. So a
real `tracklog serve` on a throwaway 18.16 server that logs every query answers a workload
that reaches every endpoint (tests/endpoint_workload.py: ingest in the three wire formats,
every analytics report and its variants, the events and quarantine pages, replay, privacy
requests, retention, doctor), once on one server and once sharded (`?cluster=`), plus the
schema upgrade of an older table. Every statement the store sent is then taken from 18.16's
`system.query_log` and run on a current ClickHouse engine embedded by chDB, over the same
schema (the store's own DDL) and the same data (read from 18.16 in the Native format and
written with the store's own INSERT statements, the copy docs/clickhouse.md describes).
Each statement must be accepted by both engines and give the same rows: one that only one
engine accepts, or that means something else on one, fails here.

Distributed tables cannot exist in an embedded engine, which has no cluster. The sharded
store's statements run there on the local tables its Distributed tables read on each shard
(`events_all` is `events_local`, `events` is `events_final`, `keys` is `keys_local`, …); on
the one-shard test cluster those hold the same rows. Replicated tables need Keeper and are
never created by the store (an operator creates them, docs/clickhouse.md); the statements
are the same as on the MergeTree tables covered here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.clickhouse_server import ClickHouseServer, server_command
from tests.conftest import NO_CLICKHOUSE
from tests.endpoint_workload import doctor, workload
from tests.support import ServerProcess
from tracklog.store.clickhouse import ADDED_COLUMNS, ClickHouseStore

chdb_session = pytest.importorskip(
    "chdb.session",
    reason="current-engine conformance skipped: chdb is not installed (pip install -e '.[dev]')",
)

# One database per run, each written by its own user, so query_log tells the runs apart.
ONE, SHARDED = "tracklog_one", "tracklog_sharded"
RUNS = {ONE: "conform", SHARDED: "conform_sharded"}
UPGRADED = "conform_upgrade"  # a store an older Tracklog made, set up again (by ONE)
OLD_WORKSPACES = (
    f"CREATE TABLE {UPGRADED}.workspaces (name String, plan_mode String, "
    "created_at DateTime('UTC'), version UInt64) ENGINE = ReplacingMergeTree(version) "
    "ORDER BY name"
)
# `keys` before test keys (no `test` column).
OLD_KEYS = (
    f"CREATE TABLE {UPGRADED}.keys (key_id String, workspace String, scope String, "
    "key_hash String, created_at DateTime('UTC'), revoked_at DateTime('UTC'), label String, "
    "version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY key_id"
)
# Each Distributed table of the sharded store and the table it reads on a shard.
LOCAL_OF = {
    "events_all": "events_local",
    "events": "events_final",
    "quarantine": "quarantine_local",
    "quarantine_replays": "quarantine_replays_local",
    "workspaces": "workspaces_local",
    "keys": "keys_local",
    "suppressions": "suppressions_local",
    "audit_log": "audit_log_local",
    "identity_links": "identity_links_local",
    "identities": "identities_local",
    "traits": "traits_local",
    "meta": "meta_local",
    "activity_days": "activity_days_local",
    "activity_masks": "activity_masks_local",
    "event_days": "event_days_local",
    "sender_blocks": "sender_blocks_local",
    "activity_days_input": "activity_days_input_local",
    "sessions": "sessions_local",
}
# The Null tables the store inserts the rollup into, and the tables their views fill.
ROLLUP_INPUTS = {
    "activity_days_input": ("activity_days", "activity_masks", "event_days", "sender_blocks"),
    "activity_days_input_local": (
        "activity_days_local",
        "activity_masks_local",
        "event_days_local",
        "sender_blocks_local",
    ),
}
# The settings the sharded store's connections carry (IN over two Distributed tables).
SHARDED_SETTINGS = ClickHouseStore("clickhouse://h/db?cluster=c")._settings
MARKER = "SELECT 1 AS conformance_workload_over"
TABLES = (
    "events_local",
    "quarantine",
    "quarantine_replays",
    "workspaces",
    "keys",
    "suppressions",
    "identity_links",
    "identities",
    "traits",
    "meta",
    "sessions",
    "activity_days_input",
)
WRITES = re.compile(r"(INSERT|ALTER|CREATE)\b")


class EngineError(Exception):
    """A statement an engine refused, with the engine's message."""


class LoggingClickHouse(ClickHouseServer):
    """A throwaway 18.16 server with query_log on, and the users whose queries it logs.

    `default` (the tests' own statements) is not logged; the store connects as ONE or SHARDED.
    """

    def _write_config(self) -> Path:
        config = super()._write_config()
        config.write_text(
            config.read_text().replace(
                "</yandex>",
                "    <query_log><database>system</database><table>query_log</table>"
                "<flush_interval_milliseconds>500</flush_interval_milliseconds></query_log>\n"
                "</yandex>",
            )
        )
        users = self.directory / "users.xml"
        logged = "".join(
            f"<{name}><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>"
            f"<profile>logged</profile><quota>default</quota></{name}>"
            for name in RUNS
        )
        users.write_text(
            users.read_text()
            .replace(
                "</profiles>",
                "<logged><log_queries>1</log_queries>"
                "<max_memory_usage>2000000000</max_memory_usage></logged></profiles>",
            )
            .replace("</users>", logged + "</users>")
        )
        return config

    def store_url(self, user: str, database: str) -> str:
        """The store URL of a run: its user, its database, sharded for SHARDED."""
        return self.url(database, cluster=user == SHARDED).replace("default:@", f"{user}:@")

    def http(self, sql: str, database: str = "default", sharded: bool = False) -> bytes:
        """Run `sql` as `default` over HTTP; its output (`sharded`: as the sharded store)."""
        params = {"database": database, "output_format_json_quote_64bit_integers": "0"}
        if sharded:
            params.update({k: str(v) for k, v in SHARDED_SETTINGS.items()})
        r = httpx.post(
            f"http://127.0.0.1:{self.http_port}/", params=params, content=sql, timeout=60
        )
        if r.status_code != 200:
            raise EngineError(r.text.strip())
        return r.content

    def json(self, sql: str, database: str = "default", sharded: bool = False) -> Any:
        return json.loads(self.http(f"{sql} FORMAT JSONCompact", database, sharded))


class Current:
    """The current ClickHouse engine, embedded by chDB: one session, databases on disk."""

    def __init__(self, path: Path) -> None:
        self.session = chdb_session.Session(str(path))
        self.version = str(self.json("SELECT version()")["data"][0][0])

    def run(self, sql: str, database: str = "default", fmt: str = "CSV") -> bytes:
        try:
            self.session.query(f"USE {database}")
            result = self.session.query(sql, fmt)
        except Exception as exc:  # chDB raises its own types for a refused statement
            raise EngineError(str(exc).strip()) from None
        return bytes(result.bytes()) if result is not None else b""

    def json(self, sql: str, database: str = "default") -> Any:
        quoted = " SETTINGS output_format_json_quote_64bit_integers = 0"
        return json.loads(self.run(sql + quoted, database, "JSONCompact"))

    def insert(self, sql: str, data: bytes, database: str, fmt: str = "Native") -> None:
        """`INSERT INTO t (columns)` with `data` in `fmt`, as a client streams it."""
        try:
            self.session.query(f"USE {database}")
            with self.session.send_insert(sql, fmt) as inserter:
                inserter.append(data)
                inserter.finish()
        except Exception as exc:
            raise EngineError(str(exc).strip()) from None

    def close(self) -> None:
        self.session.close()


@dataclass(frozen=True)
class Statement:
    """One distinct statement the store sent, and the database it ran in."""

    sql: str
    database: str
    sharded: bool

    @property
    def current_sql(self) -> str:
        """The statement for the embedded engine: Distributed tables become local ones."""
        return local_names(self.sql) if self.sharded else self.sql


@dataclass
class Capture:
    """The 18.16 server after the workload, what the store sent it, and what it refused."""

    ch: LoggingClickHouse
    statements: list[Statement]
    refused: list[str]
    schemas: dict[str, list[str]] = field(default_factory=dict)


def local_names(sql: str) -> str:
    """A sharded store's statement over the local tables its Distributed tables read."""
    names = "|".join(LOCAL_OF)
    return re.sub(
        rf"\b(FROM|INTO|JOIN|TABLE)\s+({names})\b(?!\.)",
        lambda m: f"{m.group(1)} {LOCAL_OF[m.group(2)]}",
        sql,
    )


def shape(sql: str) -> str:
    """A statement without its literals: the statements of one code path share a shape."""
    text = re.sub(r"'(?:[^'\\]|\\.)*'", "?", sql)
    text = re.sub(r"\b\d+(?:\.\d+)?(?:e-?\d+)?\b", "N", text)
    text = re.sub(r"([?N])(?:\s*,\s*[?N])+", r"\1…", text)
    return re.sub(r"\s+", " ", text).strip()


def outer(sql: str) -> str:
    """`sql` with its string literals and everything inside parentheses blanked out (same
    length, so positions in it are positions in `sql`): what is left is the outer query."""
    out, depth, i = list(sql), 0, 0
    while i < len(sql):
        if sql[i] == "'":
            end = i + 1
            while sql[end] != "'":
                end += 2 if sql[end] == "\\" else 1
            out[i : end + 1] = "_" * (end + 1 - i)
            i = end + 1
            continue
        depth -= sql[i] == ")"
        if depth:
            out[i] = "_"
        depth += sql[i] == "("
        i += 1
    return "".join(out)


def with_order_keys(sql: str) -> tuple[str, int] | None:
    """A SELECT with an outer ORDER BY, with its sort keys added as its last columns (and how
    many there are); None without an ORDER BY. Rows with equal keys may come in any order on
    either engine, so the keys, not the rows, are what must come in the same order."""
    text = outer(sql)
    order = re.search(r" ORDER BY ", text)
    if order is None:
        return None
    limit = re.search(r" LIMIT ", text[order.end() :])
    end = order.end() + limit.start() if limit else len(sql)
    keys, start = [], order.end()
    for comma in [*(m.start() for m in re.finditer(",", text[start:end])), end - start]:
        key = sql[start : order.end() + comma].strip()
        keys.append(re.sub(r"\s+(ASC|DESC)(\s+NULLS\s+(FIRST|LAST))?$", "", key))
        start = order.end() + comma + 1
    select_end = text.index(" FROM ")
    return f"{sql[:select_end]}, {', '.join(keys)}{sql[select_end:]}", len(keys)


def upgrade(ch: LoggingClickHouse) -> None:
    """A store whose `workspaces` predates retention_days and `keys` test keys, set up again:
    it adds the columns."""
    ch.http(f"CREATE DATABASE {UPGRADED}")
    ch.http(OLD_WORKSPACES)
    ch.http(OLD_KEYS)
    store = ClickHouseStore(ch.store_url(ONE, UPGRADED))
    store.setup()
    store.close()


def captured(ch: LoggingClickHouse) -> tuple[list[Statement], list[str]]:
    """Every distinct statement the store's users sent; and those 18.16 refused."""
    # A query logs itself as it ends, a moment after its client has the answer: the last
    # statement is in the log once a later one is (flushed every 0.5 s, or on request).
    client = ch.client()
    client.execute(MARKER, settings={"log_queries": 1})
    client.disconnect()
    deadline = time.monotonic() + 30
    while True:
        ch.http("SYSTEM FLUSH LOGS")
        if ch.json(f"SELECT count() FROM system.query_log WHERE query = '{MARKER}'")["data"][0][0]:
            break
        assert time.monotonic() < deadline, "18.16 never logged the queries"
        time.sleep(0.1)
    rows = ch.json(
        "SELECT user, type, query, exception FROM system.query_log "
        f"WHERE is_initial_query AND type != 1 AND user IN ('{ONE}', '{SHARDED}') "
        "ORDER BY event_time, query_start_time"
    )["data"]
    seen: dict[tuple[str, str], Statement] = {}
    refused = []
    for user, kind, query, exception in rows:
        if kind != 2:  # 3 and 4: an exception before or while running
            refused.append(f"{query}\n  {exception}")
        sql = query.strip().rstrip(";")
        seen.setdefault((user, sql), Statement(sql, RUNS[user], sharded=user == SHARDED))
    return list(seen.values()), refused


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Capture]:
    """The workload on 18.16, once per run, and what the store sent."""
    if server_command() is None:
        pytest.skip(NO_CLICKHOUSE)
    home = Path(tmp_path_factory.mktemp("conformance"))
    ch = LoggingClickHouse(home / "clickhouse").start()
    try:
        schemas: dict[str, list[str]] = {}
        for user, database in RUNS.items():
            url = ch.store_url(user, database)
            schemas[database] = ClickHouseStore(url).schema()
            data = home / database / "data"
            data.parent.mkdir()
            server = ServerProcess(data, store=url).start()
            try:
                workload(server)
            finally:
                server.stop()
            doctor(url, data)
        upgrade(ch)
        schemas[UPGRADED] = ClickHouseStore(ch.store_url(ONE, UPGRADED)).schema()
        statements, refused = captured(ch)
        yield Capture(ch, statements, refused, schemas)
    finally:
        ch.stop()
        shutil.rmtree(home / "clickhouse", ignore_errors=True)


# -- the current engine, given the same schema and data --------------------------------------


@dataclass
class Loaded:
    """The current engine with every run's schema and data, and the DDL it cannot run."""

    engine: Current
    distributed: list[str]
    copied: set[tuple[str, str]]


def tables(ch: LoggingClickHouse, database: str) -> list[str]:
    """The tables and views of a database on 18.16 that the embedded engine also has."""
    rows = ch.json(
        f"SELECT name FROM system.tables WHERE database = '{database}' "
        "AND engine != 'Distributed' ORDER BY name"
    )["data"]
    return [str(r[0]) for r in rows]


def stored(ch: LoggingClickHouse, database: str) -> dict[str, str]:
    """The tables of a database on 18.16 that hold rows, and their engines."""
    rows = ch.json(
        f"SELECT name, engine FROM system.tables WHERE database = '{database}' "
        "AND engine NOT IN ('Distributed', 'View', 'MaterializedView', 'Null') ORDER BY name"
    )["data"]
    return {str(name): str(engine) for name, engine in rows}


@pytest.fixture(scope="module")
def current(capture: Capture, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    ch = capture.ch
    engine = Current(Path(tmp_path_factory.mktemp("chdb")) / "session")
    distributed: list[str] = []
    copied: set[tuple[str, str]] = set()
    try:
        # The schema, by the store's own DDL: first the table an older Tracklog made, then
        # every run's schema, then the column the upgrade added to the old table.
        engine.run(f"CREATE DATABASE {UPGRADED}")
        engine.run(OLD_WORKSPACES)
        engine.run(OLD_KEYS)
        for ddl in capture.schemas.values():
            for statement in ddl:
                if "ENGINE = Distributed(" in statement:
                    distributed.append(statement)  # needs a cluster; see the module docstring
                else:
                    engine.run(statement)
        # In the order the store adds them: 18.16's query_log orders by the second only, so
        # two ALTERs of one second may come back in either order (and the columns with them).
        added = [s for s in capture.statements if re.match(r"ALTER TABLE \S+ ADD COLUMN ", s.sql)]
        order = [column.split(" ", 1)[0] for _, column in ADDED_COLUMNS]
        for s in sorted(
            added, key=lambda s: order.index(s.sql.split(" ADD COLUMN ")[1].split()[0])
        ):
            engine.run(s.current_sql, s.database)
        # The write path's dedupe lookup reads an external table that the driver sends with
        # the query: a real table of that name and structure, holding a third of the stored
        # ids, stands in for it on both engines.
        for database in RUNS.values():
            incoming = f"{database}.incoming_ids"
            ch.http(f"CREATE TABLE {incoming} (id UUID) ENGINE = Memory")
            ch.http(
                f"INSERT INTO {incoming} SELECT id FROM {database}.events_local "
                "WHERE sipHash64(toString(id)) % 3 = 0"
            )
            engine.run(f"CREATE TABLE {incoming} (id UUID) ENGINE = Memory")
            native = ch.http(f"SELECT id FROM {incoming} FORMAT Native")
            engine.insert("INSERT INTO incoming_ids (id)", native, database)
        # The data: each table's rows read from 18.16 in the Native format and written by the
        # store's own INSERT statement for that table.
        for s in capture.statements:
            m = re.fullmatch(r"INSERT INTO (\w+) \((.*)\) VALUES", s.current_sql)
            if m is not None:
                table, columns = m.groups()
                assert (s.database, table) not in copied, f"a second INSERT: {s.sql}"
                # A Null table holds nothing: its views' states are what to copy, and their
                # Native form is the same on both engines.
                targets = [
                    (view, "*", f"INSERT INTO {view}") for view in ROLLUP_INPUTS.get(table, ())
                ] or [(table, columns, s.current_sql.removesuffix(" VALUES"))]
                for target, names, insert in targets:
                    native = ch.http(f"SELECT {names} FROM {s.database}.{target} FORMAT Native")
                    engine.insert(insert, native, s.database)
                    copied.add((s.database, target))
                copied.add((s.database, table))
        yield Loaded(engine, distributed, copied)
    finally:
        engine.close()


# -- comparing answers -----------------------------------------------------------------------


def normal(value: Any, kind: str) -> Any:
    """A value of either engine's JSON output in one spelling."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, list):
        return tuple(normal(v, kind) for v in value)
    if isinstance(value, str) and "Date" in kind and value.startswith("0000-00-00"):
        # 18.16 writes a zero Date or DateTime as 0000-00-00; current engines as 1970-01-01.
        return "1970-01-01" + value[10:]
    return value


def rows(result: Any) -> list[tuple[Any, ...]]:
    kinds = [m["type"] for m in result["meta"]]
    return [tuple(normal(v, k) for v, k in zip(row, kinds, strict=True)) for row in result["data"]]


def same(old: list[tuple[Any, ...]], new: list[tuple[Any, ...]]) -> bool:
    """The same rows, in any order."""
    return sorted(map(repr, old)) == sorted(map(repr, new))


def disagreement(capture: Capture, loaded: Loaded, s: Statement) -> str | None:
    """How the two engines' answers to `s` differ, or None when they are the same."""
    try:
        old = rows(capture.ch.json(s.sql, s.database, s.sharded))
    except EngineError as exc:
        return f"18.16 refuses it: {exc}"
    try:
        new = rows(loaded.engine.json(s.current_sql, s.database))
    except EngineError as exc:
        return f"the current engine refuses it: {exc}"
    if s.sharded and re.search(r"\bFROM system\.(clusters|columns)\b", s.sql):
        # The server's catalogue: 18.16 has the cluster and the Distributed tables, the
        # embedded engine neither. That the statement runs is what can be checked.
        return None
    if not same(old, new):
        return f"different rows:\n    18.16:   {old[:6]}\n    current: {new[:6]}"
    keyed = with_order_keys(s.sql)
    if keyed is None:
        return None
    k = Statement(keyed[0], s.database, s.sharded)
    old_keys = [r[-keyed[1] :] for r in rows(capture.ch.json(k.sql, k.database, k.sharded))]
    new_keys = [r[-keyed[1] :] for r in rows(loaded.engine.json(k.current_sql, k.database))]
    if old_keys != new_keys:
        return f"a different order:\n    18.16:   {old_keys[:6]}\n    current: {new_keys[:6]}"
    return None


def table_rows(run: Any, database: str, table: str, final: bool = False) -> list[tuple[Any, ...]]:
    """Every row of a table in one order; `final`: as FINAL merges a Replacing table."""
    return sorted(rows(run(f"SELECT * FROM {database}.{table}{' FINAL' * final}")), key=repr)


def column(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A DESCRIBE row's name, type and default; a current engine spells `DEFAULT 0` of a
    UInt32 column `CAST(0, 'UInt32')`."""
    name, kind, default_kind, default = row[:4]
    cast = re.fullmatch(r"CAST\((.*), '(.*)'\)", default)
    if cast and cast.group(2) == kind:
        default = cast.group(1)
    return name, kind, default_kind, default


def report(problems: list[tuple[Statement, str]]) -> str:
    """The problems, the first statement of each shape, for an assertion message."""
    by_shape: dict[str, list[tuple[Statement, str]]] = {}
    for s, why in problems:
        by_shape.setdefault(shape(s.current_sql), []).append((s, why))
    return f"{len(problems)} statements of {len(by_shape)} shapes:\n\n" + "\n\n".join(
        f"{len(found)} like this ({found[0][0].database}):\n  {found[0][0].current_sql[:600]}"
        f"\n  {found[0][1][:800]}"
        for found in by_shape.values()
    )


# -- the tests -------------------------------------------------------------------------------


def test_the_workload_reaches_every_kind_of_statement(capture: Capture) -> None:
    """18.16 accepted everything, and the capture holds each code path that sends SQL (so a
    workload that stops reaching one fails here instead of quietly testing less)."""
    assert capture.refused == [], "\n".join(capture.refused)
    text = "\n".join(s.sql for s in capture.statements)
    expected = {
        "person map": r"ANY LEFT JOIN \(SELECT id AS actor, person AS person_of FROM identities",
        "retention": r"ALL INNER JOIN \(SELECT DISTINCT person",
        "funnel levels": r"ALL INNER JOIN .* USING \(subject\)",
        "active users": r"arrayJoin\(range\(30\)\)",
        "accounts": r"arraySum\(arrayMap\(b_ -> bitAnd\(bitShiftRight\(groupBitOr\(days30\)",
        "local hours": r"intDiv\(wall, 3600\) \* 3600",
        "local weeks": r"intDiv\(day \+ 3, 7\)",
        "local months": r"toMonth\(\(toDate\('1970-01-01'\) \+ day\)\)",
        "local time across DST": r"WHEN toInt64\(toUInt32\(timestamp\)\) >= \d+ THEN -28800 WHEN",
        "users search": r"positionCaseInsensitive",
        "events page": r"ORDER BY \(toUInt64\(timestamp\) \* 1000 \+ timestamp_ms\) DESC",
        "quarantine page": r"NOT IN \(SELECT id FROM quarantine_replays",
        "user page": r"SELECT type, event_name, grp, sum\(CASE WHEN type NOT IN .* AND fresh = 1",
        "accounts list": r"coalesce\(count\(DISTINCT CASE WHEN days30 != 0 THEN person END\), 0\)",
        "users list": r"sum\(range_acts\) AS active_n",
        "lists from sender_blocks": r"FROM sender_blocks WHERE",
        "users list's total": r"count\(\*\) AS total FROM .* ARRAY JOIN rows_ AS row_",
        "merged traits": r"argMax\(value, version\) AS value",
        "identity changes": r"HAVING p IN ",
        "dedupe lookup": r"IN \(SELECT id FROM incoming_ids\)",
        "sharded reads": r"FROM events_all FINAL",
        "deletion": r"ALTER TABLE events_local DELETE WHERE ifNull\(\(workspace = 'privacy' AND ",
        "rollup reads": r"finalizeAggregation\(events\) AS n, 1 AS fresh FROM activity_days",
        "rollup reads of a range's history": r"finalizeAggregation\(last_ms\) AS hi_ms FROM ",
        "rollup masks": r"finalizeAggregation\(days\)",
        "rollup rebuild": r"INSERT INTO activity_days_input \(.*\) SELECT",
        "profile deletion": r"ALTER TABLE traits DELETE WHERE ifNull\(\(workspace = 'privacy'",
        "retention drop": r"ALTER TABLE quarantine DELETE WHERE ifNull\(\(workspace = 'privacy'",
        "mutation wait": r"FROM system\.mutations",
        "schema upgrade": r"ALTER TABLE conform_upgrade\.workspaces ADD COLUMN",
        "keys upgrade": r"ALTER TABLE conform_upgrade\.keys ADD COLUMN test",
        "cluster hosts": r"FROM system\.clusters",
        "doctor": r"SELECT count\(\*\) FROM events$",
        "doctor's rollup sample": r"count\(DISTINCT CASE WHEN type NOT IN .* THEN sender END\)",
        "users sorted by name": r"lowerUTF8\(coalesce\(sort_name, ''\)\) ASC",
        "users filtered by events": r"person IN \(SELECT person FROM \(SELECT timestamp AS ts",
        "retention people": r"WHERE cp = \d+ AND k = 1\)",
        "funnel breakdown": r"min\(bv\) AS v",
        "funnel medians": r"arraySort\(groupArray\(r1 - r0\)\)",
        "funnel dropped": r"subject NOT IN \(SELECT subject FROM",
        "lifecycle": r"arrayJoin\(\[0, 1\]\) AS shift",
        "schema keys": r"extractAll\(properties, ",
        "schema top values": r"LIMIT 10 BY event_name, k",
        "session read": r"FROM sessions WHERE id_hash = ",
        "sessions of a revoked key": r"FROM sessions WHERE key_id = ",
    }
    for table in (*TABLES, "audit_log", "events_all"):
        expected[f"inserts into {table}"] = rf"^INSERT INTO {table} \("
    missing = [name for name, pattern in expected.items() if not re.search(pattern, text, re.M)]
    assert missing == [], missing


def test_the_schema_is_the_same_on_the_current_engine(capture: Capture, current: Loaded) -> None:
    """The DDL the store sent is its schema(), and every table and view it creates but the
    Distributed ones has the same columns, types and defaults on both engines."""
    ddl = {s.sql for s in capture.statements if s.sql.startswith("CREATE ")}
    assert ddl == {statement for schema in capture.schemas.values() for statement in schema}
    assert current.distributed and all(
        f"{RUNS[SHARDED]}." in statement for statement in current.distributed
    )
    for database in [*RUNS.values(), UPGRADED]:
        for table in tables(capture.ch, database):
            describe = f"DESCRIBE TABLE {database}.{table}"
            old = [column(r) for r in rows(capture.ch.json(describe))]
            new = [column(r) for r in rows(current.engine.json(describe))]
            assert old == new, (database, table)


def test_the_store_inserts_copy_every_row_in_native_format(
    capture: Capture, current: Loaded
) -> None:
    """Each table's rows, copied from 18.16 in Native by the store's own INSERT statement,
    are the same rows on the current engine: every value, zero times included.

    A current engine merges the versions of a row within one insert (`optimize_on_insert`),
    which 18.16 merges later: the Replacing tables compare as FINAL reads them, as the store
    does (argMax over versions, or FINAL).
    """
    for database in RUNS.values():
        for table, engine in stored(capture.ch, database).items():
            final = engine.startswith(("Replacing", "Aggregating"))
            old = table_rows(capture.ch.json, database, table, final)
            if table != "incoming_ids":
                assert (database, table) in current.copied or not old, (database, table)
            new = table_rows(current.engine.json, database, table, final)
            assert old == new, (database, table)


def test_every_read_answers_the_same_on_both_engines(capture: Capture, current: Loaded) -> None:
    reads = [s for s in capture.statements if not WRITES.match(s.sql)]
    assert len(reads) > 150
    problems = [(s, why) for s in reads if (why := disagreement(capture, current, s))]
    assert not problems, report(problems)


def test_deletions_delete_the_same_rows_on_both_engines(capture: Capture, current: Loaded) -> None:
    """Each mutation the store sent (a user's erasure, a retention drop) run again on both
    engines: the user's events sent after the erasure, and the old one sent after the drop,
    go on both, and everything else stays."""
    mutations = [s for s in capture.statements if re.match(r"ALTER TABLE \S+ DELETE ", s.sql)]
    assert mutations
    changed = set()
    for s in mutations:
        table = s.current_sql.split()[2]
        # Replacing tables compare as FINAL reads them (see the copy test above).
        final = stored(capture.ch, s.database)[table].startswith(("Replacing", "Aggregating"))
        before = len(table_rows(capture.ch.json, s.database, table, final))
        capture.ch.http(s.sql, s.database)
        current.engine.run(s.current_sql, s.database)
        pending = (
            "SELECT count() FROM system.mutations "
            f"WHERE database = '{s.database}' AND table = '{table}' AND is_done = 0"
        )
        deadline = time.monotonic() + 60
        while capture.ch.json(pending)["data"][0][0] or current.engine.json(pending)["data"][0][0]:
            assert time.monotonic() < deadline, f"mutation not done: {s.sql}"
            time.sleep(0.05)
        old = table_rows(capture.ch.json, s.database, table, final)
        assert old == table_rows(current.engine.json, s.database, table, final), s.sql
        if len(old) < before:
            changed.add((s.database, table))
    # The replays had something to delete: the events sent again, in both runs.
    assert {(database, "events_local") for database in RUNS.values()} <= changed


def test_a_text_copy_turns_zero_times_into_this_year_and_native_does_not(
    capture: Capture, current: Loaded
) -> None:
    """docs/clickhouse.md's warning: 18.16 writes DateTime zero (a key never revoked) as
    0000-00-00 00:00:00 in text formats, and a current engine reads that as January 1st of
    this year, so every key would look revoked. The Native copy keeps the zero."""
    count = "SELECT countIf(revoked_at = toDateTime(0, 'UTC')), count() FROM {} "
    # As FINAL reads them: a revocation is a newer version of a key's row, which 18.16 merges
    # in the background and a current engine within the insert that copies them.
    keys_now = "conform.keys FINAL"
    old_active, keys = capture.ch.json(count.format(keys_now))["data"][0]
    assert 0 < old_active < keys  # active keys and a revoked one
    assert current.engine.json(count.format(keys_now))["data"][0] == [old_active, keys]
    text = capture.ch.http("SELECT * FROM conform.keys FORMAT TabSeparated")
    assert b"0000-00-00 00:00:00" in text
    current.engine.run("CREATE TABLE conform.keys_from_text AS conform.keys")
    current.engine.insert("INSERT INTO keys_from_text", text, "conform", "TabSeparated")
    text_active, _ = current.engine.json(count.format("conform.keys_from_text"))["data"][0]
    year = dt.datetime.now(dt.UTC).year
    wrong = current.engine.json(
        "SELECT DISTINCT toYear(revoked_at) FROM conform.keys_from_text "
        "WHERE key_id IN (SELECT key_id FROM conform.keys WHERE toUInt32(revoked_at) = 0)"
    )["data"]
    assert (text_active, wrong) == (0, [[year]]), (
        "The current engine now reads 18.16's zero DateTime text correctly: update the copy "
        "warning in docs/clickhouse.md."
    )
