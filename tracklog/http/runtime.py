"""What a running server holds: settings, store, keys, committer, ingestor and limits."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from tracklog.http.concurrency import InFlight
from tracklog.http.rate_limit import RateLimiter
from tracklog.ingest import profiles
from tracklog.ingest.committer import Committer
from tracklog.ingest.pipeline import Ingestor
from tracklog.ingest.plan import load_plan
from tracklog.keys import Keyring
from tracklog.settings import Settings
from tracklog.store import Store, open_store, rollups
from tracklog.store.base import Workspace


@dataclass
class Runtime:
    """The shared state of one server process (both its HTTP app and its admin socket)."""

    settings: Settings
    store: Store
    keyring: Keyring
    committer: Committer
    ingestor: Ingestor
    limiter: RateLimiter
    inflight: InFlight
    _workspaces: dict[str, Workspace] = field(default_factory=dict)
    _suppressed: dict[str, frozenset[str]] = field(default_factory=dict)
    _workspaces_at: float = float("-inf")
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _refresh(self) -> None:
        if time.monotonic() - self._workspaces_at > self.settings.key_refresh_seconds:
            self.reload()

    def plan_mode(self, workspace: str) -> str:
        """The workspace's plan mode, from a cache refreshed like the keys."""
        self._refresh()
        found = self._workspaces.get(workspace)
        return found.plan_mode if found else "warn"

    def timezone(self, workspace: str) -> str:
        """The workspace's time zone (IANA name), from a cache refreshed like the keys."""
        self._refresh()
        found = self._workspaces.get(workspace)
        return found.timezone if found else "UTC"

    def suppressed(self, workspace: str) -> frozenset[str]:
        """The workspace's suppressed user ids, from a cache refreshed like the keys."""
        self._refresh()
        return self._suppressed.get(workspace, frozenset())

    def reload(self) -> None:
        """Re-read keys, workspaces and suppressions from the store (after a change, or stale)."""
        with self._lock:
            self._workspaces = {w.name: w for w in self.store.workspaces()}
            by_workspace: dict[str, set[str]] = {}
            for s in self.store.suppressions():
                by_workspace.setdefault(s.workspace, set()).add(s.user_id)
            self._suppressed = {ws: frozenset(ids) for ws, ids in by_workspace.items()}
            self._workspaces_at = time.monotonic()
        self.keyring.reload()


def profile_rules(settings: Settings) -> profiles.ProfileRules:
    """Which properties of ordinary events set person and account traits."""

    def names(text: str) -> tuple[str, ...]:
        return tuple(n.strip() for n in text.split(",") if n.strip())

    return profiles.ProfileRules(
        names(settings.identity_properties), names(settings.account_properties)
    )


def build_runtime(settings: Settings, store: Store | None = None) -> Runtime:
    """Open the store and wire the write path together (the committer is not started yet)."""
    store = store or open_store(settings.store_url())
    store.setup()
    limit = getattr(store, "limit_memory", None)  # the embedded store's; ClickHouse has its own
    if limit is not None:
        limit(settings.memory_limit)
    rules = profile_rules(settings)
    profiles.build(store, rules)
    rollups.build(store)
    interval = settings.commit_interval
    committer = Committer(
        store,
        max_queued_events=settings.max_queued_events,
        min_interval=store.commit_interval if interval < 0 else interval,
        rules=rules,
    )
    keyring = Keyring(store.key_records, settings.key_refresh_seconds)
    runtime: Runtime
    ingestor = Ingestor(
        committer,
        load_plan(settings.plan_file or None),
        lambda ws: runtime.plan_mode(ws),
        lambda ws: runtime.suppressed(ws),
    )
    limiter = RateLimiter(settings.rate_limit, settings.rate_limit_burst)
    inflight = InFlight(settings.max_concurrent_requests)
    runtime = Runtime(settings, store, keyring, committer, ingestor, limiter, inflight)
    runtime.reload()
    return runtime
