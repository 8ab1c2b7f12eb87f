"""Activity per day: the rollup every overview report reads instead of the raw events.

Four tables, kept from the same rows:
- `activity_days`: per workspace, local day (in the workspace's time zone), sender id,
  account, event name, type and test flag, how many such events there were and the first
  and last of their times. Every report that needs a person's counts reads it.
- `activity_masks`: per 64-day block, sender (or account), event name and test flag, a bit
  per day with activity (identify, group and alias calls are not activity). Counting people
  per day, week or window (DAU/WAU/MAU, unique users) reads one row per person and name
  instead of one per person and day.
- `event_days`: per day, event name, type, account and test flag, how many events.
- `sender_blocks`: per 64-day block, sender, account and test flag, the events, the
  activity and sign-ins among them, those sent with a user id, the first and last activity
  time and a bit per day with activity. The users and accounts lists read it: a row per
  sender and block instead of one per sender and day (tracklog/analytics/senders.py).
Reports resolve each sender id to its person at query time (the identities of
tracklog/store/profiles.py), so a merge that arrives late changes no row, and they cost what
the number of active people and days costs, not the number of events.

Rows are added by the commit that stores the events (only events not stored before, so a
retry adds nothing) and are partial sums: several rows of one key add up (the stores merge
them in the background, or on demand). Deleting events (erasure, retention) deletes or
rebuilds the rows they were counted in.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from tracklog.store import events
from tracklog.store.clock import wall_sql
from tracklog.store.query import SENDER, new_query
from tracklog.zones import Zone

if TYPE_CHECKING:
    from tracklog.store.base import Store

log = logging.getLogger("tracklog.rollups")
DAY_SECONDS = 86_400
# Days per activity mask: one bit each in an unsigned 64-bit integer.
BLOCK_DAYS = 64
# Not activity (docs/analytics.md): these calls set no bit in the masks.
NOT_ACTIVITY = ("identify", "group", "alias")
DEFAULT_ZONE = "UTC"
# The store's meta entries: the zone of each workspace's days (JSON), and "built".
ZONES = "rollups.zones"
BUILT = "rollups.built"
# The time-zone offsets are looked up per quarter of an hour: every zone changes its offset
# on a quarter-hour boundary (the few that use :30 or :45 offsets too).
_SLOT = 900


@lru_cache(maxsize=65_536)
def _offset(zone: str, slot: int) -> int:
    """Seconds the zone is ahead of UTC during one quarter-hour slot since 1970."""
    return Zone(zone).offset(slot * _SLOT)


def local_day(ms: int, zone: str) -> int:
    """The local day number (days since 1970-01-01 in `zone`) of epoch milliseconds."""
    seconds = ms // 1000
    if zone == "UTC":
        return seconds // DAY_SECONDS
    return (seconds + _offset(zone, seconds // _SLOT)) // DAY_SECONDS


def blocks_of(days: tuple[int, int] | None) -> tuple[int, int] | None:
    """The blocks holding local days [first, last] (None: all)."""
    return None if days is None else (days[0] // BLOCK_DAYS, days[1] // BLOCK_DAYS)


def days_of(blocks: tuple[int, int] | None) -> tuple[int, int] | None:
    """Every local day of blocks [first, last] (None: all)."""
    if blocks is None:
        return None
    return (blocks[0] * BLOCK_DAYS, (blocks[1] + 1) * BLOCK_DAYS - 1)


def from_events(
    store: Store, workspace: str, zone: str, days: tuple[int, int] | None = None
) -> tuple[str, dict[str, Any]]:
    """SQL (and parameters) of the rollup rows of a workspace's stored events, aggregated,
    in INPUT order: every event, or those of local days [first, last] of `days`.

    The local day is computed in SQL from the zone's offsets (tracklog/store/clock.py), which
    are the ones `local_day` uses at commit time.
    """
    q = new_query(store)
    d = q.dialect
    start, end = _span(zone, days)
    epoch = d.epoch("timestamp")
    day = d.idiv(wall_sql(Zone(zone), epoch, start, end), str(DAY_SECONDS))
    ms = store.epoch_ms("timestamp")
    sql = (
        f"SELECT workspace, {day} AS day, {SENDER} AS actor, coalesce(group_id, '') AS grp, "
        f"coalesce(event_name, '') AS name, type, is_test, "
        f"CASE WHEN coalesce(user_id, '') != '' THEN 0 ELSE 1 END AS anonymous, "
        f"count(*) AS events, min({ms}) AS first_ms, max({ms}) AS last_ms "
        f"FROM {store.events_table} WHERE workspace = {q.param(workspace)} "
        f"AND {q.during(start, end)} "
        f"GROUP BY workspace, day, actor, grp, name, type, is_test, anonymous"
    )
    return sql, q.params


def _span(zone: str, days: tuple[int, int] | None) -> tuple[dt.datetime, dt.datetime]:
    if days is None:
        return dt.datetime(1970, 1, 1), dt.datetime(2106, 1, 1)
    z = Zone(zone)
    return z.day_start(days[0]), z.day_start(days[1] + 1)


def build(store: Store) -> None:
    """Count the rollup of events stored before it existed (once: the store says when done).

    One aggregation per workspace, in its zone, by the store itself: seconds for millions of
    events, so the first start of this version needs no progress bar.
    """
    if store.meta(BUILT):
        return
    zones = {w: DEFAULT_ZONE for w in events.workspaces_with_events(store)}
    zones.update({w.name: w.timezone for w in store.workspaces()})
    for workspace, zone in sorted(zones.items()):
        started = time.perf_counter()
        store.rebuild_rollups(workspace, zone)
        log.info(
            "counted the activity rollup of workspace %s in %.1f s",
            workspace,
            time.perf_counter() - started,
        )
    store.save_meta(BUILT, "1")
