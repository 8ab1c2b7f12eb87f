"""The few SQL expressions the stores spell differently, so each report is written once.

Everything else the reports use is common to DuckDB and ClickHouse 18.16: CASE, coalesce,
count(DISTINCT), argMax, LIKE-free comparisons, subqueries instead of CTEs, and time as whole
numbers (epoch seconds, day numbers) so bucketing is integer arithmetic on both.
"""

from __future__ import annotations

from typing import Protocol


class Dialect(Protocol):
    """SQL fragments for one store."""

    name: str
    final: str
    inner_join: str
    left_join: str

    def epoch(self, expr: str) -> str:
        """Whole seconds since 1970 of a timestamp column."""

    def idiv(self, a: str, b: str) -> str:
        """Integer division, rounding down (a >= 0)."""

    def month_number(self, expr: str) -> str:
        """Months since year 0 of a timestamp: year * 12 + month - 1."""

    def prop_text(self, column: str, key_param: str) -> str:
        """A top-level JSON value of `column` as text (NULL or '' when absent)."""

    def prop_number(self, column: str, key_param: str) -> str:
        """A top-level JSON value of `column` as a number (NULL or 0 when absent)."""

    def prop_key(self, key: str) -> str:
        """The parameter value that names `key` for prop_text / prop_number."""

    def contains(self, haystack: str, needle_param: str) -> str:
        """Case-insensitive substring test (the needle is a parameter)."""


class DuckDBDialect:
    """DuckDB: JSON functions over the VARCHAR properties column."""

    name = "duckdb"
    final = ""
    inner_join = "INNER JOIN"
    left_join = "LEFT JOIN"

    def epoch(self, expr: str) -> str:
        return f"CAST(epoch({expr}) AS BIGINT)"

    def idiv(self, a: str, b: str) -> str:
        return f"(({a}) // ({b}))"

    def month_number(self, expr: str) -> str:
        return f"(year({expr}) * 12 + month({expr}) - 1)"

    def prop_text(self, column: str, key_param: str) -> str:
        return f"json_extract_string({column}, {key_param})"

    def prop_number(self, column: str, key_param: str) -> str:
        return f"TRY_CAST(json_extract_string({column}, {key_param}) AS DOUBLE)"

    def prop_key(self, key: str) -> str:
        # A quoted JSONPath member, so keys with dots, spaces or a leading `$` stay keys.
        return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def contains(self, haystack: str, needle_param: str) -> str:
        return f"contains(lower({haystack}), lower({needle_param}))"


class ClickHouseDialect:
    """ClickHouse (18.16 and later): visitParamExtract* over the String properties column."""

    name = "clickhouse"
    # The store's `events` is already a view that reads each id once (FINAL on the local
    # table), so reports need no FINAL of their own.
    final = ""
    inner_join = "ALL INNER JOIN"
    left_join = "ANY LEFT JOIN"

    def epoch(self, expr: str) -> str:
        return f"toInt64(toUInt32({expr}))"

    def idiv(self, a: str, b: str) -> str:
        return f"intDiv({a}, {b})"

    def month_number(self, expr: str) -> str:
        return f"(toYear({expr}) * 12 + toMonth({expr}) - 1)"

    def prop_text(self, column: str, key_param: str) -> str:
        # visitParamExtractString misses non-string values; fall back to the raw token.
        return (
            f"if(visitParamHas({column}, {key_param}), if(visitParamExtractString({column}, "
            f"{key_param}) != '', visitParamExtractString({column}, {key_param}), "
            f"replaceAll(visitParamExtractRaw({column}, {key_param}), '\"', '')), NULL)"
        )

    def prop_number(self, column: str, key_param: str) -> str:
        return (
            f"if(visitParamHas({column}, {key_param}), "
            f"visitParamExtractFloat({column}, {key_param}), NULL)"
        )

    def prop_key(self, key: str) -> str:
        return key

    def contains(self, haystack: str, needle_param: str) -> str:
        return f"(positionCaseInsensitive(coalesce({haystack}, ''), {needle_param}) > 0)"


def dialect_for(store_dialect: str) -> Dialect:
    """The dialect a store names with its `dialect` attribute."""
    return ClickHouseDialect() if store_dialect == "clickhouse" else DuckDBDialect()
