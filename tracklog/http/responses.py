"""The two shapes every answer takes: JSON encoded by msgspec, and the one error body."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

from tracklog.http.schemas.common import ErrorAnswer, error_detail


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
