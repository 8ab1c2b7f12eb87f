"""Overload torture: offered load far above capacity, and bodies that arrive slowly.

The flood: a server whose capacity is made small on purpose (one group commit a second, at
most 500 events queued, 16 requests in progress) gets batches from 48 concurrent clients
that ignore Retry-After. It must answer 503 with Retry-After at once rather than queue, keep
its queue and its requests in progress within their limits and its memory (RSS, from /proc)
bounded, count every refusal in /metrics, and store every acknowledged event exactly once
and nothing else. `TRACKLOG_TORTURE=long` floods for 60 s instead of 4.

Slow bodies (slowloris): clients that trickle a body get 408 after --body-timeout, while
everyone else is served as usual meanwhile.
"""

from __future__ import annotations

import os
import socket
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support import ServerProcess, Tenant
from tests.test_operations import scrape

LONG = os.environ.get("TRACKLOG_TORTURE") == "long"
FLOOD_SECONDS = 60.0 if LONG else 4.0
FLOODERS = 48
BATCH = 100
QUEUE_LIMIT = 500
IN_PROGRESS_LIMIT = 16
# Memory the flood may add to the server's resident set: far below what unbounded queueing of
# the offered load (hundreds of MB in a few seconds) would take.
RSS_GROWTH_LIMIT = 100 * 2**20


def rss(pid: int) -> int:
    """The resident set size of a process in bytes, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@dataclass
class Flood:
    """What the flooding clients saw, and what the samplers read from the server."""

    acked: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    refusals: list[tuple[float, str | None, str]] = field(default_factory=list)
    accepted_seconds: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    queue_depth: list[float] = field(default_factory=list)
    in_progress: list[float] = field(default_factory=list)
    sent: int = 0


def flood(server: ServerProcess, key: str, result: Flood) -> None:
    """FLOODERS client threads post batches back to back for FLOOD_SECONDS, and a sampler.

    Threads with blocking clients, not asyncio: httpx's async client managed a quarter of
    the requests per second here, too few to flood anything.
    """
    deadline = time.monotonic() + FLOOD_SECONDS
    lock = threading.Lock()
    errors: list[BaseException] = []

    def flooder(number: int) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
            n = 0
            while time.monotonic() < deadline:
                ids = [f"f{number}-{n}-{i}" for i in range(BATCH)]
                n += 1
                body = [{"event_name": "signed_in", "user_id": "u", "message_id": m} for m in ids]
                started = time.monotonic()
                r = http.post("/api/track", json=body)
                took = time.monotonic() - started
                with lock:
                    result.sent += BATCH
                    result.statuses[r.status_code] += 1
                    if r.status_code == 200:
                        assert r.json()["accepted"] == BATCH
                        result.acked.extend(ids)
                        result.accepted_seconds.append(took)
                    else:
                        code = r.json()["error"]["code"] if r.status_code == 503 else r.text
                        result.refusals.append((took, r.headers.get("retry-after"), code))

    def sampler() -> None:
        assert server.proc is not None
        with httpx.Client(base_url=server.url, timeout=60) as http:
            while time.monotonic() < deadline:
                result.rss.append(rss(server.proc.pid))
                for line in http.get("/metrics").text.splitlines():
                    if line.startswith("tracklog_queue_depth "):
                        result.queue_depth.append(float(line.split()[1]))
                    if line.startswith("tracklog_requests_in_progress "):
                        result.in_progress.append(float(line.split()[1]))
                time.sleep(0.1)

    def guarded(target: Any, *args: Any) -> None:
        try:
            target(*args)
        except BaseException as exc:  # reported by the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(sampler,))] + [
        threading.Thread(target=guarded, args=(flooder, i)) for i in range(FLOODERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def test_flood_is_refused_with_retry_after_in_bounded_memory_losing_nothing(
    tmp_path: Path,
) -> None:
    server = ServerProcess(
        tmp_path / "data",
        extra_args=[
            "--commit-interval",
            "1",
            "--max-queued-events",
            str(QUEUE_LIMIT),
            "--max-concurrent-requests",
            str(IN_PROGRESS_LIMIT),
        ],
    ).start()
    try:
        assert server.proc is not None
        tenant = Tenant(server, "default", server.write_key, server.read_key)
        # Warm up (first commit, imports), so the baseline is the server at work, not at rest.
        assert tenant.post("/api/track", [{"event_name": "signed_in", "user_id": "w"}]).is_success
        baseline = rss(server.proc.pid)
        result = Flood()
        flood(server, server.write_key, result)
        metrics = scrape(server)
        stored = Counter(e["message_id"] for e in tenant.events(user_id="u"))
    finally:
        server.stop()
    refused = result.refusals
    capacity = FLOOD_SECONDS * QUEUE_LIMIT  # one commit of at most the queue a second
    print(
        f"offered {result.sent} events in {FLOOD_SECONDS:g} s "
        f"({result.sent / capacity:.0f}x the capacity); statuses {dict(result.statuses)}; "
        f"503 median {statistics.median(t for t, _, _ in refused) * 1000:.0f} ms; "
        f"200 median {statistics.median(result.accepted_seconds) * 1000:.0f} ms; "
        f"RSS {baseline / 2**20:.0f} MB → peak {max(result.rss) / 2**20:.0f} MB; "
        f"max queue {max(result.queue_depth):.0f}, max in progress {max(result.in_progress):.0f}"
    )
    assert set(result.statuses) == {200, 503}, result.statuses
    assert result.sent > 5 * capacity, "the flood did not exceed the capacity by far"
    # Refusals are immediate and say when to come back.
    assert all(after == "1" and code == "overloaded" for _, after, code in refused), refused[:3]
    assert statistics.median(t for t, _, _ in refused) < 0.5
    # Nothing queued past the limits, and the memory stayed bounded.
    assert max(result.queue_depth) <= QUEUE_LIMIT
    assert max(result.in_progress) <= IN_PROGRESS_LIMIT
    assert max(result.rss) - baseline < RSS_GROWTH_LIMIT
    # Every refusal is counted: by the full queue, or by the requests in progress.
    queue = metrics["tracklog_overloaded_requests_total{reason=queue}"]
    concurrency = metrics["tracklog_overloaded_requests_total{reason=concurrency}"]
    assert queue + concurrency == len(refused)
    # Every acknowledged event is stored once, and nothing refused was stored.
    assert stored == Counter(result.acked)


def _slow_post(server: ServerProcess, key: str, outcome: dict[str, Any]) -> None:
    """POST a body one byte at a time, 5 a second, until the server answers."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            (
                "POST /api/track HTTP/1.1\r\nHost: localhost\r\n"
                f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
                "Content-Length: 100000\r\n\r\n["
            ).encode()
        )
        started = time.monotonic()
        sock.settimeout(0.2)
        answer = b""
        while time.monotonic() - started < 10:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                try:
                    sock.sendall(b" ")
                except OSError:
                    break
                continue
            if not chunk:
                break
            answer += chunk
            if b"\r\n\r\n" in answer and answer.rstrip().endswith(b"}"):
                break
        outcome["seconds"] = time.monotonic() - started
        outcome["answer"] = answer.decode(errors="replace")


