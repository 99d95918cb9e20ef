"""uvicorn's httptools protocol with the emulator's bounds on slow and broken clients.

uvicorn parses HTTP/1.1 (llhttp through httptools), runs the ASGI app and keeps
connections alive; this subclass (``Config(http=<protocol class>)``) adds only what a
public emulator endpoint needs and uvicorn leaves out. ``HttpToolsProtocol`` is not a
documented extension point: every uvicorn method it overrides or calls and every attribute
it reads (``parser``, ``pipeline``, ``server_state``, ``cycle``, ``on_message_begin``'s
re-sequencing) is pinned by ``tests/test_emulator_uvicorn_hooks.py``, which names each one
and fails on an uvicorn upgrade that changes it.

* a deadline: a request (line, headers, body) must arrive whole within
  ``socket_timeout`` of the connection becoming idle, however slowly it trickles;
  past it the connection is closed, with 408 ``RequestTimeoutException`` if part of a
  request had arrived, silently if nothing had (an idle keep-alive connection);
* a cap on open connections (past it a newcomer is answered 503 at once and closed),
  on the request line (414), and on the header block (431);
* ``TCP_NODELAY`` on every connection, so a keep-alive answer is never held by Nagle,
  and each answer written in one piece (uvicorn writes a response's head and body
  separately; two sends cost a second wake-up of the client per call);
* every error of the HTTP layer answered AWS-shaped (``{"__type", "message"}`` with
  ``x-amzn-RequestId``) instead of uvicorn's plain text.

Idle and half-sent connections cost a socket and a few objects on one event loop, no
thread, so thousands of them never starve a real client.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gamelift_emulator.responses import Response, json_response, new_request_id

MAX_REQUEST_LINE = 65536
MAX_HEAD_BYTES = 65536
MAX_HEADERS = 100
TIMEOUT_MESSAGE = "The client did not send the whole request in time."
# Codes for answers of the HTTP layer, shaped as AWS's front end's.
HTTP_ERROR_CODES = {
    400: "BadRequestException",
    408: "RequestTimeoutException",
    413: "RequestEntityTooLargeException",
    414: "RequestURITooLongException",
    431: "RequestHeaderFieldsTooLargeException",
    501: "NotImplementedException",
    503: "ServiceUnavailableException",
    505: "HTTPVersionNotSupportedException",
}
_REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}


# The hot path (see BoundedProtocol): request headers and body in, the answer out, or
# None when the request must take the ASGI path after all.
FastHandler = Callable[[list[tuple[bytes, bytes]], bytes], Response | None]
FAST_BODY_MAX = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """The bounds one emulator puts on its connections, and its hot-path handler."""

    socket_timeout: float
    max_connections: int
    fast_handler: FastHandler | None = None
    after_answer: Callable[[], None] | None = None  # run once an answer went out


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


class _HeadError(Exception):
    """A request head the emulator refuses: answered with ``status`` and closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_answer(status: int, message: str, code: str | None = None) -> Response:
    """An AWS-shaped answer of the HTTP layer."""
    code = code or HTTP_ERROR_CODES.get(status, "BadRequestException")
    return json_response(status, {"__type": code, "message": message}, new_request_id())


_status_lines: dict[tuple[int, str], str] = {}  # (status, content type) -> first lines


def raw_bytes(
    response: Response, *, close: bool, extra: list[tuple[bytes, bytes]] | None = None
) -> bytes:
    """``response`` as bytes on the wire, written in one piece (``extra``: uvicorn's
    default headers, the date)."""
    head = _status_lines.get((response.status, response.content_type))
    if head is None:
        reason = _REASONS.get(response.status) or _reason(response.status)
        head = f"HTTP/1.1 {response.status} {reason}\r\ncontent-type: {response.content_type}\r\n"
        _status_lines[(response.status, response.content_type)] = head
    head += f"content-length: {len(response.body)}\r\n"
    for name, value in response.headers.items():
        head += f"{name}: {value}\r\n"
    if close:
        head += "connection: close\r\n"
    parts = [head.encode("latin-1")]
    for raw_name, raw_value in extra or ():
        parts += (raw_name, b": ", raw_value, b"\r\n")
    parts += (b"\r\n", response.body)
    return b"".join(parts)


