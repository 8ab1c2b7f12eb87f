"""`tracklog import FILE…`: bulk-load events through a server's Track API, resumably.

Reads NDJSON, a JSON array, CSV or Parquet (what `tracklog export` writes), each gzipped
or not (told by its first bytes, not its name). Records are sent in chunks of consecutive
records; after a chunk's receipts come back the position is saved in a small state file,
so an interrupted import started again skips what was stored. The chunk in flight at the
interruption is sent again, which is harmless: events dedupe by message_id (or content).

A record's `type` picks the endpoint (track, identify, group). With `--format segment` the
records are Segment messages (camelCase, any of its six types) sent as Segment batches.
A record with `received_at` is a Tracklog export: its `timestamp` was already corrected for
clock skew, so its `sent_at` is dropped rather than applied a second time.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tracklog.cli.transfer import request

ENDPOINTS = {"track": "/api/track", "identify": "/api/identify", "group": "/api/group"}
FORMATS = ("native", "segment")
SEGMENT_TYPES = ("track", "identify", "group", "page", "screen", "alias")
# The server's batch limit is 512,000 bytes; leave room for brackets and commas.
MAX_CHUNK_BYTES = 450_000
_OBJECT_COLUMNS = ("properties", "context", "traits")


@dataclass
class Summary:
    """What became of a file's records, added up over every run that worked on it."""

    accepted: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    def add(self, receipt: dict[str, Any]) -> None:
        """Count one receipt from the server."""
        self.accepted += int(receipt.get("accepted", 0))
        self.duplicates += int(receipt.get("duplicates", 0))
        for result in receipt.get("results", []):
            if result.get("status") == "rejected":
                self.rejected[str(result.get("code"))] += 1

    def line(self) -> str:
        """One line for a person."""
        total = sum(self.rejected.values())
        codes = ", ".join(f"{code} {n}" for code, n in self.rejected.most_common())
        return f"{self.accepted} accepted, {self.duplicates} duplicates, {total} rejected" + (
            f" ({codes})" if codes else ""
        )

    def as_dict(self) -> dict[str, Any]:
        """The JSON form kept in the state file."""
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": dict(self.rejected),
        }


# -- reading files ---------------------------------------------------------------------------
def _open(path: Path) -> IO[bytes]:
    raw = path.open("rb")
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    raw.seek(0)
    return raw


def records(path: Path) -> Iterator[dict[str, Any] | str]:
    """The file's records in order; a string stands for a record that could not be read."""
    if path.suffix == ".parquet":
        yield from _parquet(path)
        return
    with _open(path) as stream:
        head = stream.peek(64)[:64] if hasattr(stream, "peek") else b""
        kind = "csv" if ".csv" in path.suffixes else "json"
        if kind == "csv":
            text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
            for row in csv.DictReader(text):
                yield _from_csv(row)
        elif head.lstrip()[:1] == b"[":
            try:
                loaded = json.load(stream)
            except ValueError as exc:
                yield f"the file is not a valid JSON array: {exc}"
                return
            for element in loaded:
                yield element if isinstance(element, dict) else "not a JSON object"
        else:
            for line in stream:
                if line.strip():
                    yield _json_line(line)


def _json_line(line: bytes) -> dict[str, Any] | str:
    try:
        value = json.loads(line)
    except ValueError as exc:
        return f"not valid JSON: {exc}"
    return value if isinstance(value, dict) else "not a JSON object"


def _from_csv(row: dict[str, str]) -> dict[str, Any] | str:
    """A CSV row: `properties.plan` columns nest; a `properties` column may hold JSON."""
    record: dict[str, Any] = {}
    for name, value in row.items():
        if name is None or value is None or value == "":
            continue
        top, dot, rest = name.partition(".")
        if dot and top in _OBJECT_COLUMNS:
            record.setdefault(top, {})[rest] = value
        elif name in _OBJECT_COLUMNS:
            try:
                record[name] = {**json.loads(value), **record.get(name, {})}
            except (ValueError, TypeError):
                return f"column {name!r} is not a JSON object"
        else:
            record[name] = value
    return record


