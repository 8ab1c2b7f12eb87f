"""Retention policies: each workspace's events (and quarantine) older than N days are dropped.

A workspace's `retention_days` (0: keep forever) is set with `tracklog workspaces set NAME
--retention-days N`. The server drops what is too old when it starts and then every
`--retention-interval-seconds`; `tracklog retention run` does it on demand. Every drop that
removed something is written to the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any

from tracklog.events import iso, utcnow
from tracklog.privacy.audit import audit
from tracklog.store import maintenance
from tracklog.store.base import Store, StoreUnavailable

log = logging.getLogger("tracklog.retention")


def run(
    store: Store,
    actor: str = "retention",
    workspace: str | None = None,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Drop what each workspace's policy no longer keeps; say what was dropped, per workspace."""
    now = now or utcnow()
    results: list[dict[str, Any]] = []
    for ws in store.workspaces():
        if ws.retention_days <= 0 or (workspace is not None and ws.name != workspace):
            continue
        cutoff = now - dt.timedelta(days=ws.retention_days)
        counts = maintenance.drop_older_than(store, ws.name, cutoff)
        if any(counts.values()):
            audit(store, ws.name, actor, "retention.drop", f"before {iso(cutoff)}", counts)
        results.append(
            {
                "workspace": ws.name,
                "retention_days": ws.retention_days,
                "cutoff": iso(cutoff),
                "dropped": counts,
            }
        )
    return results


async def periodically(store: Store, interval: float) -> None:
    """Run the policies now and then every `interval` seconds, until cancelled."""
    while True:
        try:
            for result in await asyncio.to_thread(run, store):
                if any(result["dropped"].values()):
                    log.info("retention dropped old data", extra=result)
        except StoreUnavailable as exc:  # the store is down: the next round tries again
            log.warning("retention run failed: %s", exc)
        except Exception:  # never let a bad round stop the server or later rounds
            log.exception("retention run failed")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def background(store: Store, interval: float) -> Any:
    """The periodic task for a server's lifetime (none when `interval` is 0)."""
    task = asyncio.create_task(periodically(store, interval)) if interval > 0 else None
    try:
        yield task
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
