"""The emulator's HTTP layer alone, for ``bench.bench_emulator --decompose``.

The same uvicorn configuration, protocol and bounds as ``python -m gamelift_emulator``
(``server.uvicorn_config``), hot path included, but every request is answered ``200 {}``
with a request id at once: no SigV4, no validation, no state. The difference between
this and the emulator is the GameLift work; between this and the bare responder, the HTTP
layer. Run as ``python -m bench.http_layer``; prints its URL first, stops on SIGTERM.
"""

from __future__ import annotations

import socket

import uvicorn

from gamelift_emulator.http_protocol import Limits
from gamelift_emulator.responses import Response, json_response, new_request_id
from gamelift_emulator.server import (
    MAX_CONNECTIONS,
    SOCKET_TIMEOUT_SECONDS,
    Receive,
    Scope,
    Send,
    send_answer,
    uvicorn_config,
)


def answer_empty(headers: list[tuple[bytes, bytes]], body: bytes) -> Response:
    """The hot path's answer to any call: ``200 {}`` with a fresh request id."""
    return json_response(200, {}, new_request_id())


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """What uvicorn's own path answers (requests the hot path does not take): the same."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body", False):
        pass
    await send_answer(send, answer_empty([], b""), close=False)


def main() -> None:
    """Serve on a free loopback port until SIGTERM or SIGINT (uvicorn's handlers)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen()  # before the URL is printed: a client may connect at once (uvicorn re-listens)
    limits = Limits(SOCKET_TIMEOUT_SECONDS, MAX_CONNECTIONS, fast_handler=answer_empty)
    print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn_config(app, limits)).run(sockets=[sock])


if __name__ == "__main__":
    main()
