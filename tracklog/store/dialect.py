"""The few SQL expressions the stores spell differently, so each report is written once.

Everything else the reports use is common to DuckDB and ClickHouse 18.16: CASE, coalesce,
count(DISTINCT), argMax, LIKE-free comparisons, subqueries instead of CTEs, and time as whole
numbers (epoch seconds, local day numbers) so bucketing is integer arithmetic on both.
"""

from __future__ import annotations

from typing import Protocol


class Dialect(Protocol):
    """SQL fragments for one store."""

    name: str
    inner_join: str
    left_join: str

    def epoch(self, expr: str) -> str:
        """Whole seconds since 1970 of a timestamp column, rounded down."""

    def idiv(self, a: str, b: str) -> str:
        """Integer division, rounding down (a >= 0)."""

    def int64(self, expr: str) -> str:
        """An integer expression as a signed 64-bit integer (so UNION ALL sides agree)."""

    def mod(self, a: str, b: str) -> str:
        """The remainder of a / b (a >= 0)."""

    def mask(self, value: int) -> str:
        """An unsigned 64-bit constant (a mask of days)."""

    def bit(self, position: str) -> str:
        """An unsigned 64-bit integer with bit `position` (0…63) set."""

    def bit_and(self, a: str, b: str) -> str:
        """Bitwise AND of two unsigned 64-bit integers."""

    def shift(self, mask: str, places: int) -> str:
        """SQL: a 64-bit mask moved `places` bits up (down when negative)."""

    def flag(self, cond: str) -> str:
        """SQL: 1 (as a 64-bit mask) where `cond` holds, else 0."""

    def count_if(self, cond: str) -> str:
        """SQL: how many of a group's rows meet `cond`."""

    def or_all(self, expr: str) -> str:
        """The aggregate bitwise OR of unsigned 64-bit integers."""

    def or_if(self, expr: str, cond: str) -> str:
        """The aggregate bitwise OR of unsigned 64-bit integers over the rows where `cond`
        holds (0 over none)."""

    def sum_if(self, expr: str, cond: str) -> str:
        """The sum of `expr` over a group's rows where `cond` holds (0 over none)."""

    def max_if(self, expr: str, cond: str) -> str:
        """The largest `expr` of a group's rows where `cond` holds; over none, NULL (DuckDB)
        or 0 (ClickHouse): callers read both as none."""

    def min_if(self, expr: str, cond: str) -> str:
        """The smallest `expr` of a group's rows where `cond` holds; over none, NULL (DuckDB)
        or 0 (ClickHouse): callers read both as none."""

    def bit_count(self, expr: str, width: int) -> str:
        """How many of the low `width` bits of an unsigned 64-bit integer are set."""

    def or_states(self, column: str) -> str:
        """The aggregate bitwise OR of a rollup column (ClickHouse keeps aggregate states)."""

    def row_value(self, column: str) -> str:
        """A rollup column's value in one row: a partial sum or OR, which other rows of its
        key (not merged by the table yet) complete (ClickHouse keeps aggregate states)."""

    def month_of_day(self, day: str) -> str:
        """Months since year 0 of the date `day` days after 1970-01-01: year * 12 + month - 1."""

    def prop_text(self, column: str, key_param: str) -> str:
        """A top-level JSON value of `column` as text (NULL or '' when absent)."""

    def prop_number(self, column: str, key_param: str) -> str:
        """A top-level JSON value of `column` as a number (NULL or 0 when absent)."""

    def prop_json(self, column: str, key_param: str) -> str:
        """A top-level JSON value of `column` as JSON text (NULL or '' when absent)."""

    def prop_key(self, key: str) -> str:
        """The parameter value that names `key` for prop_text / prop_number."""

    def contains(self, haystack: str, needle_param: str) -> str:
        """Case-insensitive substring test (the needle is a parameter)."""

    def time_value(self, param: str) -> str:
        """A naive-UTC datetime parameter as a value comparable with a timestamp column."""

    def fold(self, text: str) -> str:
        """Text in lower case (Unicode letters too), for case-insensitive sorting."""

    def median(self, expr: str) -> str:
        """The exact median of an integer aggregate: the middle value, or the mean of the two
        middle values (a Float64/DOUBLE; NULL over no rows)."""


