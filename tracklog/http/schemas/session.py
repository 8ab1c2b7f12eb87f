"""The dashboard's sign-in: the key it is opened with, and what a session is."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from tracklog.http.schemas.common import Time


class SignIn(msgspec.Struct, forbid_unknown_fields=True):
    """A read (or admin) key, exchanged once for a session cookie."""

    key: Annotated[str, Meta(min_length=1, max_length=200)]


class SessionInfo(msgspec.Struct):
    """Whom the caller reads as: the workspace, the scope of the key that opened the session
    (a session only reads, whatever it is), and when the session expires if unused until
    then (null when a key, not a session, was presented)."""

    workspace: str
    scope: Literal["read", "admin"]
    expires_at: Time | None
