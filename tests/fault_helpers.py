"""Helpers of the fault matrix: a loopback HTTP proxy that breaks connections on demand.

`FaultProxy` stands between the provider plugin and the emulator (the resources are created
with ``endpoint_url`` = the proxy, so it is stored in state and every delete goes through it).
It forwards each request unchanged (SigV4 stays valid: the Host header is kept) and can,
per GameLift operation:

- ``reset``: reset the connection before the request reaches GameLift;
- ``reset_after``: forward the request, then reset instead of relaying the answer (the call
  took effect, the client never hears of it);
- ``hang``: never answer (a server that stops answering) until the rule is cleared or the
  proxy closes, then reset.

``down()`` closes the listening socket and every open connection (the endpoint is down);
``up()`` listens again on the same port. ``on(...)`` runs a callback once, at an exact point
of the traffic (e.g. right after the first StopMatchmaking reached GameLift), so events "in
the middle of a delete" are deterministic instead of timed with sleeps.

One thread per connection (daemon), hangs bounded by ``HANG_LIMIT_SECONDS``, loopback only.
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Action = Literal["reset", "reset_after", "hang"]
Callback = Callable[[dict[str, Any]], object]
HANG_LIMIT_SECONDS = 30.0
UPSTREAM_TIMEOUT_SECONDS = 30.0
# Answer headers the proxy's own HTTP layer writes (or that would be wrong relayed).
HOP_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding", "server", "date"})


@dataclass
class _Rule:
    action: Action
    operations: frozenset[str]  # empty: every operation
    remaining: int | None  # None: every matching request

    def matches(self, operation: str) -> bool:
        return (not self.operations or operation in self.operations) and self.remaining != 0


@dataclass
class _Hook:
    operation: str
    callback: Callback
    nth: int
    before: bool
    needs: str | None  # a top-level request member that must be present (e.g. NextToken)
    seen: int = 0
    fired: threading.Event = field(default_factory=threading.Event)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], proxy: FaultProxy) -> None:
        self.proxy = proxy
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer (a killed plugin) is expected, not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def reset_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            _reset(connection)


def _reset(connection: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer gets a TCP RST, not an orderly close."""
    try:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        proxy = self.server.proxy
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        operation = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
        try:
            request = json.loads(body) if body else {}
        except ValueError:
            request = {}
        action = proxy._take(operation)
        if action == "hang":
            proxy._released.wait(HANG_LIMIT_SECONDS)
        if action in ("reset", "hang"):
            self._reset()
            return
        proxy._run_hooks(operation, request, before=True)
        status, headers, payload = self._forward(body)
        proxy._run_hooks(operation, request, before=False)
        if action == "reset_after":
            self._reset()
            return
        if status >= 400:
            proxy._count_error(payload)
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in HOP_HEADERS:
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        upstream = http.client.HTTPConnection(
            "127.0.0.1", self.server.proxy.upstream_port, timeout=UPSTREAM_TIMEOUT_SECONDS
        )
        try:
            upstream.request("POST", self.path, body=body, headers=dict(self.headers.items()))
            answer = upstream.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            upstream.close()

    def _reset(self) -> None:
        self.close_connection = True
        _reset(self.connection)


class FaultProxy:
    """A loopback proxy in front of ``upstream_url`` that injects connection faults."""

    def __init__(self, upstream_url: str) -> None:
        self.upstream_port = int(upstream_url.rsplit(":", 1)[1].rstrip("/"))
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._hooks: list[_Hook] = []
        self._released = threading.Event()
        self.faulted: dict[str, int] = {}  # operation -> requests a rule acted on
        self.errors: dict[str, int] = {}  # error code -> GameLift answers relayed with it
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.up()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        """Listen (again, on the same port once it was chosen) and serve on a thread."""
        if self._server is not None:
            return
        self._server = _Server(("127.0.0.1", self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fault-proxy-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def down(self) -> None:
        """Stop listening and reset every open connection: the endpoint is down."""
        server, self._server = self._server, None
        if server is None:
            return
        self._released.set()
        server.shutdown()
        server.server_close()
        server.reset_connections()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._released = threading.Event()

    def close(self) -> None:
        self.clear()
        self.down()

    def fault(
        self, action: Action, operations: Iterable[str] = (), count: int | None = None
    ) -> None:
        """Apply ``action`` to requests of ``operations`` (all when empty), ``count`` times."""
        with self._lock:
            self._rules.append(_Rule(action, frozenset(operations), count))

    def on(
        self,
        operation: str,
        callback: Callback,
        *,
        nth: int = 1,
        before: bool = False,
        needs: str | None = None,
    ) -> threading.Event:
        """Run ``callback(request)`` once, at the ``nth`` request of ``operation``.

        ``before``: just before it is forwarded to GameLift; otherwise right after GameLift
        answered it and before the client gets the answer. ``needs``: count only requests
        that carry that member (e.g. ``NextToken``: pages after the first). Returns an event
        set once the callback ran.
        """
        hook = _Hook(operation, callback, nth, before, needs)
        with self._lock:
            self._hooks.append(hook)
        return hook.fired

    def clear(self) -> None:
        """Forget rules and hooks; requests left hanging are reset (clients retry)."""
        with self._lock:
            self._rules, self._hooks = [], []
            self.faulted, self.errors = {}, {}
        self._released.set()
        self._released = threading.Event()

    def _take(self, operation: str) -> Action | None:
        with self._lock:
            for rule in self._rules:
                if rule.matches(operation):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    self.faulted[operation] = self.faulted.get(operation, 0) + 1
                    return rule.action
        return None

    def _count_error(self, payload: bytes) -> None:
        try:
            code = str(json.loads(payload).get("__type", "")).rpartition("#")[2]
        except (ValueError, AttributeError):
            code = "unparsed"
        with self._lock:
            self.errors[code] = self.errors.get(code, 0) + 1

    def _run_hooks(self, operation: str, request: dict[str, Any], before: bool) -> None:
        due: list[_Hook] = []
        with self._lock:
            for hook in self._hooks:
                if hook.operation != operation or hook.before != before or hook.fired.is_set():
                    continue
                if hook.needs is not None and hook.needs not in request:
                    continue
                hook.seen += 1
                if hook.seen == hook.nth:
                    due.append(hook)
        for hook in due:
            try:
                hook.callback(request)
            finally:
                hook.fired.set()
