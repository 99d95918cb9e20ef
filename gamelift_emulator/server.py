"""The threaded HTTP server and the ``Emulator`` context manager.

Python's ``http.server`` writes the status line and headers, then the body, in separate
``send`` calls; on a keep-alive connection Nagle's algorithm and the client's delayed
ACK then hold the second write for ~40 ms, which caps a sequential client at ~25
calls/s. So every accepted socket gets ``TCP_NODELAY`` *and* every response is built
whole and written once.

Hostile or broken clients cost bounded resources, and every answer is AWS-shaped
(``{"__type", "message"}`` with ``x-amzn-RequestId``), even for malformed HTTP:

* at most ``max_connections`` connections (one thread each); past that, the oldest
  idle keep-alive connection is closed to make room, or, if none is idle, the new one
  is answered 503 ``ServiceUnavailableException`` and closed;
* a request (line, headers, body) must arrive within ``socket_timeout`` of the
  connection becoming idle, however slowly it trickles in: a reaper run by the
  accept loop closes late ones (408 ``RequestTimeoutException``, or silently when
  nothing was sent);
* bodies are capped (413, ``Content-Length`` or chunked), and at most
  ``MAX_LARGE_BODIES`` bodies over ``LARGE_BODY_BYTES`` are held at once.

    with Emulator() as emu:
        client = boto3.client("gamelift", endpoint_url=emu.endpoint_url, ...)
        emu.control.create_fleet()
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import logging
import re
import socket
import threading
import time
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
MAX_CONNECTIONS = 128
LARGE_BODY_BYTES = 64 * 1024
MAX_LARGE_BODIES = 4
CONTROL_PREFIX = "/_emulator/"
_MAX_LINE = 65536
_DIGITS = re.compile(r"[0-9]+")
_HEX = re.compile(r"[0-9a-fA-F]{1,8}")
# Codes for answers of the HTTP layer (``send_error``), shaped as AWS's front end's.
_HTTP_ERROR_CODES = {
    400: "BadRequestException",
    408: "RequestTimeoutException",
    413: "RequestEntityTooLargeException",
    414: "RequestURITooLongException",
    431: "RequestHeaderFieldsTooLargeException",
    501: "NotImplementedException",
    503: "ServiceUnavailableException",
    505: "HTTPVersionNotSupportedException",
}


class _HTTPError(Exception):
    """An error of the HTTP layer, answered as ``{"__type", "message"}``; closes."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _HTTP_ERROR_CODES.get(status, "BadRequestException")
        self.message = message


@dataclasses.dataclass
class _Watch:
    """What the reaper knows of one connection (fields set by its handler thread)."""

    deadline: float | None
    idle: bool = True
    expired: bool = False


