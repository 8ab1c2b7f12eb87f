"""GET /metrics: the write path's counters in Prometheus text format.

Built on prometheus_client (its text encoder, histogram and registry) rather than formatted
by hand: escaping, `_created` samples and histogram `le` buckets are easy to get subtly
wrong, and its parser is what the tests read the page with. Each app has its own registry,
so two apps in one process (tests, benchmarks) never share counters.

Counters that the committer already keeps (accepted, duplicates, commits, store errors) are
read from `Committer.stats` at scrape time; rejections by code come from the committer's
listeners, commit latency from its commit observers.

Who may read it: the `--metrics-access` setting. `loopback` (the default) serves it without a
key to clients on 127.0.0.1/::1 — where a Prometheus agent or sidecar usually scrapes — and
asks everyone else for an admin key; `admin` always asks for an admin key; `open` never asks.
The page holds counts only: no keys, user ids or event contents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Annotated

from msgspec import Meta
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tracklog.events import Event, Rejected
from tracklog.http.auth import authorize
from tracklog.http.concurrency import InFlight
from tracklog.http.openapi import Answer, Operation, errors
from tracklog.http.rate_limit import RateLimiter
from tracklog.ingest.committer import Committer
from tracklog.keys import Keyring
from tracklog.store.base import StoreFull

ACCESS_MODES = ("loopback", "admin", "open")
# Commit latency buckets in seconds: a group commit is milliseconds on a local disk and
# seconds when the store struggles; past 5 s clients start timing out.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


class _CommitterStats(Collector):
    """Reads the committer's own counters when scraped."""

    def __init__(self, committer: Committer) -> None:
        self.committer = committer

    def collect(self) -> Iterator[Metric]:
        stats = self.committer.stats
        yield CounterMetricFamily(
            "tracklog_events_accepted",
            "Events newly stored.",
            value=stats.events_written,
        )
        yield CounterMetricFamily(
            "tracklog_events_duplicate",
            "Events received again (same id) and not stored twice.",
            value=stats.duplicates,
        )
        yield CounterMetricFamily(
            "tracklog_commits", "Group commits written to the store.", value=stats.commits
        )
        yield CounterMetricFamily(
            "tracklog_store_errors",
            "Group commits the store failed (their requests were answered 503).",
            value=stats.failures,
        )
        yield GaugeMetricFamily(
            "tracklog_queue_depth",
            "Events waiting for the next group commit.",
            value=self.committer.queued,
        )
        yield GaugeMetricFamily(
            "tracklog_queue_limit",
            "Events that may wait before requests are answered 503.",
            value=self.committer.max_queued,
        )
        failure = self.committer.failure
        yield GaugeMetricFamily(
            "tracklog_store_write_failing",
            "1 while the store refuses writes (the last commit failed and no write since "
            "worked): ingest answers 503.",
            value=0 if failure is None else 1,
        )
        yield GaugeMetricFamily(
            "tracklog_store_disk_full",
            "1 while the store refuses writes because its disk is full.",
            value=1 if isinstance(failure, StoreFull) else 0,
        )


class _KeyReloads(Collector):
    """Reloads of the keys caused by an unknown key (a key made on another node, or a bad one)."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "tracklog_key_reloads_for_unknown_keys",
            "Times an unknown key made the server read the keys again before answering 401 "
            "(at most once a second).",
            value=self.keyring.miss_reloads,
        )


class _SuppressedCount(Collector):
    """Events of suppressed users: refused and not kept anywhere, so only counted here."""

    def __init__(self, count: Callable[[], int]) -> None:
        self.count = count

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "tracklog_events_suppressed",
            "Events refused because their user is on a suppression list (not quarantined).",
            value=self.count(),
        )


class _AdmissionStats(Collector):
    """Requests refused before any work: over a key's rate limit, or the server overloaded."""

    def __init__(self, committer: Committer, limiter: RateLimiter, inflight: InFlight) -> None:
        self.committer = committer
        self.limiter = limiter
        self.inflight = inflight

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "tracklog_rate_limited_requests",
            "Requests answered 429 because their key was over --rate-limit.",
            value=self.limiter.refused_requests,
        )
        overloaded = CounterMetricFamily(
            "tracklog_overloaded_requests",
            "Requests answered 503 overloaded: the commit queue was full (queue) or too many "
            "requests were in progress (concurrency).",
            labels=["reason"],
        )
        overloaded.add_metric(["queue"], self.committer.stats.overloaded)
        overloaded.add_metric(["concurrency"], self.inflight.refused)
        yield overloaded
        yield GaugeMetricFamily(
            "tracklog_requests_in_progress",
            "Requests being served now (health checks, /metrics and live streams aside).",
            value=self.inflight.current,
        )
        yield GaugeMetricFamily(
            "tracklog_requests_in_progress_limit",
            "--max-concurrent-requests: past it requests get 503 (0: no limit).",
            value=self.inflight.limit,
        )


class Metrics:
    """One app's registry, fed by its committer's hooks and the admission limits."""

    def __init__(
        self,
        committer: Committer,
        suppressed: Callable[[], int] | None = None,
        limiter: RateLimiter | None = None,
        inflight: InFlight | None = None,
        keyring: Keyring | None = None,
    ) -> None:
        self.committer = committer
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_CommitterStats(committer))
        if keyring is not None:
            self.registry.register(_KeyReloads(keyring))
        if suppressed is not None:
            self.registry.register(_SuppressedCount(suppressed))
        self.registry.register(
            _AdmissionStats(committer, limiter or RateLimiter(0), inflight or InFlight(0))
        )
        self.rejected = Counter(
            "tracklog_events_rejected",
            "Events rejected and quarantined, by the code of their first problem.",
            ["code"],
            registry=self.registry,
        )
        self.commit_seconds = Histogram(
            "tracklog_commit_seconds",
            "Time to write one group commit to the store.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        committer.listeners.append(self._committed)
        committer.commit_observers.append(self._observe)

    def _observe(self, seconds: float, size: int) -> None:
        self.commit_seconds.observe(seconds)

    def _committed(self, events: Sequence[Event], rejected: Sequence[Rejected]) -> None:
        for record in rejected:
            code = record.reasons[0].code if record.reasons else "unknown"
            self.rejected.labels(code=code).inc()

    def render(self) -> bytes:
        """The Prometheus text page."""
        return generate_latest(self.registry)


async def metrics(request: Request) -> Response:
    """GET /metrics: Prometheus text format; who may read it is `--metrics-access`."""
    access = request.app.state.runtime.settings.metrics_access
    client = request.client.host if request.client else ""
    if access == "admin" or (access == "loopback" and client not in _LOOPBACK):
        await authorize(request, "admin")
    page: Metrics = request.app.state.metrics
    # While writes fail, this probes the store again (at most every few seconds).
    await run_in_threadpool(page.committer.failing)
    return Response(page.render(), media_type=CONTENT_TYPE_LATEST)


# The page as Prometheus' text format: `# HELP`, `# TYPE` and sample lines.
Page = Annotated[
    str, Meta(description="Prometheus text exposition format", examples=["tracklog_commits 3.0"])
]
operations = (
    Operation(
        "GET",
        "/metrics",
        metrics,
        "Prometheus metrics (text format); see --metrics-access.",
        {
            200: Answer("the counters, gauges and histograms", Page, CONTENT_TYPE_LATEST),
            # Only when --metrics-access asks this client for an admin key.
            **errors(401, 403),
        },
        security=(),
    ),
)
routes = [op.route() for op in operations]
