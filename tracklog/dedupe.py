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
from rbloom import Bloom

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
) -> uuid.UUID:
    """The dedupe key of one event (see the module docstring)."""
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
        return uuid.uuid4()
    return uuid.UUID(bytes=hashlib.blake2b(key, digest_size=16).digest())


class SeenIds:
    """A Bloom filter over every stored event id, so most new events skip the store lookup.

    A miss proves an id was never stored; a hit (a retry, or one false positive in a
    thousand) is confirmed against the store. Without it, every commit would scan the whole
    id column, which grows with the data. The filter lives in memory and is rebuilt from the
    store at start, and at four times the size whenever it fills up.
    """

    ERROR_RATE = 0.001

    def __init__(self, capacity: int) -> None:
        self.capacity = max(capacity, 1_000_000)
        self.count = 0
        self._bloom = Bloom(self.capacity, self.ERROR_RATE)

    def __contains__(self, key: bytes) -> bool:
        return key in self._bloom

    def add_all(self, keys: list[bytes]) -> None:
        """Record ids that are now stored."""
        self._bloom.update(keys)
        self.count += len(keys)

    @property
    def full(self) -> bool:
        """Past its capacity the false-positive rate climbs; time to rebuild larger."""
        return self.count > self.capacity
