"""Each sender's totals in a range and over all history, from the per-block rollup.

The users and accounts lists need, per sender id and account, the events, activity and
sign-ins in the range and the first and last activity over all history. Summed from the day
rollup that is a row per sender and day of all history (3M rows at 10M events); the store's
`sender_blocks` (tracklog/store/rollups.py) holds a row per sender, account and 64-day block.

A block partly in the range is counted as the whole block less the part outside it, or as
the part inside, whichever covers fewer days; that part comes from `activity` (day rows, and
the events for a day the range cuts). The block rows hold everything up to the last event,
so they answer only when nothing is stored at or after the range's end (a range that ends
now, the usual case); `senders` says None otherwise and the caller reads the day rollup.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from tracklog.analytics.activity import activity
from tracklog.analytics.scope import ACTIVITY, Scope
from tracklog.store import events
from tracklog.store.query import Query
from tracklog.store.rollups import BLOCK_DAYS

_TICK = dt.timedelta(microseconds=1)
# Past any stored time: "nothing stored at or after the end" looks up to here.
_NEVER = dt.datetime(2106, 1, 1)
SIGN_IN = "signed_in"
# The columns of `senders`' rows.
COLUMNS = (
    "actor, grp, range_events, range_acts, range_signins, all_acts, first_ms, last_ms, window_days"
)


def senders(q: Query, store: Any, scope: Scope, where: list[str], window: int = 0) -> str | None:
    """Rows of (COLUMNS) whose sums per sender (or per account) are: the events, activity
    and sign-ins in [scope.start, scope.end) (`range_*`); the activity (`all_acts`) of all history
    before scope.end and the first and last activity time (epoch ms; take first_ms only
    from rows with all_acts > 0; last_ms is 0 or NULL for none); and `window_days`, with `window`
    days, a bit per day of the last `window` local days up to the range's end (bit 0 the
    earliest) with activity. None when the rollup cannot answer.

    `where` may only name group_id. Several rows of one key add up: callers sum (min, max,
    OR) them by what they count.
    """
    if (
        scope.raw
        or not getattr(store, "sender_blocks", False)
        or store.rollup_zone(scope.workspace) != scope.timezone
        or events.any_between(store, scope.workspace, scope.end, _NEVER)
    ):
        return None
    d, cal = q.dialect, scope.calendar
    first_day = cal.day(scope.start)
    block = first_day // BLOCK_DAYS
    lo, hi = cal.day_start(block * BLOCK_DAYS), cal.day_start((block + 1) * BLOCK_DAYS)
    # The block holding the range's start: whole less the part before the start, or the part
    # from the start on (to the block's end or the range's), whichever is shorter.
    whole = scope.start - lo <= min(hi, scope.end) - scope.start
    part = (lo, scope.start, -1) if whole else (scope.start, min(hi, scope.end), 1)
    counted = f"block >= {block}" if whole else f"block > {block}"
    conditions = [f"workspace = {q.param(scope.workspace)}", *where]
    if not scope.include_test:
        conditions.append("NOT is_test")
    value = d.row_value  # ClickHouse: each row's aggregate state, finalized
    # Products, not CASE: DuckDB 2.0.1 folds a comparison of a sum of CASE values to false
    # after a LEFT JOIN with an empty side (every account showed 0 users). Each part names
    # its columns apart from the tables' (ClickHouse reads `x AS x` as a loop); all numbers
    # are Int64, so the parts of the UNION agree.
    in_range = ", ".join(
        f"{d.int64(value(column))} * {d.int64(counted)} AS {alias}"
        for column, alias in (("sent", "ev"), ("acts", "ac"), ("sign_ins", "si"))
    )
    active = value("active")
    days = _window_bits(d, active, cal.day(scope.end - _TICK), window) if window else d.mask(0)
    parts = [
        f"SELECT actor, group_id AS grp, {in_range}, {d.int64(value('acts'))} AS aa, "
        f"{d.int64(value('first_act'))} AS fm, {d.int64(value('last_act'))} AS lm, {days} AS dy "
        f"FROM sender_blocks WHERE {' AND '.join(conditions)}"
    ]
    start, end, sign = part
    if start < end:
        # `times`: groups per sender (without it, uncounted by sender, per day and name only).
        edge = activity(
            q,
            store,
            dataclasses.replace(scope, start=start, end=end),
            where,
            persons=False,
            times=True,
        )
        signed_in = f"{ACTIVITY} AND event_name = {q.param(SIGN_IN)}"
        n = f"{d.int64(str(sign))} * {d.int64('n')}"
        zero = d.int64("0")
        parts.append(
            f"SELECT actor, grp, {n} AS ev, {n} * {d.int64(f'({ACTIVITY})')} AS ac, "
            f"{n} * {d.int64(f'({signed_in})')} AS si, {zero} AS aa, {zero} AS fm, "
            f"{zero} AS lm, {d.mask(0)} AS dy FROM {edge} AS {q.alias('edge')}"
        )
    return (
        f"(SELECT actor, grp, ev AS range_events, ac AS range_acts, si AS range_signins, "
        f"aa AS all_acts, fm AS first_ms, lm AS last_ms, dy AS window_days "
        f"FROM ({' UNION ALL '.join(parts)}) "
        f"AS {q.alias('totals')})"
    )


def _window_bits(d: Any, active: str, last: int, width: int) -> str:
    """SQL: a block row's `active` bits of local days last - width + 1 … last, moved so that
    bit 0 is the first of them (only the one or two blocks holding them have any)."""
    first = last - width + 1
    terms = []
    for block in range(first // BLOCK_DAYS, last // BLOCK_DAYS + 1):
        places = block * BLOCK_DAYS - first  # where the block's day 0 lands
        if places >= 0:
            moved = d.shift(d.bit_and(active, d.mask((1 << (width - places)) - 1)), places)
        else:
            moved = d.bit_and(d.shift(active, places), d.mask((1 << width) - 1))
        terms.append(f"{moved} * {d.flag(f'block = {block}')}")
    return "(" + " + ".join(terms) + ")"  # one term at most is not 0 (no CASE: see above)
