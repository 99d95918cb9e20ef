"""The native plugin under faults, and after a crash: a subset of the fault matrix
(tests/test_fault_matrix.py) and of crash recovery (tests/test_crash_recovery.py).

Each resource is created with ``endpointUrl`` = a `FaultProxy` in front of the emulator, so
the proxy is stored in state and sits on the path of every delete. A row ends in success
with nothing active, or in a clear error naming what is still in question, and then a
second delete from the same state succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Literal

import grpc
import pytest
from conftest import gamelift_client
from fault_helpers import FaultProxy
from guard_helpers import when
from native_helpers import GUARD_URN, TICKET_URN, calls, native_plugin, wait_for

from gamelift_emulator import Emulator, EmulatorControl, ManualClock
from testkit.plugin_host import PluginError, PluginHost, state_round_trip
from testkit.world import World, make_world

Kind = Literal["ticket", "guard"]
KINDS: list[Kind] = ["ticket", "guard"]
MANUAL = "manual"
DEADLINE = 2  # seconds: stopTimeoutSeconds of rows that wait out the deadline


@pytest.fixture(scope="module")
def host(_session_emulator: Emulator) -> Iterator[PluginHost]:
    """One plugin for the module, as one `pulumi destroy` run."""
    with native_plugin(_session_emulator.endpoint_url) as plugin:
        yield plugin


@pytest.fixture
def proxy(emulator: Emulator) -> Iterator[FaultProxy]:
    """A proxy of this test's own (a fresh client and retry quota in the plugin)."""
    fault_proxy = FaultProxy(emulator.endpoint_url)
    yield fault_proxy
    fault_proxy.close()


@pytest.fixture
def world(control: EmulatorControl, gamelift: Any) -> World:
    """A fleet with an AUTOMATIC configuration `cfg` and a MANUAL one."""
    world = make_world(control, gamelift)
    world.configuration("cfg")
    world.configuration(MANUAL, backfill_mode="MANUAL")
    return world


def create(
    host: PluginHost, world: World, endpoint: str, kind: Kind, stop_timeout: int = 30
) -> tuple[str, str, dict[str, Any], list[str]]:
    """`pulumi up` of one resource stored with ``endpoint``: (id, urn, state, tickets)."""
    if kind == "ticket":
        session = world.control.create_game_session(world.fleet_id, MANUAL, 2, 8)
        news = {
            "configurationName": MANUAL,
            "gameSessionArn": session["GameSessionId"],
            "endpointUrl": endpoint,
            "stopTimeoutSeconds": stop_timeout,
        }
        urn = TICKET_URN
    else:
        world.tickets(3)
        news = {
            "fleetIds": [world.fleet_id],
            "endpointUrl": endpoint,
            "stopTimeoutSeconds": stop_timeout,
        }
        urn = GUARD_URN
    checked = host.check(urn, {}, news)
    assert checked.failures == []
    created = host.create(urn, checked.inputs)
    tickets = [created.id] if kind == "ticket" else world.active_tickets("cfg")
    return created.id, urn, state_round_trip(created.outs), tickets


def assert_nothing_active(world: World) -> None:
    world.control.clear_faults()
    assert world.active_tickets() == []
    assert world.deletable("cfg")
    assert world.deletable(MANUAL)


