"""uvicorn's httptools protocol with a deadline on request headers (slowloris).

uvicorn bounds the time between requests on a kept-alive connection (`timeout_keep_alive`,
but only until the first byte of the next request arrives) and nothing else: a client that
connects and never finishes its headers, or sends them a byte a minute, holds its connection
for ever, and a few hundred such clients exhaust --max-connections for everybody. Bodies are
bounded by --body-timeout in the app; this bounds the part before the app sees anything:
from the connection (or the end of the previous response) to the end of the headers. Past
--header-timeout a client that began a request gets 408, and the connection is closed (one
that sent nothing is closed without a word, as uvicorn closes an idle kept-alive connection:
a response nobody asked for could be read as the answer to the client's next request).

It subclasses uvicorn's own protocol and hooks four of its callbacks; the test in
tests/test_overload.py fails if a uvicorn upgrade changes them under it.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_BODY = b'{"error":{"code":"header_timeout","message":"The request headers came too slowly."}}'
_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
    b"connection: close\r\ncontent-length: " + str(len(_BODY)).encode() + b"\r\n\r\n" + _BODY
)


def with_header_timeout(seconds: float) -> type[asyncio.Protocol]:
    """An HTTP protocol class for uvicorn.Config(http=…) that gives headers `seconds`."""

    class HeaderDeadline(HttpToolsProtocol):
        """HttpToolsProtocol, and a timer from waiting for a request to its headers' end."""

        _deadline: asyncio.TimerHandle | None = None
        _begun = False

        def _arm(self) -> None:
            self._disarm()
            self._begun = False
            self._deadline = self.loop.call_later(seconds, self._expired)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                if self._begun:
                    self.transport.write(_TIMEOUT)
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            self._begun = True
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            # A pipelined request already has its headers; otherwise wait for the next one.
            waiting = not self.pipeline
            super().on_response_complete()
            if waiting and not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeaderDeadline
