"""The ASGI application: routes of the write and read paths, and errors a person can read.

Every failure a client can cause maps to a 4xx JSON body `{"error": {code, field?, message}}`;
anything else is logged and answered with a plain 500 that carries no stack trace.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tracklog import dashboard
from tracklog.http.auth import AuthError
from tracklog.http.concurrency import ConcurrencyLimit
from tracklog.http.cors import IngestCORS
from tracklog.http.openapi import document
from tracklog.http.params import ParameterError
from tracklog.http.rate_limit import RateLimited
from tracklog.http.responses import error
from tracklog.http.routes import (
    analytics,
    live,
    metrics,
    native,
    privacy,
    read,
    segment,
    session,
    vero,
)
from tracklog.http.runtime import Runtime
from tracklog.ingest.committer import Overloaded
from tracklog.ingest.wire.common import BodyError
from tracklog.privacy import retention
from tracklog.store.base import StoreFull, StoreUnavailable

# Every API surface, in the order their routes are matched.
ROUTE_MODULES = (native, read, session, privacy, analytics, live, metrics, vero, segment)

log = logging.getLogger("tracklog.app")


async def _auth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthError)
    return error(exc.status, exc.code, exc.message)


async def _body_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BodyError)
    return error(exc.status, exc.code, exc.message)


async def _parameter_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ParameterError)
    return error(400, "invalid_parameter", exc.message, exc.field)


async def _overloaded(request: Request, exc: Exception) -> Response:
    return error(
        503, "overloaded", "The server is busy writing; retry shortly.", **{"Retry-After": "1"}
    )


async def _rate_limited(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RateLimited)
    return error(429, "rate_limited", exc.message, **{"Retry-After": str(exc.retry_after)})


async def _unavailable(request: Request, exc: Exception) -> Response:
    log.warning("store unavailable: %s", exc)
    if isinstance(exc, StoreFull):
        return error(
            503,
            "store_unavailable",
            "The store's disk is full (disk full): nothing was stored. Retry once space is "
            "freed; GET /healthz says when.",
            **{"Retry-After": "30"},
        )
    return error(
        503,
        "store_unavailable",
        "The store cannot be reached right now; nothing was stored. Retry shortly.",
        **{"Retry-After": "5"},
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    message = {
        404: f"There is no endpoint at {request.url.path}.",
        405: f"{request.method} is not allowed on {request.url.path}.",
    }.get(exc.status_code, str(exc.detail))
    # Starlette's 405 carries the `Allow` header RFC 9110 requires; keep it.
    return error(
        exc.status_code, codes.get(exc.status_code, "http_error"), message, **(exc.headers or {})
    )


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error(500, "internal_error", "Something went wrong on the server; it was logged.")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    AuthError: _auth_error,
    BodyError: _body_error,
    ParameterError: _parameter_error,
    Overloaded: _overloaded,
    RateLimited: _rate_limited,
    StoreUnavailable: _unavailable,
    HTTPException: _http_error,
    Exception: _server_error,
}


@functools.cache
def api_document() -> dict[str, Any]:
    """The OpenAPI document of every operation the routes modules declare."""
    return document(op for module in ROUTE_MODULES for op in module.operations)


@functools.cache
def _encoded_document() -> bytes:
    return msgspec.json.encode(api_document())


async def openapi(request: Request) -> Response:
    """GET /openapi.json: the API's description."""
    return Response(_encoded_document(), media_type="application/json")


# Container objects allocated between two young-generation collections while serving (Python's
# default is 700). A batch of 100 events allocates ~800 (message structs, events, items, their
# lists, results), so by default each request paid a collection that walked every in-flight
# request's objects, every tenth one an older generation's, and the full collections walked
# everything imported at start (30-60 ms each, with the GIL held): ~18% of the server's time
# under a batched load (issue 15).
YOUNG_THRESHOLD = 10_000


@contextlib.contextmanager
def collector_tuned() -> Iterator[None]:
    """While serving: what start-up made is frozen out of the garbage collector's walks, and
    young objects are collected every YOUNG_THRESHOLD allocations; restored afterwards."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def create_app(runtime: Runtime, extra_routes: list[BaseRoute] | None = None) -> Starlette:
    """The HTTP application over a runtime; the committer runs for the app's lifetime."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime.committer.start()
        try:
            with collector_tuned():
                interval = runtime.settings.retention_interval_seconds
                async with retention.background(runtime.store, interval):
                    yield
        finally:
            runtime.committer.stop()

    routes: list[BaseRoute] = [
        *(route for module in ROUTE_MODULES for route in module.routes),
        *(extra_routes or []),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    if dashboard.STATIC.is_dir():
        routes.append(dashboard.mount(dashboard.STATIC))
    app = Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
    # Added first, so it runs inside CORS: a browser can read the 503 it answers.
    app.add_middleware(ConcurrencyLimit, state=runtime.inflight)
    app.add_middleware(IngestCORS, origins=runtime.settings.cors_origins)
    app.state.runtime = runtime
    app.state.store = runtime.store
    app.state.keyring = runtime.keyring
    app.state.committer = runtime.committer
    app.state.broadcaster = live.Broadcaster()
    runtime.committer.listeners.append(app.state.broadcaster.publish)
    app.state.metrics = metrics.Metrics(
        runtime.committer,
        suppressed=lambda: runtime.ingestor.suppressed_count,
        limiter=runtime.limiter,
        inflight=runtime.inflight,
        keyring=runtime.keyring,
    )
    return app
