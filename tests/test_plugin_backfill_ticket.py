"""BackfillTicket through the real provider plugin (`python -m pulumi.dynamic`) and the emulator.

Each test plays one engine operation (preview, up, refresh, update, replace, destroy) with
property bags serialized by the SDK, and checks the emulator's state and call counters.
The endpoint reaches the plugin through AWS_ENDPOINT_URL_GAMELIFT unless a test sets
`endpoint_url`; credentials are test/test from the environment.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backfill_ticket_helpers import (
    EXPLICIT_PLAYERS,
    FIXTURE_TICKET_ID,
    STATE_FIXTURE,
    URN,
    engine_outputs,
    plugin,
    program,
    seed,
    up,
)
from botocore.exceptions import ClientError
from conftest import gamelift_client
from pulumi.runtime import rpc

from gamelift_emulator import Emulator, EmulatorControl
from testkit.plugin_host import (
    UNKNOWN,
    PluginError,
    PluginHost,
    Secret,
    from_state,
    state_round_trip,
    to_state,
)
from testkit.world import World

PLAYER_ID: str = EXPLICIT_PLAYERS[0]["PlayerId"]


@pytest.fixture(scope="module")
def host(
    _session_emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PluginHost]:
    """One plugin for the module, stack config aws:region = us-east-1."""
    with plugin(_session_emulator.endpoint_url) as plugin_host:
        yield plugin_host


@pytest.fixture
def world(gamelift: Any, control: EmulatorControl) -> World:
    return seed(gamelift, control)


def start(host: PluginHost, world: World, **inputs: Any) -> tuple[str, dict[str, Any]]:
    session = world.session()
    return up(host, configuration_name="cfg", game_session_arn=session["GameSessionId"], **inputs)


def test_preview_with_unknowns_checks_and_diffs_without_calling_gamelift(
    host: PluginHost, world: World
) -> None:
    """Unknown inputs pass check, make diff report a possible replace, and call no AWS API."""
    _, state = start(host, world)
    before = world.control.calls()
    news = program(
        configuration_name="cfg",
        game_session_arn=UNKNOWN,
        players=[{"PlayerId": UNKNOWN, "PlayerAttributes": {"skill": {"N": UNKNOWN}}}],
        stop_timeout_seconds=UNKNOWN,
    )
    checked = host.check(URN, {}, news)
    assert checked.failures == []
    assert checked.inputs["game_session_arn"] == UNKNOWN
    assert checked.inputs["players"][0]["PlayerId"] == UNKNOWN
    diff = host.diff(state["ticket_id"], URN, state, checked.inputs)
    assert (diff.changes, diff.replaces) == ("some", ["game_session_arn", "players"])
    planned = host.create(URN, checked.inputs, preview=True)
    assert planned.plugin_called is False
    assert world.control.calls() == before


def test_check_failures_reach_the_engine_by_property(host: PluginHost) -> None:
    """Through the plugin, each failure names its property and says why."""
    checked = host.check(
        URN, {}, program(configuration_name="cfg", endpoint_url="http://gamelift.example.com")
    )
    reasons = {f.property: f.reason for f in checked.failures}
    assert set(reasons) == {"ticket_id", "endpoint_url"}
    assert "use https://" in reasons["endpoint_url"]


def test_up_starts_with_players_derived_from_the_session(
    host: PluginHost, world: World, emulator: Emulator
) -> None:
    """Up starts a backfill whose players come from MatchmakerData; all is stored."""
    ticket_id, state = start(host, world)
    assert state["ticket_id"] == ticket_id
    assert world.status(ticket_id) in ("QUEUED", "SEARCHING")
    assert state["players"] == Secret(world.players_of(ticket_id))
    assert state["region"] == "us-east-1"
    assert state["endpoint_url"] == emulator.endpoint_url
    assert state["stop_timeout_seconds"] == 900
    assert state["configuration_arn"] == world.configuration_arn
    assert state["status"] == "QUEUED"
    assert isinstance(state["__provider"], Secret)


def test_up_starts_with_explicit_players_and_id(host: PluginHost, world: World) -> None:
    """Up with players and ticket_id starts exactly that ticket with those players."""
    ticket_id, state = start(host, world, players=EXPLICIT_PLAYERS, ticket_id="explicit-1")
    assert ticket_id == "explicit-1"
    assert state["players"] == Secret(EXPLICIT_PLAYERS)
    assert world.players_of("explicit-1")[0]["PlayerId"] == PLAYER_ID


def test_up_adopts_an_automatic_ticket(host: PluginHost, world: World) -> None:
    """ticket_id alone adopts GameLift's automatic ticket without starting another."""
    automatic = world.session("auto")["auto_backfill_ticket_id"]
    ticket_id, state = up(host, ticket_id=automatic)
    assert ticket_id == automatic
    assert state["configuration_name"] == "auto"
    assert "StartMatchBackfill" not in world.control.calls()


