"""BackfillGuard through the real plugin (`python -m pulumi.dynamic`), as the engine drives it.

One plugin process serves the module, like one `pulumi up`/`destroy`: credentials and the
emulator's endpoint come from its environment, the region from the stack config.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from guard_helpers import when

from gamelift_backfill.backfill_guard import BackfillGuard, BackfillGuardArgs, BackfillGuardProvider
from gamelift_emulator import Emulator, EmulatorControl
from testkit.plugin_host import (
    UNKNOWN,
    PluginError,
    PluginHost,
    make_urn,
    program_inputs,
    state_round_trip,
    type_token,
)
from testkit.world import REGION, World, make_world

URN = make_urn("guard", type_token(BackfillGuard))


@pytest.fixture(scope="module")
def host(
    _session_emulator: Emulator,
) -> Iterator[PluginHost]:
    """The plugin, with test credentials and AWS_ENDPOINT_URL_GAMELIFT in its environment."""
    env = {"AWS_ENDPOINT_URL_GAMELIFT": _session_emulator.endpoint_url}
    with PluginHost(config={"aws:region": REGION}, env=env) as plugin_host:
        yield plugin_host


@pytest.fixture
def world(control: EmulatorControl, gamelift: Any) -> World:
    """A fleet on the reset emulator."""
    return make_world(control, gamelift)


def inputs(world: World, **overrides: Any) -> dict[str, Any]:
    """What a program registers for a guard of the world's fleet."""
    args = BackfillGuardArgs(fleet_ids=[world.fleet_id], stop_timeout_seconds=60)
    return program_inputs(BackfillGuardProvider(), {**args.to_props(), **overrides})


def up(host: PluginHost, world: World, **overrides: Any) -> tuple[str, dict[str, Any]]:
    """Check and create, as `pulumi up` does; the ID and the outputs as stored in state."""
    checked = host.check(URN, {}, inputs(world, **overrides))
    assert checked.failures == []
    created = host.create(URN, checked.inputs)
    return created.id, state_round_trip(created.outs)


def test_preview_with_unknowns_calls_nothing(host: PluginHost, world: World) -> None:
    """Unknown fleets and region pass check and diff; preview plans without a GameLift call."""
    news = inputs(world, fleet_ids=UNKNOWN, region=UNKNOWN)
    checked = host.check(URN, {}, news)
    planned = host.create(URN, checked.inputs, preview=True)
    assert checked.failures == []
    assert checked.inputs["fleet_ids"] == UNKNOWN
    assert planned.plugin_called is False
    _, state = up(host, world)
    world.control.reset()  # forget the calls of `up`
    diff = host.diff("id", URN, state, host.check(URN, state, news).inputs)
    assert (diff.changes, diff.replaces) == ("some", ["region"])
    assert world.control.calls() == {}


def test_check_failures_name_properties(host: PluginHost, world: World) -> None:
    """Bad inputs come back as check failures naming each property, before any call."""
    checked = host.check(
        URN, {}, inputs(world, fleet_ids=[], endpoint_url="http://10.0.0.1", max_concurrency=0)
    )
    assert {f.property for f in checked.failures} == {
        "fleet_ids",
        "endpoint_url",
        "max_concurrency",
    }
    assert world.control.calls() == {}


def test_destroy_drains_hundreds_of_sessions(host: PluginHost, world: World) -> None:
    """250 sessions (several pages) are drained by one delete; the configuration is
    deletable right after."""
    tickets = world.tickets(250)
    guard_id, state = up(host, world, max_concurrency=20)
    assert state["active_ticket_count"] == 250
    assert state["region"] == REGION
    assert state["endpoint_url"] == world.control.endpoint_url
    assert not world.deletable()

    host.delete(guard_id, URN, state)
    assert world.deletable()
    assert world.active_tickets() == []
    assert {world.status(t) for t in tickets} == {"CANCELLED"}
    assert world.control.calls()["DescribeGameSessions"] >= 6  # 3 pages per status, twice
    assert "250 active backfill ticket(s) found, 250 stopped" in host.stderr
    assert not any(player in host.stderr for player in world.player_ids())


def test_destroy_catches_tickets_replaced_during_the_drain(host: PluginHost, world: World) -> None:
    """A PLACING ticket that times out mid-drain is replaced by GameLift; the drain stops the
    replacement too."""
    placing, *others = world.tickets(4)
    world.control.set_ticket_status(placing, "PLACING")
    guard_id, state = up(host, world)

    def stops_sent() -> bool:
        return world.control.calls().get("StopMatchmaking", 0) >= 4

    def time_out() -> None:
        world.control.set_ticket_status(placing, "TIMED_OUT")

    with when(stops_sent, time_out) as timed_out:
        host.delete(guard_id, URN, state)
    assert timed_out.is_set()
    replacements = [t for t in world.control.tickets() if t["TicketId"] not in [placing, *others]]
    assert len(replacements) == 1
    assert replacements[0]["Status"] == "CANCELLED"
    assert world.active_tickets() == []
    assert world.deletable()


