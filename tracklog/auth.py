"""Who is calling: the key in the request, its workspace and its scope."""

from __future__ import annotations

import base64
import binascii

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from tracklog.keys import Keyring


class Principal(msgspec.Struct, frozen=True):
    """The caller a key stands for."""

    workspace: str
    scope: str
    key_id: str


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


async def authorize(request: Request, need: str, key: str | None = None) -> Principal:
    """Check the request's key (or `key`, from a body) allows `need`; return who it is."""
    keyring: Keyring = request.app.state.keyring
    if keyring.stale():
        await run_in_threadpool(keyring.reload)
    key = key or presented_key(request)
    if not key:
        raise AuthError(
            401,
            "missing_key",
            "No API key: send `Authorization: Bearer <key>` (or an `x-api-key` header).",
        )
    record = keyring.find(key)
    if record is None:
        raise AuthError(401, "invalid_key", "The API key is not valid or has been revoked.")
    if record.scope not in ALLOWED[need]:
        raise AuthError(
            403,
            "wrong_scope",
            f"This is a {record.scope} key; this endpoint needs a {need} key.",
        )
    return Principal(workspace=record.workspace, scope=record.scope, key_id=record.key_id)
