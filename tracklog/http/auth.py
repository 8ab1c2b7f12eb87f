"""Who is calling: the key in the request (or, for reads, its session cookie), its workspace
and its scope."""

from __future__ import annotations

import base64
import binascii
import datetime as dt

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from tracklog.http import sessions
from tracklog.keys import Keyring
from tracklog.store.base import SessionRecord


class Principal(msgspec.Struct, frozen=True):
    """The caller a key stands for."""

    workspace: str
    scope: str
    key_id: str
    # A test key: every event it sends is a test event.
    test: bool = False


class AuthError(Exception):
    """A missing, unknown, revoked or wrongly scoped key (401 or 403)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


# Which key scopes may do what: a write key only ingests, a read key only reads.
ALLOWED = {"write": {"write", "admin"}, "read": {"read", "admin"}, "admin": {"admin"}}


def presented_key(request: Request) -> str | None:
    """The key from `Authorization: Bearer`, HTTP Basic's user name, or `x-api-key`."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            user = base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user or None
    return request.headers.get("x-api-key") or None


def lifetime(request: Request) -> sessions.Lifetime:
    """How long the server's sessions last (its settings)."""
    s = request.app.state.runtime.settings
    return sessions.Lifetime(
        dt.timedelta(hours=s.session_idle_hours), dt.timedelta(days=s.session_max_days)
    )


async def session_of(request: Request) -> SessionRecord | None:
    """The live session the request's cookie names (noting its use), or None."""
    session_id = request.cookies.get(sessions.COOKIE)
    if not session_id:
        return None
    return await run_in_threadpool(
        sessions.find,
        request.app.state.store,
        request.app.state.keyring,
        session_id,
        lifetime(request),
    )


async def authorize(request: Request, need: str, key: str | None = None) -> Principal:
    """Check the request's key (or `key`, from a body) allows `need`; return who it is.

    A read may present a session cookie instead of a key (a header key wins); the session
    reads its workspace whatever the scope of the key that opened it.
    """
    keyring: Keyring = request.app.state.keyring
    if keyring.stale():
        await run_in_threadpool(keyring.reload)
    key = key or presented_key(request)
    if not key and need == "read" and sessions.COOKIE in request.cookies:
        session = await session_of(request)
        if session is None:
            raise AuthError(
                401, "session_ended", "The session has ended or expired; sign in again."
            )
        return Principal(workspace=session.workspace, scope="read", key_id=session.key_id)
    if not key:
        raise AuthError(
            401,
            "missing_key",
            "No API key: send `Authorization: Bearer <key>` (or an `x-api-key` header).",
        )
    record = keyring.find(key)
    if record is None and keyring.may_reload_for_miss():
        # Maybe made a moment ago by another node or the CLI on a shared store.
        await run_in_threadpool(keyring.reload)
        record = keyring.find(key)
    if record is None:
        raise AuthError(401, "invalid_key", "The API key is not valid or has been revoked.")
    if record.scope not in ALLOWED[need]:
        raise AuthError(
            403,
            "wrong_scope",
            f"This is a {record.scope} key; this endpoint needs a {need} key.",
        )
    return Principal(
        workspace=record.workspace, scope=record.scope, key_id=record.key_id, test=record.test
    )
