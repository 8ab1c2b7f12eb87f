"""read_body through the ASGI receive interface: bodies in several messages, a deadline that
still holds for a body that stops arriving, a client that leaves, and a task that is usable
after a timeout. (Over real sockets: tests/test_overload.py and tests/test_bad_input.py.)"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from starlette.requests import Request

from tracklog.http.body import read_body
from tracklog.ingest.wire.common import BodyError

Message = dict[str, Any]


def request(
    messages: list[Message], headers: dict[str, str] | None = None, then_wait: bool = False
) -> Request:
    """A Request whose receive hands out `messages`, then (after a second if `then_wait`:
    longer than any deadline here) says the client left."""
    queue = list(messages)

    async def receive() -> Message:
        if queue:
            message = queue.pop(0)
            await asyncio.sleep(0)  # arrives later than the call, as from a socket
            return message
        if then_wait:
            await asyncio.sleep(1)
        return {"type": "http.disconnect"}

    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request({"type": "http", "method": "POST", "headers": raw}, receive)


def run(make: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(make())  # type: ignore[arg-type]


def test_body_in_several_messages_is_joined() -> None:
    parts = [b'[{"a":', b"1}", b"]"]
    messages = [{"type": "http.request", "body": p, "more_body": True} for p in parts]
    messages.append({"type": "http.request", "body": b"", "more_body": False})
    assert run(lambda: read_body(request(messages), 1000)) == b"".join(parts)


def test_one_message_body() -> None:
    message = {"type": "http.request", "body": b"{}", "more_body": False}
    assert run(lambda: read_body(request([message]), 1000)) == b"{}"


def test_body_that_stops_arriving_times_out_and_the_task_goes_on() -> None:
    first = {"type": "http.request", "body": b"[", "more_body": True}

    async def body_then_sleep() -> str:
        with pytest.raises(BodyError) as caught:
            await read_body(request([first], then_wait=True), 1000, timeout=0.05)
        # The deadline's cancellation is spent: the same task can await again.
        await asyncio.sleep(0.01)
        return caught.value.code

    assert run(body_then_sleep) == "body_timeout"


def test_a_cancellation_from_outside_is_not_a_timeout() -> None:
    async def cancelled() -> None:
        reading = asyncio.ensure_future(read_body(request([], then_wait=True), 1000, 30))
        await asyncio.sleep(0.01)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading

    run(cancelled)


def test_disconnect_mid_body() -> None:
    first = {"type": "http.request", "body": b"[", "more_body": True}
    with pytest.raises(BodyError) as caught:
        run(lambda: read_body(request([first]), 1000))
    assert caught.value.code == "client_disconnected"


def test_too_large_declared_and_streamed() -> None:
    big = {"type": "http.request", "body": b"x" * 20, "more_body": False}
    for headers in ({"Content-Length": "20"}, {}):
        with pytest.raises(BodyError) as caught:
            run(lambda h=headers: read_body(request([big], h), 10))  # type: ignore[misc]
        assert caught.value.status == 413


def test_gzip_encoding_header_is_read() -> None:
    packed = zlib.compress(b"[1]", wbits=zlib.MAX_WBITS | 16)
    message = {"type": "http.request", "body": packed, "more_body": False}
    got = run(lambda: read_body(request([message], {"Content-Encoding": " GZip "}), 1000))
    assert got == b"[1]"
