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
    declared, encoding = _framing(request)
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyError("body_too_large", _too_large(limit), 413)
    body = await _receive(request, limit, timeout)
    if encoding is None:
        return body
    encoding = encoding.strip().lower()
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


def _framing(request: Request) -> tuple[str | None, str | None]:
    """Content-Length and Content-Encoding, in one pass over the raw headers (a starlette
    Headers lookup of an absent name raises and catches a KeyError: ~1 µs each)."""
    declared = encoding = None
    for name, value in request.scope["headers"]:
        if name == b"content-length":
            declared = value.decode("latin-1")
        elif name == b"content-encoding":
            encoding = value.decode("latin-1")
    return declared, encoding


async def _receive(request: Request, limit: int, timeout: float) -> bytes:
    """The raw body from the ASGI messages, within `timeout` seconds.

    The deadline is one timer that cancels this task (what asyncio.timeout does, without its
    context manager's bookkeeping: 4.4 -> ~1 µs per request, most of which carry one event).
    """
    task = asyncio.current_task()
    assert task is not None
    cancelling = task.cancelling()
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    timer = asyncio.get_running_loop().call_later(timeout, expire)
    receive = request.receive
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyError("body_too_large", _too_large(limit), 413)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
    except asyncio.CancelledError:
        if expired and task.uncancel() <= cancelling:
            raise BodyError(
                "body_timeout", f"The request body did not arrive within {timeout:g} seconds.", 408
            ) from None
        raise
    except ClientDisconnect:
        raise BodyError("client_disconnected", "The client went away mid-body.", 400) from None
    finally:
        timer.cancel()
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(limit: int, measured: str = "") -> str:
    return (
        f"The request body is over the batch limit of {limit} bytes{measured}; "
        "send smaller batches."
    )
