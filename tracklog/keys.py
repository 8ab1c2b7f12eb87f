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


def new_key(
    workspace: str, scope: str, label: str = "", test: bool = False
) -> tuple[str, KeyRecord]:
    """A fresh key (returned once, never stored) and the record that is stored for it.

    A `test` key marks every event sent with it as a test event.
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    if test and scope != "write":
        raise ValueError("only a write key can be a test key (--test marks the events it sends)")
    key = _PREFIX[scope] + secrets.token_urlsafe(24)
    record = KeyRecord(
        key_id="key_" + secrets.token_hex(6),
        workspace=workspace,
        scope=scope,
        key_hash=hash_key(key),
        created_at=utcnow(),
        label=label,
        test=test,
    )
    return key, record


class Keyring:
    """The live keys by hash, reloaded from the store every `refresh_seconds`.

    Several stateless nodes share keys through the store; the refresh makes a key revoked on
    one node stop working on the others within that many seconds. A key made elsewhere (by
    another node, or the CLI on a shared store) works at once: an unknown key reloads the
    keys before it is refused, at most once every `miss_reload_seconds`, so a flood of bad
    keys costs the store one read a second, not one per request.
    """

    def __init__(
        self,
        load: Callable[[], list[KeyRecord]],
        refresh_seconds: float = 5.0,
        miss_reload_seconds: float = 1.0,
    ) -> None:
        self._load = load
        self._refresh = refresh_seconds
        self._miss_reload = miss_reload_seconds
        self._by_hash: dict[str, KeyRecord] = {}
        self._by_id: dict[str, KeyRecord] = {}
        self._loaded_at = float("-inf")
        self._missed_at = float("-inf")
        self._lock = threading.Lock()
        self.miss_reloads = 0  # reloads caused by an unknown key (for /metrics)

    def reload(self) -> None:
        """Read every key record from the store now."""
        records = self._load()
        with self._lock:
            self._by_hash = {r.key_hash: r for r in records if r.revoked_at is None}
            self._by_id = {r.key_id: r for r in self._by_hash.values()}
            self._loaded_at = time.monotonic()

    def stale(self) -> bool:
        """Whether the cache is older than the refresh interval."""
        return time.monotonic() - self._loaded_at > self._refresh

    def may_reload_for_miss(self) -> bool:
        """Whether an unknown key may reload the keys now (claims the slot if so): not when
        another unknown key did within the last `miss_reload_seconds`."""
        now = time.monotonic()
        with self._lock:
            if now - self._missed_at < self._miss_reload:
                return False
            self._missed_at = now
            self.miss_reloads += 1
            return True

    def find(self, key: str) -> KeyRecord | None:
        """The live record for a presented key, or None."""
        digest = hash_key(key)
        record = self._by_hash.get(digest)
        if record is None or not hmac.compare_digest(record.key_hash, digest):
            return None
        return record

    def live(self, key_id: str) -> KeyRecord | None:
        """The record of a key by its id, if it is known and not revoked."""
        return self._by_id.get(key_id)
