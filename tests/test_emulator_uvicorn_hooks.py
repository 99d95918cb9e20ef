"""The uvicorn internals the emulator's HTTP layer relies on, each pinned here by name.

``gamelift_emulator/http_protocol.py`` subclasses uvicorn's ``HttpToolsProtocol``, which is
not a documented extension point: it overrides parser callbacks, re-sequences
``on_message_begin`` and reads ``parser``, ``pipeline``, ``server_state`` and ``cycle``.
Each of those is listed below with the signature or attribute the emulator relies on. An
upgrade of uvicorn (pinned in requirements-dev.txt) that changes one fails here, naming
it, and the behaviour test named beside it shows what the emulator would lose.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import httptools
import pytest
from emulator_helpers import raw_request
from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from gamelift_emulator import Emulator
from gamelift_emulator.http_protocol import BoundedProtocol

TESTS = Path(__file__).resolve().parent
HOSTILE = "test_emulator_hostile.py"
# uvicorn's methods the emulator overrides or calls: name -> (parameters, behaviour test).
METHODS: dict[str, tuple[tuple[str, ...], str]] = {
    "__init__": (
        ("self", "config", "server_state", "app_state", "_loop"),
        "test_emulator_wire.py::test_http_keep_alive_serves_many_requests_on_one_connection",
    ),
    "connection_made": (
        ("self", "transport"),
        f"{HOSTILE}::test_connection_cap_refuses_with_503_when_none_is_idle",
    ),
    "connection_lost": (
        ("self", "exc"),
        f"{HOSTILE}::test_stalled_client_does_not_hang_others_and_is_closed_after_the_timeout",
    ),
    "data_received": (("self", "data"), f"{HOSTILE}::test_malformed_http_gets_aws_shaped_errors"),
    "on_message_begin": (
        ("self",),
        f"{HOSTILE}::test_pipelined_requests_are_answered_in_order",
    ),
    "on_url": (("self", "url"), f"{HOSTILE}::test_malformed_http_gets_aws_shaped_errors"),
    "on_header": (
        ("self", "name", "value"),
        f"{HOSTILE}::test_malformed_http_gets_aws_shaped_errors",
    ),
    "on_headers_complete": (("self",), f"{HOSTILE}::test_chunked_body_is_decoded"),
    "on_body": (("self", "body"), f"{HOSTILE}::test_chunked_body_is_decoded"),
    "on_message_complete": (("self",), f"{HOSTILE}::test_chunked_body_is_decoded"),
    "on_response_complete": (
        ("self",),
        "test_emulator_uvicorn_hooks.py::test_both_paths_answer_with_uvicorn_date_and_are_counted",
    ),
    "send_400_response": (
        ("self", "msg"),
        f"{HOSTILE}::test_malformed_http_gets_aws_shaped_errors",
    ),
    "_unset_keepalive_if_required": (
        ("self",),
        f"{HOSTILE}::test_client_stalling_before_the_request_is_closed_silently",
    ),
}
# What uvicorn's on_message_begin sets; the emulator's re-sequencing (it calls uvicorn's
# only for a request that takes the ASGI path) saves and restores the first three.
ON_MESSAGE_BEGIN_SETS = {"url", "expect_100_continue", "headers", "scope"}


@pytest.fixture
def protocol() -> Iterator[HttpToolsProtocol]:
    """A bare uvicorn protocol, as uvicorn makes one per connection."""
    loop = asyncio.new_event_loop()

    async def app(scope: object, receive: object, send: object) -> None:
        """Never called."""

    try:
        yield HttpToolsProtocol(Config(app, lifespan="off"), ServerState(), {}, _loop=loop)
    finally:
        loop.close()


def test_the_emulator_protocol_is_uvicorns_httptools_protocol() -> None:
    """The emulator's protocol subclasses uvicorn's httptools protocol (its module path)."""
    assert issubclass(BoundedProtocol, HttpToolsProtocol)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_each_method_the_emulator_overrides_or_calls_keeps_its_signature(name: str) -> None:
    """uvicorn's HttpToolsProtocol still has each method, with the parameters relied on."""
    method = getattr(HttpToolsProtocol, name, None)
    assert method is not None, f"uvicorn's HttpToolsProtocol no longer has {name}"
    parameters = tuple(inspect.signature(method).parameters)
    assert parameters == METHODS[name][0], f"{name}{parameters}"


