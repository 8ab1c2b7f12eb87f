"""The Python SDK: `Client` queues calls and a daemon thread sends them to a Tracklog server.

Shaped after Segment's analytics-python. Standard library only (`import tracklog` must not
pull in the server's dependencies; tests/test_sdk.py proves it):

- `track`, `identify` and `group` never block and never raise on a network problem: they
  put a message on a bounded queue and return at once.
- One consumer thread takes messages off the queue and sends them in batches, cut at
  `upload_size` messages, at `MAX_BATCH_BYTES` of JSON, or after `upload_interval` seconds,
  whichever comes first; bodies are gzipped.
- A batch that fails on the network, with 429 or with a 5xx is sent again after an
  exponential backoff with full jitter (or after the server's `Retry-After`), up to
  `max_retries` times; any other 4xx is the caller's mistake, which a retry cannot fix.
- Every message gets a `message_id` (uuid4) when it is queued, so a batch sent twice — the
  server stored it but the answer was lost — is stored once: the server dedupes by it.
- When the queue is full the new message is dropped (counted in `stats.dropped`, logged,
  and `track` returns False) rather than blocking the application or growing without bound.
- `flush()` waits until everything queued so far is sent; `shutdown()` flushes and stops
  the thread, and runs by itself at interpreter exit.
"""

from __future__ import annotations

import atexit
import datetime as dt
import email.message
import email.utils
import gzip
import http.client
import json
import logging
import queue
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("tracklog.sdk")

# The server refuses bodies over 500 KiB (512,000 bytes, measured after decompression);
# stay under it with room for the brackets and commas.
MAX_BATCH_BYTES = 500_000
# The server rejects single events over 32 KiB; sending them would only fill its quarantine.
MAX_MESSAGE_BYTES = 32 * 1024
# The only calls the Track API has; each has its own endpoint.
ENDPOINTS = {"track": "/api/track", "identify": "/api/identify", "group": "/api/group"}

ErrorCallback = Callable[[Exception, list[dict[str, Any]]], None]