def test_slow_bodies_get_408_while_others_are_served(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", extra_args=["--body-timeout", "1.5"]).start()
    try:
        tenant = Tenant(server, "default", server.write_key, server.read_key)
        outcomes: list[dict[str, Any]] = [{} for _ in range(8)]
        slow = [
            threading.Thread(target=_slow_post, args=(server, server.write_key, o))
            for o in outcomes
        ]
        for thread in slow:
            thread.start()
        time.sleep(0.3)
        # Meanwhile everyone else is served as usual.
        served = []
        for i in range(10):
            started = time.monotonic()
            r = tenant.post("/api/track", [{"event_name": "signed_in", "user_id": f"q{i}"}])
            served.append(time.monotonic() - started)
            assert r.status_code == 200, r.text
        assert max(served) < 1.0, served
        for thread in slow:
            thread.join(timeout=15)
        for outcome in outcomes:
            assert outcome["answer"].startswith("HTTP/1.1 408"), outcome
            assert '"code":"body_timeout"' in outcome["answer"]
            assert 1.4 < outcome["seconds"] < 5, outcome
        assert len(tenant.events()) == 10
    finally:
        server.stop()


def _in_progress(server: ServerProcess) -> float:
    return scrape(server)["tracklog_requests_in_progress{}"]


def test_requests_past_the_in_progress_limit_get_503_at_once(tmp_path: Path) -> None:
    """Four slow bodies fill a limit of four: the fifth request is refused, not queued."""
    server = ServerProcess(
        tmp_path / "data",
        extra_args=["--max-concurrent-requests", "4", "--body-timeout", "1.5"],
    ).start()
    try:
        tenant = Tenant(server, "default", server.write_key, server.read_key)
        outcomes: list[dict[str, Any]] = [{} for _ in range(4)]
        slow = [
            threading.Thread(target=_slow_post, args=(server, server.write_key, o))
            for o in outcomes
        ]
        for thread in slow:
            thread.start()
        deadline = time.monotonic() + 5
        while _in_progress(server) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _in_progress(server) == 4
        started = time.monotonic()
        r = tenant.post("/api/track", [{"event_name": "signed_in", "user_id": "late"}])
        assert time.monotonic() - started < 1.0
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        assert r.json()["error"]["code"] == "overloaded"
        # An operator can still see the server: health, metrics and live streams are not
        # counted.
        assert httpx.get(server.url + "/healthz").status_code == 200
        live = {"Authorization": f"Bearer {server.read_key}"}
        with httpx.stream("GET", server.url + "/api/live", headers=live, timeout=5) as stream:
            assert stream.status_code == 200
        for thread in slow:
            thread.join(timeout=15)
        assert all(o["answer"].startswith("HTTP/1.1 408") for o in outcomes), outcomes
        # The slow ones gone, the retry is served.
        r = tenant.post("/api/track", [{"event_name": "signed_in", "user_id": "late"}])
        assert r.status_code == 200, r.text
        assert scrape(server)["tracklog_overloaded_requests_total{reason=concurrency}"] == 1
    finally:
        server.stop()


def test_connections_past_max_connections_get_uvicorns_503(tmp_path: Path) -> None:
    """--max-connections is uvicorn's limit_concurrency: idle connections count too."""
    server = ServerProcess(tmp_path / "data", extra_args=["--max-connections", "4"]).start()
    idle = []
    try:
        for _ in range(4):
            idle.append(socket.create_connection(("127.0.0.1", server.port)))
        time.sleep(0.2)
        r = httpx.get(server.url + "/healthz")
        assert r.status_code == 503 and r.text == "Service Unavailable"
        for sock in idle:
            sock.close()
        idle.clear()
        time.sleep(0.2)
        assert httpx.get(server.url + "/healthz").status_code == 200
    finally:
        for sock in idle:
            sock.close()
        server.stop()


def _trickle_headers(server: ServerProcess, outcome: dict[str, Any]) -> None:
    """Send a request line, then a header one byte at a time, 5 a second."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /api/track HTTP/1.1\r\nHost: localhost\r\n")
        started = time.monotonic()
        sock.settimeout(0.2)
        answer = b""
        header = iter(b"X-Slow: " + b"a" * 1000)
        while time.monotonic() - started < 10:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                try:
                    sock.sendall(bytes([next(header)]))
                except OSError:
                    break
                continue
            if not chunk:
                break
            answer += chunk
        outcome["seconds"] = time.monotonic() - started
        outcome["answer"] = answer.decode(errors="replace")


def test_slow_headers_get_408_and_silent_connections_are_closed(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", extra_args=["--header-timeout", "1.5"]).start()
    try:
        tenant = Tenant(server, "default", server.write_key, server.read_key)
        trickled: dict[str, Any] = {}
        thread = threading.Thread(target=_trickle_headers, args=(server, trickled))
        thread.start()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as silent:
            # Others are served meanwhile, on a kept-alive connection that idles in between
            # for well under the header timeout.
            with httpx.Client(base_url=server.url) as http:
                for i in range(3):
                    r = http.post(
                        "/api/track",
                        json=[{"event_name": "signed_in", "user_id": f"h{i}"}],
                        headers={"Authorization": f"Bearer {server.write_key}"},
                    )
                    assert r.status_code == 200, r.text
                    time.sleep(0.3)
            started = time.monotonic()
            assert silent.recv(100) == b"", "a silent connection is closed without an answer"
            assert time.monotonic() - started < 2.5
        thread.join(timeout=15)
        assert trickled["answer"].startswith("HTTP/1.1 408"), trickled
        assert '"code":"header_timeout"' in trickled["answer"]
        assert 1.4 < trickled["seconds"] < 4, trickled
        assert len(tenant.events()) == 3
    finally:
        server.stop()
