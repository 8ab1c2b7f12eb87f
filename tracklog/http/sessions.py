"""Dashboard sign-ins that tabs share: a server-side session named by an HttpOnly cookie.

A read (or admin) key opens a session; the browser keeps only a random id in a cookie that
page scripts cannot read (HttpOnly), that other sites' pages never send (SameSite=Strict),
and that reads only: `authorize` takes it for read endpoints, never for writes or admin
ones. The store keeps the id's SHA-256, the key's id and the times (never the key), so
every node sharing the store knows the session, and signing out, or revoking the key, ends
it everywhere at once. A session ends after `idle` without use, or `longest` after it began.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import msgspec

from tracklog.events import utcnow
from tracklog.keys import Keyring
from tracklog.store.base import KeyRecord, SessionRecord, Store

COOKIE = "tracklog_session"
# A use is written back at most this often: idle expiry is exact to a minute, and a busy
# dashboard costs the store one write a minute, not one per request.
TOUCH_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Lifetime:
    """How long sessions last: `idle` after their last use, `longest` after they began."""

    idle: dt.timedelta = dt.timedelta(hours=12)
    longest: dt.timedelta = dt.timedelta(days=7)

    def ends(self, session: SessionRecord) -> dt.datetime:
        """When a session that is not signed out expires."""
        return min(session.seen_at + self.idle, session.expires_at)


def hash_id(session_id: str) -> str:
    """The stored form of a session id (256 random bits, so a plain SHA-256 suffices)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(store: Store, key: KeyRecord, lifetime: Lifetime) -> str:
    """A new session for a key: its id (for the cookie, and nowhere else) is returned."""
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    store.save_session(
        SessionRecord(
            id_hash=hash_id(session_id),
            key_id=key.key_id,
            workspace=key.workspace,
            scope=key.scope,
            created_at=now,
            seen_at=now,
            expires_at=now + lifetime.longest,
        )
    )
    return session_id


def find(
    store: Store, keyring: Keyring, session_id: str, lifetime: Lifetime
) -> SessionRecord | None:
    """The live session a cookie names, noting its use; None when it never was, has ended or
    expired, or its key is no longer live."""
    if not session_id or len(session_id) > 100:
        return None
    session = store.session(hash_id(session_id))
    now = utcnow()
    if session is None or session.ended_at is not None or now >= lifetime.ends(session):
        return None
    if keyring.live(session.key_id) is None:
        # Revoked (its sessions end with it), or made on another node a moment ago.
        if not keyring.may_reload_for_miss():
            return None
        keyring.reload()
        if keyring.live(session.key_id) is None:
            return None
    if now - session.seen_at >= TOUCH_EVERY:
        session = msgspec.structs.replace(session, seen_at=now)
        store.save_session(session)
    return session


def end(store: Store, session_id: str) -> None:
    """Sign out: the session a cookie names ends, on every node (nothing if there is none)."""
    session = store.session(hash_id(session_id)) if session_id else None
    if session is not None and session.ended_at is None:
        store.save_session(msgspec.structs.replace(session, ended_at=utcnow()))