def test_destroy_honours_the_configuration_filter(host: PluginHost, world: World) -> None:
    """Only sessions of the named configuration are drained; another's keep their backfill."""
    world.tickets(5, "cfg")
    theirs = world.tickets(3, "other")
    arn = world.configuration("cfg")["ConfigurationArn"]
    guard_id, state = up(host, world, configuration_name=arn)
    assert state["active_ticket_count"] == 5
    host.delete(guard_id, URN, state)
    assert world.active_tickets("cfg") == []
    assert sorted(world.active_tickets("other")) == sorted(theirs)
    assert world.deletable("cfg")


def test_destroy_tolerates_a_missing_fleet(host: PluginHost, world: World) -> None:
    """A fleet deleted before the guard has nothing to drain: logged, and the rest drained."""
    gone = world.control.create_fleet()["fleet_id"]
    world.tickets(3)
    guard_id, state = up(host, world, fleet_ids=[gone, world.fleet_arn])
    world.control.delete_fleet(gone)
    host.delete(guard_id, URN, state)
    assert world.active_tickets() == []
    assert f"fleet {gone} not found" in host.stderr


def test_failed_destroy_names_tickets_and_the_next_one_finishes(
    host: PluginHost, world: World
) -> None:
    """A ticket stuck in PLACING past the timeout fails the delete naming it; the guard stays
    and the next delete succeeds once the ticket ended."""
    stuck, other = world.tickets(2)
    world.control.set_ticket_status(stuck, "PLACING")
    guard_id, state = up(host, world, stop_timeout_seconds=1)
    with pytest.raises(PluginError) as raised:
        host.delete(guard_id, URN, state)
    message = raised.value.provider_message
    assert message.startswith(
        "gamelift_backfill.core.errors.StopTimeoutError: 1 backfill ticket(s)"
    )
    assert f"{stuck} (PLACING)" in message
    assert world.status(other) == "CANCELLED"
    assert host.read(guard_id, URN, state).outs["active_ticket_count"] == 1  # still managed

    world.control.set_ticket_status(stuck, "FAILED")  # the placement ended meanwhile
    host.delete(guard_id, URN, state)
    assert world.active_tickets() == []


def test_update_in_place_returns_every_output(host: PluginHost, world: World) -> None:
    """Timeout, concurrency and extra tickets update in place; every output comes back."""
    guard_id, state = up(host, world)
    extra = world.tickets(1)
    news = host.check(URN, state, inputs(world, stop_timeout_seconds=120, ticket_ids=extra))
    diff = host.diff(guard_id, URN, state, news.inputs)
    assert (diff.changes, diff.replaces) == ("some", [])
    updated = host.update(guard_id, URN, state, news.inputs).outs
    assert updated["stop_timeout_seconds"] == 120
    assert updated["ticket_ids"] == extra
    assert updated["active_ticket_count"] == 1
    assert updated["region"] == REGION
    assert "__provider" in updated
    unchanged = host.diff(guard_id, URN, state_round_trip(updated), news.inputs)
    assert unchanged.changes == "none"


def test_region_change_replaces(host: PluginHost, world: World) -> None:
    """A new region replaces the guard; the new one stores and uses the new region."""
    guard_id, state = up(host, world)
    west = world.control.create_fleet(region="us-west-2")["fleet_id"]
    news = host.check(URN, state, inputs(world, fleet_ids=[west], region="us-west-2")).inputs
    diff = host.diff(guard_id, URN, state, news)
    assert diff.replaces == ["region"]
    replacement = host.create(URN, news)
    assert replacement.outs["region"] == "us-west-2"
    assert f"fleet {west} not found" not in host.stderr
    host.delete(guard_id, URN, state)


def test_endpoint_input_wins_over_the_environment(
    host: PluginHost, world: World, make_emulator: Any
) -> None:
    """An explicit endpoint_url input is used and stored instead of AWS_ENDPOINT_URL_GAMELIFT."""
    other = make_emulator(region=REGION)
    fleet = other.control.create_fleet()["fleet_id"]
    guard_id, state = up(host, world, fleet_ids=[fleet], endpoint_url=other.endpoint_url)
    assert state["endpoint_url"] == other.endpoint_url
    assert other.control.calls().get("DescribeGameSessions", 0) == 2
    host.delete(guard_id, URN, state)
