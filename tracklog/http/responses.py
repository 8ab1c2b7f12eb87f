"""The two shapes every answer takes: JSON encoded by msgspec, and the one error body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from starlette.responses import Response

from tracklog.http.auth import AuthError
from tracklog.http.rate_limit import RateLimited
from tracklog.http.schemas.common import ErrorAnswer, error_detail
from tracklog.ingest.wire.common import BodyError

# What a client's request can fail on before anything is stored: its key, its rate, its body.
ClientFailure = AuthError | RateLimited | BodyError


def json_response(data: Any, status: int = 200) -> Response:
    """A JSON response encoded by msgspec (datetimes as ISO-8601, UUIDs as strings)."""
    return Response(msgspec.json.encode(data), status, media_type="application/json")


def error(
    status: int, code: str, message: str, field: str | None = None, **headers: str
) -> Response:
    """The one shape of every error body: `{"error": {code, field?, message}}`."""
    response = json_response(ErrorAnswer(error_detail(code, message, field)), status)
    response.headers.update(headers)
    return response


def in_shape(exc: ClientFailure, shape: Callable[[int, str, str], Response]) -> Response:
    """A client failure as a wire format's error `shape` (status, code, message) gives it;
    a 429 keeps its Retry-After."""
    if isinstance(exc, RateLimited):
        response = shape(429, "rate_limited", exc.message)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return shape(exc.status, exc.code, exc.message)
