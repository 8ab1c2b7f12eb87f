"""Group commit: the single writer that turns many concurrent requests into one store write.

Requests hand their events to `submit` and wait. One thread takes everything that is waiting,
writes it to the store in one durable transaction, and then answers every request at once, so
the number of commits follows the store's speed, not the number of requests. While one write
is in progress the next group gathers. The queue is bounded: past it, `submit` refuses at once
(the caller answers 503 with Retry-After) rather than queueing without bound.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tracklog.events import Event, Rejected
from tracklog.ingest import profiles
from tracklog.store.base import Store, StoreUnavailable
from tracklog.store.maintenance import check_writable

log = logging.getLogger("tracklog.committer")

Listener = Callable[[Sequence[Event], Sequence[Rejected]], None]
# Called on the writer thread after each successful commit with its duration and size.
CommitObserver = Callable[[float, int], None]
# While writes fail, least seconds between two write probes (see `Committer.failing`).
PROBE_SECONDS = 5.0
# Seconds without a group after which the store is told it is idle (`Store.settle`).
IDLE_SECONDS = 0.25


class Overloaded(Exception):
    """The commit queue is full; try again shortly."""


@dataclass
class _Submission:
    events: Sequence[Event]
    rejected: Sequence[Rejected]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[set[bytes]]
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = len(self.events) + len(self.rejected)


@dataclass
class CommitStats:
    """Counters for /metrics and the benchmark."""

    commits: int = 0
    events_written: int = 0
    duplicates: int = 0
    rejected_written: int = 0
    failures: int = 0
    overloaded: int = 0
    last_commit_seconds: float = 0.0
    commit_seconds: list[float] = field(default_factory=list)


class Committer:
    """Owns the store's write path; see the module docstring."""

    def __init__(
        self,
        store: Store,
        max_group_events: int = 50_000,
        max_queued_events: int = 200_000,
        min_interval: float = 0.0,
        rules: profiles.ProfileRules | None = None,
    ) -> None:
        self.store = store
        self.rules = rules or profiles.ProfileRules()
        self.max_group = max_group_events
        self.max_queued = max_queued_events
        self.min_interval = min_interval
        self._last_commit = float("-inf")
        self.listeners: list[Listener] = []
        self.commit_observers: list[CommitObserver] = []
        self.stats = CommitStats()
        # Why the last commit failed, until a commit or a write probe succeeds.
        self.failure: StoreUnavailable | None = None
        self._probed_at = float("-inf")
        self._pending: deque[_Submission] = deque()
        self._queued = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="tracklog-committer", daemon=True)

    @property
    def queued(self) -> int:
        """Events waiting for the next commit."""
        return self._queued

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def stop(self) -> None:
        """Write what is queued, let the store finish it, then stop the writer thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout=30)
        if not self._thread.is_alive():
            # Here, not at the store's close: the server's process may end as soon as it
            # has stopped serving (uvicorn raises the signal it caught again).
            self._settle(idle=True)

    async def submit(self, events: Sequence[Event], rejected: Sequence[Rejected]) -> set[bytes]:
        """Wait until `events` and `rejected` are durably stored; return the duplicate ids."""
        loop = asyncio.get_running_loop()
        sub = _Submission(events, rejected, loop, loop.create_future())
        with self._cond:
            if self._stopping:
                raise StoreUnavailable("The server is shutting down.")
            if self._queued + sub.size > self.max_queued and self._queued > 0:
                self.stats.overloaded += 1
                raise Overloaded(f"{self._queued} events are waiting to be written.")
            self._pending.append(sub)
            self._queued += sub.size
            self._cond.notify()
        return await sub.future

    def failing(self) -> StoreUnavailable | None:
        """Why writes fail now (StoreFull: the disk is full), or None when they work.

        The last commit tells. While it failed, a probe (one harmless row) asks the store
        again at most every PROBE_SECONDS, so the answer clears once space is freed even if
        clients stopped sending. Blocks on the store: call it from a worker thread.
        """
        if self.failure is None or time.monotonic() - self._probed_at < PROBE_SECONDS:
            return self.failure
        self._probed_at = time.monotonic()
        try:
            check_writable(self.store)
        except StoreUnavailable as exc:
            self.failure = exc
        except Exception as exc:  # the store's fault, as in _commit
            self.failure = StoreUnavailable(str(exc))
        else:
            self.failure = None
        return self.failure

    def _take(self) -> list[_Submission] | None:
        """The next group; [] after IDLE_SECONDS without one; None once stopping."""
        with self._cond:
            while not self._pending and not self._stopping:
                if not self._cond.wait(IDLE_SECONDS):
                    return []
            if not self._pending:
                return None
            # Some stores (ClickHouse) want few, large writes: a busy server holds the group
            # until `min_interval` has passed since the last commit or the group is full.
            while not self._stopping and self._queued < self.max_group:
                left = self._last_commit + self.min_interval - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            group: list[_Submission] = []
            size = 0
            while self._pending and (not group or size + self._pending[0].size <= self.max_group):
                sub = self._pending.popleft()
                group.append(sub)
                size += sub.size
            self._queued -= size
            return group

    def _run(self) -> None:
        while (group := self._take()) is not None:
            if group:
                self._commit(group)
            self._settle(idle=not group)

    def _settle(self, idle: bool) -> None:
        """Let the store finish what it left for later (after the group's answers went out)."""
        try:
            self.store.settle(idle)
        except Exception as exc:  # the store's fault; the writes it finishes are durable
            self.stats.failures += 1
            log.warning("finishing stored writes failed: %s", exc)
            self.failure = exc if isinstance(exc, StoreUnavailable) else StoreUnavailable(str(exc))

    def _commit(self, group: list[_Submission]) -> None:
        # An id may appear in several requests of one group (a retry racing its original):
        # the first occurrence is written, the later ones are duplicates of it.
        # (Repeats inside one request are the receipt's business, not counted here.)
        owner: dict[bytes, int] = {}
        unique: list[Event] = []
        repeated: list[set[bytes]] = []
        rejected: list[Rejected] = []
        for number, sub in enumerate(group):
            mine: set[bytes] = set()
            for event in sub.events:
                if event.id not in owner:
                    owner[event.id] = number
                    unique.append(event)
                elif owner[event.id] != number:
                    mine.add(event.id)
            repeated.append(mine)
            rejected.extend(sub.rejected)
        started = time.perf_counter()
        self._last_commit = time.monotonic()
        try:
            facts = profiles.facts(unique, self.rules)
            stored_before = self.store.write(unique, rejected, facts)
        except Exception as exc:  # the store's fault, not the client's: every waiter gets 503
            self.stats.failures += 1
            log.warning("commit of %d events failed: %s", len(unique), exc)
            error = exc if isinstance(exc, StoreUnavailable) else StoreUnavailable(str(exc))
            self.failure = error
            for sub in group:
                sub.loop.call_soon_threadsafe(_fail, sub.future, error)
            return
        elapsed = time.perf_counter() - started
        self.failure = None
        self.stats.commits += 1
        self.stats.events_written += len(unique) - len(stored_before)
        self.stats.duplicates += len(stored_before) + sum(len(r) for r in repeated)
        self.stats.rejected_written += len(rejected)
        self.stats.last_commit_seconds = elapsed
        self.stats.commit_seconds.append(elapsed)
        if len(self.stats.commit_seconds) > 1000:
            del self.stats.commit_seconds[:500]
        for observe in self.commit_observers:
            observe(elapsed, len(unique) + len(rejected))
        fresh = [e for e in unique if e.id not in stored_before] if stored_before else unique
        for sub, mine in zip(group, repeated, strict=True):
            ids = {e.id for e in sub.events}
            dups = mine | (stored_before & ids) if stored_before else mine
            sub.loop.call_soon_threadsafe(_resolve, sub.future, dups)
        if self.listeners and (fresh or rejected):
            loop = group[0].loop
            for listener in self.listeners:
                loop.call_soon_threadsafe(listener, fresh, rejected)


def _resolve(future: asyncio.Future[set[bytes]], value: set[bytes]) -> None:
    if not future.done():
        future.set_result(value)


def _fail(future: asyncio.Future[set[bytes]], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
