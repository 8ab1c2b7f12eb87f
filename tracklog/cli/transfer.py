"""HTTP plumbing shared by `tracklog import` and `tracklog export`: one request, with retries.

Both go through a server's HTTP API rather than opening the store: that works while a server
owns the DuckDB file, works the same against ClickHouse, and an import gets exactly the
validation, plan checks, dedupe and quarantine of live traffic.
"""

from __future__ import annotations

import gzip
import http.client
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from tracklog.sdk import _error_of, _retry_after


class TransferError(Exception):
    """The server refused a request in a way a retry cannot fix, or never came back."""


def request(
    base: str,
    key: str,
    path: str,
    body: bytes | None = None,
    params: dict[str, str] | None = None,
    retries: int = 8,
    timeout: float = 60.0,
) -> tuple[int, Any]:
    """GET (or POST `body`, gzipped) and return the status and decoded JSON answer.

    Network errors, 429 and 5xx are retried with jittered backoff (or after Retry-After);
    a 400 with a receipt is returned (some elements were rejected); other 4xx raise.
    """
    if not base.startswith(("http://", "https://")):
        raise TransferError(f"--url must be an http:// or https:// URL, not {base!r}")
    url = base.rstrip("/") + path + ("?" + urllib.parse.urlencode(params) if params else "")
    headers = {"Authorization": f"Bearer {key}", "User-Agent": "tracklog-cli"}
    data = None
    if body is not None:
        data = gzip.compress(body, compresslevel=5)
        headers.update({"Content-Type": "application/json", "Content-Encoding": "gzip"})
    attempt = 0
    while True:
        req = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            url, data, headers, method="POST" if body is not None else "GET"
        )
        delay: float | None = None
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                status, payload = exc.code, exc.read()
            if status != 429 and status < 500:
                answer = _json_or_none(payload)
                if isinstance(answer, dict) and "results" in answer:
                    return status, answer
                code, message = _error_of(payload)
                raise TransferError(f"{status} {code}: {message}") from None
            failure = f"{status} {_error_of(payload)[0]}"
            delay = _retry_after(exc.headers)
        except (OSError, http.client.HTTPException) as exc:
            failure = str(exc)
        if attempt >= retries:
            raise TransferError(f"gave up after {attempt + 1} tries: {failure}")
        if delay is None:
            delay = random.uniform(0, min(30.0, 0.5 * 2**attempt))
        attempt += 1
        time.sleep(delay)


def _json_or_none(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return None