class _CoalescingTransport:
    """A transport whose writes of one loop step leave as one ``send``.

    Flushed when a response completes (``flush``), when closed, or at the latest on the
    loop's next step (an interim ``100 Continue``). Everything else is the transport's.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._buffer: list[bytes] = []

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def write(self, data: bytes) -> None:
        if not self._buffer:
            self._loop.call_soon(self.flush)
        self._buffer.append(data)

    @property
    def raw(self) -> asyncio.Transport:
        """The transport itself."""
        return self._transport

    def flush(self) -> None:
        if self._buffer:
            data = b"".join(self._buffer)
            self._buffer.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class BoundedProtocol(HttpToolsProtocol):
    """One connection, as uvicorn serves it, within the emulator's ``limits``.

    The hot path: a plain GameLift call (``POST /``, HTTP/1.1, a ``Content-Length`` body of
    at most 64 KiB, nothing else under way on the connection) is answered from the
    parser's completion callback by ``limits.fast_handler``, in one write, without an
    ASGI task; uvicorn still parses it and keeps the connection. Every other request,
    and any the handler declines, takes uvicorn's ASGI path.
    """

    limits: ClassVar[Limits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: float | None = None  # loop time by which the request must be whole
        self._timer: asyncio.TimerHandle | None = None  # fires at or before the deadline
        self._begun = False  # part of a request has arrived (else the connection is idle)
        self._head_bytes = 0
        self._url_bytes = 0
        self._head_size = 0
        self._head_done = False
        self._body_done = False
        self._fast_body: bytearray | None = None  # set while a hot-path request is read
        self._refusal: _HeadError | None = None
        self._deferred: _HeadError | None = None  # refused after the answers before it

    # ---- connection ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Admit the connection (TCP_NODELAY, a deadline) or answer 503 and close."""
        full = len(self.connections) >= self.limits.max_connections
        self._coalescing = _CoalescingTransport(transport, self.loop)
        super().connection_made(cast(asyncio.Transport, self._coalescing))
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if full:
            message = "Too many connections to the emulator."
            self._write_and_close(error_answer(503, message))
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed uvicorn's parser, counting the request's head against its cap."""
        self._begun = True
        if not self._head_done:
            self._head_bytes += len(data)
        super().data_received(data)
        if not self._head_done and self._head_bytes > MAX_HEAD_BYTES and not self._closing():
            self._refuse(_HeadError(431, "The request head is too large."))

    # ---- parser callbacks ----------------------------------------------------------

    def on_message_begin(self) -> None:
        """uvicorn's, but the ASGI scope is built only for a request that needs one."""
        self.url = b""
        self.expect_100_continue = False
        self.headers = []
        self._begun = True
        self._head_bytes = self._url_bytes = self._head_size = 0
        self._head_done = self._body_done = False
        if self._deadline is None:
            self._arm()

    def on_url(self, url: bytes) -> None:
        self._url_bytes += len(url)
        if self._url_bytes > MAX_REQUEST_LINE:
            raise self._remember(_HeadError(414, "Request line too long."))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """uvicorn's header callback (lower-cased name) with the head's size cap; the rest
        is judged once the head is whole, because this runs about ten times per call."""
        self._head_size += len(name) + len(value)
        if self._head_size > MAX_HEAD_BYTES:
            raise self._remember(_HeadError(431, "The request head is too large."))
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self._head_done = True
        if len(self.headers) > MAX_HEADERS:
            raise self._remember(_HeadError(431, "Too many headers."))
        length: int | None = None
        plain = True  # one Content-Length of digits, no Transfer-Encoding, no Expect
        for name, value in self.headers:
            if name == b"content-length":
                plain = plain and length is None and value.isdigit()
                length = int(value) if value.isdigit() else -1
            elif name == b"transfer-encoding":
                plain = False
                if value.strip().lower() != b"chunked":
                    encoding = value.decode("latin-1")
                    raise self._remember(
                        _HeadError(501, f"Transfer-Encoding {encoding!r} is not supported.")
                    )
            elif name == b"expect" and value.lower() == b"100-continue":
                self.expect_100_continue = True
                plain = False
        version = self.parser.get_http_version()
        if version not in ("1.0", "1.1"):
            raise self._remember(_HeadError(505, f"HTTP version {version} is not supported."))
        fits = plain and length is not None and length <= FAST_BODY_MAX
        if fits and self._takes_fast_path(version):
            self._fast_body = bytearray()
            return
        self._asgi_headers_complete()

    def _asgi_headers_complete(self) -> None:
        """uvicorn's own path: its per-request scope (built as its on_message_begin does),
        then its on_headers_complete."""
        url, headers, expect = self.url, self.headers, self.expect_100_continue
        super().on_message_begin()
        self.url, self.expect_100_continue = url, expect
        self.headers.extend(headers)
        super().on_headers_complete()

    def _takes_fast_path(self, version: str) -> bool:
        """A plain ``POST /`` over HTTP/1.1 keep-alive, nothing else under way."""
        if self.limits.fast_handler is None or self.url != b"/" or self.pipeline:
            return False
        if self.parser.get_method() != b"POST" or not self.parser.should_keep_alive():
            return False
        return version == "1.1" and self.cycle_done()

    def on_body(self, body: bytes) -> None:
        if self._fast_body is not None:
            self._fast_body += body
        else:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()  # the whole request arrived in time; the work itself is not timed
        self._begun = False
        self._body_done = True
        if self._fast_body is None:
            super().on_message_complete()
            return
        body, self._fast_body = bytes(self._fast_body), None
        handler = self.limits.fast_handler
        answer = handler(self.headers, body) if handler is not None else None
        if answer is None:  # declined: uvicorn's path after all, body already in hand
            self._asgi_headers_complete()
            super().on_body(body)
            super().on_message_complete()
            return
        if self._closing():  # the client left while its call was answered
            return
        date = self.server_state.default_headers
        coalescing = self._coalescing
        coalescing.flush()  # nothing is pending; the answer goes out in one send
        coalescing.raw.write(raw_bytes(answer, close=False, extra=date))
        self.server_state.total_requests += 1
        if self.limits.after_answer is not None:
            self.limits.after_answer()
        if not self.transport.is_closing() and self._deadline is None:
            self._arm()

    def on_response_complete(self) -> None:
        self._coalescing.flush()  # the whole answer, head and body, in one send
        super().on_response_complete()
        self._unset_keepalive_if_required()  # our deadline covers idle connections too
        if self._deferred is not None and self.cycle_done() and not self.pipeline:
            self._refuse(self._deferred)
        elif not self.transport.is_closing() and self._deadline is None:
            self._arm()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request it cannot parse, AWS-shaped, with our status.

        Requests that arrived before the broken one are answered first, in order.
        """
        refusal = self._refusal or _HeadError(400, f"Malformed HTTP request: {msg}")
        if self._head_done and not self._body_done:  # the request being read is the broken one
            self._abandon_cycle()
            self._refuse(refusal)
        elif self.cycle_done() and not self.pipeline:
            self._refuse(refusal)
        else:
            self._deferred = refusal
            self.flow.pause_reading()

    def cycle_done(self) -> bool:
        """True when no request is being answered on this connection."""
        return self.cycle is None or self.cycle.response_complete

    # ---- helpers -------------------------------------------------------------------

    def _remember(self, error: _HeadError) -> _HeadError:
        self._refusal = error
        return error

    def _refuse(self, error: _HeadError) -> None:
        self._write_and_close(error_answer(error.status, error.message))

    def _write_and_close(self, response: Response) -> None:
        self._disarm()
        if not self._closing():
            self.transport.write(raw_bytes(response, close=True))
            self.transport.close()

    def _closing(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def _arm(self) -> None:
        """Set the deadline; one timer serves a connection's many requests (re-armed when
        it fires early), rather than a new timer per request."""
        self._deadline = self.loop.time() + self.limits.socket_timeout
        if self._timer is None:
            self._timer = self.loop.call_at(self._deadline, self._expire)

    def _disarm(self) -> None:
        self._deadline = None  # the timer, if one is armed, then finds nothing to do

    def _expire(self) -> None:
        """The deadline passed: 408 if a request had begun, else close silently."""
        self._timer = None
        if self._deadline is None or self._closing():
            return
        if self._deadline > self.loop.time():  # moved on since the timer was set
            self._timer = self.loop.call_at(self._deadline, self._expire)
            return
        self._deadline = None
        if not self._begun:
            self.transport.close()
            return
        self._abandon_cycle()
        self._write_and_close(error_answer(408, TIMEOUT_MESSAGE))

    def _abandon_cycle(self) -> None:
        """The app waiting for the rest of this request's body stops there."""
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True
            self.cycle.message_event.set()


def protocol_class(limits: Limits) -> type[BoundedProtocol]:
    """A protocol class bound to one emulator's ``limits`` (uvicorn instantiates it)."""
    return type("EmulatorProtocol", (BoundedProtocol,), {"limits": limits})
