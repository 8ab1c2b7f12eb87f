"""IANA time zones as reports need them: offsets by the second, local days, and back.

A zone is a list of segments, each a start instant (whole seconds since 1970 UTC) and the
offset in force from then on. Everything local follows from it with integer arithmetic:
wall-clock seconds = epoch seconds + offset, local day = wall // 86400. The reports turn the
same segments into SQL (tracklog/analytics/timeline.py), so Python and both stores agree to
the second without a time-zone database inside the store. (Issue 12, item 10.)
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from dataclasses import dataclass

UTC = "UTC"
DAY = 86_400
_EPOCH = dt.datetime(1970, 1, 1)
# Python's calendar ends at years 1 and 9999; local times near them are clamped a few days
# inside (a range may start at 0001-01-01; only the store's own limits matter for events).
FIRST = dt.datetime(1, 1, 3)
LAST = dt.datetime(9999, 12, 29)


_FIRST_S = (FIRST - _EPOCH) // dt.timedelta(seconds=1)
_LAST_S = (LAST - _EPOCH) // dt.timedelta(seconds=1)


class UnknownZone(ValueError):
    """A name that is not an IANA time zone; the message says what to use instead."""


# Files of a system's zone folder that are not zones of the database (`localtime` is this
# machine's own setting, a link that means something else on every machine).
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@functools.cache
def _names() -> frozenset[str]:
    return (frozenset(zoneinfo.available_timezones()) - _NOT_ZONES) | {UTC}


def check(name: str) -> str:
    """`name` if it is an IANA zone (Area/City, or UTC), else UnknownZone.

    Only names of the zone database count: ZoneInfo would also open a directory's name
    (`America`) or stray files of the system's folder (`localtime`).
    """
    if name not in _names():
        raise UnknownZone(
            f"{name[:80]!r} is not an IANA time zone: use a name such as America/Los_Angeles, "
            "Europe/Berlin, Asia/Kolkata or UTC."
        )
    return name


def seconds(t: dt.datetime) -> int:
    """Whole seconds since 1970 of a naive UTC time, rounded down (as the stores bucket it)."""
    return (t - _EPOCH) // dt.timedelta(seconds=1)


def instant(s: int) -> dt.datetime:
    """The naive UTC time `s` seconds after 1970 (clamped to FIRST … LAST)."""
    return _EPOCH + dt.timedelta(seconds=min(max(s, _FIRST_S), _LAST_S))


@dataclass(frozen=True)
class Zone:
    """One IANA zone: offsets, local days and ISO times with the offset in force."""

    name: str

    @functools.cached_property
    def info(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(check(self.name))

    def offset(self, s: int) -> int:
        """The zone's UTC offset in seconds at `s` seconds since 1970."""
        delta = dt.datetime.fromtimestamp(min(max(s, _FIRST_S), _LAST_S), self.info).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    def segments(self, start: dt.datetime, end: dt.datetime) -> list[tuple[int, int]]:
        """(from second, offset) of every offset in force during [start, end], oldest first.

        The first segment is open to the past (its second is 0) and the last to the future.
        Computed from whole calendar years, so close ranges give the same list (and SQL).
        """
        found: list[tuple[int, int]] = []
        # Years before 1900 and after 2200 take the offsets of those years' ends.
        first = min(max(start.year, 1900), 2200)
        for year in range(first, min(max(end.year, first), 2200) + 1):
            for at, offset in _year_transitions(self.name, year):
                if not found:
                    found.append((0, offset))
                elif found[-1][1] != offset:
                    found.append((at, offset))
        return found

    def day(self, t: dt.datetime) -> int:
        """The local day number (days since 1970-01-01 on the local calendar) holding `t`."""
        s = seconds(t)
        return (s + self.offset(s)) // DAY

    def wall_start(self, wall: int) -> dt.datetime:
        """The first instant whose wall-clock time (local seconds since 1970) is `wall` or later.

        For a local midnight: that midnight, or the end of the gap when a DST change skips it.
        """
        return instant(_wall_start(self, wall))

    def _wall_start(self, wall: int) -> int:
        # Most days: the offset near the wanted instant puts the wall clock exactly on it, and
        # a second earlier it was before it.
        offset = self.offset(wall - self.offset(wall))
        s = wall - offset
        if self.offset(s) == offset and s - 1 + self.offset(s - 1) < wall:
            return s
        # A gap or a repeat around it: the first offset in force that reaches `wall`.
        around = self.segments(instant(wall - 2 * DAY), instant(wall + 2 * DAY))
        ends = [at for at, _ in around[1:]]
        for (at, offset), until in zip(around, [*ends, None], strict=True):
            first = max(at, wall - offset) if at else wall - offset
            if until is None or first < until:
                return first
        raise AssertionError("unreachable: the last segment is open to the future")

    def day_start(self, day: int) -> dt.datetime:
        """The first instant of local day `day`."""
        return self.wall_start(day * DAY)

    def iso(self, t: dt.datetime) -> str:
        """A naive UTC instant as ISO-8601 with the zone's offset then (`Z` in UTC itself)."""
        if self.name == UTC:
            return t.isoformat(timespec="seconds") + "Z"
        local = t.replace(tzinfo=dt.UTC).astimezone(self.info)
        offset = int(local.utcoffset().total_seconds())  # type: ignore[union-attr]
        if offset % 60:
            # Local mean time (before ~1900) is offset by seconds, which RFC 3339 cannot
            # write: the same instant with the offset cut to whole minutes (the wall clock
            # then shows the seconds cut, e.g. 00:00:58-07:52 for 00:00:00-07:52:58).
            minutes = dt.timezone(dt.timedelta(seconds=int(offset / 60) * 60))
            local = t.replace(tzinfo=dt.UTC).astimezone(minutes)
        return local.isoformat(timespec="seconds")


@functools.lru_cache(maxsize=1 << 16)
def _wall_start(zone: Zone, wall: int) -> int:
    return zone._wall_start(wall)


@functools.cache
def _year_transitions(name: str, year: int) -> tuple[tuple[int, int], ...]:
    """(second, new offset) of each change of the offset during `year` (UTC), and its start."""
    zone = Zone(name)
    lo = seconds(dt.datetime(year, 1, 1))
    hi = seconds(dt.datetime(year + 1, 1, 1))
    changes = [(lo, zone.offset(lo))]
    previous = changes[0][1]
    # Daily samples, then a bisection to the second: no zone changes its offset twice a day.
    for day_start in range(lo + DAY, hi + DAY, DAY):
        now = zone.offset(day_start)
        if now != previous:
            low, high = day_start - DAY, day_start
            while high - low > 1:
                mid = (low + high) // 2
                if zone.offset(mid) == previous:
                    low = mid
                else:
                    high = mid
            changes.append((high, now))
            previous = now
    return tuple(changes)
