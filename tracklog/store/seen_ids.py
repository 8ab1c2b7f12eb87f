"""The Bloom filter of stored event ids that spares most commits a lookup in the store."""

from __future__ import annotations

from rbloom import Bloom


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
