"""Reading a request body: bounded in size and time, gzip or deflate undone within the bound."""

from __future__ import annotations

import asyncio
import zlib

from starlette.requests import ClientDisconnect, Request

from tracklog.ingest.wire.common import BodyError

# Gzip can expand a thousandfold: decompression stops at the batch limit, so a small "bomb"
# costs no more memory than an honest full batch.
_GZIP = zlib.MAX_WBITS | 16


async def read_body(request: Request, limit: int, timeout: float = 30.0) -> bytes:
    """The request body, decompressed, refused past `limit` bytes or `timeout` seconds."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyError("body_too_large", _too_large(limit), 413)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BodyError("body_too_large", _too_large(limit), 413)
                chunks.append(chunk)
    except TimeoutError:
        raise BodyError(
            "body_timeout", f"The request body did not arrive within {timeout:g} seconds.", 408
        ) from None
    except ClientDisconnect:
        raise BodyError("client_disconnected", "The client went away mid-body.", 400) from None
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise BodyError(
            "unsupported_encoding",
            f"Content-Encoding {encoding!r} is not supported; send gzip or no encoding.",
            415,
        )
    inflater = zlib.decompressobj(_GZIP if encoding == "gzip" else zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise BodyError(
            "invalid_encoding", f"The body is not valid {encoding} data.", 400
        ) from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise BodyError("body_too_large", _too_large(limit, " after decompression"), 413)
    if not inflater.eof:
        raise BodyError("invalid_encoding", f"The {encoding} body is truncated.", 400)
    return out


def _too_large(limit: int, measured: str = "") -> str:
    return (
        f"The request body is over the batch limit of {limit} bytes{measured}; "
        "send smaller batches."
    )
