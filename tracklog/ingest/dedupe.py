"""Event ids that make retries idempotent.

An event's id is its dedupe key. With a `message_id`, the id is a hash of it, so a retry with
the same message id is the same event whatever else changed. Without one, but with a client
timestamp, the id hashes the event's content, so an identical retry is recognised whatever the
gap between the tries. With neither there is nothing stable to recognise, and the id is random.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import msgspec

_encoder = msgspec.json.Encoder(order="sorted")


def event_id(
    workspace: str,
    type_: str,
    event_name: str | None,
    user_id: str | None,
    anonymous_id: str | None,
    group_id: str | None,
    original_timestamp: dt.datetime | None,
    properties: dict[str, Any],
    message_id: str | None,
) -> bytes:
    """The dedupe key of one event (see the module docstring): a UUID's 16 bytes."""
    if message_id is not None:
        key = b"m\x00" + workspace.encode() + b"\x00" + message_id.encode()
    elif original_timestamp is not None:
        key = _encoder.encode(
            [
                "c",
                workspace,
                type_,
                event_name,
                user_id,
                anonymous_id,
                group_id,
                original_timestamp.isoformat(),
                properties,
            ]
        )
    else:
        return uuid.uuid4().bytes
    return hashlib.blake2b(key, digest_size=16).digest()
