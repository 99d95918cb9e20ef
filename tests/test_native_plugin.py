"""The native plugin over gRPC, started as the engine starts it, against the emulator.

Each test drives `bin/pulumi-resource-gamelift-backfill` through the plugin host (check,
create, read, import, update, delete, cancel) and checks the emulator's state and the log
the plugin sent to the engine stub.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from emulator_helpers import seed_configuration
from guard_helpers import World, make_world
from native_helpers import GUARD_URN, TICKET_URN, native_plugin
from plugin_host import UNKNOWN, PluginHost, Secret, state_round_trip

from gamelift_emulator import Emulator, EmulatorControl


@pytest.fixture(scope="module")
def host(
    _session_emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PluginHost]:
    """One plugin for the module, like one `pulumi up` or `destroy`."""
    with native_plugin(_session_emulator.endpoint_url, tmp_path_factory.mktemp("aws")) as plugin:
        yield plugin


@pytest.fixture
def world(control: EmulatorControl, gamelift: Any) -> World:
    """A fleet on the reset emulator."""
    return make_world(control, gamelift)


def manual_backfill(world: World) -> dict[str, Any]:
    """Inputs of a BackfillTicket that starts a backfill for a new session (MANUAL mode)."""
    seed_configuration(world.gamelift, "manual", backfill_mode="MANUAL")
    session = world.control.create_game_session(world.fleet_id, "manual", 2, 8)
    return {"configurationName": "manual", "gameSessionArn": session["GameSessionId"]}


def up(host: PluginHost, urn: str, news: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Check and create, as `pulumi up` does; the ID and the outputs as stored in state."""
    checked = host.check(urn, {}, news)
    assert checked.failures == []
    created = host.create(urn, checked.inputs)
    return created.id, state_round_trip(created.outs)


def test_check_with_unknowns_passes_and_calls_nothing(host: PluginHost, world: World) -> None:
    """Unknown fleets (a preview before the fleet exists) pass check; nothing is called."""
    checked = host.check(GUARD_URN, {}, {"fleetIds": UNKNOWN, "stopTimeoutSeconds": 60})
    assert checked.failures == []
    assert checked.inputs["fleetIds"] == UNKNOWN
    assert checked.inputs["stopTimeoutSeconds"] == 60
    assert world.control.calls() == {}


def test_check_failures_name_camel_case_properties(host: PluginHost, world: World) -> None:
    """Bad inputs fail check naming each property as the program spells it."""
    checked = host.check(
        GUARD_URN, {}, {"fleetIds": [], "endpointUrl": "http://10.0.0.1", "maxConcurrency": 0}
    )
    assert {f.property for f in checked.failures} == {"fleetIds", "endpointUrl", "maxConcurrency"}


def test_guard_create_then_delete_drains_the_fleet(host: PluginHost, world: World) -> None:
    """A guard counts active tickets at create; its delete stops them all, logged to the
    engine under the guard's URN, with no player ID anywhere in the log."""
    tickets = world.tickets(12)
    guard_id, state = up(host, GUARD_URN, {"fleetIds": [world.fleet_id], "stopTimeoutSeconds": 60})
    assert state["activeTicketCount"] == 12
    assert state["region"] == "us-east-1"
    assert not world.deletable()

    host.delete(guard_id, GUARD_URN, state)

    assert world.deletable()
    assert {world.status(t) for t in tickets} == {"CANCELLED"}
    assert host.engine is not None
    drained = host.engine.wait_for(lambda r: "12 stopped" in r.message)
    assert drained.urn == GUARD_URN
    assert not any(player in host.engine.text + host.stderr for player in world.player_ids())


def test_ticket_create_read_update_delete(host: PluginHost, world: World) -> None:
    """A backfill started from a session: players come back secret, refresh reads its
    status, an update changes only the timeout, delete cancels it."""
    news = manual_backfill(world)
    ticket_id, state = up(host, TICKET_URN, news)
    assert isinstance(state["players"], Secret)
    assert state["status"] in ("QUEUED", "SEARCHING")
    assert world.status(ticket_id) in ("QUEUED", "SEARCHING")

    read = host.read(ticket_id, TICKET_URN, state)
    assert read.id == ticket_id
    assert read.outs["ticketId"] == ticket_id

    news = host.check(TICKET_URN, state, {**news, "stopTimeoutSeconds": 30}).inputs
    diff = host.diff(ticket_id, TICKET_URN, state, news)
    assert (diff.changes, diff.replaces) == ("some", [])
    updated = state_round_trip(host.update(ticket_id, TICKET_URN, state, news).outs)
    assert updated["stopTimeoutSeconds"] == 30
    assert updated["ticketId"] == ticket_id

    host.delete(ticket_id, TICKET_URN, updated)
    assert world.status(ticket_id) == "CANCELLED"
