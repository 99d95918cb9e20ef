"""The threaded HTTP server and the ``Emulator`` context manager.

Python's ``http.server`` writes the status line and headers, then the body, in separate
``send`` calls; on a keep-alive connection Nagle's algorithm and the client's delayed
ACK then hold the second write for ~40 ms, which caps a sequential client at ~25
calls/s. So every accepted socket gets ``TCP_NODELAY`` *and* every response is built
whole and written once. Bodies are capped (413) and sockets time out, so a slow or
hostile client costs one thread for a bounded time, never the server.

    with Emulator() as emu:
        client = boto3.client("gamelift", endpoint_url=emu.endpoint_url, ...)
        emu.control.create_fleet()
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import logging
import socket
import threading
from collections.abc import Mapping
from http import HTTPStatus
from types import TracebackType
from typing import Any

from gamelift_emulator.client import EmulatorControl
from gamelift_emulator.clock import Clock, SystemClock
from gamelift_emulator.control import ControlAPI
from gamelift_emulator.faults import FaultInjector
from gamelift_emulator.models import BackendStore, EmulatorSettings, GameLiftBackend
from gamelift_emulator.responses import (
    JSON_CONTENT_TYPE,
    GameLiftResponder,
    Response,
    internal_failure,
    json_response,
    new_request_id,
)
from gamelift_emulator.sigv4 import SigV4Verifier

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
DISCARD_LIMIT_BYTES = 16 * MAX_BODY_BYTES
SOCKET_TIMEOUT_SECONDS = 30.0
CONTROL_PREFIX = "/_emulator/"


class _Handler(http.server.BaseHTTPRequestHandler):
    """One connection; every method goes through ``_serve``."""

    protocol_version = "HTTP/1.1"
    server_version = "gamelift-emulator"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.socket_timeout)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def do_POST(self) -> None:
        self._serve()

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_POST  # noqa: N815

    def _serve(self) -> None:
        try:
            response = self._dispatch()
        except Exception:
            request_id = new_request_id()
            log.exception("internal failure, request id %s", request_id)
            response = internal_failure(request_id)
        self._write(response)

    def _dispatch(self) -> Response:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            return _plain_error(
                411, "LengthRequiredException", "Send the body with a Content-Length header."
            )
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            return _plain_error(400, "SerializationException", "Invalid Content-Length header.")
        if length > self.server.max_body_bytes:
            self._discard(length)
            return _plain_error(
                413,
                "RequestEntityTooLargeException",
                f"Request body of {length} bytes exceeds the limit of "
                f"{self.server.max_body_bytes} bytes.",
            )
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            self.close_connection = True
            return _plain_error(400, "SerializationException", "Request body was truncated.")
        if self.path.startswith(CONTROL_PREFIX) or self.path.rstrip("/") == "/_emulator":
            return self.server.control.handle(self.command, self.path, body, self.client_address[0])
        return self.server.responder.handle(self.command, self.path, self.headers, body)

    def _discard(self, length: int) -> None:
        """Read and drop an oversized body, so the client can read our 413 (no EPIPE).

        Past ``DISCARD_LIMIT_BYTES`` the connection is closed instead.
        """
        if length > DISCARD_LIMIT_BYTES:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 64 * 1024))
            if not chunk:
                self.close_connection = True
                return
            length -= len(chunk)

    def _write(self, response: Response) -> None:
        reason = HTTPStatus(response.status).phrase if response.status in _STATUSES else ""
        lines = [
            f"HTTP/1.1 {response.status} {reason}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
            f"Date: {self.date_time_string()}",
        ]
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        payload = head if self.command == "HEAD" else head + response.body
        self.wfile.write(payload)  # one write: see the module docstring
        self.log_request(response.status)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


_STATUSES = {s.value for s in HTTPStatus}


def _plain_error(status: int, code: str, message: str) -> Response:
    return json_response(status, {"__type": code, "message": message}, new_request_id())


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        responder: GameLiftResponder,
        control: ControlAPI,
        max_body_bytes: int,
        socket_timeout: float,
    ) -> None:
        self.responder = responder
        self.control = control
        self.max_body_bytes = max_body_bytes
        self.socket_timeout = socket_timeout
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket, add: bool) -> None:
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Close idle keep-alive connections so no thread outlives the server for long."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


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
            initial_settings=initial,
        )
        self._server = _Server(
            (host, port), self.responder, self.control_api, max_body_bytes, socket_timeout
        )
        self.port: int = self._server.server_address[1]
        self._thread: threading.Thread | None = None
        self.control = EmulatorControl(self.endpoint_url)

    @property
    def endpoint_url(self) -> str:
        """``http://host:port``, for ``endpoint_url=`` / ``--endpoint-url``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def backend(self, region: str | None = None, account_id: str | None = None) -> GameLiftBackend:
        """In-process access to one account+region's state (default: the control's)."""
        backend: GameLiftBackend = self.store.backend(
            account_id or self.account_id, region or self.region
        )
        return backend

    def start(self) -> Emulator:
        """Serve in a daemon thread; idempotent."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"gamelift-emulator-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket and open connections."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.close_connections()
        self._server.server_close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


__all__ = ["JSON_CONTENT_TYPE", "Emulator"]
