"""The fastest answer a Python server gives here, for ``bench.bench_emulator --decompose``.

One uvloop event loop and httptools' parser (as the emulator's), answering every request
with the same bytes: no bounds, no timers, no application. It shows what is left when
nothing but parsing runs in Python, next to the bare ``http.server`` responder. Run as
``python -m bench.constant_responder``; prints its URL first, stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from typing import cast

import httptools
import uvloop

ANSWER = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: 2\r\n\r\n{}"
)


class ConstantProtocol(asyncio.Protocol):
    """One connection: parse with httptools, answer each complete request at once."""

    def __init__(self) -> None:
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's, not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            if self._transport is not None:
                self._transport.close()

    def on_message_complete(self) -> None:
        if self._transport is not None:
            self._transport.write(ANSWER)


async def serve() -> None:
    """Listen on a free loopback port, print its URL, serve until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(ConstantProtocol, "127.0.0.1", 0)
    print(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()


def main() -> None:
    """Command line entry point."""
    uvloop.run(serve())


if __name__ == "__main__":
    main()
