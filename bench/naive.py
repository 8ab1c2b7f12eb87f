"""The naive baseline: an ingest endpoint as most teams first write it.

FastAPI with a pydantic model per event, and one INSERT per event into DuckDB on a shared
connection (each INSERT its own auto-committed, WAL-synced transaction), in a sync handler
that FastAPI runs on its thread pool. No auth, no plan, no dedupe: it does less than
Tracklog and is still the reference row for "what you get without group commit".

    python -m bench.naive --port 8002 --db /tmp/naive.duckdb
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import threading
import uuid
from typing import Any

import duckdb
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field


class TrackEvent(BaseModel):
    """One event of the Track API, as a typical pydantic model."""

    event_name: str
    user_id: str | None = None
    message_id: str | None = None
    timestamp: dt.datetime | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)


SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id UUID, event_name VARCHAR, user_id VARCHAR, group_id VARCHAR, message_id VARCHAR,
    timestamp TIMESTAMP, received_at TIMESTAMP, properties VARCHAR, context VARCHAR
)
"""


def _naive_utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(tzinfo=None) if t.tzinfo else t


def create_app(path: str) -> FastAPI:
    """The app over one DuckDB file."""
    con = duckdb.connect(path)
    con.execute(SCHEMA)
    lock = threading.Lock()  # one connection shared by the thread pool
    app = FastAPI()

    @app.post("/api/track")
    def track(events: list[TrackEvent] | TrackEvent) -> dict[str, int]:
        batch = events if isinstance(events, list) else [events]
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with lock:
            for e in batch:
                con.execute(
                    "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        uuid.uuid4(),
                        e.event_name,
                        e.user_id,
                        e.context.get("group_id"),
                        e.message_id,
                        _naive_utc(e.timestamp) if e.timestamp else now,
                        now,
                        json.dumps(e.properties),
                        json.dumps(e.context),
                    ],
                )
        return {"accepted": len(batch)}

    @app.get("/healthz")
    def healthz() -> dict[str, bool]:
        return {"ok": True}

    return app


def main() -> None:
    """Serve the naive app on 127.0.0.1 with the same uvicorn settings as Tracklog."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.db),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
