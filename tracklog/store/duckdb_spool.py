"""The DuckDB store's ingest log: a group of events is on disk once appended here, and goes
into the database's tables later, many groups in one transaction.

Why: a DuckDB commit costs about 10 ms whatever its size (a statement per table, each about
a millisecond to plan, and the commit), so one commit per group held a load of single-event
requests to a few hundred groups a second (issue 15). Appending a group's Arrow tables to
this file and syncing it costs one write and one fdatasync. The store loads what is pending
into its tables when enough has gathered, when the writer is idle, and before any read, so
every read sees every acknowledged event (tracklog/store/duckdb.py).

The file is written in place, never grown by an append: a sync of a file whose size changed
must also commit the file system's journal, which took 1-8 ms while DuckDB wrote beside it,
against 0.3-1.3 ms for a sync of data alone. So it is filled with zeros ahead of use
(SPOOL_BYTES at a time), and emptied by starting a new generation rather than truncated.
It starts with a header (a magic word and the generation); each frame holds its payload's
length, the generation, a CRC-32 of both and the payload (msgpack: the group's events and
quarantine rows as Arrow IPC streams, and its profile facts). Reading stops at the first
frame that is empty, of another generation (left from before the last emptying), or torn
(short or failing its check: the last frame of a crash, whose sync had not returned, so it
was never acknowledged). A load empties the log after its commit; a crash between the two
leaves frames whose events are stored, which the next start finds stored and skips.
A deletion (erasure, retention) scrubs the log: every byte past the header is zeroed, so
an erased event's bytes do not stay in frames that no longer count.
"""

from __future__ import annotations

import errno
import os
import struct
import zlib
from dataclasses import dataclass, field

import msgspec
import pyarrow as pa

from tracklog.store.base import StoreFull, StoreUnavailable
from tracklog.store.profiles import Link, ProfileFacts, Trait

_MAGIC = b"TLSPOOL1"
_FILE = struct.Struct("<8sQ")  # magic, generation
_FRAME = struct.Struct("<IQI")  # payload length, generation, CRC-32 of generation and payload
# Zeros written ahead of use, and added when a frame does not fit.
SPOOL_BYTES = 8 * 1024 * 1024


class _Frame(msgspec.Struct, array_like=True):
    events: bytes
    rejected: bytes
    links: list[Link]
    traits: list[Trait]


_encode = msgspec.msgpack.Encoder()
_decode = msgspec.msgpack.Decoder(_Frame)


@dataclass
class Group:
    """What one write stores: new events, quarantine rows (either may be None) and facts."""

    events: pa.Table | None
    rejected: pa.Table | None
    facts: ProfileFacts = field(default_factory=ProfileFacts)

    @property
    def size(self) -> int:
        """Events and quarantine rows in the group."""
        return sum(t.num_rows for t in (self.events, self.rejected) if t is not None)


class Spool:
    """The log file (or nothing, for a store in memory, which a crash loses anyway)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._fd = -1
        self.generation = 0
        self._end = _FILE.size  # where the next frame goes
        self._allocated = 0
        # Frames may have been written since the last scrub (at first: by an earlier process).
        self._written = True
        if path is None:
            return
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._allocated = os.fstat(self._fd).st_size
        head = os.pread(self._fd, _FILE.size, 0)
        if len(head) == _FILE.size and head.startswith(_MAGIC):
            self.generation = _FILE.unpack(head)[1]

    def append(self, group: Group) -> None:
        """Write the group and sync it; on failure nothing of it counts, and it raises."""
        if self._fd < 0:
            return
        payload = _encode.encode(
            _Frame(
                _ipc(group.events),
                _ipc(group.rejected),
                group.facts.links,
                group.facts.traits,
            )
        )
        frame = _frame(self.generation, payload)
        try:
            if not self._allocated:
                self._start(self.generation + 1)
                frame = _frame(self.generation, payload)
            if self._end + len(frame) > self._allocated:
                self._zero(self._allocated, max(SPOOL_BYTES, len(frame)))
            self._written = True
            os.pwrite(self._fd, frame, self._end)
            os.fdatasync(self._fd)
        except OSError as exc:
            # The frame is past the end: the next one overwrites it, and a reader stops at
            # the first frame that fails its check.
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StoreFull(f"DuckDB: the disk is full ({exc})") from exc
            raise StoreUnavailable(f"writing the ingest log failed: {exc}") from exc
        self._end += len(frame)

    def read(self) -> list[Group]:
        """Every whole frame of this generation, in order (after a crash: what was not
        loaded)."""
        if self._fd < 0 or not self.generation:
            return []
        data = os.pread(self._fd, self._allocated, 0)
        groups: list[Group] = []
        at = _FILE.size
        while at + _FRAME.size <= len(data):
            length, generation, crc = _FRAME.unpack_from(data, at)
            body = at + _FRAME.size
            payload = data[body : body + length]
            if (
                not length
                or generation != self.generation
                or len(payload) < length
                or zlib.crc32(payload, generation & 0xFFFFFFFF) != crc
            ):
                break
            frame = _decode.decode(payload)
            groups.append(
                Group(
                    _table(frame.events),
                    _table(frame.rejected),
                    ProfileFacts(frame.links, frame.traits),
                )
            )
            at = body + length
        self._end = at
        return groups

    def clear(self) -> None:
        """Empty the log (after its groups are committed to the database): a new
        generation, synced, so the frames written so far no longer count."""
        if self._fd < 0 or self._end == _FILE.size:
            return
        self._start(self.generation + 1)

    def scrub(self) -> None:
        """Empty the log and overwrite every frame it ever held with zeros, so deleted events
        do not linger in its bytes (called on every deletion)."""
        if self._fd < 0 or not self._allocated or not self._written:
            return
        self._start(self.generation + 1)
        self._zero(_FILE.size, self._allocated - _FILE.size)
        self._written = False

    def close(self) -> None:
        """Close the file."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _start(self, generation: int) -> None:
        if not self._allocated:
            self._zero(0, SPOOL_BYTES)
        os.pwrite(self._fd, _FILE.pack(_MAGIC, generation), 0)
        os.fdatasync(self._fd)
        self.generation = generation
        self._end = _FILE.size

    def _zero(self, at: int, size: int) -> None:
        """Fill [at, at + size) with zeros (the file's new end), synced."""
        chunk = b"\0" * (1024 * 1024)
        done = 0
        while done < size:
            done += os.pwrite(self._fd, chunk[: size - done], at + done)
        os.fsync(self._fd)
        self._allocated = at + size


def _frame(generation: int, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, generation & 0xFFFFFFFF)
    return _FRAME.pack(len(payload), generation, crc) + payload


def _ipc(table: pa.Table | None) -> bytes:
    if table is None or not table.num_rows:
        return b""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def _table(data: bytes) -> pa.Table | None:
    return pa.ipc.open_stream(data).read_all() if data else None