@pytest.mark.parametrize("kind", KINDS)
def test_internal_errors_at_30_percent(
    host: PluginHost, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """InternalServiceException on 30% of all calls (seeded) is retried; the delete succeeds."""
    id_, urn, state, _ = create(host, world, proxy.endpoint_url, kind)
    world.control.faults(seed=7, error_rate=0.3, error_codes=["InternalServiceException"])
    host.delete(id_, urn, state)
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_connection_resets(host: PluginHost, world: World, proxy: FaultProxy, kind: Kind) -> None:
    """Connections reset after StopMatchmaking took effect and before a describe are
    retried; the delete succeeds."""
    id_, urn, state, _ = create(host, world, proxy.endpoint_url, kind)
    proxy.fault("reset_after", ["StopMatchmaking"], count=2)
    proxy.fault("reset", ["DescribeMatchmaking"], count=1)
    host.delete(id_, urn, state)
    assert proxy.faulted == {"StopMatchmaking": 2, "DescribeMatchmaking": 1}
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_server_stops_answering_stop_matchmaking(
    host: PluginHost, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """StopMatchmaking never answered: the delete fails at its deadline naming the tickets
    (in camelCase advice); once the server answers again a second delete succeeds."""
    id_, urn, state, tickets = create(host, world, proxy.endpoint_url, kind, DEADLINE)
    proxy.fault("hang", ["StopMatchmaking"])
    with pytest.raises(PluginError) as failed:
        host.delete(id_, urn, state)
    for ticket_id in tickets:
        assert ticket_id in failed.value.details
    assert "StopMatchmaking unanswered" in failed.value.details
    assert "endpointUrl" in failed.value.details
    proxy.clear()
    host.delete(id_, urn, state)
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_endpoint_down(host: PluginHost, world: World, proxy: FaultProxy, kind: Kind) -> None:
    """Nothing listens at the stored endpoint: the delete fails naming the ticket or the
    fleet; a second delete succeeds once the endpoint is back."""
    id_, urn, state, tickets = create(host, world, proxy.endpoint_url, kind, DEADLINE)
    proxy.down()
    with pytest.raises(PluginError) as failed:
        host.delete(id_, urn, state)
    named = tickets if kind == "ticket" else [world.fleet_id]
    assert all(name in failed.value.details for name in named), failed.value.details
    proxy.up()
    host.delete(id_, urn, state)
    assert_nothing_active(world)


# -- crash recovery ---------------------------------------------------------------------


def in_background(function: Any, *args: Any) -> Future[Any]:
    """``function(*args)`` on a thread of its own (a blocking call the test interrupts)."""
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(function, *args)
    pool.shutdown(wait=False)
    return future


@pytest.mark.parametrize("kind", KINDS)
def test_delete_killed_mid_wait_is_finished_by_a_new_plugin(
    manual_emulator: Emulator, manual_clock: ManualClock, kind: Kind
) -> None:
    """A plugin SIGKILLed while its delete waits for the cancel: the call fails UNAVAILABLE
    (the engine keeps the resource), and a new plugin's delete from the same state ends
    every ticket. The emulator's clock stands still until the second delete, so the
    cancels cannot land while the first plugin dies."""
    url = manual_emulator.endpoint_url
    control = manual_emulator.control
    world = make_world(control, gamelift_client(url), clock=manual_clock)
    world.configuration("cfg")
    world.configuration(MANUAL, backfill_mode="MANUAL")
    with native_plugin(url) as first:
        id_, urn, state, tickets = create(first, world, url, kind)
        describes = calls(control, "DescribeMatchmaking")
        stops = calls(control, "StopMatchmaking")
        deleting = in_background(first.delete, id_, urn, state)
        wait_for(
            lambda: (
                calls(control, "StopMatchmaking") >= stops + len(tickets)
                and calls(control, "DescribeMatchmaking") > describes + (kind == "guard")
            ),
            "the delete to poll after its StopMatchmaking calls",
        )
        first.kill()
        with pytest.raises(PluginError) as killed:
            deleting.result(timeout=30)
        assert killed.value.code == grpc.StatusCode.UNAVAILABLE
    assert sorted(world.active_tickets()) == sorted(tickets)  # time stood still

    stopped_before = calls(control, "StopMatchmaking")
    with (
        native_plugin(url) as second,
        when(
            lambda: calls(control, "StopMatchmaking") > stopped_before,
            lambda: (control.advance_clock(1), None)[1],
        ),
    ):
        second.delete(id_, urn, state)
    assert world.active_tickets() == []
    assert {world.status(t) for t in tickets} == {"CANCELLED"}


def test_create_retried_after_a_crash_resumes_the_ticket_it_started(
    host: PluginHost, world: World
) -> None:
    """Without `ticketId`, the ticket's ID comes from the URN and the inputs: a create run
    again (the engine never heard the first answer) resumes the same ticket, and a
    resource of another name starts its own."""
    session = world.control.create_game_session(world.fleet_id, MANUAL, 2, 8)
    news = {"configurationName": MANUAL, "gameSessionArn": session["GameSessionId"]}
    checked = host.check(TICKET_URN, {}, news)
    first = host.create(TICKET_URN, checked.inputs)
    again = host.create(TICKET_URN, checked.inputs)
    assert again.id == first.id
    assert calls(world.control, "StartMatchBackfill") == 1
    assert world.active_tickets(MANUAL) == [first.id]
    assert host.engine is not None
    host.engine.wait_for(lambda r: "adopting it instead of starting another" in r.message)
    host.delete(first.id, TICKET_URN, state_round_trip(first.outs))
    assert world.active_tickets() == []
