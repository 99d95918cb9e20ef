"""The native plugin after a crash: crash recovery (tests/test_crash_recovery.py) through
the native plugin. Its faults are rows of the fault matrix (tests/test_fault_matrix.py),
which runs every row against both front ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Literal

import grpc
import pytest
from conftest import gamelift_client
from fault_helpers import FrontEnd, Target
from guard_helpers import calls, wait_for, when
from native_helpers import TICKET_URN, native_plugin

from gamelift_emulator import Emulator, EmulatorControl, ManualClock
from testkit.plugin_host import PluginError, PluginHost, state_round_trip
from testkit.world import World, make_world

Kind = Literal["ticket", "guard"]
KINDS: list[Kind] = ["ticket", "guard"]
MANUAL = "manual"


@pytest.fixture(scope="module")
def host(_session_emulator: Emulator) -> Iterator[PluginHost]:
    """One plugin for the module, as one `pulumi destroy` run."""
    with native_plugin(_session_emulator.endpoint_url) as plugin:
        yield plugin


@pytest.fixture
def world(control: EmulatorControl, gamelift: Any) -> World:
    """A fleet with an AUTOMATIC configuration `cfg` and a MANUAL one."""
    world = make_world(control, gamelift)
    world.configuration("cfg")
    world.configuration(MANUAL, backfill_mode="MANUAL")
    return world


def create(host: PluginHost, world: World, endpoint: str, kind: Kind) -> Target:
    """`pulumi up` of one resource stored with ``endpoint``, through the native plugin."""
    front_end = FrontEnd.of("native", host, endpoint)
    if kind == "ticket":
        session = world.control.create_game_session(world.fleet_id, MANUAL, 2, 8)
        arn = session["GameSessionId"]
        return front_end.create(
            "ticket",
            [],
            [arn],
            configuration_name=MANUAL,
            game_session_arn=arn,
            endpoint_url=endpoint,
        )
    made = [world.session("cfg") for _ in range(3)]
    return front_end.create(
        "guard",
        [s["auto_backfill_ticket_id"] for s in made],
        [s["GameSessionId"] for s in made],
        fleet_ids=[world.fleet_id],
        endpoint_url=endpoint,
    )


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
        target = create(first, world, url, kind)
        tickets = target.tickets
        describes = calls(control, "DescribeMatchmaking")
        stops = calls(control, "StopMatchmaking")
        deleting = in_background(first.delete, target.id, target.urn, target.state)
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
        second.delete(target.id, target.urn, target.state)
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