def _parquet(path: Path) -> Iterator[dict[str, Any] | str]:
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):
        for row in batch.to_pylist():
            record: dict[str, Any] = {}
            for name, value in row.items():
                if value is None:
                    continue
                if name in _OBJECT_COLUMNS and isinstance(value, str):
                    value = json.loads(value)
                elif isinstance(value, dt.datetime):
                    value = value.isoformat().replace("+00:00", "Z")
                record[name] = value
            yield record


# -- resumable state -------------------------------------------------------------------------
def _identity(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def _load_state(state_file: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _save_state(state_file: Path, state: dict[str, Any]) -> None:
    # Written aside and renamed, so an interruption mid-write leaves the old state whole.
    tmp = state_file.with_name(state_file.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=1))
    os.replace(tmp, state_file)


# -- sending ---------------------------------------------------------------------------------
def import_file(
    path: Path,
    url: str,
    key: str,
    state_file: Path,
    batch_size: int = 500,
    restart: bool = False,
    progress: bool = True,
    wire_format: str = "native",
) -> Summary:
    """Send one file's records; resumes from `state_file` unless `restart`."""
    from tqdm import tqdm

    state = _load_state(state_file)
    ident = _identity(path)
    mine: dict[str, Any] = {} if restart else state.get(ident, {})
    summary = Summary()
    previous = mine.get("summary", {})
    summary.accepted = int(previous.get("accepted", 0))
    summary.duplicates = int(previous.get("duplicates", 0))
    summary.rejected.update(previous.get("rejected", {}))
    if mine.get("done"):
        return summary
    skip = int(mine.get("records", 0))
    sent = skip  # records before this position are stored (or were rejected)
    chunk: list[dict[str, Any] | str] = []
    size = 0
    # disable=None: a bar on a terminal, none in a pipe or a log.
    bar = tqdm(desc=path.name, unit=" events", initial=skip, disable=None if progress else True)

    def send() -> None:
        nonlocal chunk, size, sent
        _send_chunk(chunk, url, key, summary, wire_format)
        bar.update(len(chunk))
        sent += len(chunk)
        chunk, size = [], 0
        state[ident] = {"records": sent, "summary": summary.as_dict(), "done": False}
        _save_state(state_file, state)

    for index, record in enumerate(records(path)):
        if index < skip:
            continue
        if isinstance(record, dict) and "received_at" in record:
            record = {k: v for k, v in record.items() if k != "sent_at"}
        length = len(json.dumps(record, default=str)) + 1
        if chunk and (len(chunk) >= batch_size or size + length > MAX_CHUNK_BYTES):
            send()
        chunk.append(record)
        size += length
    if chunk:
        send()
    bar.close()
    state[ident] = {"records": sent, "summary": summary.as_dict(), "done": True}
    _save_state(state_file, state)
    return summary


def _send_chunk(
    chunk: list[dict[str, Any] | str], url: str, key: str, summary: Summary, wire_format: str
) -> None:
    if wire_format == "segment":
        _send_segment(chunk, url, key, summary)
        return
    by_type: dict[str, list[dict[str, Any]]] = {}
    for record in chunk:
        if isinstance(record, str):
            summary.rejected["invalid_json"] += 1
            continue
        kind = record.get("type", "track")
        if kind not in ENDPOINTS:
            summary.rejected["unsupported_type"] += 1
            continue
        by_type.setdefault(str(kind), []).append(record)
    for kind, batch in by_type.items():
        body = json.dumps(batch, default=str).encode()
        _status, receipt = request(url, key, ENDPOINTS[kind], body)
        summary.add(receipt)


def _send_segment(chunk: list[dict[str, Any] | str], url: str, key: str, summary: Summary) -> None:
    batch: list[dict[str, Any]] = []
    for record in chunk:
        if isinstance(record, str):
            summary.rejected["invalid_json"] += 1
        elif record.get("type", "track") not in SEGMENT_TYPES:
            summary.rejected["unsupported_type"] += 1
        else:
            batch.append({"type": "track", **record})
    if batch:
        body = json.dumps({"batch": batch}, default=str).encode()
        _status, answer = request(url, key, "/v1/batch", body)
        summary.add(answer.get("receipt", {}))