class _Handler(http.server.BaseHTTPRequestHandler):
    """One connection; every request, whatever its method, goes through ``_serve``."""

    protocol_version = "HTTP/1.1"
    server_version = "gamelift-emulator"
    sys_version = ""
    server: _Server
    watch: _Watch

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.socket_timeout)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.watch = self.server.watch_of(self.connection)

    def handle_one_request(self) -> None:
        """Read one request under the connection's deadline and answer it."""
        self.requestline, self.request_version, self.command = "", "HTTP/1.1", ""
        self._expect(idle=True)
        try:
            line = self.rfile.readline(_MAX_LINE + 1)
            if not line:  # the client closed, or stayed idle past the deadline
                self.close_connection = True
                return
            if len(line) > _MAX_LINE:
                raise _HTTPError(414, "Request line too long.")
            if not line.endswith(b"\n"):
                raise self._cut_short()
            self.raw_requestline = line
            self._expect(idle=False)
            if self.parse_request():  # on failure it answered through send_error
                self._serve()
        except _HTTPError as error:
            self.close_connection = True
            self._write(_plain_error(error.status, error.code, error.message))
        except TimeoutError:
            self.close_connection = True
            if not self.watch.idle:  # an idle keep-alive connection just closes
                self._write(_timeout_error())
        except OSError:  # reset by the client: nobody to answer
            self.close_connection = True

    def _expect(self, idle: bool) -> None:
        self.watch.idle = idle
        self.watch.deadline = time.monotonic() + self.server.socket_timeout

    def _cut_short(self) -> _HTTPError:
        if self.watch.expired:
            return _HTTPError(408, _TIMEOUT_MESSAGE)
        return _HTTPError(400, "The request was cut short by the client.")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer errors found by ``http.server`` itself (bad request line, headers)."""
        self.close_connection = True
        text = message or (HTTPStatus(code).phrase if code in _STATUSES else "Bad request")
        if self.watch.expired:
            code, text = 408, _TIMEOUT_MESSAGE
        self._write(_plain_error(code, _HTTP_ERROR_CODES.get(code, "BadRequestException"), text))

    def _serve(self) -> None:
        try:
            response = self._dispatch()
        except (_HTTPError, TimeoutError):
            raise
        except Exception:
            request_id = new_request_id()
            log.exception("internal failure, request id %s", request_id)
            response = internal_failure(request_id)
        self._write(response)

    def _dispatch(self) -> Response:
        length = self._content_length()
        large = length is None or length > LARGE_BODY_BYTES
        if large and not self.server.large_bodies.acquire(timeout=self.server.socket_timeout):
            self.close_connection = True
            return _plain_error(503, "ServiceUnavailableException", "The emulator is busy.")
        try:
            body = self._read_chunked() if length is None else self._read_body(length)
            self.watch.deadline = None  # read in time: the work itself is not timed
            if isinstance(body, Response):
                return body
            if self.path.startswith(CONTROL_PREFIX) or self.path.rstrip("/") == "/_emulator":
                client_host = self.client_address[0]
                return self.server.control.handle(self.command, self.path, body, client_host)
            return self.server.responder.handle(self.command, self.path, self.headers, body)
        finally:
            if large:
                self.server.large_bodies.release()

    def _content_length(self) -> int | None:
        """The declared body length; None for a chunked body."""
        encoding = (self.headers.get("Transfer-Encoding") or "").strip().lower()
        lengths = {v.strip() for v in self.headers.get_all("Content-Length") or []}
        if encoding:
            if encoding != "chunked":
                raise _HTTPError(501, f"Transfer-Encoding {encoding!r} is not supported.")
            if lengths:  # both: chunked wins (RFC 9112), and the connection must close
                self.close_connection = True
            return None
        if len(lengths) > 1:
            raise _HTTPError(400, "Conflicting Content-Length headers.", "SerializationException")
        value = lengths.pop() if lengths else "0"
        if not _DIGITS.fullmatch(value):
            raise _HTTPError(400, "Invalid Content-Length header.", "SerializationException")
        return int(value) if len(value) <= 18 else DISCARD_LIMIT_BYTES + 1

    def _read_body(self, length: int) -> bytes | Response:
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
            raise self._cut_short()
        return body

    def _read_chunked(self) -> bytes | Response:
        """Decode a ``Transfer-Encoding: chunked`` body, capped like any other."""
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise self._cut_short() if len(line) < 1024 else _HTTPError(400, "Bad chunk.")
            size_text = line.split(b";", 1)[0].strip().decode("latin-1")
            if not _HEX.fullmatch(size_text):
                raise _HTTPError(400, f"Invalid chunk size {size_text[:20]!r}.")
            size = int(size_text, 16)
            if size == 0:
                break
            if len(body) + size > self.server.max_body_bytes:
                self.close_connection = True  # the rest is not read: do not reuse
                return _plain_error(
                    413,
                    "RequestEntityTooLargeException",
                    f"Chunked request body exceeds the limit of "
                    f"{self.server.max_body_bytes} bytes.",
                )
            chunk = self.rfile.read(size)
            if len(chunk) < size or not self.rfile.readline(3).endswith(b"\n"):
                raise self._cut_short()
            body += chunk
        for _ in range(100):  # trailers, ignored
            trailer = self.rfile.readline(_MAX_LINE + 1)
            if trailer in (b"\r\n", b"\n"):
                return bytes(body)
            if not trailer.endswith(b"\n"):
                raise self._cut_short()
        raise _HTTPError(431, "Too many trailers.")

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
        try:
            self.wfile.write(payload)  # one write: see the module docstring
        except OSError:  # the client is gone; nothing to tell it
            self.close_connection = True
            return
        self.log_request(response.status)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


_STATUSES = {s.value for s in HTTPStatus}
_TIMEOUT_MESSAGE = "The client did not send the whole request in time."


def _plain_error(status: int, code: str, message: str) -> Response:
    return json_response(status, {"__type": code, "message": message}, new_request_id())


def _timeout_error() -> Response:
    return _plain_error(408, "RequestTimeoutException", _TIMEOUT_MESSAGE)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        responder: GameLiftResponder,
        control: ControlAPI,
        max_body_bytes: int,
        socket_timeout: float,
        max_connections: int,
    ) -> None:
        self.responder = responder
        self.control = control
        self.max_body_bytes = max_body_bytes
        self.socket_timeout = socket_timeout
        self.max_connections = max_connections
        self.large_bodies = threading.BoundedSemaphore(MAX_LARGE_BODIES)
        self._watches: dict[socket.socket, _Watch] = {}
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Admit the connection (a thread of its own) or refuse it with 503."""
        with self._lock:
            admitted = len(self._watches) < self.max_connections or self._evict_idle()
            if admitted:
                deadline = time.monotonic() + self.socket_timeout
                self._watches[request] = _Watch(deadline)
        if admitted:
            super().process_request(request, client_address)
        else:
            _refuse(request)
            self.shutdown_request(request)

    def _evict_idle(self) -> bool:
        """Close the idle connection closest to its deadline (caller holds the lock)."""
        idle = [(w.deadline or 0.0, s) for s, w in self._watches.items() if w.idle]
        if not idle:
            return False
        _, victim = min(idle, key=lambda pair: pair[0])
        del self._watches[victim]  # its thread ends at once: it reads EOF
        with contextlib.suppress(OSError):
            victim.shutdown(socket.SHUT_RDWR)
        return True

    def watch_of(self, connection: socket.socket) -> _Watch:
        """The watch of an admitted connection (a detached one if it was evicted)."""
        with self._lock:
            return self._watches.get(connection) or _Watch(None, expired=True)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._watches.pop(request, None)
        super().shutdown_request(request)

    def service_actions(self) -> None:
        """Run by ``serve_forever`` every poll: close connections past their deadline."""
        now = time.monotonic()
        with self._lock:
            late = [
                (s, w)
                for s, w in self._watches.items()
                if not w.expired and w.deadline is not None and w.deadline < now
            ]
        for connection, watch in late:
            watch.expired = True  # reads now see EOF; the handler answers 408 if due
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RD)

    def connection_count(self) -> int:
        """Connections being served (each holds one thread)."""
        with self._lock:
            return len(self._watches)

    def close_connections(self) -> None:
        """Close idle keep-alive connections so no thread outlives the server for long."""
        with self._lock:
            connections = list(self._watches)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def _refuse(request: socket.socket) -> None:
    """Answer 503 on a connection that is not admitted, without blocking the accept loop."""
    response = _plain_error(
        503, "ServiceUnavailableException", "Too many connections to the emulator."
    )
    head = (
        f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: {response.content_type}\r\n"
        f"Content-Length: {len(response.body)}\r\n"
        f"x-amzn-RequestId: {response.headers['x-amzn-RequestId']}\r\n"
        "Connection: close\r\n\r\n"
    )
    with contextlib.suppress(OSError):
        request.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            request.recv(_MAX_LINE)  # what already came: fewer resets for the client
        request.send(head.encode("latin-1") + response.body)


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
        max_connections: connections served at once (one thread each).
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
        self._server = _Server(
            (host, port),
            self.responder,
            self.control_api,
            max_body_bytes,
            socket_timeout,
            max_connections,
        )
        self.port: int = self._server.server_address[1]
        self._thread: threading.Thread | None = None
        self.control = EmulatorControl(self.endpoint_url)

    def connection_count(self) -> int:
        """Connections being served now (each holds one thread)."""
        return self._server.connection_count()

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
