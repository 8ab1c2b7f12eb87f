"""The workspace's schema, for pickers: its event names, their properties and top values.

For the activity events of the range (every event but identify, group and alias calls, with
a name), most frequent first: each event's top-level properties, how many of its events
carry each, the JSON types their values had, and the most frequent values of the strings,
numbers and booleans among them (ties by the value's JSON text).

Properties are JSON text in both stores. DuckDB lists an object's keys with json_keys;
ClickHouse 18.16 has no JSON parser, so its SQL splits the text into JSON tokens (strings,
numbers, literals, brackets and colons) and keeps the string tokens at depth 1 that a colon
follows: the keys of the top-level object, each followed by its value's first token. The
stores wrote that text themselves (compact JSON), so both read the same members.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tracklog.analytics.filters import in_list
from tracklog.analytics.scope import ACTIVITY, Scope, events_source
from tracklog.store.query import Query, new_query

MAX_EVENTS = 200
MAX_PROPERTIES = 100
TOP_VALUES = 10
SCALARS = ("string", "number", "boolean")
# A JSON token: a string (escapes included), a number, a literal, or a bracket or colon.
JSON_LEXEME = r'"(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*|true|false|null|[{}\[\]:]'
_decode = msgspec.json.Decoder()


def _members(q: Query, scope: Scope, names: list[str]) -> str:
    """A subquery of (event_name, k, jt, raw, cnt): each top-level member of the properties
    of `cnt` events: its key, its value's JSON type, and its value as JSON text (objects and
    arrays: only their first character on ClickHouse, which is all that is read of them).

    Events with the same name and properties are read as one (far fewer JSON texts to take
    apart: 5x faster on the bench's data)."""
    where = [ACTIVITY, in_list(q, "event_name", names)]
    source = (
        f"(SELECT event_name, properties, count(*) AS cnt FROM "
        f"{events_source(q, scope, where, persons=False)} GROUP BY event_name, properties)"
    )
    if q.dialect.name == "duckdb":
        # Each key and its value as JSON, from one parse of the object: a JSONPath cannot
        # name the key "" (json_extract refused the whole query), a map can. A JSON null
        # comes out as SQL NULL.
        kind = (
            "CASE coalesce(json_type(e.value), 'NULL') WHEN 'VARCHAR' THEN 'string' "
            "WHEN 'BOOLEAN' THEN 'boolean' WHEN 'NULL' THEN 'null' WHEN 'OBJECT' THEN 'object' "
            "WHEN 'ARRAY' THEN 'array' ELSE 'number' END"
        )
        entries = (
            "(SELECT event_name, cnt, unnest(map_entries(json_transform(properties, "
            f"'\"MAP(VARCHAR, JSON)\"'))) AS e FROM {source} AS {q.alias('grouped')})"
        )
        return (
            f"(SELECT event_name, e.key AS k, {kind} AS jt, "
            f"coalesce(CAST(e.value AS VARCHAR), 'null') AS raw, cnt "
            f"FROM {entries} AS {q.alias('keys')})"
        )
    lexemes = q.param(JSON_LEXEME)
    tokens = (
        f"(SELECT event_name, cnt, extractAll(properties, {lexemes}) AS toks FROM {source} "
        f"AS {q.alias('grouped')})"
    )
    nexts = "arrayPushBack(arrayPopFront(toks), '')"
    values = "arrayPushBack(arrayPushBack(arrayPopFront(arrayPopFront(toks)), ''), '')"
    depths = (
        "arrayCumSum(arrayMap(x -> multiIf(x = '{' OR x = '[', 1, x = '}' OR x = ']', -1, 0), "
        "toks))"
    )
    key = "d = 1 AND n = ':' AND substring(t, 1, 1) = '\"'"
    keys = f"arrayFilter((t, n, d) -> {key}, toks, {nexts}, {depths})"
    firsts = f"arrayFilter((v, t, n, d) -> {key}, {values}, toks, {nexts}, {depths})"
    pairs = (
        f"(SELECT event_name, cnt, arrayJoin(arrayMap((a, b) -> (a, b), {keys}, {firsts})) "
        f"AS kv FROM {tokens} AS {q.alias('tokens')})"
    )
    kind = (
        "multiIf(substring(raw, 1, 1) = '\"', 'string', raw = '{', 'object', raw = '[', "
        "'array', raw = 'true' OR raw = 'false', 'boolean', raw = 'null', 'null', 'number')"
    )
    # A key token unescaped as the JSON string it is.
    return (
        f"(SELECT event_name, visitParamExtractString(concat('{{\"k\":', kv.1, '}}'), 'k') AS k, "
        f"{kind} AS jt, kv.2 AS raw, cnt FROM {pairs} AS {q.alias('pairs')})"
    )


def schema(store: Any, scope: Scope) -> dict[str, Any]:
    """Events of the range, most frequent first, with their properties, types and top values."""
    q = new_query(store)
    source = events_source(q, scope, [ACTIVITY, "coalesce(event_name, '') != ''"], persons=False)
    counted = q.run(
        store,
        f"SELECT event_name, count(*) AS c FROM {source} GROUP BY event_name "
        f"ORDER BY c DESC, event_name LIMIT {MAX_EVENTS}",
    )
    names = [str(r[0]) for r in counted]
    if not names:
        return {"events": []}
    types, tops = (_duckdb if store.dialect == "duckdb" else _clickhouse)(store, scope, names)
    return {"events": _assemble(counted, types, tops)}


Rows = list[tuple[Any, ...]]


def _duckdb(store: Any, scope: Scope, names: list[str]) -> tuple[Rows, Rows]:
    """(event, key, type, events) and (event, key, JSON value, events) rows, the values the
    10 most frequent scalars of each key: one pass of json_each over the events, counted
    once per (event, key, type, value) and read twice."""
    q = new_query(store)
    scalars = in_list(q, "jt", list(SCALARS))
    rows = q.run(
        store,
        f"WITH m AS MATERIALIZED (SELECT event_name, k, jt, raw, sum(cnt) AS c "
        f"FROM {_members(q, scope, names)} AS {q.alias('members')} GROUP BY event_name, k, jt, "
        f"raw) SELECT 0, event_name, k, jt, sum(c) FROM m GROUP BY event_name, k, jt "
        f"UNION ALL SELECT 1, event_name, k, raw, c FROM (SELECT event_name, k, raw, c, "
        f"row_number() OVER (PARTITION BY event_name, k ORDER BY c DESC, raw) AS n FROM m "
        f"WHERE {scalars}) WHERE n <= {TOP_VALUES}",
    )
    return [r[1:] for r in rows if r[0] == 0], [r[1:] for r in rows if r[0] == 1]


def _clickhouse(store: Any, scope: Scope, names: list[str]) -> tuple[Rows, Rows]:
    """The same rows as `_duckdb`, in two passes (18.16 has no WITH … AS of a subquery)."""
    q = new_query(store)
    types = q.run(
        store,
        f"SELECT event_name, k, jt, sum(cnt) FROM {_members(q, scope, names)} "
        f"AS {q.alias('members')} GROUP BY event_name, k, jt",
    )
    q = new_query(store)
    scalars = in_list(q, "jt", list(SCALARS))
    counts = (
        f"(SELECT event_name, k, raw, sum(cnt) AS c FROM {_members(q, scope, names)} "
        f"AS {q.alias('members')} WHERE {scalars} GROUP BY event_name, k, raw)"
    )
    tops = q.run(
        store,
        f"SELECT event_name, k, raw, c FROM {counts} AS {q.alias('counts')} "
        f"ORDER BY c DESC, raw LIMIT {TOP_VALUES} BY event_name, k",
    )
    return types, tops


def _assemble(
    counted: list[tuple[Any, ...]], types: list[tuple[Any, ...]], tops: list[tuple[Any, ...]]
) -> list[dict[str, Any]]:
    """The answer's events from the three queries' rows, each list in its order."""
    kinds: dict[str, dict[str, dict[str, int]]] = {}  # event -> key -> type -> count
    for name, key, kind, n in types:
        kinds.setdefault(str(name), {}).setdefault(str(key), {})[str(kind)] = int(n)
    values: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for name, key, raw, n in tops:
        values.setdefault((str(name), str(key)), []).append((int(n), str(raw)))
    events = []
    for name, count in counted:
        keys = kinds.get(str(name), {})
        ranked = sorted(keys, key=lambda k: (-sum(keys[k].values()), k))[:MAX_PROPERTIES]
        properties = []
        for key in ranked:
            by_kind = keys[key]
            top = sorted(values.get((str(name), key), []), key=lambda v: (-v[0], v[1]))
            properties.append(
                {
                    "name": key,
                    "count": sum(by_kind.values()),
                    "types": sorted(by_kind, key=lambda k: (-by_kind[k], k)),
                    "top_values": [{"value": _decode.decode(raw), "count": c} for c, raw in top],
                }
            )
        events.append({"event_name": str(name), "count": int(count), "properties": properties})
    return events
