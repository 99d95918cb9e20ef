"""The native plugin over gRPC, started as the engine starts it, against the emulator.

Each test drives `bin/pulumi-resource-gamelift-backfill` through the plugin host (check,
create, read, import, update, delete, cancel) and checks the emulator's state and the log
the plugin sent to the engine stub.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from guard_helpers import calls, wait_for
from native_helpers import GUARD_URN, TICKET_URN, native_plugin, ticket_urn

from gamelift_backfill.reference import TICKET_TOKEN
from gamelift_emulator import Emulator, EmulatorControl
from testkit.plugin_host import UNKNOWN, PluginError, PluginHost, Secret, state_round_trip
from testkit.world import World, make_world


@pytest.fixture(scope="module")
def host(
    _session_emulator: Emulator,
) -> Iterator[PluginHost]:
    """One plugin for the module, like one `pulumi up` or `destroy`."""
    with native_plugin(_session_emulator.endpoint_url) as plugin:
        yield plugin


@pytest.fixture
def world(control: EmulatorControl, gamelift: Any) -> World:
    """A fleet on the reset emulator."""
    return make_world(control, gamelift)


def manual_backfill(world: World) -> dict[str, Any]:
    """Inputs of a BackfillTicket that starts a backfill for a new session (MANUAL mode)."""
    world.configuration("manual", backfill_mode="MANUAL")
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
    ticket = host.check(
        TICKET_URN, {}, {"configurationName": "cfg", "players": UNKNOWN, "gameSessionArn": UNKNOWN}
    )
    assert ticket.failures == []
    assert ticket.inputs["players"] == UNKNOWN
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
    ticket_properties = host.get_schema()["resources"][TICKET_TOKEN]["properties"]
    ticket_id, state = up(host, TICKET_URN, news)
    assert isinstance(state["players"], Secret)
    assert set(state) <= set(ticket_properties)  # properties only: no code, no __provider
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
    assert host.engine is not None
    assert f"backfill ticket {ticket_id} ended: CANCELLED" in host.engine.text
    assert not any(player in host.engine.text + host.stderr for player in world.player_ids())


def test_import_reads_a_live_ticket_from_its_id_alone(host: PluginHost, world: World) -> None:
    """`pulumi import ... TICKET_ID`: Read with only the ID returns the ticket's properties,
    and inputs that adopt it; a later delete through the same plugin cancels it."""
    (ticket_id,) = world.tickets(1)

    imported = host.read(ticket_id, TICKET_URN, {}, inputs={})

    assert imported.id == ticket_id
    assert imported.outs["ticketId"] == ticket_id
    assert imported.outs["configurationName"] == "cfg"
    assert imported.outs["region"] == "us-east-1"
    assert isinstance(imported.outs["players"], Secret)
    assert imported.inputs == {
        "ticketId": ticket_id,
        "region": "us-east-1",
        "endpointUrl": world.control.endpoint_url,
    }
    adopted = host.check(TICKET_URN, imported.outs, imported.inputs)
    diff = host.diff(ticket_id, TICKET_URN, state_round_trip(imported.outs), adopted.inputs)
    assert diff.changes == "none"  # the generated program matches the imported state
    host.delete(ticket_id, TICKET_URN, state_round_trip(imported.outs))
    assert world.status(ticket_id) == "CANCELLED"


def test_import_of_an_unknown_ticket_fails_naming_it(host: PluginHost, world: World) -> None:
    """Importing an ID GameLift does not know fails with the ID and where it looked."""
    with pytest.raises(PluginError, match=r"cannot import backfill ticket nope-1.*us-east-1"):
        host.read("nope-1", TICKET_URN, {}, inputs={})


def test_custom_timeout_bounds_the_delete_wait(host: PluginHost, world: World) -> None:
    """A ticket that cannot be cancelled (PLACING) fails the delete at customTimeouts.delete
    (2 s), not at stopTimeoutSeconds (900 s), naming the ticket and its status."""
    (ticket_id,) = world.tickets(1)
    world.control.set_ticket_status(ticket_id, "PLACING")
    imported = state_round_trip(host.read(ticket_id, TICKET_URN, {}, inputs={}).outs)
    assert imported["stopTimeoutSeconds"] == 900

    with pytest.raises(PluginError) as failed:
        host.delete(ticket_id, TICKET_URN, imported, timeout=2)

    assert f"{ticket_id} (PLACING)" in failed.value.details
    assert "after 2s" in failed.value.details
    assert "stopTimeoutSeconds" in failed.value.details  # phrased for this front end


def test_cancel_ends_concurrent_deletes_with_errors_naming_the_tickets(
    emulator: Emulator, world: World
) -> None:
    """Six deletes wait at once (more than the dynamic plugin's 4 calls); Cancel ends each
    with an error naming its still-active ticket, none with success."""
    tickets = world.tickets(6)
    for ticket_id in tickets:
        world.control.set_ticket_status(ticket_id, "PLACING")
    with native_plugin(emulator.endpoint_url) as plugin:
        states = {
            t: state_round_trip(plugin.read(t, ticket_urn(t), {}, inputs={}).outs) for t in tickets
        }
        with ThreadPoolExecutor(len(tickets)) as pool:
            deletes = {t: pool.submit(plugin.delete, t, ticket_urn(t), states[t]) for t in tickets}
            wait_for(
                lambda: calls(world.control, "StopMatchmaking") == len(tickets),
                "every delete to have sent its StopMatchmaking at once",
            )
            plugin.cancel()
            for ticket_id, delete in deletes.items():
                with pytest.raises(PluginError) as cancelled:
                    delete.result(timeout=30)
                assert "cancelled while waiting for backfill ticket" in cancelled.value.details
                assert ticket_id in cancelled.value.details
    assert all(world.status(t) == "PLACING" for t in tickets)  # nothing claimed as ended


def test_cancel_ends_a_guard_drain_naming_the_tickets_left(
    emulator: Emulator, world: World
) -> None:
    """A guard waiting for tickets that cannot be cancelled (PLACING): Cancel ends its
    delete with an error naming each ticket it stopped and has not seen end."""
    tickets = world.tickets(3)
    for ticket_id in tickets:
        world.control.set_ticket_status(ticket_id, "PLACING")
    with native_plugin(emulator.endpoint_url) as plugin:
        guard_id, state = up(plugin, GUARD_URN, {"fleetIds": [world.fleet_id]})
        with ThreadPoolExecutor(1) as pool:
            deleting = pool.submit(plugin.delete, guard_id, GUARD_URN, state)
            wait_for(
                lambda: calls(world.control, "StopMatchmaking") == len(tickets),
                "the drain to have stopped every ticket",
            )
            plugin.cancel()
            with pytest.raises(PluginError) as cancelled:
                deleting.result(timeout=30)
    message = cancelled.value.details
    assert f"cancelled while waiting for BackfillGuard {guard_id}" in message
    assert all(ticket_id in message for ticket_id in tickets), message


def test_a_native_user_is_never_told_about_aws_region(emulator: Emulator, world: World) -> None:
    """With no region anywhere, Check and Create tell a native user to set the `region`
    input or the provider's `gamelift-backfill:region`, never `aws:region` (a key the
    native provider does not read)."""
    with native_plugin(emulator.endpoint_url, region="") as plugin:
        checked = plugin.check(TICKET_URN, {}, {"ticketId": "t-1"})
        reasons = " ".join(failure.reason for failure in checked.failures)
        assert [failure.property for failure in checked.failures] == ["region"]
        with pytest.raises(PluginError) as created:
            plugin.create(GUARD_URN, {"fleetIds": [world.fleet_id]})
    for message in (reasons, created.value.details):
        assert "gamelift-backfill:region" in message
        assert "aws:region" not in message