@pytest.mark.parametrize("name", sorted(METHODS))
def test_each_pinned_method_names_a_behaviour_test_that_exists(name: str) -> None:
    """Each pinned method names a behaviour test through it, and that test exists."""
    module, _, test = METHODS[name][1].partition("::")
    assert f"def {test}(" in (TESTS / module).read_text()


def test_the_state_the_emulator_reads_is_set_by_uvicorn(protocol: HttpToolsProtocol) -> None:
    """uvicorn's protocol sets the attributes the emulator reads, of the kinds it expects."""
    assert isinstance(protocol.parser, httptools.HttpRequestParser)
    for method in ("get_http_version", "get_method", "should_keep_alive"):
        assert callable(getattr(protocol.parser, method))
    assert isinstance(protocol.pipeline, deque)
    assert isinstance(protocol.server_state, ServerState)
    assert protocol.connections is protocol.server_state.connections
    assert isinstance(protocol.server_state.default_headers, list)
    assert isinstance(protocol.server_state.total_requests, int)
    assert isinstance(protocol.loop, asyncio.AbstractEventLoop)
    assert protocol.cycle is None
    assert protocol.transport is None
    assert protocol.flow is None
    assert protocol.expect_100_continue is False


def test_on_message_begin_sets_only_what_the_emulator_restores(
    protocol: HttpToolsProtocol,
) -> None:
    """uvicorn's on_message_begin sets the request's url, headers, expect flag and scope,
    and nothing else: the emulator runs it late without losing state."""
    protocol.url, protocol.expect_100_continue = b"/left-over", True  # a request before
    before = dict(vars(protocol))
    protocol.on_message_begin()
    after = vars(protocol)
    changed = {k for k in after if k not in before or after[k] is not before[k]}
    assert changed == ON_MESSAGE_BEGIN_SETS
    assert protocol.scope["headers"] is protocol.headers
    assert (protocol.url, protocol.expect_100_continue) == (b"", False)


def test_the_cycle_exposes_what_abandoning_a_request_sets() -> None:
    """A request's cycle has the flags the emulator sets to stop an app mid-body."""
    parameters = inspect.signature(RequestResponseCycle).parameters
    assert {"message_event", "on_response", "default_headers"} <= set(parameters)
    cycle = RequestResponseCycle(
        scope={},  # type: ignore[typeddict-item]
        transport=None,  # type: ignore[arg-type]
        flow=FlowControl.__new__(FlowControl),
        logger=logging.getLogger("test"),
        access_logger=logging.getLogger("test"),
        access_log=False,
        default_headers=[],
        message_event=asyncio.Event(),
        expect_100_continue=False,
        keep_alive=True,
        on_response=lambda: None,
    )
    assert cycle.response_complete is False
    assert cycle.disconnected is False
    assert isinstance(cycle.message_event, asyncio.Event)


@pytest.mark.parametrize(
    ("extra", "path"),
    [({}, "hot path"), ({"Expect": "100-continue"}, "uvicorn's ASGI path")],
)
def test_both_paths_answer_with_uvicorn_date_and_are_counted(
    emulator: Emulator, extra: dict[str, str], path: str
) -> None:
    """An answer on either path carries uvicorn's ``date`` header (server_state's default
    headers) and counts in uvicorn's total_requests."""
    before = emulator.requests_answered()
    status, headers, _ = raw_request(
        emulator.endpoint_url, b'{"TicketIds": ["a"]}', extra_headers=extra
    )
    assert status == 200, path
    assert "date" in headers, path
    assert emulator.requests_answered() > before, path
