"""The ceiling: Tracklog's server stack with a handler that only reads and decodes the body.

Same uvicorn settings as `tracklog serve` (one process, uvloop, httptools, no access log),
same starlette routing, a msgspec decode of the JSON body, and a small JSON answer. What
Tracklog does beyond this (auth, plan checks, dedupe ids, the durable group commit, the
receipt) is what the ratio to this server measures.

    python -m bench.ceiling --port 8001
"""

from __future__ import annotations

import argparse

import msgspec
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def track(request: Request) -> Response:
    """Read and decode the body; answer how many elements it held."""
    decoded = msgspec.json.decode(await request.body())
    count = len(decoded) if isinstance(decoded, list) else 1
    return Response(msgspec.json.encode({"accepted": count}), media_type="application/json")


async def healthz(request: Request) -> Response:
    """Liveness, as Tracklog's."""
    return Response(b'{"ok":true}', media_type="application/json")


app = Starlette(
    routes=[
        Route("/api/track", track, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
)


def main() -> None:
    """Serve the bare app on 127.0.0.1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
