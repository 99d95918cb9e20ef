"""The HTTP server (uvicorn) and the ``Emulator`` context manager.

uvicorn serves HTTP/1.1 on one event loop (uvloop, httptools), with the bounds of
:mod:`gamelift_emulator.http_protocol`; :func:`make_app` is the ASGI application that
reads the body within its cap and hands the request to the GameLift responder or the
control API. Every answer goes out with ``TCP_NODELAY`` (Nagle would otherwise hold a
keep-alive answer ~40 ms behind the client's delayed ACK) and carries
``x-amzn-RequestId``.

Calls run on the event loop itself: the work of one call is tens of microseconds, less
than a hand-off to a thread would cost. Injected latency is awaited, never slept, so it
delays only its own call.

    with Emulator() as emu:
        client = boto3.client("gamelift", endpoint_url=emu.endpoint_url, ...)
        emu.control.create_fleet()
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from types import TracebackType
from typing import Any

import uvicorn

from gamelift_emulator.client import EmulatorControl
from gamelift_emulator.clock import Clock, SystemClock
from gamelift_emulator.control import ControlAPI
from gamelift_emulator.faults import FaultInjector
from gamelift_emulator.http_protocol import Limits, error_answer, protocol_class
from gamelift_emulator.models import BackendStore, EmulatorSettings, GameLiftBackend
from gamelift_emulator.responses import (
    JSON_CONTENT_TYPE,
    GameLiftResponder,
    Pending,
    Response,
    internal_failure,
    new_request_id,
)
from gamelift_emulator.sigv4 import SigV4Verifier
from gamelift_emulator.ticker import LifecycleTimer

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
DISCARD_LIMIT_BYTES = 16 * MAX_BODY_BYTES
SOCKET_TIMEOUT_SECONDS = 30.0
MAX_CONNECTIONS = 4096
LARGE_BODY_BYTES = 64 * 1024
MAX_LARGE_BODIES = 4
CONTROL_PREFIX = "/_emulator"
_LISTEN_BACKLOG = 2048

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class _Headers:
    """Request headers, case-insensitive, first value wins (as ``http.client`` reads)."""

    __slots__ = ("_values",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        # Names are lower-case already (uvicorn); decoded at once: most are asked for.
        self._values = {k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(raw)}

    def get(self, name: str, /) -> str | None:
        key = _HEADER_KEYS.get(name)
        if key is None:
            key = _HEADER_KEYS[name] = name.lower()
        return self._values.get(key)


_HEADER_KEYS: dict[str, str] = {}  # header name as asked -> lower case


class _DisconnectedError(Exception):
    """The client went away (or timed out) before its body arrived."""


def make_app(
    responder: GameLiftResponder,
    control: ControlAPI,
    max_body_bytes: int = MAX_BODY_BYTES,
    socket_timeout: float = SOCKET_TIMEOUT_SECONDS,
    after_answer: Callable[[], None] | None = None,
) -> App:
    """The ASGI application: body within its cap, then GameLift or the control API
    (``after_answer`` runs once an answer went out)."""
    large_bodies: asyncio.Semaphore | None = None

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal large_bodies
        if scope["type"] != "http":
            return
        headers = _Headers(scope["headers"])
        declared = headers.get("content-length")
        length = int(declared) if declared and declared.isdigit() else None
        chunked = declared is None and headers.get("transfer-encoding") is not None
        if length is not None and length > max_body_bytes:
            close = length > DISCARD_LIMIT_BYTES  # uvicorn drains the rest, up to this
            message = f"Request body of {length} bytes exceeds the limit of {max_body_bytes} bytes."
            await send_answer(send, error_answer(413, message), close=close)
            return
        large = chunked or (length or 0) > LARGE_BODY_BYTES
        if large:
            if large_bodies is None:
                large_bodies = asyncio.Semaphore(MAX_LARGE_BODIES)
            try:
                await asyncio.wait_for(large_bodies.acquire(), socket_timeout)
            except TimeoutError:
                await send_answer(send, error_answer(503, "The emulator is busy."), close=True)
                return
        try:
            try:
                body = await _read_body(receive, max_body_bytes)
            except _DisconnectedError:
                return
            if body is None:
                message = f"Chunked request body exceeds the limit of {max_body_bytes} bytes."
                await send_answer(send, error_answer(413, message), close=True)
                return
            response = await _dispatch(scope, headers, body, responder, control)
        finally:
            if large and large_bodies is not None:
                large_bodies.release()
        await send_answer(send, response, close=False, head=scope["method"] == "HEAD")
        if after_answer is not None:
            after_answer()

    return app


def fast_handler(
    responder: GameLiftResponder, faults: FaultInjector
) -> Callable[[list[tuple[bytes, bytes]], bytes], Response | None]:
    """The hot path's handler: a GameLift call answered at once, or None when injected
    latency is configured (the ASGI path awaits it without blocking the loop)."""

    def handle(raw_headers: list[tuple[bytes, bytes]], body: bytes) -> Response | None:
        if faults.config.latency_ms:
            return None
        answer = responder.handle("POST", "/", _Headers(raw_headers), body)
        while isinstance(answer, Pending):  # latency configured this very instant
            time.sleep(answer.delay)
            answer = answer.resume()
        return answer

    return handle


async def _read_body(receive: Receive, cap: int) -> bytes | None:
    """The whole body, or None past ``cap`` (a chunked body that keeps coming)."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _DisconnectedError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


