"""How values are written for ClickHouse 18.16: times in two columns, row versions, names.

18.16 has no DateTime64: a time is a `DateTime('UTC')` of whole seconds plus a `_ms` column.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence

EPOCH = dt.datetime(1970, 1, 1)
_SECOND = dt.timedelta(seconds=1)
MAX_DATETIME = 2**32 - 1


def column_names(columns: Sequence[str]) -> str:
    """The names of column definitions ("id UUID", …), comma-separated, for an INSERT."""
    return ", ".join(c.split(" ", 1)[0] for c in columns)


def split_time(value: dt.datetime) -> tuple[int, int]:
    """A naive-UTC time as (whole seconds since 1970, milliseconds), clamped to DateTime's range.

    18.16's DateTime is an unsigned 32-bit count of seconds: a time before 1970 is stored as
    1970-01-01 (the receipt already warned that it is implausible).
    """
    seconds = (value - EPOCH) // _SECOND
    return min(max(seconds, 0), MAX_DATETIME), value.microsecond // 1000


def row_version() -> int:
    """A row version for ReplacingMergeTree(version): microseconds now; the latest save wins."""
    return time.time_ns() // 1000


def from_seconds(seconds: int) -> dt.datetime:
    """Seconds since 1970 as a naive-UTC time."""
    return EPOCH + dt.timedelta(seconds=seconds)