class APIError(Exception):
    """The server answered a batch with an error (or with rejected elements)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Stats:
    """What became of the messages given to a client so far."""

    queued: int = 0
    dropped: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    failed: int = 0
    retries: int = 0
    batches: int = 0


class Client:
    """A Tracklog client for one workspace's write key; see the module docstring."""

    def __init__(
        self,
        write_key: str,
        host: str = "http://127.0.0.1:8000",
        *,
        max_queue_size: int = 10_000,
        upload_size: int = 100,
        upload_interval: float = 0.5,
        max_retries: int = 10,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        timeout: float = 15.0,
        gzip_body: bool = True,
        on_error: ErrorCallback | None = None,
        send: bool = True,
    ) -> None:
        if not write_key:
            raise ValueError("write_key is required")
        self.write_key = write_key
        if not host.startswith(("http://", "https://")):
            raise ValueError(f"host must be an http:// or https:// URL, not {host!r}")
        self.host = host.rstrip("/")
        self.upload_size = max(1, upload_size)
        self.upload_interval = upload_interval
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.timeout = timeout
        self.gzip_body = gzip_body
        self.on_error = on_error
        self.send = send
        self.stats = Stats()
        self._queue: queue.Queue[tuple[str, dict[str, Any], bytes]] = queue.Queue(max_queue_size)
        # Messages taken off the queue but not yet answered for: flush() waits for both.
        self._unfinished = 0
        self._idle = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tracklog-sdk", daemon=True)
        self._thread.start()
        atexit.register(self.shutdown)

    # -- the calls ------------------------------------------------------------------------------
    def track(
        self,
        user_id: str | None,
        event: str,
        properties: Mapping[str, Any] | None = None,
        *,
        group_id: str | None = None,
        anonymous_id: str | None = None,
        context: Mapping[str, Any] | None = None,
        timestamp: dt.datetime | None = None,
        message_id: str | None = None,
    ) -> bool:
        """Queue a track event (e.g. "signed_in"); False when it was dropped."""
        msg: dict[str, Any] = {"event_name": event, "properties": dict(properties or {})}
        return self._enqueue(
            "track", msg, user_id, anonymous_id, group_id, context, timestamp, message_id
        )

    def identify(
        self,
        user_id: str | None,
        traits: Mapping[str, Any] | None = None,
        *,
        anonymous_id: str | None = None,
        context: Mapping[str, Any] | None = None,
        timestamp: dt.datetime | None = None,
        message_id: str | None = None,
    ) -> bool:
        """Queue who a user is (email, name, …); False when it was dropped."""
        msg: dict[str, Any] = {"traits": dict(traits or {})}
        return self._enqueue(
            "identify", msg, user_id, anonymous_id, None, context, timestamp, message_id
        )

    def group(
        self,
        group_id: str,
        user_id: str | None = None,
        traits: Mapping[str, Any] | None = None,
        *,
        context: Mapping[str, Any] | None = None,
        timestamp: dt.datetime | None = None,
        message_id: str | None = None,
    ) -> bool:
        """Queue an account (group) and, optionally, a user who belongs to it."""
        msg: dict[str, Any] = {"traits": dict(traits or {})}
        return self._enqueue("group", msg, user_id, None, group_id, context, timestamp, message_id)

    def _enqueue(
        self,
        kind: str,
        msg: dict[str, Any],
        user_id: str | None,
        anonymous_id: str | None,
        group_id: str | None,
        context: Mapping[str, Any] | None,
        timestamp: dt.datetime | None,
        message_id: str | None,
    ) -> bool:
        if user_id is not None:
            msg["user_id"] = user_id
        if anonymous_id is not None:
            msg["anonymous_id"] = anonymous_id
        if group_id is not None:
            msg["group_id"] = group_id
        if context:
            msg["context"] = dict(context)
        # The time of the call, not of the upload: a batch may wait or be retried.
        msg["timestamp"] = _iso(timestamp or dt.datetime.now(dt.UTC))
        # Made here, once, so every retry of this message carries the same id.
        msg["message_id"] = message_id or str(uuid.uuid4())
        try:
            encoded = json.dumps(msg, default=str, separators=(",", ":")).encode()
        except (TypeError, ValueError) as exc:
            self._drop(exc, msg, "cannot be encoded as JSON")
            return False
        if len(encoded) > MAX_MESSAGE_BYTES:
            size_error = ValueError(f"message is {len(encoded)} bytes; limit {MAX_MESSAGE_BYTES}")
            self._drop(size_error, msg, "is too large")
            return False
        if self._stop.is_set():
            self._drop(RuntimeError("client is shut down"), msg, "came after shutdown")
            return False
        try:
            self._queue.put_nowait((kind, msg, encoded))
        except queue.Full:
            self._drop(
                RuntimeError("queue full"), msg, "was dropped: the queue is full (server slow?)"
            )
            return False
        self.stats.queued += 1
        return True

    def _drop(self, exc: Exception, msg: dict[str, Any], why: str) -> None:
        self.stats.dropped += 1
        log.warning("tracklog: a %s message %s", msg.get("event_name", "message"), why)
        if self.on_error is not None:
            self.on_error(exc, [msg])

    # -- flushing -------------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every message queued so far is sent (or given up); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._queue.unfinished_tasks or self._unfinished:
                if not self._thread.is_alive():
                    return False
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._idle.wait(0.1 if left is None else min(left, 0.1))
        return True

    def shutdown(self, timeout: float | None = None) -> None:
        """Send what is queued, then stop the sending thread. Runs at interpreter exit."""
        self.flush(timeout)
        self._stop.set()
        self._thread.join(timeout=5)
        atexit.unregister(self.shutdown)

    # -- the consumer thread --------------------------------------------------------------------
    def _run(self) -> None:
        carry: tuple[str, dict[str, Any], bytes] | None = None
        while not (self._stop.is_set() and carry is None and self._queue.empty()):
            batch, carry = self._next_batch(carry)
            if not batch:
                continue
            try:
                self._send_batch(batch)
            except Exception:  # never let one bad batch kill the thread
                log.exception("tracklog: sending a batch failed")
            finally:
                with self._idle:
                    self._unfinished -= len(batch)
                    self._idle.notify_all()

    def _next_batch(
        self, carry: tuple[str, dict[str, Any], bytes] | None
    ) -> tuple[list[tuple[str, dict[str, Any], bytes]], tuple[str, dict[str, Any], bytes] | None]:
        """Up to `upload_size` messages and MAX_BATCH_BYTES, gathered for `upload_interval`."""
        batch: list[tuple[str, dict[str, Any], bytes]] = []
        size = 2
        if carry is not None:
            batch.append(carry)
            size += len(carry[2]) + 1
        started = time.monotonic()
        while len(batch) < self.upload_size:
            left = self.upload_interval - (time.monotonic() - started)
            if left <= 0:
                break
            try:
                item = self._queue.get(timeout=min(left, 0.1) if self._stop.is_set() else left)
            except queue.Empty:
                if self._stop.is_set():
                    break
                continue
            with self._idle:
                self._unfinished += 1
            self._queue.task_done()
            if size + len(item[2]) + 1 > MAX_BATCH_BYTES:
                # Sent with the next batch; it is counted unfinished until then.
                return batch, item
            batch.append(item)
            size += len(item[2]) + 1
        return batch, None

    def _send_batch(self, batch: list[tuple[str, dict[str, Any], bytes]]) -> None:
        by_kind: dict[str, list[tuple[dict[str, Any], bytes]]] = {}
        for kind, msg, encoded in batch:
            by_kind.setdefault(kind, []).append((msg, encoded))
        for kind, items in by_kind.items():
            self._send_with_retries(ENDPOINTS[kind], items)

    def _send_with_retries(self, path: str, items: list[tuple[dict[str, Any], bytes]]) -> None:
        messages = [m for m, _ in items]
        attempt = 0
        while True:
            try:
                self._post(path, items)
                return
            except _Retryable as exc:
                if attempt >= self.max_retries:
                    self.stats.failed += len(items)
                    log.error("tracklog: giving up on %d messages: %s", len(items), exc.cause)
                    if self.on_error is not None:
                        self.on_error(exc.cause, messages)
                    return
                delay = exc.retry_after
                if delay is None:
                    # Full jitter: clients that failed together do not retry together.
                    cap = min(self.backoff_max, self.backoff_base * 2**attempt)
                    delay = random.uniform(0, cap)
                attempt += 1
                self.stats.retries += 1
                log.info("tracklog: retry %d in %.2fs after %s", attempt, delay, exc.cause)
                time.sleep(min(delay, self.backoff_max))
            except APIError as exc:
                self.stats.failed += len(items)
                log.error("tracklog: the server refused %d messages: %s", len(items), exc)
                if self.on_error is not None:
                    self.on_error(exc, messages)
                return

    def _post(self, path: str, items: list[tuple[dict[str, Any], bytes]]) -> None:
        """One attempt: send, and account for the receipt; raise _Retryable or APIError."""
        if not self.send:
            self.stats.accepted += len(items)
            return
        # sent_at lets the server correct the timestamps of a client whose clock is off.
        sent_at = json.dumps(_iso(dt.datetime.now(dt.UTC))).encode()
        suffix = b',"sent_at":' + sent_at + b"}"
        body = b"[" + b",".join(e[:-1] + suffix for _, e in items) + b"]"
        headers = {
            "Authorization": f"Bearer {self.write_key}",
            "Content-Type": "application/json",
            "User-Agent": "tracklog-python",
        }
        if self.gzip_body:
            body = gzip.compress(body, compresslevel=6)
            headers["Content-Encoding"] = "gzip"
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
            self.host + path, body, headers, method="POST"
        )
        self.stats.batches += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                self._account(response.status, response.read(), [m for m, _ in items])
        except urllib.error.HTTPError as exc:
            with exc:
                status, payload = exc.code, exc.read()
            if status == 429 or status >= 500:
                raise _Retryable(
                    APIError(status, *_error_of(payload)), _retry_after(exc.headers)
                ) from None
            self._account(status, payload, [m for m, _ in items])
        except (OSError, http.client.HTTPException) as exc:
            # URLError, refused or reset connections, timeouts, a server gone mid-answer.
            raise _Retryable(exc, None) from None

    def _account(self, status: int, payload: bytes, messages: list[dict[str, Any]]) -> None:
        try:
            receipt = json.loads(payload)
        except ValueError:
            receipt = None
        if not isinstance(receipt, dict) or "results" not in receipt:
            raise APIError(status, *_error_of(payload))
        self.stats.accepted += int(receipt.get("accepted", 0))
        self.stats.duplicates += int(receipt.get("duplicates", 0))
        rejected = [r for r in receipt["results"] if r.get("status") == "rejected"]
        self.stats.rejected += len(rejected)
        for result in rejected:
            log.warning(
                "tracklog: event rejected (%s): %s", result.get("code"), result.get("message")
            )
            if self.on_error is not None:
                index = result.get("index", 0)
                bad = messages[index] if 0 <= index < len(messages) else {}
                self.on_error(
                    APIError(status, str(result.get("code")), str(result.get("message"))), [bad]
                )


class _Retryable(Exception):
    """A failure worth another try, with the server's requested delay if it gave one."""

    def __init__(self, cause: Exception, retry_after: float | None) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.retry_after = retry_after


def _error_of(payload: bytes) -> tuple[str, str]:
    try:
        error = json.loads(payload)["error"]
        return str(error.get("code", "http_error")), str(error.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return "http_error", payload[:200].decode("utf-8", "replace")


def _retry_after(headers: email.message.Message[str, str] | None) -> float | None:
    """Retry-After in seconds, given as a number or as an HTTP date."""
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:  # naive means UTC, as everywhere in Tracklog
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
