"""SQL for a zone's local clock: epoch seconds plus the offset in force, with no zone database.

The offsets come from tracklog.zones (Python's zoneinfo), so the stores, the rollups written
at commit time and the reports agree to the second on every day, week and hour.
"""

from __future__ import annotations

import datetime as dt

from tracklog.zones import Zone


def offset_sql(zone: Zone, epoch: str, start: dt.datetime, end: dt.datetime) -> str:
    """SQL: the zone's offset in seconds at `epoch` (whole seconds since 1970), for times in
    [start, end). A constant where the offset does not change; else a CASE, newest offset
    first (most events are recent, so most rows stop at the first test)."""
    segments = zone.segments(start, end)
    if len(segments) == 1:
        return str(segments[0][1])
    whens = " ".join(f"WHEN {epoch} >= {at} THEN {offset}" for at, offset in reversed(segments[1:]))
    return f"(CASE {whens} ELSE {segments[0][1]} END)"


def wall_sql(zone: Zone, epoch: str, start: dt.datetime, end: dt.datetime) -> str:
    """SQL: wall-clock seconds since 1970 on the zone's clock at `epoch`."""
    return f"({epoch} + {offset_sql(zone, epoch, start, end)})"