async def _dispatch(
    scope: Scope, headers: _Headers, body: bytes, responder: GameLiftResponder, control: ControlAPI
) -> Response:
    path = scope["raw_path"].decode("latin-1")
    query = scope["query_string"]
    if query:
        path = f"{path}?{query.decode('latin-1')}"
    method = scope["method"]
    try:
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            client = scope.get("client")
            return control.handle(method, path, body, client[0] if client else "")
        answer = responder.handle(method, path, headers, body)
        while isinstance(answer, Pending):  # injected latency: await it, never block
            await asyncio.sleep(answer.delay)
            answer = answer.resume()
        return answer
    except Exception:  # a bug of the emulator: answered, never a dropped connection
        request_id = new_request_id()
        log.exception("internal failure, request id %s", request_id)
        return internal_failure(request_id)


async def send_answer(send: Send, response: Response, *, close: bool, head: bool = False) -> None:
    """``response`` through ASGI's ``send``: its head (content type and length, its headers),
    then its body (none for HEAD)."""
    headers = [
        (b"content-type", response.content_type.encode("latin-1")),
        (b"content-length", str(len(response.body)).encode("latin-1")),
    ]
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else response.body})


def uvicorn_config(app: App, limits: Limits) -> uvicorn.Config:
    """How the emulator runs uvicorn: uvloop, httptools within ``limits``, no lifespan, no
    access log, no ``server`` header (``bench.http_layer`` serves the same layer alone)."""
    return uvicorn.Config(
        app,
        http=protocol_class(limits),
        loop="uvloop",
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
        proxy_headers=False,
        timeout_keep_alive=int(max(1, limits.socket_timeout)),
        timeout_graceful_shutdown=1,
        backlog=_LISTEN_BACKLOG,
    )


class Emulator:
    """A running local GameLift: HTTP server, state, control API, faults.

    Args:
        host: interface to listen on (loopback by default; the control API only
            answers loopback clients anyway).
        port: 0 picks a free port; see ``endpoint_url``.
        region: the default region, for control calls that name none.
        clock: time source of the ticket lifecycle and throttling (``ManualClock``
            in tests).
        credentials: ``{access_key: (secret, account_id)}``; default ``test``/``test``
            in account ``123456789012``. Control calls act on the first key's account.
        settings: lifecycle settings (``EmulatorSettings``); ``reset`` restores them.
        max_body_bytes: larger request bodies are answered 413.
        socket_timeout: seconds a connection may take to send a whole request (and
            stay idle between requests).
        max_connections: connections open at once; past it a newcomer is answered 503.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "us-east-1",
        clock: Clock | None = None,
        credentials: Mapping[str, tuple[str, str]] | None = None,
        settings: EmulatorSettings | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        socket_timeout: float = SOCKET_TIMEOUT_SECONDS,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.host = host
        self.region = region
        self.clock: Clock = clock or SystemClock()
        self.verifier = SigV4Verifier(credentials)
        self.account_id = self.verifier.default_account_id
        initial = settings or EmulatorSettings()
        self.store = BackendStore(self.clock, dataclasses.replace(initial))
        self.faults = FaultInjector(self.clock)
        self.responder = GameLiftResponder(self.store.backend, self.verifier, self.faults)
        self.control_api = ControlAPI(
            store=self.store,
            responder=self.responder,
            faults=self.faults,
            clock=self.clock,
            account_id=self.account_id,
            region=region,
        )
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self._socket.listen(_LISTEN_BACKLOG)
        self.port: int = self._socket.getsockname()[1]
        self.timer = LifecycleTimer(self.store, self.clock)
        limits = Limits(
            socket_timeout=socket_timeout,
            max_connections=max_connections,
            fast_handler=fast_handler(self.responder, self.faults),
            after_answer=self.timer.poke,
        )
        app = make_app(
            self.responder, self.control_api, max_body_bytes, socket_timeout, self.timer.poke
        )
        self._server = uvicorn.Server(uvicorn_config(app, limits))
        self._thread: threading.Thread | None = None
        self.control = EmulatorControl(self.endpoint_url)

    def connection_count(self) -> int:
        """Connections open now."""
        return len(self._server.server_state.connections)

    def requests_answered(self) -> int:
        """Requests answered since the server started (uvicorn's count, which the hot path
        keeps too)."""
        return self._server.server_state.total_requests

    @property
    def endpoint_url(self) -> str:
        """``http://host:port``, for ``endpoint_url=`` / ``--endpoint-url``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def backend(self, region: str | None = None, account_id: str | None = None) -> GameLiftBackend:
        """In-process access to one account+region's state (default: the control's)."""
        return self.store.backend(account_id or self.account_id, region or self.region)

    def start(self) -> Emulator:
        """Serve on a daemon thread (its own event loop) once it accepts; idempotent."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.run,
                kwargs={"sockets": [self._socket]},
                name=f"gamelift-emulator-{self.port}",
                daemon=True,
            )
            self._thread.start()
            while not self._server.started and self._thread.is_alive():
                self._thread.join(0.005)  # uvicorn offers no started event to wait on
            if not self._server.started:
                raise RuntimeError("the emulator's HTTP server did not start (see the log)")
        return self

    def stop(self) -> None:
        """Stop serving; close the listening socket and every connection."""
        if self._thread is not None:
            self._server.should_exit = True
            self._thread.join(5)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join()
            self._thread = None
        self._socket.close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


__all__ = ["JSON_CONTENT_TYPE", "Emulator", "make_app", "send_answer", "uvicorn_config"]