def test_adopting_a_missing_ticket_fails_not_found(host: PluginHost, world: World) -> None:
    """Adoption of an unknown ticket fails the up with a NotFoundError naming it."""
    with pytest.raises(PluginError) as raised:
        up(host, ticket_id="ghost-ticket")
    assert raised.value.provider_message.startswith("gamelift_backfill.core.errors.NotFoundError")
    assert "ghost-ticket" in raised.value.provider_message


def test_refresh_reports_live_status_and_keeps_players_secret(
    host: PluginHost, world: World
) -> None:
    """Refresh returns the live status and every output; players stay secret."""
    ticket_id, state = start(host, world)
    world.control.set_ticket_status(ticket_id, "PLACING")
    read = host.read(ticket_id, URN, state)
    assert read.id == ticket_id
    assert read.outs == {**state, "status": "PLACING"}
    assert isinstance(read.outs["players"], Secret)


def test_refresh_drops_a_gone_ticket(host: PluginHost, world: World) -> None:
    """A ticket GameLift no longer returns comes back with an empty ID (dropped)."""
    ticket_id, state = start(host, world)
    world.control.settings(retention_s=0)
    world.control.set_ticket_status(ticket_id, "CANCELLED")
    assert host.read(ticket_id, URN, state).id == ""


def test_update_in_place_makes_no_gamelift_call(
    host: PluginHost, world: World, emulator: Emulator
) -> None:
    """Timeout and endpoint change in place: diff without replace, update without a call."""
    session = world.session()
    _, state = up(host, configuration_name="cfg", game_session_arn=session["GameSessionId"])
    localhost = emulator.endpoint_url.replace("127.0.0.1", "localhost")
    news = host.check(
        URN,
        {},
        program(
            configuration_name="cfg",
            game_session_arn=session["GameSessionId"],
            endpoint_url=localhost,
            stop_timeout_seconds=30,
        ),
    ).inputs
    diff = host.diff(state["ticket_id"], URN, state, news)
    assert (diff.changes, diff.replaces) == ("some", [])
    before = world.control.calls()
    updated = host.update(state["ticket_id"], URN, state, news)
    assert world.control.calls() == before
    after = state_round_trip(engine_outputs(updated.outs))
    assert after == {**state, "endpoint_url": localhost, "stop_timeout_seconds": 30}
    unchanged = host.diff(state["ticket_id"], URN, after, news)
    assert unchanged.changes == "none"


def test_replace_deletes_the_old_ticket_before_starting_the_new(
    host: PluginHost, world: World
) -> None:
    """A new game session replaces the ticket, delete first; the engine's sequence works."""
    old_id, state = start(host, world)
    new_session = world.session()
    news = host.check(
        URN, {}, program(configuration_name="cfg", game_session_arn=new_session["GameSessionId"])
    ).inputs
    diff = host.diff(old_id, URN, state, news)
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (
        "some",
        ["game_session_arn"],
        True,
    )
    host.delete(old_id, URN, state)
    assert world.status(old_id) == "CANCELLED"
    created = host.create(URN, news)
    assert created.id != old_id
    assert world.status(created.id) in ("QUEUED", "SEARCHING")


def test_destroy_cancels_and_frees_the_configuration(host: PluginHost, world: World) -> None:
    """Before destroy the configuration cannot be deleted; right after it returns, it can."""
    ticket_id, state = start(host, world)
    with pytest.raises(ClientError, match="active matchmaking tickets"):
        world.gamelift.delete_matchmaking_configuration(Name="cfg")
    host.delete(ticket_id, URN, state)
    world.gamelift.delete_matchmaking_configuration(Name="cfg")
    assert world.status(ticket_id) == "CANCELLED"


