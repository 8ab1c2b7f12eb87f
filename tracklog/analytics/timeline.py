"""Time buckets as whole numbers (hour, day, Monday-week and month numbers) and back.

Both stores compute bucket numbers with integer arithmetic on epoch seconds, so a bucket
means the same on each; Python turns them into the ISO times the API returns and fills the
buckets that had no events.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from tracklog.analytics.dialect import Dialect

Interval = Literal["hour", "day", "week", "month"]
INTERVALS: tuple[str, ...] = ("hour", "day", "week", "month")
EPOCH = dt.datetime(1970, 1, 1)
# 1970-01-01 was a Thursday: day number + 3 puts Mondays at multiples of 7.
WEEK_SHIFT = 3


def bucket_sql(d: Dialect, interval: Interval, column: str = "ts") -> str:
    """The bucket number of `column` (a timestamp)."""
    seconds = d.epoch(column)
    if interval == "hour":
        return d.idiv(seconds, "3600")
    if interval == "day":
        return d.idiv(seconds, "86400")
    if interval == "week":
        return d.idiv(f"{d.idiv(seconds, '86400')} + {WEEK_SHIFT}", "7")
    return d.month_number(column)


def bucket_of(interval: Interval, t: dt.datetime) -> int:
    """The bucket number of a naive UTC time (as bucket_sql computes it)."""
    seconds = int((t - EPOCH).total_seconds())
    if interval == "hour":
        return seconds // 3600
    if interval == "day":
        return seconds // 86400
    if interval == "week":
        return (seconds // 86400 + WEEK_SHIFT) // 7
    return t.year * 12 + t.month - 1


def bucket_start(interval: Interval, number: int) -> dt.datetime:
    """The first instant of a bucket."""
    if interval == "hour":
        return EPOCH + dt.timedelta(hours=number)
    if interval == "day":
        return EPOCH + dt.timedelta(days=number)
    if interval == "week":
        return EPOCH + dt.timedelta(days=number * 7 - WEEK_SHIFT)
    return dt.datetime(number // 12, number % 12 + 1, 1)


def iso(t: dt.datetime) -> str:
    """A naive UTC time as ISO-8601 with Z."""
    return t.isoformat(timespec="seconds") + "Z"


def buckets(interval: Interval, start: dt.datetime, end: dt.datetime) -> list[tuple[int, str]]:
    """Every bucket touching [start, end), as (number, ISO start)."""
    if end <= start:
        return []
    first, last = (
        bucket_of(interval, start),
        bucket_of(interval, end - dt.timedelta(microseconds=1)),
    )
    return [(n, iso(bucket_start(interval, n))) for n in range(first, last + 1)]
