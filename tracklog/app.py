"""The ASGI application: routes of the write and read paths, and errors a person can read.

Every failure a client can cause maps to a 4xx JSON body `{"error": {code, field?, message}}`;
anything else is logged and answered with a plain 500 that carries no stack trace.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tracklog import (
    analytics_api,
    api,
    dashboard,
    metrics,
    privacy_api,
    retention,
    segment_api,
    track_api,
    vero_api,
)
from tracklog.api import json_response
from tracklog.auth import AuthError
from tracklog.committer import Overloaded
from tracklog.concurrency import ConcurrencyLimit
from tracklog.cors import IngestCORS
from tracklog.live import Broadcaster
from tracklog.openapi import document
from tracklog.query_params import ParameterError
from tracklog.rate_limit import RateLimited
from tracklog.runtime import Runtime
from tracklog.store.base import StoreUnavailable
from tracklog.wire.common import BodyError

log = logging.getLogger("tracklog.app")
DASHBOARD = Path(__file__).parent / "dashboard" / "static"


def error(
    status: int, code: str, message: str, field: str | None = None, **headers: str
) -> Response:
    """The one shape of every error body."""
    body: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    response = json_response({"error": body}, status)
    response.headers.update(headers)
    return response


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


async def openapi(request: Request) -> Response:
    """GET /openapi.json: the API's description."""
    return json_response(document(request.app.routes))


def create_app(runtime: Runtime, extra_routes: list[BaseRoute] | None = None) -> Starlette:
    """The HTTP application over a runtime; the committer runs for the app's lifetime."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime.committer.start()
        try:
            interval = runtime.settings.retention_interval_seconds
            async with retention.background(runtime.store, interval):
                yield
        finally:
            runtime.committer.stop()

    routes: list[BaseRoute] = [
        *track_api.routes,
        *api.routes,
        *privacy_api.routes,
        *analytics_api.routes,
        *(extra_routes or []),
        *metrics.routes,
        Route("/openapi.json", openapi, methods=["GET"]),
        *vero_api.routes,
        *segment_api.routes,
    ]
    if DASHBOARD.is_dir():
        routes.append(dashboard.mount(DASHBOARD))
    app = Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
    # Added first, so it runs inside CORS: a browser can read the 503 it answers.
    app.add_middleware(ConcurrencyLimit, state=runtime.inflight)
    app.add_middleware(IngestCORS, origins=runtime.settings.cors_origins)
    app.state.runtime = runtime
    app.state.store = runtime.store
    app.state.keyring = runtime.keyring
    app.state.committer = runtime.committer
    app.state.broadcaster = Broadcaster()
    runtime.committer.listeners.append(app.state.broadcaster.publish)
    app.state.metrics = metrics.Metrics(
        runtime.committer,
        suppressed=lambda: runtime.ingestor.suppressed_count,
        limiter=runtime.limiter,
        inflight=runtime.inflight,
    )
    return app