def test_destroy_of_an_already_final_ticket_succeeds(host: PluginHost, world: World) -> None:
    """A ticket that already ended is destroyed without error and keeps its status."""
    ticket_id, state = start(host, world)
    world.control.set_ticket_status(ticket_id, "COMPLETED")
    host.delete(ticket_id, URN, state)
    assert world.status(ticket_id) == "COMPLETED"


def test_destroy_timeout_keeps_the_resource_and_a_second_destroy_finishes(
    host: PluginHost, world: World
) -> None:
    """A PLACING ticket outlasts stop_timeout_seconds: the error names it; a retry succeeds."""
    ticket_id, state = start(host, world, stop_timeout_seconds=1)
    world.control.set_ticket_status(ticket_id, "PLACING")
    with pytest.raises(PluginError) as raised:
        host.delete(ticket_id, URN, state)
    message = raised.value.provider_message
    assert message.startswith("gamelift_backfill.core.errors.StopTimeoutError")
    assert f"{ticket_id} (PLACING)" in message
    assert "pulumi destroy" in message
    assert world.status(ticket_id) == "PLACING"
    world.control.set_ticket_status(ticket_id, "COMPLETED")
    host.delete(ticket_id, URN, state)


def test_region_comes_from_stack_config_and_is_stored(
    control: EmulatorControl, emulator: Emulator, tmp_path: Path
) -> None:
    """With aws:region = us-west-2 and no region input, the ticket lives there and says so."""
    west = seed(gamelift_client(emulator.endpoint_url, region="us-west-2"), control, "us-west-2")
    session = west.session()
    with plugin(emulator.endpoint_url, {"aws:region": "us-west-2"}) as west_host:
        ticket_id, state = up(
            west_host, configuration_name="cfg", game_session_arn=session["GameSessionId"]
        )
    assert state["region"] == "us-west-2"
    assert [t["TicketId"] for t in control.tickets(region="us-west-2")] == [ticket_id]
    assert control.tickets(region="us-east-1") == []


def test_players_are_secret_in_state_and_absent_from_logs_and_errors(
    host: PluginHost, world: World
) -> None:
    """Player IDs are stored only as secrets and never written to stderr or error text."""
    ticket_id, state = start(host, world, players=EXPLICIT_PLAYERS)
    stored = to_state(state)
    assert set(stored["players"]) == {rpc._special_sig_key, "plaintext"}
    assert PLAYER_ID not in json.dumps({k: v for k, v in stored.items() if k != "players"})
    host.read(ticket_id, URN, state)
    host.delete(ticket_id, URN, state)
    with pytest.raises(PluginError) as raised:
        up(
            host,
            configuration_name="no-such-configuration",
            game_session_arn=world.session()["GameSessionId"],
            players=EXPLICIT_PLAYERS,
        )
    assert "StartMatchBackfill" in raised.value.details
    assert PLAYER_ID not in raised.value.details
    assert PLAYER_ID not in host.stderr
    assert f"backfill ticket {ticket_id} ended: CANCELLED" in host.stderr


def test_destroy_from_the_committed_v1_state(
    host: PluginHost, world: World, emulator: Emulator
) -> None:
    """A stack created by release 1 (committed state bytes) is destroyed by today's code.

    Only `endpoint_url` is pointed at this test's emulator: the rest (serialized provider,
    property names, secret players, float numbers) is used exactly as committed.
    """
    state = from_state(json.loads(STATE_FIXTURE.read_text()))
    assert b"providers.backfill_ticket" in base64.b64decode(state["__provider"].value)
    assert state["ticket_id"] == FIXTURE_TICKET_ID
    assert state["endpoint_url"].startswith("http://127.0.0.1:")
    state["endpoint_url"] = emulator.endpoint_url
    world.gamelift.start_match_backfill(
        TicketId=FIXTURE_TICKET_ID,
        ConfigurationName=state["configuration_name"],
        GameSessionArn=world.session()["GameSessionId"],
        Players=EXPLICIT_PLAYERS,
    )
    host.delete(FIXTURE_TICKET_ID, URN, state)
    assert world.status(FIXTURE_TICKET_ID) == "CANCELLED"
