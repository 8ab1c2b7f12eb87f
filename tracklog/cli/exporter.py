"""`tracklog export`: a workspace's events as NDJSON or Parquet, through the read API.

The read key names the workspace (a key belongs to exactly one); `--from`, `--to`,
`--event-name`, `--type` and `--user-id` filter like `GET /api/events`, whose cursor pages
the export. NDJSON records are the API's event objects, so `tracklog import` reads them back
(`.gz` in the output name gzips them). Parquet keeps the same columns with typed timestamps
and `properties`/`context` as JSON text.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tracklog.cli.transfer import request

FILTERS = ("from", "to", "event_name", "type", "user_id", "group_id")
PAGE = 1000


def pages(url: str, key: str, filters: dict[str, str]) -> Iterator[list[dict[str, Any]]]:
    """Every page of /api/events matching `filters`, newest first."""
    cursor: str | None = None
    while True:
        params = {**filters, "limit": str(PAGE)}
        if cursor:
            params["cursor"] = cursor
        _status, page = request(url, key, "/api/events", params=params)
        yield page["events"]
        cursor = page.get("next_cursor")
        if not cursor:
            return


def export(
    url: str,
    key: str,
    out: Path,
    fmt: str = "ndjson",
    filters: dict[str, str] | None = None,
    progress: bool = True,
) -> int:
    """Write the matching events to `out`; return how many."""
    from tqdm import tqdm

    bar = tqdm(desc=out.name, unit=" events", disable=None if progress else True)
    count = 0
    tmp = out.with_name(out.name + ".partial")
    # Written aside and renamed at the end: an interrupted export leaves no half file.
    if fmt == "parquet":
        count = _parquet(pages(url, key, filters or {}), tmp, bar)
    else:
        opener: Any = gzip.open if out.suffix == ".gz" else open
        stream: IO[bytes]
        with opener(tmp, "wb") as stream:
            for page in pages(url, key, filters or {}):
                for event in page:
                    stream.write(json.dumps(event, separators=(",", ":")).encode() + b"\n")
                count += len(page)
                bar.update(len(page))
    bar.close()
    tmp.replace(out)
    return count


def _parquet(source: Iterator[list[dict[str, Any]]], path: Path, bar: Any) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    stamp = pa.timestamp("ms", tz="UTC")
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("type", pa.string()),
            ("event_name", pa.string()),
            ("user_id", pa.string()),
            ("anonymous_id", pa.string()),
            ("group_id", pa.string()),
            ("timestamp", stamp),
            ("original_timestamp", stamp),
            ("sent_at", stamp),
            ("received_at", stamp),
            ("properties", pa.string()),
            ("context", pa.string()),
            ("message_id", pa.string()),
            ("source", pa.string()),
            ("is_test", pa.bool_()),
        ]
    )
    count = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for page in source:
            rows = [
                {
                    **event,
                    **{
                        name: _parse_time(event.get(name))
                        for name in ("timestamp", "original_timestamp", "sent_at", "received_at")
                    },
                    "properties": json.dumps(event.get("properties") or {}),
                    "context": json.dumps(event.get("context") or {}),
                }
                for event in page
            ]
            if rows:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            count += len(rows)
            bar.update(len(rows))
    return count


def _parse_time(value: Any) -> Any:
    import datetime as dt

    if not isinstance(value, str):
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
