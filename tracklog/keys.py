"""API keys: made at random, shown once, kept only as hashes, looked up in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable

from tracklog.events import utcnow
from tracklog.store.base import KeyRecord

SCOPES: tuple[str, ...] = ("write", "read", "admin")
_PREFIX = {"write": "tlw_", "read": "tlr_", "admin": "tla_"}


def hash_key(key: str) -> str:
    """The stored form of a key. Keys carry 192 random bits, so a plain SHA-256 suffices."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key(workspace: str, scope: str, label: str = "") -> tuple[str, KeyRecord]:
    """A fresh key (returned once, never stored) and the record that is stored for it."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    key = _PREFIX[scope] + secrets.token_urlsafe(24)
    record = KeyRecord(
        key_id="key_" + secrets.token_hex(6),
        workspace=workspace,
        scope=scope,
        key_hash=hash_key(key),
        created_at=utcnow(),
        label=label,
    )
    return key, record


class Keyring:
    """The live keys by hash, reloaded from the store every `refresh_seconds`.

    Several stateless nodes share keys through the store; the refresh makes a key revoked on
    one node stop working on the others within that many seconds.
    """

    def __init__(self, load: Callable[[], list[KeyRecord]], refresh_seconds: float = 5.0) -> None:
        self._load = load
        self._refresh = refresh_seconds
        self._by_hash: dict[str, KeyRecord] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def reload(self) -> None:
        """Read every key record from the store now."""
        records = self._load()
        with self._lock:
            self._by_hash = {r.key_hash: r for r in records if r.revoked_at is None}
            self._loaded_at = time.monotonic()

    def stale(self) -> bool:
        """Whether the cache is older than the refresh interval."""
        return time.monotonic() - self._loaded_at > self._refresh

    def find(self, key: str) -> KeyRecord | None:
        """The live record for a presented key, or None."""
        digest = hash_key(key)
        record = self._by_hash.get(digest)
        if record is None or not hmac.compare_digest(record.key_hash, digest):
            return None
        return record