class DuckDBDialect:
    """DuckDB: JSON functions over the VARCHAR properties column."""

    name = "duckdb"
    inner_join = "INNER JOIN"
    left_join = "LEFT JOIN"

    def epoch(self, expr: str) -> str:
        # Not CAST(epoch(…) AS BIGINT): that rounds, so 23:59:59.7 would fall on the next day
        # (ClickHouse's DateTime holds whole seconds, rounded down). epoch_ms(…) // 1000 is
        # right too but three times slower.
        return f"CAST(floor(epoch({expr})) AS BIGINT)"

    def idiv(self, a: str, b: str) -> str:
        return f"(({a}) // ({b}))"

    def int64(self, expr: str) -> str:
        return f"CAST({expr} AS BIGINT)"

    def mod(self, a: str, b: str) -> str:
        return f"(({a}) % ({b}))"

    def mask(self, value: int) -> str:
        return f"{value}::UBIGINT"

    def bit(self, position: str) -> str:
        return f"(1::UBIGINT << ({position})::UBIGINT)"

    def bit_and(self, a: str, b: str) -> str:
        return f"(({a}) & ({b}))"

    def shift(self, mask: str, places: int) -> str:
        return f"(({mask}) << {places})" if places >= 0 else f"(({mask}) >> {-places})"

    def flag(self, cond: str) -> str:
        return f"CAST(({cond}) AS UBIGINT)"

    def count_if(self, cond: str) -> str:
        # FILTER, not count(CASE …): see tracklog/analytics/senders.py on DuckDB 2.0.1.
        return f"count(*) FILTER (WHERE {cond})"

    def or_all(self, expr: str) -> str:
        return f"bit_or({expr})"

    def or_if(self, expr: str, cond: str) -> str:
        return f"bit_or(CASE WHEN {cond} THEN {expr} ELSE {self.mask(0)} END)"

    def sum_if(self, expr: str, cond: str) -> str:
        return f"sum(CASE WHEN {cond} THEN {expr} ELSE 0 END)"

    def max_if(self, expr: str, cond: str) -> str:
        return f"max(CASE WHEN {cond} THEN {expr} END)"

    def min_if(self, expr: str, cond: str) -> str:
        return f"min(CASE WHEN {cond} THEN {expr} END)"

    def bit_count(self, expr: str, width: int) -> str:
        return f"bit_count({self.bit_and(expr, self.mask((1 << width) - 1))})"

    def or_states(self, column: str) -> str:
        return f"bit_or({column})"

    def row_value(self, column: str) -> str:
        return column

    def month_of_day(self, day: str) -> str:
        date = f"(DATE '1970-01-01' + CAST({day} AS INTEGER))"
        return f"(year({date}) * 12 + month({date}) - 1)"

    def prop_text(self, column: str, key_param: str) -> str:
        return f"json_extract_string({column}, {key_param})"

    def prop_number(self, column: str, key_param: str) -> str:
        return f"TRY_CAST(json_extract_string({column}, {key_param}) AS DOUBLE)"

    def prop_json(self, column: str, key_param: str) -> str:
        return f"CAST(json_extract({column}, {key_param}) AS VARCHAR)"

    def prop_key(self, key: str) -> str:
        # A quoted JSONPath member, so keys with dots, spaces or a leading `$` stay keys.
        return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def contains(self, haystack: str, needle_param: str) -> str:
        return f"contains(lower({haystack}), lower({needle_param}))"

    def time_value(self, param: str) -> str:
        return param

    def fold(self, text: str) -> str:
        return f"lower({text})"

    def median(self, expr: str) -> str:
        # median (= quantile_cont(…, 0.5)) interpolates: the mean of the two middle values.
        return f"median({expr})"


