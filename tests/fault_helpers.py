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

`FrontEnd` is the fault matrix's one driver of both front ends (the dynamic provider's
plugin and the native plugin): create, delete and read a failure the same way for each.
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import pytest
from backfill_ticket_helpers import URN as DYNAMIC_TICKET_URN
from backfill_ticket_helpers import engine_outputs
from native_helpers import GUARD_URN as NATIVE_GUARD_URN
from native_helpers import TICKET_URN as NATIVE_TICKET_URN
from native_helpers import native_plugin

from gamelift_backfill.backfill_guard import BackfillGuardArgs, BackfillGuardProvider
from gamelift_backfill.backfill_ticket import BackfillTicketArgs, BackfillTicketProvider
from testkit.plugin_host import PluginError, PluginHost, make_urn, program_inputs, state_round_trip
from testkit.world import REGION

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
    every: bool = False  # run at the nth matching request and at each one after it
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
        every: bool = False,
    ) -> threading.Event:
        """Run ``callback(request)`` once, at the ``nth`` request of ``operation``.

        ``before``: just before it is forwarded to GameLift; otherwise right after GameLift
        answered it and before the client gets the answer. ``needs``: count only requests
        that carry that member (e.g. ``NextToken``: pages after the first). ``every``: run
        it again at each request after the nth. Returns an event set once the callback ran.
        """
        hook = _Hook(operation, callback, nth, before, needs, every)
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
                if hook.operation != operation or hook.before != before:
                    continue
                if hook.fired.is_set() and not hook.every:
                    continue
                if hook.needs is not None and hook.needs not in request:
                    continue
                hook.seen += 1
                if hook.seen == hook.nth or (hook.every and hook.seen > hook.nth):
                    due.append(hook)
        for hook in due:
            try:
                hook.callback(request)
            finally:
                hook.fired.set()


# -- the front ends, side by side: one driver for the fault matrix -------------------------

FrontEndName = Literal["dynamic", "native"]
FRONT_ENDS: list[FrontEndName] = ["dynamic", "native"]
Kind = Literal["ticket", "guard"]
__all__ = [
    "DYNAMIC_GUARD_URN",
    "DYNAMIC_TICKET_URN",
    "FRONT_ENDS",
    "FaultProxy",
    "FrontEnd",
    "FrontEndName",
    "Kind",
    "Target",
    "front_end_plugin",
]
DYNAMIC_GUARD_URN = make_urn("guard", "pulumi-python:dynamic/gamelift:BackfillGuard")
DYNAMIC_ERRORS = "gamelift_backfill.core.errors."


@dataclass
class Target:
    """A created resource (as stored in state) and the tickets and sessions it covers."""

    kind: Kind
    id: str
    urn: str
    state: dict[str, Any]
    tickets: list[str]
    sessions: list[str] = field(default_factory=list)


class FrontEnd:
    """One front end's provider plugin, as `pulumi up` and `pulumi destroy` run it.

    The fault matrix speaks to both front ends through this one driver: inputs are given in
    snake_case and stored as each front end stores them (the dynamic provider's Args and
    ``__provider``, the native schema's camelCase names); errors are read as each one
    reports them (the dynamic plugin's traceback line names the core's exception class; the
    native plugin sends the core's message alone, in its own words).
    """

    def __init__(self, name: FrontEndName, default_endpoint: str) -> None:
        self.name = name
        self.default_endpoint = default_endpoint
        self._host: PluginHost | None = None

    @classmethod
    def of(cls, name: FrontEndName, host: PluginHost, default_endpoint: str) -> FrontEnd:
        """The driver of an already started plugin of front end ``name``."""
        driver = cls(name, default_endpoint)
        driver._host = host
        return driver

    @property
    def host(self) -> PluginHost:
        """The module's plugin (`front_end_plugin` starts it)."""
        assert self._host is not None, "the front end's plugin is not started"
        return self._host

    def __repr__(self) -> str:
        return self.name

    @contextmanager
    def plugin(self, env: Mapping[str, str] | None = None) -> Iterator[PluginHost]:
        """Another plugin of this front end (a new `pulumi destroy`), with ``env`` added."""
        if self.name == "native":
            with native_plugin(self.default_endpoint, env=env) as host:
                yield host
        else:
            with PluginHost(config={"aws:region": REGION}, env=env) as host:
                yield host

    def setting(self, snake: str) -> str:
        """How this front end names a resource input in its advice (``endpoint_url``)."""
        return _camel(snake) if self.name == "native" else snake

    def create(self, kind: Kind, tickets: list[str], sessions: list[str], **inputs: Any) -> Target:
        """`pulumi up` of one resource with ``inputs`` (snake_case); ``tickets`` and
        ``sessions`` are what it covers (for a BackfillTicket without ``ticket_id``, the
        ticket it starts)."""
        if self.name == "native":
            urn = NATIVE_TICKET_URN if kind == "ticket" else NATIVE_GUARD_URN
            news = {_camel(k): v for k, v in inputs.items()}
        else:
            urn = DYNAMIC_TICKET_URN if kind == "ticket" else DYNAMIC_GUARD_URN
            args = BackfillTicketArgs(**inputs) if kind == "ticket" else BackfillGuardArgs(**inputs)
            provider = BackfillTicketProvider() if kind == "ticket" else BackfillGuardProvider()
            news = program_inputs(provider, args.to_props())
        checked = self.host.check(urn, {}, news)
        assert checked.failures == []
        created = self.host.create(urn, checked.inputs)
        outs = created.outs
        if kind == "guard":
            count = outs["activeTicketCount" if self.name == "native" else "active_ticket_count"]
            assert count == len(tickets)
        if self.name == "dynamic" and kind == "ticket":
            outs = engine_outputs(outs)
        covered = tickets or [created.id]
        return Target(kind, created.id, urn, state_round_trip(outs), covered, sessions)

    def delete(self, target: Target, host: PluginHost | None = None) -> None:
        """What `pulumi destroy` does for the resource: Delete with the stored outputs."""
        (host or self.host).delete(target.id, target.urn, target.state)

    def failed_delete(
        self,
        target: Target,
        error_class: str | None,
        names: list[str],
        host: PluginHost | None = None,
    ) -> str:
        """Delete, which must fail naming each of ``names``: the user's message. The dynamic
        plugin's message must also name the core's ``error_class`` (None: any of the core's
        error classes)."""
        with pytest.raises(PluginError) as raised:
            self.delete(target, host)
        if self.name == "native":
            message = raised.value.details
        else:
            message = raised.value.provider_message
            assert message.startswith(f"{DYNAMIC_ERRORS}{error_class or ''}"), message
            message = message.split(": ", 1)[1]
        assert message, raised.value
        for name in names:
            assert name in message, (name, message)
        return message

    def logs(self, host: PluginHost | None = None) -> str:
        """What the plugin logged: the dynamic one on stderr, the native one to the engine."""
        host = host or self.host
        if host.engine is not None:
            return host.engine.text
        return host.stderr


@contextmanager
def front_end_plugin(name: FrontEndName, endpoint_url: str) -> Iterator[FrontEnd]:
    """One plugin of front end ``name`` for a test module, as one `pulumi destroy` run
    (region from the stack's configuration; the native one's endpoint ``endpoint_url``)."""
    with FrontEnd(name, endpoint_url).plugin() as host:
        yield FrontEnd.of(name, host, endpoint_url)


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)
