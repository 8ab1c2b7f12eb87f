"""Time buckets of a zone's local calendar as whole numbers, in SQL and in Python, and back.

Both stores compute local time with integer arithmetic: the zone's offset at each instant is
a CASE over the offsets in force during the query's span (tracklog.zones computes them), so
wall-clock seconds = epoch seconds + offset, and local days, Monday weeks and months follow.
No time-zone database is needed inside DuckDB or ClickHouse 18.16 and both give the same
answer; Python turns bucket numbers into ISO starts with the zone's offset and fills in the
buckets without events, marking those not wholly inside the range (or not over yet).

Bucket numbers: an hour is the epoch second it starts at (an hour repeated by a DST change
is two buckets); a day is the local day number; a week is (day + 3) // 7 (1970-01-01 was a
Thursday, so Mondays are multiples of 7); a month is year * 12 + month - 1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from tracklog.store.clock import wall_sql
from tracklog.store.dialect import Dialect
from tracklog.zones import DAY, FIRST, LAST, Zone, instant, seconds

Interval = Literal["hour", "day", "week", "month"]
INTERVALS: tuple[str, ...] = ("hour", "day", "week", "month")
EPOCH = dt.datetime(1970, 1, 1)
WEEK_SHIFT = 3
_TICK = dt.timedelta(microseconds=1)


def day_sql(d: Dialect, zone: Zone, start: dt.datetime, end: dt.datetime) -> str:
    """SQL: the local day number of a row's `ts`, exact for times in [start, end) (a report
    that needs local days of a short window only gets a short CASE)."""
    return d.idiv(wall_sql(zone, d.epoch("ts"), start, end), str(DAY))


def bucket_sql(d: Dialect, interval: Interval) -> str:
    """The bucket number of a row of `events_source` (its `ts`, `wall` and `day` columns)."""
    if interval == "hour":
        # The instant the local hour started: wall time minus its seconds past the hour.
        return f"({d.epoch('ts')} - (wall - {d.idiv('wall', '3600')} * 3600))"
    if interval == "day":
        return "day"
    if interval == "week":
        return d.idiv(f"day + {WEEK_SHIFT}", "7")
    return d.month_of_day("day")


def _date(day: int) -> dt.date:
    """The date of a day number, within the years Python knows."""
    return EPOCH.date() + dt.timedelta(days=min(max(day, _FIRST_DAY), _LAST_DAY))


def _day_of(date: dt.date) -> int:
    return (date - EPOCH.date()).days


_FIRST_DAY, _LAST_DAY = _day_of(FIRST.date()), _day_of(LAST.date())


def _month_of_day(day: int) -> int:
    date = _date(day)
    return date.year * 12 + date.month - 1


def _first_day_of_month(month: int) -> int:
    year, month = divmod(month, 12)
    if year < 1 or year > 9999:
        return _day_of(FIRST.date() if year < 1 else LAST.date())
    return _day_of(dt.date(year, month + 1, 1))


@dataclass(frozen=True)
class Bucket:
    """One period: its number, first instant, the first instant after it, and its ISO start."""

    number: int
    start: dt.datetime
    end: dt.datetime
    iso: str

    def partial(self, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> bool:
        """Not wholly inside [start, end), or not over by `now`."""
        return self.start < start or self.end > end or self.end > now


@dataclass(frozen=True)
class Calendar:
    """Hours, days, weeks and months of one zone's local clock."""

    zone: Zone

    @property
    def name(self) -> str:
        return self.zone.name

    def day(self, t: dt.datetime) -> int:
        """The local day holding the naive UTC instant `t`."""
        return self.zone.day(t)

    def day_start(self, day: int) -> dt.datetime:
        """The first instant of a local day."""
        return self.zone.day_start(day)

    def date(self, day: int) -> dt.date:
        """The calendar date of a local day number."""
        return _date(day)

    def bucket_of(self, interval: Interval, t: dt.datetime) -> int:
        """The bucket number of a naive UTC time (as bucket_sql computes it)."""
        s = seconds(t)
        wall = s + self.zone.offset(s)
        if interval == "hour":
            return s - wall % 3600
        day = wall // DAY
        if interval == "day":
            return day
        if interval == "week":
            return (day + WEEK_SHIFT) // 7
        return _month_of_day(day)

    def bucket(self, interval: Interval, number: int) -> Bucket:
        """The period a bucket number stands for."""
        if interval == "hour":
            # Whole-hour DST changes keep every hour 3600 s long. (A zone whose offset moves
            # by half an hour, such as Australia/Lord_Howe, gets one short hour there.)
            start, end = instant(number), instant(number + 3600)
        elif interval == "day":
            start, end = self.day_start(number), self.day_start(number + 1)
        elif interval == "week":
            first = number * 7 - WEEK_SHIFT
            start, end = self.day_start(first), self.day_start(first + 7)
        else:
            start = self.day_start(_first_day_of_month(number))
            end = self.day_start(_first_day_of_month(number + 1))
        return Bucket(number, start, end, self.zone.iso(start))

    def buckets(
        self, interval: Interval, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[int, str]]:
        """Every bucket touching [start, end), as (number, ISO start)."""
        return [(b.number, b.iso) for b in self.periods(interval, start, end)]

    def periods(self, interval: Interval, start: dt.datetime, end: dt.datetime) -> list[Bucket]:
        """Every bucket touching [start, end), oldest first."""
        if end <= start:
            return []
        if interval != "hour":
            first, last = self.bucket_of(interval, start), self.bucket_of(interval, end - _TICK)
            return [self.bucket(interval, n) for n in range(first, last + 1)]
        # Hours: per offset in force, every whole local hour; a bucket per distinct start.
        found: set[int] = set()
        lo, hi = seconds(start), seconds(end - _TICK)
        segments = self.zone.segments(start, end)
        bounds = [at for at, _ in segments[1:]]
        for (at, offset), until in zip(segments, [*bounds, None], strict=True):
            a = max(lo, at)
            b = hi if until is None else min(hi, until - 1)
            if a > b:
                continue
            n = a - (a + offset) % 3600  # the hour holding `a`, then each after it
            while n <= b:
                found.add(n)
                n += 3600
        return [self.bucket("hour", n) for n in sorted(found)]

    def count(self, interval: Interval, start: dt.datetime, end: dt.datetime) -> int:
        """How many buckets touch [start, end) (at most one too many for hours)."""
        if end <= start:
            return 0
        if interval == "hour":
            return int((end - start).total_seconds()) // 3600 + 2
        return self.bucket_of(interval, end - _TICK) - self.bucket_of(interval, start) + 1


def iso(t: dt.datetime) -> str:
    """A naive UTC instant (an event's time) as ISO-8601 with Z."""
    return t.isoformat(timespec="seconds") + "Z"


def calendar(name: str) -> Calendar:
    """The calendar of a zone name (checked by tracklog.zones)."""
    return Calendar(Zone(name))