class ClickHouseDialect:
    """ClickHouse (18.16 and later): visitParamExtract* over the String properties column."""

    name = "clickhouse"
    inner_join = "ALL INNER JOIN"
    left_join = "ANY LEFT JOIN"

    def epoch(self, expr: str) -> str:
        return f"toInt64(toUInt32({expr}))"

    def idiv(self, a: str, b: str) -> str:
        return f"intDiv({a}, {b})"

    def int64(self, expr: str) -> str:
        return f"toInt64({expr})"

    def mod(self, a: str, b: str) -> str:
        # Not `%`: the driver formats parameters into the statement with %.
        return f"modulo({a}, {b})"

    def mask(self, value: int) -> str:
        return f"toUInt64({value})"

    def bit(self, position: str) -> str:
        return f"toUInt64(bitShiftLeft(toUInt64(1), {position}))"

    def bit_and(self, a: str, b: str) -> str:
        return f"toUInt64(bitAnd({a}, {b}))"

    def shift(self, mask: str, places: int) -> str:
        if places >= 0:
            return f"bitShiftLeft({mask}, {places})"
        return f"bitShiftRight({mask}, {-places})"

    def flag(self, cond: str) -> str:
        return f"toUInt64({cond})"

    def count_if(self, cond: str) -> str:
        return f"countIf({cond})"

    def or_all(self, expr: str) -> str:
        return f"groupBitOr({expr})"

    # The -If combinators, not an aggregate of CASE: 18.16 evaluates CASE (multiIf) a row at
    # a time and wraps a nullable argument's aggregate; the lists' GROUP BYs of millions of
    # day rows spent about a tenth of their time there.
    def or_if(self, expr: str, cond: str) -> str:
        return f"groupBitOrIf({expr}, {cond})"

    def sum_if(self, expr: str, cond: str) -> str:
        return f"sumIf({expr}, {cond})"

    def max_if(self, expr: str, cond: str) -> str:
        return f"maxIf({expr}, {cond})"

    def min_if(self, expr: str, cond: str) -> str:
        return f"minIf({expr}, {cond})"

    def bit_count(self, expr: str, width: int) -> str:
        # 18.16 has no bitCount: the bits one by one (a few per row of a small result).
        return f"arraySum(arrayMap(b_ -> bitAnd(bitShiftRight({expr}, b_), 1), range({width})))"

    def or_states(self, column: str) -> str:
        return f"groupBitOrMerge({column})"

    def row_value(self, column: str) -> str:
        return f"finalizeAggregation({column})"

    def month_of_day(self, day: str) -> str:
        date = f"(toDate('1970-01-01') + {day})"
        return f"(toYear({date}) * 12 + toMonth({date}) - 1)"

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

    def prop_json(self, column: str, key_param: str) -> str:
        raw = f"visitParamExtractRaw({column}, {key_param})"
        return f"if(visitParamHas({column}, {key_param}), {raw}, '')"

    def prop_key(self, key: str) -> str:
        return key

    def contains(self, haystack: str, needle_param: str) -> str:
        return f"(positionCaseInsensitive(coalesce({haystack}, ''), {needle_param}) > 0)"

    def time_value(self, param: str) -> str:
        # 18.16 fails to compare a DateTime key column with a string literal in its
        # primary-key analysis; an explicit conversion avoids it.
        return f"toDateTime({param}, 'UTC')"

    def fold(self, text: str) -> str:
        return f"lowerUTF8({text})"

    def median(self, expr: str) -> str:
        # median() is quantile(), an estimate from a sample, and quantileExact(0.5) takes the
        # upper of the two middle values: the two middle values of the sorted array, averaged.
        ordered = f"arraySort(groupArray({expr}))"
        return (
            f"if(count({expr}) = 0, NULL, (arrayElement({ordered}, intDiv(count({expr}) + 1, 2)) "
            f"+ arrayElement({ordered}, intDiv(count({expr}) + 2, 2))) / 2)"
        )


def dialect_for(store_dialect: str) -> Dialect:
    """The dialect a store names with its `dialect` attribute."""
    return ClickHouseDialect() if store_dialect == "clickhouse" else DuckDBDialect()
