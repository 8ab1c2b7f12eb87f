"""The Python SDK against a real server: batching, dedupe across a restart, retries, limits."""

from __future__ import annotations

import gzip
import http.server
import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import ServerProcess, Tenant, free_port
from tracklog import APIError, Client

SERVER_MODULES = ("starlette", "uvicorn", "duckdb", "msgspec", "pyarrow", "clickhouse_driver")


def test_import_tracklog_loads_no_server_dependency() -> None:
    code = (
        "import sys, json, tracklog; tracklog.Client; "
        "print(json.dumps(sorted(m for m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(out.stdout)
    assert "tracklog.sdk" in loaded
    heavy = [m for m in loaded if m.split(".")[0] in SERVER_MODULES]
    assert heavy == [], f"`import tracklog` pulled in server dependencies: {heavy}"


def test_track_identify_group_arrive_with_client_made_ids(tenant: Tenant) -> None:
    client = Client(tenant.write_key, tenant.server.url, upload_interval=0.05)
    for i in range(250):
        assert client.track(f"u{i % 5}", "feature_used", {"i": i}, group_id="acme")
    client.identify("u1", {"email": "u1@example.com", "name": "U One"})
    client.group("acme", "u1", {"account_name": "Acme"})
    assert client.flush(timeout=30)
    client.shutdown()
    events = tenant.events()
    tracks = [e for e in events if e["type"] == "track"]
    assert sorted(e["properties"]["i"] for e in tracks) == list(range(250))
    assert all(e["group_id"] == "acme" and e["message_id"] for e in tracks)
    assert len({e["message_id"] for e in events}) == 252
    assert {e["type"] for e in events} == {"track", "identify", "group"}
    summary = tenant.get("/api/users/u1").json()
    assert summary["traits"]["email"] == "u1@example.com"
    assert client.stats.accepted == 252 and client.stats.failed == 0
    # 250 events at 100 per batch, plus one identify and one group batch at least.
    assert 5 <= client.stats.batches <= 10


def test_every_event_arrives_once_across_a_sigkill_restart(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    total = 1200
    script = tmp_path / "send.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import json, sys, time
            from tracklog import Client

            client = Client(sys.argv[1], sys.argv[2], upload_size=40, upload_interval=0.02,
                            backoff_base=0.05, backoff_max=0.5, max_retries=200, timeout=5)
            for i in range({total}):
                client.track(f"u{{i % 13}}", "feature_used", {{"i": i}})
                if i == {total // 3}:
                    print("third", flush=True)
                time.sleep(0.003)
            assert client.flush(timeout=120)
            client.shutdown()
            print(json.dumps(vars(client.stats)), flush=True)
            """
        )
    )
    sender = subprocess.Popen(
        [sys.executable, str(script), server.write_key, server.url],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sender.stdout is not None
        assert sender.stdout.readline().strip() == "third"
        server.stop(signal.SIGKILL)  # mid-stream: some batches are in flight, some queued
        time.sleep(1.0)
        write_key, read_key = server.write_key, server.read_key
        server.start()
        out, _ = sender.communicate(timeout=180)
        assert sender.returncode == 0
        stats = json.loads(out.strip().splitlines()[-1])
        tenant = Tenant(server, "default", write_key, read_key)
        seen = Counter(e["properties"]["i"] for e in tenant.events())
        assert sorted(seen) == list(range(total)), "events were lost"
        assert max(seen.values()) == 1, "events were stored twice"
        assert stats["retries"] > 0, "the restart was not noticed; the test proved nothing"
        assert stats["failed"] == 0 and stats["dropped"] == 0
        assert stats["accepted"] + stats["duplicates"] == total
    finally:
        if sender.poll() is None:
            sender.kill()
            sender.wait()
        server.stop()


def test_rejected_events_and_bad_keys_are_not_retried(tenant: Tenant) -> None:
    errors: list[tuple[Exception, list[dict[str, Any]]]] = []
    client = Client(
        tenant.write_key,
        tenant.server.url,
        upload_interval=0.01,
        on_error=lambda exc, msgs: errors.append((exc, msgs)),
    )
    client.track("u1", "signed_in", {"email": "a@b.c"})
    client.track(None, "signed_in")  # no user: the server rejects it
    assert client.flush(timeout=30)
    client.shutdown()
    assert (client.stats.accepted, client.stats.rejected, client.stats.retries) == (1, 1, 0)
    assert len(errors) == 1 and isinstance(errors[0][0], APIError)
    assert errors[0][0].code == "missing_field"
    assert "user_id" not in errors[0][1][0]

    wrong = Client("tlw_not-a-key", tenant.server.url, upload_interval=0.01)
    wrong.track("u1", "signed_in")
    assert wrong.flush(timeout=30)
    wrong.shutdown()
    assert (wrong.stats.failed, wrong.stats.retries) == (1, 0)


class _Scripted(http.server.BaseHTTPRequestHandler):
    """Answers POSTs from a script of (status, headers) and records when each came."""

    script: list[tuple[int, dict[str, str]]] = []
    seen: list[tuple[float, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((time.monotonic(), body))
        status, headers = self.script.pop(0) if self.script else (200, {})
        payload = (
            json.dumps({"results": [], "accepted": 1, "duplicates": 0, "rejected": 0})
            if status == 200
            else json.dumps({"error": {"code": "busy", "message": "later"}})
        ).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[tuple[str, type[_Scripted]]]:
    """A stand-in HTTP endpoint that answers 429 and 503 on cue (the real server rarely does)."""

    class Handler(_Scripted):
        script = []
        seen = []

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", Handler
    httpd.shutdown()
    httpd.server_close()


def test_429_and_503_are_retried_honouring_retry_after(
    scripted: tuple[str, type[_Scripted]],
) -> None:
    url, handler = scripted
    handler.script = [(429, {"Retry-After": "1"}), (503, {"Retry-After": "0"}), (200, {})]
    client = Client("tlw_x", url, upload_interval=0.01, backoff_base=5.0)
    client.track("u1", "signed_in")
    assert client.flush(timeout=30)
    client.shutdown()
    assert len(handler.seen) == 3 and client.stats.retries == 2
    # Retry-After: 1 was waited out; Retry-After: 0 overrode the (5 s) backoff.
    assert handler.seen[1][0] - handler.seen[0][0] >= 0.95
    assert handler.seen[2][0] - handler.seen[1][0] < 1.0
    # Every try carried the same message_id, so the server could dedupe them.
    ids = {json.loads(gzip.decompress(body))[0]["message_id"] for _, body in handler.seen}
    assert len(ids) == 1


def test_a_full_queue_drops_new_messages_without_blocking() -> None:
    # Nothing listens on this port: the one batch in hand is retried while the queue fills.
    client = Client(
        "tlw_x",
        f"http://127.0.0.1:{free_port()}",
        max_queue_size=3,
        upload_size=1,
        upload_interval=0.01,
        max_retries=3,
        backoff_base=0.2,
    )
    started = time.monotonic()
    results = [client.track("u1", "signed_in", {"i": i}) for i in range(20)]
    assert time.monotonic() - started < 1.0, "track() blocked"
    assert results.count(False) == client.stats.dropped >= 16
    client.shutdown(timeout=30)
    assert client.stats.failed == 20 - client.stats.dropped


def test_oversized_messages_and_bad_hosts_are_refused_up_front() -> None:
    with pytest.raises(ValueError):
        Client("tlw_x", "file:///etc/passwd")
    client = Client("tlw_x", "http://127.0.0.1:9", send=False)
    assert not client.track("u1", "big", {"blob": "x" * 40_000})
    assert client.track("u1", "small")
    client.shutdown()
    assert (client.stats.dropped, client.stats.accepted) == (1, 1)
